package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/customization"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runImggen is `oemimage imggen OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML
// OEMCustomizationVer]`, ImgGen.cmd's command line, plus /CPUType:, the selection flags
// (--package, --fm, --core-fm), --timings=false for a reproducible log and
// --customization-out=DIR for where the customization packages go (next to the FFU without it).
func runImggen(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{values: []string{"CPUType"}, toggles: customizationToggles, flags: append([]string{"timings", "customization-out", "var"}, selectionFlags...)})
	if err != nil {
		return err
	}
	var version spkg.Version
	switch len(c.positional) {
	case 3:
		if len(c.flags["customization-out"]) > 0 || len(c.flags["var"]) > 0 {
			return usageError{"--customization-out= and --var= need OEMCustomizationXML and OEMCustomizationVer"}
		}
	case 5:
		if version, err = customizationVersion(c.positional[4]); err != nil {
			return err
		}
	default:
		return usageError{fmt.Sprintf("expected OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML OEMCustomizationVer], got %d argument(s)", len(c.positional))}
	}
	output := c.positional[0]
	if dir := filepath.Dir(output); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("OutputFile %s: the directory %s must exist", output, dir)
		}
	}
	custDir := filepath.Dir(output)
	if d := c.flags["customization-out"]; len(d) > 1 {
		return usageError{"--customization-out given twice"}
	} else if len(d) == 1 {
		if d[0] == "" {
			return usageError{"--customization-out= needs a directory"}
		}
		if st, err := os.Stat(d[0]); err != nil || !st.IsDir() {
			return fmt.Errorf("--customization-out=%s: expected an existing directory", d[0])
		}
		custDir = d[0]
	}
	sr, err := selectionRequest(c, c.positional[1], c.positional[2])
	if err != nil {
		return err
	}
	timings := true
	if t := c.flags["timings"]; len(t) > 0 {
		switch t[len(t)-1] {
		case "true":
		case "false":
			timings = false
		default:
			return usageError{"--timings= takes true or false"}
		}
	}
	when, err := imggen.EpochFromEnv(winpath.EnvMap(os.Environ()))
	if err != nil {
		return err
	}
	sel, err := resolve.ResolveFiles(sr)
	if err != nil {
		return err
	}
	var custom []string
	if len(c.positional) == 5 {
		r, err := customizationRequest(c, version, custDir, stderr)
		if err != nil {
			return err
		}
		if custom, err = customization.Generate(sel, r); err != nil {
			return err
		}
	}
	o := &manifest.OEMInput{File: sel.OEMInput, Description: sel.Description, FormatDPP: sel.FormatDPP}
	err = imggen.Build(sel, o, imggen.Options{Output: output, Time: when, Timings: timings, Progress: stdout})
	if err != nil {
		for _, p := range custom {
			os.Remove(p) // no partial output
		}
	}
	return err
}
