package resolve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Request is a selection as the verbs ask for it: the OEMInput file and the files given on
// the command line. Packages and FMs are found by file name among Packages and FMs (Bazel's
// --package and --fm); where none are given, on disk under their expanded paths,
// case-insensitively (locate.Files).
type Request struct {
	OEMInput      string            // path of the OEMInput XML
	CPUType       string            // "" is arm
	MSPackageRoot string            // value of $(mspackageroot)
	Packages      []string          // package files (directories already expanded)
	FMs           []string          // feature manifest files, matched to AdditionalFMs
	CoreFM        string            // the core FM's XML, instead of reading it from its package
	Env           map[string]string // %VAR% values
	Origin        locate.Origin     // under Bazel, the attributes that give the inputs (for messages)
}

// ResolveFiles reads r's OEMInput and selects its packages: the loaders of Input, built from
// the files of r.
func ResolveFiles(r Request) (*Selection, error) {
	o, err := manifest.ReadOEMInput(r.OEMInput)
	if err != nil {
		return nil, err
	}
	disk := locate.NewDisk(winpath.Mapper{}) // one directory cache for FMs and packages
	fms := locate.Files(r.FMs, "the --fm files", disk)
	in := Input{
		OEMInput:      o,
		CPUType:       r.CPUType,
		MSPackageRoot: r.MSPackageRoot,
		Env:           r.Env,
		Packages:      locate.Files(r.Packages, "", disk),
		LoadFM: func(ref FMRef) (*manifest.FeatureManifest, error) {
			p, err := fms.Locate(ref.Path)
			if err != nil {
				return nil, err
			}
			return manifest.ReadFeatureManifest(p)
		},
	}
	var coreFile string // the core FM's file name in messages
	in.MissingHint = func(rs Reason) string {
		switch {
		case r.Origin.Target == "":
			return ""
		case rs.Group == GroupPackageFiles:
			return r.Origin.Hint("packages")
		case rs.Source.File == coreFile:
			return r.Origin.Hint("kit")
		}
		return fmt.Sprintf("; add a target that provides it to packages of the feature_manifest of %s (in feature_manifests of %s)", rs.Source.File, r.Origin.Target)
	}
	in.LoadCoreFM = func(ref CoreFMRef) (*manifest.FeatureManifest, error) {
		if r.CoreFM == "" {
			fm, err := LoadCoreFM(in.Packages, ref)
			if fm != nil {
				coreFile = fm.Pos.File
			}
			var ie *locate.IndexError
			if err != nil && errors.As(err, &ie) && len(ie.Candidates) == 0 {
				err = fmt.Errorf("%w%s", err, r.Origin.Hint("kit"))
			}
			return fm, err
		}
		if !strings.EqualFold(winpath.Base(r.CoreFM), ref.FMName) {
			return nil, fmt.Errorf("--core-fm=%s: Product %q takes %s as its core feature manifest; expected a file of that name", r.CoreFM, ref.Product, ref.FMName)
		}
		fm, err := manifest.ReadFeatureManifest(r.CoreFM)
		if fm != nil {
			coreFile = fm.Pos.File
		}
		return fm, err
	}
	return Resolve(in)
}

// LoadCoreFM reads the edition's core feature manifest out of its package (ImageApp's
// Microsoft.PhoneFM.spkg or Microsoft.MMOSFM.spkg), which must be owned by Microsoft.
func LoadCoreFM(packages locate.Locator, ref CoreFMRef) (*manifest.FeatureManifest, error) {
	path, err := packages.Locate(ref.PackagePath)
	if err != nil {
		return nil, fmt.Errorf("the core feature manifest of Product %q: %w", ref.Product, err)
	}
	p, err := spkg.Open(path)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if p.Manifest.OwnerType != "Microsoft" {
		return nil, fmt.Errorf("%s: the core feature manifest's package must be owned by Microsoft (OwnerType %s)", ref.PackageName, p.Manifest.OwnerType)
	}
	data, err := p.ReadFile(ref.FMPath)
	if err != nil {
		return nil, err
	}
	return manifest.ParseFeatureManifest(ref.PackageName+ref.FMPath, data)
}
