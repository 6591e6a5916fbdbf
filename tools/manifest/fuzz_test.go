package manifest

import (
	"os"
	"path/filepath"
	"strings"
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
	// The hostile shapes the bounds are for: deep nesting, a long tag, long text, many lines,
	// UTF-16 with a lone surrogate.
	f.Add([]byte(strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1)))
	f.Add([]byte("<a b=\"" + strings.Repeat("x", 5000) + "\"/>"))
	f.Add([]byte("<a>" + strings.Repeat("\n", 3000) + "<b/></a>"))
	f.Add([]byte{0xFF, 0xFE, '<', 0, 'a', 0, 0x00, 0xD8, '/', 0, '>', 0})
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

// FuzzParseDoc is the shared reader the other formats' parsers use (tools/answerfile, tools/layout).
func FuzzParseDoc(f *testing.F) {
	addSeeds(f, "testdata/*.xml", "../../examples/contoso/*/*.xml", "../answerfile/testdata/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDoc("f.xml", data, "")
		checkParse(t, err)
		if err == nil {
			d.Children(d.Root())
			d.Pos(d.Root())
			checkParse(t, d.Err())
		}
	})
}
