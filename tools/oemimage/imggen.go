package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runImggen is `oemimage imggen OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML
// OEMCustomizationVer]`, ImgGen.cmd's command line, plus /CPUType:, the selection flags
// (--package, --fm, --core-fm), --selection=FILE (the selection `oemimage resolve --json`
// wrote, instead of resolving), --unused-inputs=FILE (with --selection: the inputs not read),
// --timings=false for a reproducible log and --customization-out=DIR for where the
// customization packages go (next to the FFU without it), and --trusted-root=CERT (PEM or
// DER root certificates) for a Production image whose package catalogs must be signed by a
// certificate chaining to one of them, with --tsa-root=CERT the roots of timestamp servers (a
// catalog timestamped by one is checked at its timestamp's time); --cert=/--key=, --pfx= or
// --pkcs11-* sign the customization packages it makes.
func runImggen(args []string, stdout, stderr io.Writer) error {
	flags := append(append([]string{"timings", "customization-out", "var", "selection", "unused-inputs", "trusted-root", "tsa-root"}, signingFlags...), selectionFlags...)
	c, err := parseCmdline(args, cmdSpec{values: []string{"CPUType"}, toggles: customizationToggles, flags: flags})
	if err != nil {
		return err
	}
	limitMemory()
	var version spkg.Version
	switch len(c.positional) {
	case 3:
		if len(c.flags["customization-out"]) > 0 || len(c.flags["var"]) > 0 {
			return usageError{"--customization-out= and --var= need OEMCustomizationXML and OEMCustomizationVer"}
		}
		for _, f := range signingFlags {
			if len(c.flags[f]) > 0 {
				return usageError{fmt.Sprintf("--%s= signs the customization packages: it needs OEMCustomizationXML and OEMCustomizationVer", f)}
			}
		}
	case 5:
		if version, err = customizationVersion(c.positional[4]); err != nil {
			return err
		}
	default:
		return usageError{fmt.Sprintf("expected OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML OEMCustomizationVer], got %d argument(s)", len(c.positional))}
	}
	r := imggen.Request{Options: imggen.Options{Output: c.positional[0], Progress: stdout}}
	if root, err := singleFlag(c, "trusted-root", "a certificate file"); err != nil {
		return err
	} else if root != "" {
		if r.TrustedRoots, err = catalog.LoadRoots(root); err != nil {
			return err
		}
	}
	if tsaRoot, err := singleFlag(c, "tsa-root", "a certificate file"); err != nil {
		return err
	} else if tsaRoot != "" {
		if r.TrustedRoots == nil {
			return usageError{"--tsa-root needs --trusted-root (the timestamp servers' roots extend the check of the catalogs' signatures)"}
		}
		if r.TSARoots, err = catalog.LoadRoots(tsaRoot); err != nil {
			return err
		}
	}
	if dir := filepath.Dir(r.Output); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("OutputFile %s: the directory %s must exist", r.Output, dir)
		}
	}
	custDir := filepath.Dir(r.Output)
	if d, err := singleFlag(c, "customization-out", "a directory"); err != nil {
		return err
	} else if d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return fmt.Errorf("--customization-out=%s: expected an existing directory", d)
		}
		custDir = d
	}
	if r.Resolve, err = selectionRequest(c, c.positional[1], c.positional[2]); err != nil {
		return err
	}
	if r.Selection, err = singleFlag(c, "selection", "a file"); err != nil {
		return err
	}
	if r.UnusedInputs, err = singleFlag(c, "unused-inputs", "a file"); err != nil {
		return err
	}
	if r.UnusedInputs != "" && r.Selection == "" {
		return usageError{"--unused-inputs= needs --selection= (the inputs a run reads are known from its selection)"}
	}
	r.Inputs = append(append(append(append([]string(nil), c.flags["package"]...), c.flags["fm"]...), c.flags["core-fm"]...), c.positional[1])
	if r.Timings, err = timingsFlag(c); err != nil {
		return err
	}
	if r.Time, err = imggen.EpochFromEnv(winpath.EnvMap(os.Environ())); err != nil {
		return err
	}
	if len(c.positional) == 5 {
		cr, err := customizationRequest(c, version, custDir, stderr)
		if err != nil {
			return err
		}
		r.Customization = &cr
	}
	return imggen.Run(r)
}

// timingsFlag is --timings=true|false (the last one given wins); true when it is absent.
func timingsFlag(c *cmdline) (bool, error) {
	t := c.flags["timings"]
	if len(t) == 0 {
		return true, nil
	}
	switch t[len(t)-1] {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, usageError{"--timings= takes true or false"}
}
