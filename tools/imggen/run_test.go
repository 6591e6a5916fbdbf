package imggen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/resolve"
)

// outputsOf reads every file of dir, by name.
func outputsOf(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// Run with a selection file builds what Build builds from that selection, after checking the
// file against the command line; the unused inputs are written with the image.
func TestRunSelection(t *testing.T) {
	src := t.TempDir()
	sel := selection(t, src, "Test", testLayout)
	var js bytes.Buffer
	if err := sel.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	selFile := filepath.Join(t.TempDir(), "image.selection.json")
	if err := os.WriteFile(selFile, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := t.TempDir()
	if err := Build(sel, Options{Output: filepath.Join(want, "image.ffu")}); err != nil {
		t.Fatal(err)
	}
	wantFiles := outputsOf(t, want)

	var pkgs []string
	for _, p := range sel.Packages {
		pkgs = append(pkgs, p.HostPath)
	}
	other := t.TempDir() // a directory of packages the image does not select
	unselected := filepath.Join(other, "Contoso.Unselected.spkg")
	if err := os.WriteFile(unselected, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		r          Request
		wantUnused string // the unused-inputs file, if written
		wantErr    string
	}{
		{name: "the selection as written", r: Request{Resolve: resolve.Request{OEMInput: "OEMInput.xml"}}},
		{name: "the same OEMInput, another spelling, the CPU given", r: Request{Resolve: resolve.Request{OEMInput: "./OEMInput.xml", CPUType: "arm", Packages: pkgs}}},
		{name: "unused inputs", r: Request{Resolve: resolve.Request{OEMInput: "OEMInput.xml", Packages: append(pkgs, unselected)},
			UnusedInputs: "image.unused", Inputs: append([]string{src, other, unselected, pkgs[0], "fms/Contoso.xml"}, "OEMInput.xml", src+"/")},
			wantUnused: other + "\n" + unselected + "\nfms/Contoso.xml\nOEMInput.xml\n"},
		{name: "another OEMInput", r: Request{Resolve: resolve.Request{OEMInput: "Other.xml"}},
			wantErr: selFile + ": the selection of OEMInput.xml; expected one of Other.xml"},
		{name: "another CPU", r: Request{Resolve: resolve.Request{OEMInput: "OEMInput.xml", CPUType: "x86"}},
			wantErr: selFile + ": a selection for CPU arm; expected one for x86 (/CPUType:)"},
		{name: "a package not among --package", r: Request{Resolve: resolve.Request{OEMInput: "OEMInput.xml", Packages: pkgs[1:]}},
			wantErr: selFile + ": packages[0] (Contoso.MainOS.spkg): " + pkgs[0] + " is not one of the --package files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			tt.r.Selection = selFile
			tt.r.Output = filepath.Join(out, "image.ffu")
			if tt.r.UnusedInputs != "" {
				tt.r.UnusedInputs = filepath.Join(out, tt.r.UnusedInputs)
			}
			err := Run(tt.r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %q", err, tt.wantErr)
				}
				if got := outputsOf(t, out); len(got) != 0 {
					t.Errorf("a failed run left %d files", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := outputsOf(t, out)
			for name, data := range wantFiles {
				if !bytes.Equal(got[name], data) {
					t.Errorf("%s differs from Build's", name)
				}
			}
			if tt.wantUnused != "" {
				if u := string(got["image.unused"]); u != tt.wantUnused {
					t.Errorf("unused inputs\n%s\nwant\n%s", u, tt.wantUnused)
				}
			} else if len(got) != len(wantFiles) {
				t.Errorf("%d outputs, want %d", len(got), len(wantFiles))
			}
		})
	}
	// Without a selection file, the unused inputs are not known.
	err := Run(Request{Resolve: resolve.Request{OEMInput: "OEMInput.xml"}, UnusedInputs: filepath.Join(t.TempDir(), "u"), Options: Options{Output: filepath.Join(t.TempDir(), "i.ffu")}})
	if err == nil || !strings.Contains(err.Error(), "only with a selection file") {
		t.Errorf("unused inputs without a selection: %v", err)
	}
}

// A bad selection file fails before anything is written, naming the file.
func TestRunBadSelection(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"oemInput": "OEMInput.xml"`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	err := Run(Request{Selection: bad, Resolve: resolve.Request{OEMInput: "OEMInput.xml"}, Options: Options{Output: filepath.Join(out, "image.ffu")}})
	if err == nil || !strings.HasPrefix(err.Error(), bad+": offset 27: the JSON ends early") {
		t.Errorf("error %v", err)
	}
	if got := outputsOf(t, out); len(got) != 0 {
		t.Errorf("%d files left", len(got))
	}
}

// PackageSet opens a file once, whatever the spelling of its path, until Close.
func TestPackageSet(t *testing.T) {
	src := t.TempDir()
	sel := selection(t, src, "Test", testLayout)
	s := NewPackageSet()
	p1, err := s.Open(sel.Packages[0].HostPath)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Open(filepath.Join(src, ".", sel.Packages[0].Name))
	if err != nil || p2 != p1 {
		t.Errorf("second Open: %p, %v; want the first package %p", p2, err, p1)
	}
	if _, err := s.Open(filepath.Join(src, "none.spkg")); err == nil {
		t.Errorf("a missing package opened")
	}
	s.Close()
	if len(s.open) != 0 {
		t.Errorf("Close left %d packages", len(s.open))
	}
}
