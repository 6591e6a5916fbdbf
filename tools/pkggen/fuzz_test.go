package pkggen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseProject feeds project files to the parser: it must not panic, must stay within its
// bounds, and a failure must name the project file. Seeds: the repository's projects, and each
// hostile shape (macro bombs, malformed XML, deep nesting, a huge attribute, UTF-16).
func FuzzParseProject(f *testing.F) {
	for _, g := range []string{"../../examples/contoso/*/*.pkg.xml", "../gazelle/testdata/*/*/*.pkg.xml", "../gazelle/testdata/*/*/*/*.pkg.xml"} {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(projectXML("<Macros>\n<Macro Id=\"a\" Value=\""+strings.Repeat("$(a)", 16)+"\"/></Macros>", "")))
	f.Add([]byte(projectXML("<Macros>"+bombMacros(8)+"</Macros>", "")))
	f.Add([]byte(projectXML(comps(`<File Source="$(v0)"/><Flie/>`), `Owner="$(OEMNAME)"`)))
	f.Add([]byte("<Package"))
	f.Add([]byte(projectXML(regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="hex(7):61,00" Type="REG_HEX"/><RegValue Value="1;2" Type="REG_MULTI_SZ"/></RegKey><RegKey KeyName="HKEY_USERS"/>`), "")))
	f.Add([]byte(projectXML(strings.Repeat("<Components>", 300), "")))
	f.Add([]byte(projectXML(comps(`<File Source="`+strings.Repeat("x", 5000)+`"/>`), "")))
	f.Add(utf16Bytes(projectXML(comps(`<File Source="camera\camera.txt" DestinationDir="$(runtime.root)\A"/>`), ""), false))
	// Binary partition packages: the valid form and each refused one.
	f.Add([]byte(projectXML(binComps(`<BinaryPartition ImageSource="ContosoFM.xml"/>`), `BinaryPartition="true" Partition="UEFI"`)))
	f.Add([]byte(projectXML(binComps(`<BinaryPartition ImageSource="ContosoFM.xml"/><BinaryPartition/><OSComponent/>`), `BinaryPartition="1"`)))
	f.Add([]byte(projectXML(binComps(`<BinaryPartition ImageSource="$(v0)"/>`), `Partition="$(v0)"`)))
	// Sources resolve against the example's files, so valid projects get through to the end.
	path := filepath.Join("..", "..", "examples", "contoso", "oem", "fuzz.pkg.xml")
	opt := Options{BuildType: "fre", CPU: "arm", Languages: []string{"en-US", "de-DE"}, Resolutions: []string{"720x1280"},
		Variables: bombVars(8)}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := load(path, data, opt, "Retail", "ARM")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.pkg.xml") {
				t.Fatalf("error does not name the project: %v", err)
			}
			return
		}
		for _, pk := range pkgs {
			for _, file := range pk.Files {
				if len(file.DevicePath) > 32767 {
					t.Fatalf("device path of %d bytes", len(file.DevicePath))
				}
			}
		}
	})
}
