package imggen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/customization"
	"github.com/oemimage/rules_oemimage/tools/resolve"
)

// Request is one run of ImgGen.cmd: the selection, the customization packages of an answer
// file, the image.
type Request struct {
	// Selection is a selection file (`oemimage resolve --json`): the run reads it instead of
	// resolving, and checks it against Resolve (the OEMInput it names, the CPU type if
	// given, every package among Resolve.Packages if any are given). "" resolves Resolve.
	Selection string
	Resolve   resolve.Request
	// Customization is the answer file's flow; nil without one. Its packages are installed
	// after the selected ones, and removed again if the image fails.
	Customization *customization.Request
	// UnusedInputs, with Selection, is where the run writes the files of Inputs it did not
	// read, one a line (Bazel's unused_inputs_list), with the image's outputs.
	UnusedInputs string
	// Inputs are the run's input files and directories as given: a directory is read if a
	// package the image takes is in it.
	Inputs []string
	Options
}

// Run is ImgGen.cmd: it selects the packages (or reads the selection), builds the
// customization packages, then the image. Each package is opened once.
func Run(r Request) error {
	sel, err := selectionOf(r)
	if err != nil {
		return err
	}
	opt := r.Options
	if opt.Packages == nil {
		opt.Packages = NewPackageSet()
		defer opt.Packages.Close()
	}
	var custom []string
	if r.Customization != nil {
		c := *r.Customization
		c.Open = opt.Packages.Open
		if custom, err = customization.Generate(sel, c); err != nil {
			return err
		}
	}
	if r.UnusedInputs != "" {
		opt.ExtraFiles = map[string][]byte{r.UnusedInputs: unusedInputs(r.Inputs, sel)}
	}
	if err = Build(sel, opt); err != nil {
		for _, p := range custom {
			os.Remove(p) // no partial output
		}
	}
	return err
}

// selectionOf is r's selection: read from r.Selection and checked against r.Resolve, or
// resolved.
func selectionOf(r Request) (*resolve.Selection, error) {
	if r.Selection == "" {
		if r.UnusedInputs != "" {
			return nil, fmt.Errorf("the unused inputs are known only with a selection file")
		}
		return resolve.ResolveFiles(r.Resolve)
	}
	sel, err := resolve.ReadSelection(r.Selection)
	if err != nil {
		return nil, err
	}
	if filepath.Clean(sel.OEMInput) != filepath.Clean(r.Resolve.OEMInput) {
		return nil, fmt.Errorf("%s: the selection of %s; expected one of %s (run oemimage resolve --json on it)", r.Selection, sel.OEMInput, r.Resolve.OEMInput)
	}
	if cpu := r.Resolve.CPUType; cpu != "" && !strings.EqualFold(cpu, sel.CPUType) {
		return nil, fmt.Errorf("%s: a selection for CPU %s; expected one for %s (/CPUType:)", r.Selection, sel.CPUType, cpu)
	}
	if len(r.Resolve.Packages) > 0 {
		given := map[string]bool{}
		for _, p := range r.Resolve.Packages {
			given[filepath.Clean(p)] = true
		}
		for i, p := range sel.Packages {
			if !given[filepath.Clean(p.HostPath)] {
				return nil, fmt.Errorf("%s: packages[%d] (%s): %s is not one of the --package files; expected the selection made from them", r.Selection, i, p.Name, p.HostPath)
			}
		}
	}
	return sel, nil
}

// unusedInputs lists the inputs the image does not read: every one but the selected
// packages' files and the directories that hold them, in the order given, once each.
func unusedInputs(inputs []string, sel *resolve.Selection) []byte {
	used := map[string]bool{}
	for _, p := range sel.Packages {
		for d := filepath.Clean(p.HostPath); ; d = filepath.Dir(d) {
			used[d] = true
			if d == "." || d == "/" || filepath.Dir(d) == d {
				break
			}
		}
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, in := range inputs {
		if c := filepath.Clean(in); !used[c] && !seen[c] {
			seen[c] = true
			b.WriteString(in + "\n")
		}
	}
	return []byte(b.String())
}
