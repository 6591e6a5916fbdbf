package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/resolve"
)

// fixture builds the test image under a directory of its own and writes its selection as
// `oemimage resolve --json` does; it returns the FFU and the selection file.
func fixture(t *testing.T, o testimage.Options) (string, string) {
	t.Helper()
	dir := t.TempDir()
	// Base gives the selection's reasons a source (fm.xml:3:5); the image is built from a
	// selection of absolute paths.
	withBase := o
	withBase.Base = dir
	sel, err := testimage.Packages(filepath.Join(dir, "pkgs"), "report test", withBase)
	if err != nil {
		t.Fatal(err)
	}
	ffuPath, err := testimage.FFU(filepath.Join(dir, "img"), "report test", o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sel.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	selPath := filepath.Join(dir, "selection.json")
	if err := os.WriteFile(selPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ffuPath, selPath
}

func render(t *testing.T, ffuPath, selPath string) (*Report, []byte) {
	t.Helper()
	var opt Options
	if selPath != "" {
		sel, err := resolve.ReadSelection(selPath)
		if err != nil {
			t.Fatal(err)
		}
		opt = Options{Selection: sel, SelectionFile: selPath}
	}
	r, err := Build(ffuPath, opt)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	return r, buf.Bytes()
}

func TestDump(t *testing.T) {
	out := os.Getenv("REPORT_DUMP")
	if out == "" {
		t.Skip("REPORT_DUMP unset")
	}
	f, s := fixture(t, testimage.Options{})
	_, html := render(t, f, s)
	os.WriteFile(out, html, 0o644)
}
