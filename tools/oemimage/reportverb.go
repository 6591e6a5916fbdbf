package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/report"
	"github.com/oemimage/rules_oemimage/tools/resolve"
)

// runReport is `oemimage report FILE.ffu [--selection=FILE] -o report.html`: one self-contained
// HTML file of what the image holds (tools/report), written whole or not at all.
func runReport(args []string, stdout, stderr io.Writer) error {
	var ffuPath, selPath, out string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--output":
			if i+1 == len(args) {
				return usageError{a + " needs the HTML file to write"}
			}
			i++
			out = args[i]
		case strings.HasPrefix(a, "-o="), strings.HasPrefix(a, "--output="):
			out = a[strings.IndexByte(a, '=')+1:]
		case strings.HasPrefix(a, "--selection="):
			selPath = strings.TrimPrefix(a, "--selection=")
		case strings.HasPrefix(a, "-") && a != "-":
			return usageError{fmt.Sprintf("unknown flag %s; expected --selection=FILE and -o FILE", a)}
		case ffuPath != "":
			return usageError{fmt.Sprintf("%s: report takes one FFU file (%s already given)", a, ffuPath)}
		default:
			ffuPath = a
		}
	}
	switch {
	case ffuPath == "":
		return usageError{"expected an FFU file"}
	case out == "":
		return usageError{"expected -o FILE, the HTML file to write"}
	}
	var opt report.Options
	if selPath != "" {
		sel, err := resolve.ReadSelection(selPath)
		if err != nil {
			return fmt.Errorf("--selection: %v", err)
		}
		opt.Selection, opt.SelectionFile = sel, selPath
	}
	r, err := report.Build(ffuPath, opt)
	if err != nil {
		return err
	}
	var set atomicfile.Set
	defer set.Abort()
	f, err := set.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := r.WriteHTML(w); err != nil {
		return fmt.Errorf("%s: %v", out, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("%s: %v", out, err)
	}
	if err := set.Commit(); err != nil {
		return err
	}
	// The notes are what the report could not read (a volume that does not open, a DSM that
	// does not parse): warnings here, and in the HTML.
	for i, n := range r.Notes {
		if i == maxWarnings {
			fmt.Fprintf(stderr, "oemimage report: warning: %d more notes in %s\n", len(r.Notes)-i, out)
			break
		}
		fmt.Fprintf(stderr, "oemimage report: warning: %s\n", n)
	}
	parts := 0
	for _, g := range r.Regions {
		if g.Partition {
			parts++
		}
	}
	fmt.Fprintf(stdout, "%s: report of %s: %d partitions, %d packages, %d notes\n", out, ffuPath, parts, len(r.Packages), len(r.Notes))
	return nil
}

// maxWarnings bounds the notes printed; the report holds them all (to its own bound).
const maxWarnings = 20
