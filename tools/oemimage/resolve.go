package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// resolveArgs is the parsed command line of `oemimage resolve`.
type resolveArgs struct {
	oemInput, msPackageRoot string
	cpu                     string
	json                    bool
	packages, fms           []string
	coreFM                  string
}

// parseResolveArgs reads: OEMInput.xml MSPackageRoot [/CPUType:arm] [--json] [--package=PATH]...
// [--fm=PATH]... [--core-fm=PATH], with the verbs' shared parser (switches.go): switches may
// come anywhere and their names ignore case, as on Windows.
func parseResolveArgs(args []string) (*resolveArgs, error) {
	json := false
	var rest []string
	for _, a := range args {
		if a == "--json" {
			json = true
			continue
		}
		rest = append(rest, a)
	}
	c, err := parseCmdline(rest, cmdSpec{values: []string{"CPUType"}, flags: selectionFlags})
	if err != nil {
		return nil, err
	}
	if len(c.positional) != 2 {
		return nil, usageError{fmt.Sprintf("expected OEMInput.xml and MSPackageRoot, got %d argument(s)", len(c.positional))}
	}
	r, err := selectionArgs(c, c.positional[0], c.positional[1])
	if err != nil {
		return nil, err
	}
	r.json = json
	return r, nil
}

// selectionFlags are the Bazel flags of every verb that selects packages.
var selectionFlags = []string{"package", "fm", "core-fm"}

// selectionArgs reads /CPUType: and the selection flags of a parsed command line.
func selectionArgs(c *cmdline, oemInput, msPackageRoot string) (*resolveArgs, error) {
	r := &resolveArgs{oemInput: oemInput, msPackageRoot: msPackageRoot}
	r.cpu = strings.ToLower(c.value("CPUType", "arm"))
	if !slices.Contains(resolve.CPUTypes, r.cpu) {
		return nil, usageError{fmt.Sprintf("/CPUType:%s: expected one of %s", c.value("CPUType", ""), strings.Join(resolve.CPUTypes, ", "))}
	}
	for _, name := range selectionFlags {
		for _, v := range c.flags[name] {
			if v == "" {
				return nil, usageError{"--" + name + "= needs a path"}
			}
		}
	}
	if core := c.flags["core-fm"]; len(core) > 1 {
		return nil, usageError{"--core-fm given twice"}
	} else if len(core) == 1 {
		r.coreFM = core[0]
	}
	var err error
	if r.packages, err = winpath.ExpandDirs(c.flags["package"]); err != nil {
		return nil, err
	}
	if r.fms, err = winpath.ExpandDirs(c.flags["fm"]); err != nil {
		return nil, err
	}
	return r, nil
}

// loadCoreFM reads the edition's core feature manifest out of its package (ImageApp's
// Microsoft.PhoneFM.spkg or Microsoft.MMOSFM.spkg), which must be owned by Microsoft.
func loadCoreFM(packages resolve.Locator, ref resolve.CoreFMRef) (*manifest.FeatureManifest, error) {
	path, err := packages.Locate(ref.PackagePath)
	if err != nil {
		return nil, fmt.Errorf("the core feature manifest of Product %q: %v", ref.Product, err)
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

// runResolve is `oemimage resolve OEMInput.xml MSPackageRoot [/CPUType:arm] [--json]`: it prints
// the packages the OEMInput selects, as UpdateInput.xml (reasons in comments) or JSON.
//
// Bazel adds --package=PATH (a package file, found by file name) and --fm=PATH (a feature
// manifest, matched by file name to AdditionalFMs). The core FM is read from its package;
// --core-fm=PATH gives its XML directly instead. Without --package, packages are looked
// up on disk under their expanded paths (case-insensitively); without --fm, AdditionalFMs too.
// %VAR% comes from the process environment, which Bazel actions keep empty.
func runResolve(args []string, stdout, stderr io.Writer) error {
	ra, err := parseResolveArgs(args)
	if err != nil {
		return err
	}
	sel, _, err := resolveSelection(ra)
	if err != nil {
		return err
	}
	if ra.json {
		return sel.WriteJSON(stdout)
	}
	return sel.WriteUpdateInput(stdout)
}

// maxXMLBytes bounds an XML file the verbs read whole (OEMInput, feature manifests, package
// projects): Microsoft's largest feature manifests are a few MB.
const maxXMLBytes = 64 << 20

// readOEMInput and readFM read their file only if it is a regular file of at most maxXMLBytes.
func readOEMInput(path string) (*manifest.OEMInput, error) {
	data, err := readfile.ReadRegular(path, maxXMLBytes)
	if err != nil {
		return nil, err
	}
	return manifest.ParseOEMInput(path, data)
}

func readFM(path string) (*manifest.FeatureManifest, error) {
	data, err := readfile.ReadRegular(path, maxXMLBytes)
	if err != nil {
		return nil, err
	}
	return manifest.ParseFeatureManifest(path, data)
}

// resolveSelection selects the packages of ra's OEMInput (shared by resolve and imggen).
func resolveSelection(ra *resolveArgs) (*resolve.Selection, *manifest.OEMInput, error) {
	o, err := readOEMInput(ra.oemInput)
	if err != nil {
		return nil, nil, err
	}
	in := resolve.Input{
		OEMInput:      o,
		CPUType:       ra.cpu,
		MSPackageRoot: ra.msPackageRoot,
		Env:           winpath.EnvMap(os.Environ()),
	}
	disk := resolve.NewDiskLocator(winpath.Mapper{})
	if len(ra.fms) > 0 {
		ix := winpath.NewIndex(ra.fms)
		in.LoadFM = func(ref resolve.FMRef) (*manifest.FeatureManifest, error) {
			name := winpath.Base(ref.Path)
			if err := winpath.Check(name); err != nil {
				return nil, err
			}
			p, err := ix.Lookup(name)
			if err != nil {
				return nil, fmt.Errorf("%v; expected it among the --fm files", err)
			}
			return readFM(p)
		}
	} else {
		in.LoadFM = func(ref resolve.FMRef) (*manifest.FeatureManifest, error) {
			p, err := disk.Locate(ref.Path)
			if err != nil {
				return nil, err
			}
			return readFM(p)
		}
	}
	if len(ra.packages) > 0 {
		in.Packages = resolve.IndexLocator{Index: winpath.NewIndex(ra.packages)}
	} else {
		in.Packages = disk
	}
	in.LoadCoreFM = func(ref resolve.CoreFMRef) (*manifest.FeatureManifest, error) {
		if ra.coreFM != "" {
			if !strings.EqualFold(winpath.Base(ra.coreFM), ref.FMName) {
				return nil, fmt.Errorf("--core-fm=%s: Product %q takes %s as its core feature manifest; expected a file of that name", ra.coreFM, ref.Product, ref.FMName)
			}
			return readFM(ra.coreFM)
		}
		return loadCoreFM(in.Packages, ref)
	}
	sel, err := resolve.Resolve(in)
	if err != nil {
		return nil, nil, err
	}
	return sel, o, nil
}
