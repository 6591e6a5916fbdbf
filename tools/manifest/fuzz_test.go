package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets check that no input makes a parser panic, and that a failed parse always
// reports a position. Seeds: the testdata files and the example workspace.

func addSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("<"))
	f.Add([]byte("<a><![CDATA[<b>]]><!DOCTYPE x [<!ENTITY y \"<z>\">]></a>"))
}

func checkParse(t *testing.T, err error) {
	if err == nil {
		return
	}
	list, ok := err.(ErrorList)
	if !ok || len(list) == 0 {
		t.Fatalf("error is %T, want a non-empty ErrorList: %v", err, err)
	}
	for _, e := range list {
		if e.Pos.File != "f.xml" || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Fatalf("error without a position: %v", e)
		}
	}
}

func FuzzParseOEMInput(f *testing.F) {
	addSeeds(f, "testdata/*OEMInput*.xml", "../../examples/contoso/images/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseOEMInput("f.xml", data)
		checkParse(t, err)
	})
}

func FuzzParseFeatureManifest(f *testing.F) {
	addSeeds(f, "testdata/*FM.xml", "../../examples/contoso/*/fm/*.xml", "../../examples/contoso/*/*FM*.xml", "../../examples/contoso/kit/MSOptionalFeatures.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseFeatureManifest("f.xml", data)
		checkParse(t, err)
	})
}

func FuzzParseFMFileList(f *testing.F) {
	addSeeds(f, "testdata/*FMFileList*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseFMFileList("f.xml", data)
		checkParse(t, err)
	})
}
