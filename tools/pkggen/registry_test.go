package pkggen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/utf16le"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

func regKeys(keys string) string {
	return "<Components><OSComponent>\n<RegKeys>" + keys + "</RegKeys></OSComponent></Components>"
}

func TestRegKeysErrors(t *testing.T) {
	dir := tree(t, map[string]string{"a.txt": "a"})
	for _, tc := range []struct{ name, xml, want string }{
		{"no KeyName", regKeys(`<RegKey/>`), "4:10: <RegKey> has no KeyName"},
		{"not a root", regKeys(`<RegKey KeyName="Software\x"/>`), `4:18: KeyName="Software\\x" is "Software\\x"; expected a key under HKEY_LOCAL_MACHINE`},
		{"hive alone", regKeys(`<RegKey KeyName="HKEY_LOCAL_MACHINE"/>`), `4:18: KeyName="HKEY_LOCAL_MACHINE"`},
		{"empty part", regKeys(`<RegKey KeyName="$(hklm.software)\\x"/>`), `4:18: KeyName=`},
		{"unknown macro", regKeys(`<RegKey KeyName="$(hklm.sofware)\x"/>`), `4:18: KeyName="$(hklm.sofware)\\x": unknown macro $(hklm.sofware)`},
		{"unknown child", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegVal/></RegKey>`), "4:47: unknown element <RegVal> in <RegKey>; expected RegValue"},
		{"not RegKey", regKeys(`<Key/>`), "4:10: unknown element <Key> in <RegKeys>; expected RegKey"},
		{"no Type", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="1"/></RegKey>`), "4:47: <RegValue> has no Type"},
		{"bad Type", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="1" Type="MUI_SZ"/></RegKey>`), `4:76: Type="MUI_SZ": expected REG_SZ`},
		{"bad dword", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="0x1" Type="REG_DWORD"/></RegKey>`), `4:66: Value="0x1": expected a 32-bit hexadecimal number`},
		{"bad binary", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="1,2" Type="REG_BINARY"/></RegKey>`), `4:66: Value="1,2": byte 1`},
		{"unknown attribute", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Nme="a" Value="1" Type="REG_SZ"/></RegKey>`), "4:57: unknown attribute Nme on <RegValue>"},
		{"duplicate value", regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="1" Type="REG_SZ"/></RegKey><RegKey KeyName="$(hklm.software)\X\"><RegValue Name="A" Value="2" Type="REG_SZ"/></RegKey>`), `4:138: value "A" of key "HKEY_LOCAL_MACHINE\\Software\\X" is given twice`},
		{"duplicate default", regKeys(`<RegKey KeyName="$(hkcu.root)\x"><RegValue Value="1" Type="REG_SZ"/><RegValue Name="@" Value="2" Type="REG_SZ"/></RegKey>`), `value "@" of key`},
		{"language and resolution", "<Components><OSComponent>\n<RegKeys Language=\"*\" Resolution=\"*\"/></OSComponent></Components>", "4:1: Language and Resolution on one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.pkg.xml")
			if err := os.WriteFile(path, []byte(projectXML(tc.xml, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, baseOpt)
			if err == nil || !strings.Contains(err.Error(), path+":"+tc.want) && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %s:%s", err, path, tc.want)
			}
			if strings.HasPrefix(tc.want, "4:") && !strings.Contains(err.Error(), path+":"+tc.want) {
				t.Fatalf("err = %v\nwant it at %s:%s", err, path, tc.want)
			}
		})
	}
}

// regText decodes a .reg file: UTF-16LE after its byte order mark.
func regText(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xFE || len(b)%2 != 0 {
		t.Fatalf("not UTF-16LE with a byte order mark")
	}
	return utf16le.String(b[2:])
}

// A package with <RegKeys> carries them as \Windows\Packages\RegistryFiles\<name>.reg, FileType
// Registry, with macros expanded; cabextract reads the package back.
func TestRegKeysBuild(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.txt": "a",
		"p.pkg.xml": projectXML(`<Macros><Macro Id="v" Value="Cam"/></Macros><Components><OSComponent>
<Files><File Source="a.txt"/></Files>
<RegKeys>
  <RegKey KeyName="$(hklm.software)\Contoso\$(v)">
    <RegValue Name="Path" Value="$(runtime.system32)\a.txt" Type="REG_SZ"/>
    <RegValue Name="" Value="default" Type="REG_SZ"/>
    <RegValue Name="Count" Value="12AB34CD" Type="REG_DWORD"/>
    <RegValue Name="Big" Value="1234ABCD1234ABCD" Type="REG_QWORD"/>
    <RegValue Name="List" Value="a;b" Type="REG_MULTI_SZ"/>
    <RegValue Name="Bytes" Value="1A,2B,3D" Type="REG_BINARY"/>
    <RegValue Name="Exp" Value="%SystemRoot%\x" Type="REG_EXPAND_SZ"/>
    <RegValue Name="Raw" Value="hex(7):61,00,00,00,00,00" Type="REG_HEX"/>
  </RegKey>
  <RegKey KeyName="$(hklm.services)\CamSvc\"/>
</RegKeys>
<RegKeys Language="*"><RegKey KeyName="$(hkcu.root)\Lang"><RegValue Name="L" Value="$(langid)" Type="REG_SZ"/></RegKey></RegKeys>
</OSComponent></Components>`, ""),
	})
	opt := baseOpt
	opt.Languages = []string{"en-US"}
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := Build(pkgs, out, opt); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Contoso.Apps.Camera.spkg": "Windows Registry Editor Version 5.00\r\n" +
			"\r\n[HKEY_LOCAL_MACHINE\\Software\\Contoso\\Cam]\r\n@=\"default\"\r\n\"Big\"=hex(b):cd,ab,34,12,cd,ab,34,12\r\n\"Bytes\"=hex:1a,2b,3d\r\n\"Count\"=dword:12ab34cd\r\n" +
			"\"Exp\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,00,5c,00,78,00,00,00\r\n\"List\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n\"Path\"=\"\\\\windows\\\\System32\\\\a.txt\"\r\n\"Raw\"=hex(7):61,00,00,00,00,00\r\n" +
			"\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\services\\CamSvc]\r\n",
		"Contoso.Apps.Camera_Lang_en-US.spkg": "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Lang]\r\n\"L\"=\"en-US\"\r\n",
	}
	cabextract := checker.Find(t, "cabextract")
	for file, reg := range want {
		path := filepath.Join(out, file)
		p, err := spkg.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(file, ".spkg")
		var entry *spkg.FileEntry
		for i, f := range p.Manifest.Files {
			if f.DevicePath == `\Windows\Packages\RegistryFiles\`+name+".reg" {
				entry = &p.Manifest.Files[i]
			}
		}
		p.Close()
		if entry == nil || entry.FileType != "Registry" {
			t.Fatalf("%s: no Registry FileEntry at \\Windows\\Packages\\RegistryFiles\\%s.reg: %+v", file, name, entry)
		}
		x := t.TempDir()
		checker.Run(t, "", cabextract, "-q", "-d", x, path)
		data, err := os.ReadFile(filepath.Join(x, entry.CabPath))
		if err != nil {
			t.Fatal(err)
		}
		if got := regText(t, data); got != reg {
			t.Errorf("%s: .reg\n%q\nwant\n%q", file, got, reg)
		}
		// hivex reads the same keys and values back.
		for _, pk := range pkgs {
			if pk.FileName() == file {
				checkHivex(t, data, pk.Registry)
			}
		}
	}
}
