package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/merge"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

var featureMergerSpec = cmdSpec{
	values:  []string{"FMID", "Languages", "Resolutions", "OwnerName", "Variables", "OwnerType", "MergePackageRootReplacement", "InputFMDirPath"},
	toggles: []string{"Incremental", "Compress"},
	flags:   []string{"package", "fm"},
}

// runFeatureMerger is FeatureMerger.exe's two command lines:
//
//	InputFile OutputPackageDir OutputPackageVersion OutputFMDir /FMID: /Languages: /Resolutions:
//	  /OwnerName: /Variables: [/OwnerType:] [/MergePackageRootReplacement:] [+|-Incremental] [+|-Compress]
//	FMFileList.xml OutputPackageDir OutputPackageVersion OutputFMDir /InputFMDirPath: /Variables: [...]
//
// plus the Bazel flags --package=PATH and --fm=PATH (files found by name; a directory stands
// for the files in it).
func runFeatureMerger(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, featureMergerSpec)
	if err != nil {
		return err
	}
	if len(c.positional) != 4 {
		return usageError{fmt.Sprintf("expected InputFile OutputPackageDir OutputPackageVersion OutputFMDir, got %d argument(s)", len(c.positional))}
	}
	input, outPkgs, versionText, outFMs := c.positional[0], c.positional[1], c.positional[2], c.positional[3]
	version, err := spkg.ParseVersion(versionText)
	if err != nil {
		return usageError{"OutputPackageVersion: " + err.Error()}
	}
	vars, err := variables(c.value("Variables", ""))
	if err != nil {
		return err
	}
	lower := map[string]string{}
	for k, v := range vars {
		lower[strings.ToLower(k)] = v
	}
	for _, required := range []string{"_cputype", "buildtype"} {
		if lower[required] == "" {
			return usageError{fmt.Sprintf("/Variables: must set %s (e.g. /Variables:_cputype=arm;buildtype=fre)", required)}
		}
	}
	if lower["releasetype"] == "" {
		lower["releasetype"] = "test"
	}
	opt := merge.Options{
		Version:                version,
		Languages:              list(c.value("Languages", "")),
		Resolutions:            list(c.value("Resolutions", "")),
		CPU:                    strings.ToLower(lower["_cputype"]),
		BuildType:              strings.ToLower(lower["buildtype"]),
		ReleaseType:            strings.ToLower(lower["releasetype"]),
		Compress:               c.toggle("Compress", false),
		Incremental:            c.toggle("Incremental", false),
		PackageRootReplacement: c.value("MergePackageRootReplacement", ""),
		OwnerType:              c.value("OwnerType", "OEM"),
		Vars:                   vars,
		Env:                    winpath.EnvMap(os.Environ()),
	}
	pkgFiles, err := winpath.ExpandDirs(c.flags["package"])
	if err != nil {
		return err
	}
	fmFiles, err := winpath.ExpandDirs(c.flags["fm"])
	if err != nil {
		return err
	}
	var locate merge.Locator = resolve.NewDiskLocator(winpath.Mapper{})
	if len(pkgFiles) > 0 {
		locate = resolve.IndexLocator{Index: winpath.NewIndex(pkgFiles)}
	}

	// An FM or an FMFileList: a regular file, bounded, refused by name otherwise.
	data, err := manifest.ReadXMLFile(input)
	if err != nil {
		return err
	}
	// One run for every FM: its outputs are all in place, or none is.
	run := merge.NewRun()
	defer run.Abort()
	var results []*merge.Result
	if !strings.Contains(string(data), "FMCollectionManifest") {
		fm, err := manifest.ParseFeatureManifest(input, data)
		if err != nil {
			return err
		}
		opt.FMID, opt.OwnerName = c.value("FMID", ""), c.value("OwnerName", "")
		res, err := run.Merge(fm, locate, outPkgs, outFMs, opt)
		if err != nil {
			return err
		}
		return commit(run, stdout, append(results, res))
	}

	// FMFileList: every FM it lists, each with its own ID and OwnerName.
	list, err := manifest.ParseFMFileList(input, data)
	if err != nil {
		return err
	}
	fmDir := c.value("InputFMDirPath", "")
	if fmDir == "" && len(fmFiles) == 0 {
		return usageError{"an FMFileList needs /InputFMDirPath: (the directory $(FMDirectory) stands for)"}
	}
	if len(opt.Languages) == 0 {
		opt.Languages = values(list.SupportedLanguages)
	}
	if len(opt.Resolutions) == 0 {
		opt.Resolutions = values(list.SupportedResolutions)
	}
	ix := winpath.NewIndex(fmFiles)
	for _, e := range list.FMs {
		x := winpath.NewExpander(map[string]string{"FMDirectory": fmDir}, opt.Env)
		win, err := x.ExpandStrict(e.Path)
		if err != nil {
			return fmt.Errorf("%s: FM %s: %v", e.Pos, e.Path, err)
		}
		var path string
		if len(fmFiles) > 0 {
			path, err = ix.Lookup(winpath.Base(win))
		} else {
			path, err = resolve.NewDiskLocator(winpath.Mapper{}).Locate(win)
		}
		if err != nil {
			return fmt.Errorf("%s: FM %s: %v", e.Pos, e.Path, err)
		}
		fm, err := manifest.ReadFeatureManifest(path)
		if err != nil {
			return err
		}
		o := opt
		o.FMID, o.OwnerName = e.ID, e.OwnerName
		if e.OwnerType != "" {
			o.OwnerType = e.OwnerType
		}
		if strings.EqualFold(e.ReleaseType, "Production") {
			o.ReleaseType = "production"
		}
		res, err := run.Merge(fm, locate, outPkgs, outFMs, o)
		if err != nil {
			return fmt.Errorf("%s: FM %s: %v", e.Pos, e.ID, err)
		}
		results = append(results, res)
	}
	return commit(run, stdout, results)
}

// commit puts the run's outputs in place and then reports them.
func commit(run *merge.Run, stdout io.Writer, results []*merge.Result) error {
	if err := run.Commit(); err != nil {
		return err
	}
	for _, res := range results {
		report(stdout, res)
	}
	return nil
}

func values(v []manifest.Value) []string {
	var out []string
	for _, x := range v {
		out = append(out, x.Text)
	}
	return out
}

func report(w io.Writer, res *merge.Result) {
	fmt.Fprintf(w, "%s: %d merged packages (%d up to date), %d passed through\n", filepath.Base(res.FM), len(res.Merged), len(res.Kept), len(res.PassThrough))
}
