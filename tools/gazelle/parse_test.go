package oemgazelle

import "testing"

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
