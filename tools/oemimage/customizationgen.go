package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/customization"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/mcsf"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runCustomizationGen is `oemimage customizationgen OutputDirectory OEMInputXML MSPackageRoot
// OEMCustomizationXML OEMCustomizationVer` (CustomizationGen.cmd: all five required), plus
// /CPUType:, +StrictSettingPolicies and the selection flags of imggen. It writes the
// customization packages only.
func runCustomizationGen(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{values: []string{"CPUType"}, toggles: customizationToggles, flags: append([]string{"var"}, selectionFlags...)})
	if err != nil {
		return err
	}
	if len(c.positional) != 5 {
		return usageError{fmt.Sprintf("expected OutputDirectory OEMInputXML MSPackageRoot OEMCustomizationXML OEMCustomizationVer (all required), got %d argument(s)", len(c.positional))}
	}
	out := c.positional[0]
	version, err := customizationVersion(c.positional[4])
	if err != nil {
		return err
	}
	if st, err := os.Stat(out); err != nil || !st.IsDir() {
		return fmt.Errorf("OutputDirectory %s: expected an existing directory", out)
	}
	ra, err := selectionArgs(c, c.positional[1], c.positional[2])
	if err != nil {
		return err
	}
	sel, o, err := resolveSelection(ra)
	if err != nil {
		return err
	}
	written, err := buildCustomizations(c, sel, o, version, out, stderr)
	if err != nil {
		return err
	}
	for _, p := range written {
		fmt.Fprintln(stdout, p)
	}
	return nil
}

// customizationEnv is what `$(NAME)` means in answer-file paths: the environment, as for the
// original, then each --var=NAME=DIR, with a relative DIR made absolute against the working
// directory. Bazel passes the directories of an answer file's sources this way, since an
// action's environment cannot hold the absolute paths the answer file format requires.
func customizationEnv(c *cmdline) (map[string]string, error) {
	env := winpath.EnvMap(os.Environ())
	for _, v := range c.flags["var"] {
		name, dir, ok := strings.Cut(v, "=")
		if !ok || name == "" || dir == "" {
			return nil, usageError{fmt.Sprintf("--var=%s: expected --var=NAME=DIRECTORY", v)}
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("--var=%s: %v", v, err)
		}
		env[name] = abs
	}
	return env, nil
}

// customizationVersion parses OEMCustomizationVer (a.b.c.d).
func customizationVersion(s string) (spkg.Version, error) {
	v, err := spkg.ParseVersion(s)
	if err != nil {
		return v, usageError{fmt.Sprintf("OEMCustomizationVer %q: expected a version a.b.c.d", s)}
	}
	return v, nil
}

// customizationToggles are the +/- switches of the verbs that build customization packages:
// ImageApp's +StrictSettingPolicies, which makes a setting no policy declares an error instead
// of a warning. (ImgGen.cmd and CustomizationGen.cmd pass it to ImageApp; docs/customization.md.)
var customizationToggles = []string{"StrictSettingPolicies"}

// buildCustomizations turns the answer file (the fourth positional argument of both verbs) into
// customization packages in dir, checking its settings against the policy files of the selected
// packages; it returns their paths. Settings no policy declares are warned about on stderr and
// left out, or with +StrictSettingPolicies fail the run.
func buildCustomizations(c *cmdline, sel *resolve.Selection, o *manifest.OEMInput, version spkg.Version, dir string, stderr io.Writer) ([]string, error) {
	env, err := customizationEnv(c)
	if err != nil {
		return nil, err
	}
	caf, err := mcsf.Load(c.positional[3], env)
	if err != nil {
		return nil, err
	}
	var hostPaths []string
	for _, p := range sel.Packages {
		if p.HostPath == "" {
			return nil, fmt.Errorf("package %s was not located", p.Name)
		}
		hostPaths = append(hostPaths, p.HostPath)
	}
	policies, err := customization.LoadPolicies(hostPaths)
	if err != nil {
		return nil, err
	}
	r, err := mcsf.Resolve(caf, policies, c.toggle("StrictSettingPolicies", false))
	if err != nil {
		return nil, err
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(stderr, "%s: warning: %s\n", w.Pos, w.Msg)
	}
	if r.MoreWarnings > 0 {
		fmt.Fprintf(stderr, "%s: warning: %d more settings or assets no policy declares are left out\n", caf.Root.Path, r.MoreWarnings)
	}
	pkgs, err := customization.Plan(r, customization.Options{Device: o.Device, Version: version, CPUType: cpuTypeOf(sel.CPUType)})
	if err != nil {
		return nil, err
	}
	return customization.Write(dir, pkgs)
}

// cpuTypeOf is a package's CpuType for the image's /CPUType: (arm -> ARM).
func cpuTypeOf(cpu string) string { return strings.ToUpper(cpu) }

// addCustomizations appends the written customization packages to the selection, so that the
// image installs them and UpdateInput.xml lists them after the selected packages, as ImageApp
// does.
func addCustomizations(sel *resolve.Selection, paths []string, source manifest.Pos) {
	for _, p := range paths {
		name := filepath.Base(p)
		sel.Packages = append(sel.Packages, &resolve.Package{
			ID: strings.TrimSuffix(name, ".spkg"), Name: name, Path: p, HostPath: p,
			Reasons: []resolve.Reason{{FeatureID: "CUSTOMIZATION", Group: groupCustomization, Source: source}},
		})
	}
}

// groupCustomization is the reason group of customization packages.
const groupCustomization manifest.Group = "OEMCustomizationXML"
