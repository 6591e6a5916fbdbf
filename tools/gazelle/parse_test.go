package gazelle

import (
	"strings"
	"testing"
)

func TestRootElement(t *testing.T) {
	for in, want := range map[string]string{
		"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- a <b> comment -->\n<!DOCTYPE x>\n<FeatureManifest xmlns=\"u\">": "FeatureManifest",
		"<ns:OEMInput>":  "OEMInput",
		"<Package/>":     "Package",
		"<!-- open":      "",
		"not xml at all": "",
		"<0<":            "",
		"<a<b>":          "",
		"":               "",
	} {
		if got := rootElement([]byte(in)); got != want {
			t.Errorf("rootElement(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ in, kind, want string }{
		{"ContosoFM.xml", nameFM, "contoso_fm"},
		{"MSOptionalFeatures.xml", nameFM, "ms_optional_features"},
		{"RetailOEMInput.xml", nameImage, "retail"},
		{"CustomerCareOEMInput.xml", nameImage, "customer_care"},
		{"OEMInput.xml", nameImage, "oem_input"},
		{"Contoso.Apps.Camera.pkg.xml", namePackage, "contoso_apps_camera"},
		{"MMOSFM.xml", nameFM, "mmosfm"},
		{"fm-2.xml", nameFM, "fm_2"},
	} {
		if got := snake(stemOf(c.in, c.kind)); got != c.want {
			t.Errorf("snake(stemOf(%q)) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := expandName("{component}_{sub_component}_{nope}", map[string]string{"component": "main_os", "sub_component": ""}); got != "main_os_{nope}" {
		t.Errorf("expandName: %q", got)
	}
}

// Problems in a package project name the file, line and column of the attribute at fault.
func TestPkgXMLProblemPositions(t *testing.T) {
	head := `<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="O" Component="C">
<Components><OSComponent>
`
	for _, c := range []struct{ body, want string }{
		{`<Files><File Source="\abs.txt"/></Files>`, `p.pkg.xml:3:14: Source "\\abs.txt" is absolute`},
		{`<Files><File Source="..\up.txt"/></Files>`, `p.pkg.xml:3:14: Source "..\\up.txt" is outside the project's directory`},
		{`<Files Language="de-DE"><File Source="a.txt"/></Files>`, `p.pkg.xml:3:8: Language="de-DE": expected *, (a;b) or !(a;b)`},
		{`<Files Resolution="*"><File Source="a.txt"/></Files>`, `p.pkg.xml:3:8: Resolution="*" group has no source with $(resid)`},
	} {
		p, err := parsePkgXML("p.pkg.xml", []byte(head+c.body+"\n</OSComponent></Components></Package>"), t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if len(p.Problems) != 1 || !strings.HasPrefix(p.Problems[0], c.want) {
			t.Errorf("%s: problems %q, want one starting %q", c.body, p.Problems, c.want)
		}
	}
	if _, err := parsePkgXML("p.pkg.xml", []byte("<Package Owner=\"O\">\n<x"), t.TempDir()); err == nil || !strings.HasPrefix(err.Error(), "p.pkg.xml:") {
		t.Errorf("malformed XML: %v, want a positioned error", err)
	}
}

// A macro that doubles itself grew 16x per pass of the old 20-pass loop; now it is an error
// naming the macro and its line.
func TestPkgXMLMacroBomb(t *testing.T) {
	v := strings.Repeat("$(a)", 16)
	data := "<Package xmlns=\"urn:Microsoft.WindowsPhone/PackageSchema.v8.00\" Owner=\"O\" Component=\"C\">\n" +
		"<Macros><Macro Id=\"b\" Value=\"x\"/>\n<Macro Id=\"a\" Value=\"" + v + "\"/></Macros></Package>"
	_, err := parsePkgXML("p.pkg.xml", []byte(data), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "macro a") || !strings.Contains(err.Error(), "p.pkg.xml:3:") {
		t.Fatalf("err = %v, want an error naming macro a at p.pkg.xml:3", err)
	}
}
