package locate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"A.spkg", "sub/B.xml"} {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	given := []string{filepath.Join(dir, "A.spkg"), filepath.Join(dir, "sub/B.xml")}
	tests := []struct {
		name    string
		files   []string
		among   string
		win     string
		want    string // host path, or
		wantErr string // a substring of the error
	}{
		{name: "by name, any directory", files: given, win: `$(mspackageroot)\x\a.SPKG`, want: given[0]},
		{name: "by name, unknown variable in the name", files: given, win: `C:\x\$(nope).spkg`, wantErr: "$(nope)"},
		{name: "by name, missing, no hint", files: given, win: `C:\x\C.spkg`, wantErr: "no input file is named C.spkg (case-insensitively)"},
		{name: "by name, missing, hint", files: given, among: "the --fm files", win: `C:\x\C.xml`, wantErr: "no input file is named C.xml (case-insensitively); did you mean B.xml?; expected it among the --fm files"},
		{name: "on disk, case-insensitive", win: dir + `\SUB\b.XML`, want: filepath.Join(dir, "sub/B.xml")},
		{name: "on disk, the whole path must expand", win: `%NOPE%\B.xml`, wantErr: "%NOPE%"},
		{name: "on disk, missing", win: dir + `\sub\C.xml`, wantErr: "C.xml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Files(tc.files, tc.among, nil)
			if _, isIndex := l.(Index); isIndex != (len(tc.files) > 0) {
				t.Fatalf("Files(%d files) = %T", len(tc.files), l)
			}
			got, err := l.Locate(tc.win)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Locate(%q) = %q, %v; want an error with %q", tc.win, got, err, tc.wantErr)
				}
			case err != nil || got != tc.want:
				t.Errorf("Locate(%q) = %q, %v; want %q", tc.win, got, err, tc.want)
			}
		})
	}
}

// A shared Disk keeps its directory cache across look-ups: a file made after the first
// look-up of its directory is not seen (one consistent view per run).
func TestFilesSharedDisk(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.spkg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d := NewDisk(Files(nil, "", nil).(*Disk).Mapper)
	// A name in another letter case makes the Finder list the directory.
	if _, err := Files(nil, "", d).Locate(dir + `\A.SPKG`); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.spkg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Files(nil, "", d).Locate(dir + `\B.SPKG`); err == nil {
		t.Errorf("the shared disk locator listed the directory again")
	}
	if _, err := Files(nil, "", nil).Locate(dir + `\B.SPKG`); err != nil {
		t.Errorf("a new disk locator: %v", err)
	}
}

func TestNames(t *testing.T) {
	ix := NewNames([]string{
		"bazel-out/k8/bin/kit/Microsoft.MainOS.Production.spkg",
		"bazel-out/k8/bin/kit/Microsoft.MainOS.Production.spkg", // same path twice: one candidate
		"kit/a/Contoso.X.spkg",
		"oem/b/contoso.x.SPKG",
	})
	if ix.Len() != 2 {
		t.Errorf("Len = %d", ix.Len())
	}
	got, err := ix.Lookup(`$(mspackageroot)\Retail\arm\fre\microsoft.mainos.production.spkg`)
	if err != nil || got != filepath.FromSlash("bazel-out/k8/bin/kit/Microsoft.MainOS.Production.spkg") {
		t.Errorf("Lookup = %q, %v", got, err)
	}
	_, err = ix.Lookup("Contoso.X.spkg")
	var ie *IndexError
	if !errors.As(err, &ie) || len(ie.Candidates) != 2 || !strings.Contains(err.Error(), "kit/a/Contoso.X.spkg and oem/b/contoso.x.SPKG") {
		t.Errorf("ambiguous Lookup error = %v", err)
	}
	if _, err := ix.Lookup("none.spkg"); err == nil || !strings.Contains(err.Error(), "no input file is named none.spkg") {
		t.Errorf("missing Lookup error = %v", err)
	}
	if a := ix.Ambiguous(); len(a) != 1 || a[0].Name != "Contoso.X.spkg" {
		t.Errorf("Ambiguous = %v", a)
	}
}

func TestNamesDidYouMean(t *testing.T) {
	ix := NewNames([]string{"kit/Microsoft.MainOS.Production.spkg", "kit/Microsoft.EFIESP.Production.spkg", "oem/Contoso.Apps.Camera.spkg"})
	for _, tt := range []struct{ name, near string }{
		{"Contoso.Apps.Camra.spkg", "Contoso.Apps.Camera.spkg"},
		{"microsoft.mainos.producton.spkg", "Microsoft.MainOS.Production.spkg"},
		{"Microsoft.Graphics.Production.spkg", ""}, // a word away from every name: no suggestion
		{"x.spkg", ""},
	} {
		_, err := ix.Lookup(tt.name)
		var ie *IndexError
		if !errors.As(err, &ie) || ie.Near != tt.near {
			t.Errorf("Lookup(%s) = %v, want near %q", tt.name, err, tt.near)
		}
		if tt.near != "" && !strings.Contains(err.Error(), "did you mean "+tt.near+"?") {
			t.Errorf("Lookup(%s) = %v", tt.name, err)
		}
	}
	// The budget: after maxSuggestions misses, no more scans.
	for range maxSuggestions {
		ix.Lookup("nothing.spkg")
	}
	if _, err := ix.Lookup("Contoso.Apps.Camra.spkg"); strings.Contains(err.Error(), "did you mean") {
		t.Errorf("suggestion past the budget: %v", err)
	}
}
