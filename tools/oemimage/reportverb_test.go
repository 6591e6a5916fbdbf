package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// TestReportVerb: the verb writes the HTML through atomicfile, takes a selection, and fails
// naming the file at fault, leaving no output behind.
func TestReportVerb(t *testing.T) {
	dir := t.TempDir()
	ffuPath, err := testimage.FFU(filepath.Join(dir, "img"), "report", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := testimage.Packages(filepath.Join(dir, "pkgs"), "report", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := sel.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	selPath := filepath.Join(dir, "selection.json")
	if err := os.WriteFile(selPath, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	badSel := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badSel, []byte(`{"packages": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.ffu")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte{0xa5}, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	out := func(name string) string { return filepath.Join(dir, name+".html") }
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		html   string // what the output holds; "" when none may be written
	}{
		{name: "plain", args: []string{ffuPath, "-o", out("plain")}, html: "Contoso.MainOS"},
		{name: "selection", args: []string{"--selection=" + selPath, ffuPath, "--output=" + out("selection")}, html: "Selection: selection.json"},
		{name: "-o=", args: []string{ffuPath, "-o=" + out("eq")}, html: "Partition map"},
		{name: "no output", args: []string{ffuPath}, code: 2, stderr: "expected -o FILE"},
		{name: "no FFU", args: []string{"-o", out("none")}, code: 2, stderr: "expected an FFU file"},
		{name: "two FFUs", args: []string{ffuPath, ffuPath, "-o", out("two")}, code: 2, stderr: "report takes one FFU file"},
		{name: "unknown flag", args: []string{ffuPath, "-o", out("flag"), "--json"}, code: 2, stderr: "unknown flag --json"},
		{name: "missing", args: []string{filepath.Join(dir, "missing.ffu"), "-o", out("missing")}, code: 1, stderr: "missing.ffu: does not exist"},
		{name: "not an FFU", args: []string{garbage, "-o", out("garbage")}, code: 1, stderr: garbage + ": not a valid FFU"},
		{name: "bad selection", args: []string{ffuPath, "--selection=" + badSel, "-o", out("badsel")}, code: 1, stderr: "bad.json"},
		{name: "output a directory", args: []string{ffuPath, "-o", filepath.Join(dir, "nodir", "x.html")}, code: 1, stderr: "nodir"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"report"}, c.args...), &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.stderr)
			}
			var o string
			for i, a := range c.args {
				switch {
				case a == "-o" && i+1 < len(c.args):
					o = c.args[i+1]
				case strings.HasPrefix(a, "-o="), strings.HasPrefix(a, "--output="):
					o = a[strings.IndexByte(a, '=')+1:]
				}
			}
			data, err := os.ReadFile(o)
			if c.html == "" {
				if err == nil {
					t.Errorf("%s written on failure", o)
				}
				return
			}
			if err != nil || !bytes.Contains(data, []byte(c.html)) {
				t.Errorf("%s: %v; want it to hold %q", o, err, c.html)
			}
		})
	}
	// The output directory holds the reports and nothing staged.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
