package merge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Input is one FeatureMerger run: InputFile is a feature manifest, or an FMFileList of them.
type Input struct {
	Path      string // InputFile: an FM or an FMFileList
	OutPkgDir string // OutputPackageDir
	OutFMDir  string // OutputFMDir
	// Options for every FM. A single FM takes FMID and OwnerName from here; an FMFileList gives
	// each of its FMs its own (and its OwnerType and ReleaseType where it sets them), and its
	// languages and resolutions where Options has none.
	Options  Options
	Packages locate.Locator // the FMs' packages
	FMFiles  []string       // FMs given by file (--fm), matched by name to FMFileList entries
	FMDir    string         // /InputFMDirPath: the value of $(FMDirectory) in an FMFileList
}

// ErrNoFMDir is the usage error of an FMFileList without a way to find its FMs.
var ErrNoFMDir = errors.New("an FMFileList needs /InputFMDirPath: (the directory $(FMDirectory) stands for)")

// MergeInput merges in.Path, every FM of it if it is an FMFileList, in one Run: every output
// is in place, or none is. The results are in FM order.
func MergeInput(in Input) ([]*Result, error) {
	// An FM or an FMFileList: a regular file, bounded, refused by name otherwise.
	data, err := manifest.ReadXMLFile(in.Path)
	if err != nil {
		return nil, err
	}
	run := NewRun()
	defer run.Abort()
	var results []*Result
	if !strings.Contains(string(data), "FMCollectionManifest") {
		fm, err := manifest.ParseFeatureManifest(in.Path, data)
		if err != nil {
			return nil, err
		}
		res, err := run.Merge(fm, in.Packages, in.OutPkgDir, in.OutFMDir, in.Options)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	} else if results, err = mergeList(run, in, data); err != nil {
		return nil, err
	}
	if err := run.Commit(); err != nil {
		return nil, err
	}
	return results, nil
}

// mergeList stages every FM an FMFileList lists, each with its own ID and OwnerName.
func mergeList(run *Run, in Input, data []byte) ([]*Result, error) {
	list, err := manifest.ParseFMFileList(in.Path, data)
	if err != nil {
		return nil, err
	}
	if in.FMDir == "" && len(in.FMFiles) == 0 {
		return nil, ErrNoFMDir
	}
	opt := in.Options
	if len(opt.Languages) == 0 {
		opt.Languages = values(list.SupportedLanguages)
	}
	if len(opt.Resolutions) == 0 {
		opt.Resolutions = values(list.SupportedResolutions)
	}
	fms := locate.Files(in.FMFiles, "the --fm files", nil)
	x := winpath.NewExpander(map[string]string{"FMDirectory": in.FMDir}, opt.Env)
	var results []*Result
	for _, e := range list.FMs {
		win, err := x.ExpandStrict(e.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: FM %s: %v", e.Pos, e.Path, err)
		}
		path, err := fms.Locate(win)
		if err != nil {
			return nil, fmt.Errorf("%s: FM %s: %v", e.Pos, e.Path, err)
		}
		fm, err := manifest.ReadFeatureManifest(path)
		if err != nil {
			return nil, err
		}
		o := opt
		o.FMID, o.OwnerName = e.ID, e.OwnerName
		if e.OwnerType != "" {
			o.OwnerType = e.OwnerType
		}
		if strings.EqualFold(e.ReleaseType, manifest.ReleaseProduction) {
			o.ReleaseType = "production"
		}
		res, err := run.Merge(fm, in.Packages, in.OutPkgDir, in.OutFMDir, o)
		if err != nil {
			return nil, fmt.Errorf("%s: FM %s: %v", e.Pos, e.ID, err)
		}
		results = append(results, res)
	}
	return results, nil
}

func values(v []manifest.Value) []string {
	var out []string
	for _, x := range v {
		out = append(out, x.Text)
	}
	return out
}
