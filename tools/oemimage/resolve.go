package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runResolve is `oemimage resolve OEMInput.xml MSPackageRoot [/CPUType:arm] [--json]`: it prints
// the packages the OEMInput selects, as UpdateInput.xml (reasons in comments) or JSON, the
// selection descriptor `imggen --selection=FILE` reads.
//
// Bazel adds --package=PATH (a package file, found by file name) and --fm=PATH (a feature
// manifest, matched by file name to AdditionalFMs). The core FM is read from its package;
// --core-fm=PATH gives its XML directly instead. Without --package, packages are looked
// up on disk under their expanded paths (case-insensitively); without --fm, AdditionalFMs too.
// %VAR% comes from the process environment, which Bazel actions keep empty.
func runResolve(args []string, stdout, stderr io.Writer) error {
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
		return err
	}
	if len(c.positional) != 2 {
		return usageError{fmt.Sprintf("expected OEMInput.xml and MSPackageRoot, got %d argument(s)", len(c.positional))}
	}
	req, err := selectionRequest(c, c.positional[0], c.positional[1])
	if err != nil {
		return err
	}
	sel, err := resolve.ResolveFiles(req)
	if err != nil {
		return err
	}
	// A mistyped <SOC> or <Device> resolves, but no image can be made of it: say so by name.
	for _, n := range sel.Notes {
		fmt.Fprintf(stderr, "warning: %s\n", n)
	}
	if json {
		return sel.WriteJSON(stdout)
	}
	return sel.WriteUpdateInput(stdout)
}

// selectionFlags are the Bazel flags of every verb that selects packages.
var selectionFlags = []string{"package", "fm", "core-fm"}

// selectionRequest reads /CPUType: and the selection flags of a parsed command line.
func selectionRequest(c *cmdline, oemInput, msPackageRoot string) (resolve.Request, error) {
	r := resolve.Request{OEMInput: oemInput, MSPackageRoot: msPackageRoot, Env: winpath.EnvMap(os.Environ()), Origin: origin}
	// "" (no /CPUType:) is arm, and lets imggen --selection take the selection's.
	r.CPUType = strings.ToLower(c.value("CPUType", ""))
	if r.CPUType != "" && !slices.Contains(resolve.CPUTypes, r.CPUType) {
		return r, usageError{fmt.Sprintf("/CPUType:%s: expected one of %s", c.value("CPUType", ""), strings.Join(resolve.CPUTypes, ", "))}
	}
	for _, name := range selectionFlags {
		for _, v := range c.flags[name] {
			if v == "" {
				return r, usageError{"--" + name + "= needs a path"}
			}
		}
	}
	if core := c.flags["core-fm"]; len(core) > 1 {
		return r, usageError{"--core-fm given twice"}
	} else if len(core) == 1 {
		r.CoreFM = core[0]
	}
	var err error
	if r.Packages, err = winpath.ExpandDirs(c.flags["package"]); err != nil {
		return r, err
	}
	if r.FMs, err = winpath.ExpandDirs(c.flags["fm"]); err != nil {
		return r, err
	}
	return r, nil
}
