package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runImggen is `oemimage imggen OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML
// OEMCustomizationVer]`, ImgGen.cmd's command line, plus /CPUType:, the selection flags
// (--package, --fm, --core-fm) and --timings=false for a reproducible log.
func runImggen(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{values: []string{"CPUType"}, flags: append([]string{"timings"}, selectionFlags...)})
	if err != nil {
		return err
	}
	switch len(c.positional) {
	case 3:
	case 5:
		return errors.New("OEMCustomizationXML and OEMCustomizationVer: customization packages are not implemented yet")
	default:
		return usageError{fmt.Sprintf("expected OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML OEMCustomizationVer], got %d argument(s)", len(c.positional))}
	}
	output := c.positional[0]
	if dir := filepath.Dir(output); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("OutputFile %s: the directory %s must exist", output, dir)
		}
	}
	ra, err := selectionArgs(c, c.positional[1], c.positional[2])
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
	sel, o, err := resolveSelection(ra)
	if err != nil {
		return err
	}
	return imggen.Build(sel, o, imggen.Options{Output: output, Time: when, Timings: timings, Progress: stdout})
}
