package gazelle

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRootElement: the byte scan that classifies every XML file of a tree never panics, and
// what it returns is a bare element name or nothing.
func FuzzRootElement(f *testing.F) {
	for _, s := range []string{"<FeatureManifest/>", "\xef\xbb\xbf<?xml version=\"1.0\"?><!-- c --><OEMInput>", "<!DOCTYPE x [<!ENTITY a 'b'>]><Package>", "<a:b", "<!--"} {
		f.Add([]byte(s))
	}
	addFiles(f, "testdata/*/*/*.xml", "testdata/*/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		name := rootElement(data)
		if strings.ContainsAny(name, "<>/ \t\r\n:") {
			t.Errorf("rootElement = %q, not a bare name", name)
		}
	})
}

// FuzzParsePkgXML: package projects from a tree (untrusted XML) never panic the parser, and the
// sources it reports stay inside the project's directory.
func FuzzParsePkgXML(f *testing.F) {
	dir := f.TempDir()
	for _, name := range []string{"a.txt", "mui/en-US.txt", "mui/de-DE.txt", "res/480x800/s.bmp"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Add([]byte(`<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="O" Component="C"><Components><OSComponent>` +
		`<Files><File Source="a.txt" DestinationDir="\Windows"/></Files>` +
		`<Files Language="*"><File Source="mui\$(langid).txt" DestinationDir="\Windows\$(langid)"/></Files>` +
		`<Files Resolution="*"><File Source="res\$(resid)\s.bmp" DestinationDir="\efi"/></Files>` +
		`<Files><File Source="..\..\etc\passwd" DestinationDir="\Windows"/></Files></OSComponent></Components></Package>`))
	addFiles(f, "testdata/*/*/*.pkg.xml", "testdata/*/*.pkg.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePkgXML("fuzz.pkg.xml", data, dir)
		if err != nil || p == nil {
			return
		}
		for _, s := range p.Srcs {
			if s == "" || path.IsAbs(s) || path.Clean(s) != s || s == ".." || strings.HasPrefix(s, "../") {
				t.Errorf("source %q is not a clean path inside the project's directory", s)
			}
		}
	})
}

func addFiles(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
}
