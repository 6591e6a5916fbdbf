package customization

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// policyPackage writes a package carrying testdata/contoso.policy.xml at its policy path.
func policyPackage(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/contoso.policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "Contoso.Settings.spkg")
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Settings", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	payload := []spkg.Payload{{DevicePath: answerfile.PolicyDir + "Contoso.Display.policy.xml", Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func plan(t *testing.T) []*Package {
	t.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	c, err := answerfile.Load("testdata/root.xml", map[string]string{"TESTDATA": testdata})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := LoadPolicies([]string{policyPackage(t)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := answerfile.Resolve(c, ps, true)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := Plan(r, Options{Device: "Phone1", Version: spkg.Version{Major: 1, Minor: 2, QFE: 3, Build: 4}, CPUType: "ARM"})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestPackages(t *testing.T) {
	dir := t.TempDir()
	paths, err := Write(dir, plan(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	var names []string
	for _, path := range paths {
		p, err := spkg.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m := p.Manifest
		if m.Version.String() != "1.2.3.4" || m.ReleaseType != "Production" || m.OwnerType != "OEM" || m.BuildType != "Retail" || m.CpuType != "ARM" {
			t.Errorf("%s: %+v", path, m)
		}
		name := filepath.Base(path)
		names = append(names, name+" "+m.Partition)
		for _, f := range m.Files {
			if f.FileType == "Regular" {
				got[name] = append(got[name], f.DevicePath)
			}
		}
		if name == "Contoso.Phone1.Customizations.MainOS.spkg" {
			reg, err := p.ReadFile(RegistryFilePath)
			if err != nil {
				t.Fatal(err)
			}
			checkReg(t, reg)
		}
		p.Close()
	}
	wantNames := []string{
		"Contoso.Phone1.Customizations.Data.spkg Data",
		"Contoso.Phone1.Customizations.MainOS.spkg MainOS",
		"Contoso.Phone1.Customizations.StaticApps.MainOS.spkg MainOS",
		"Contoso.Phone1.Customizations.VariantApps.Data.spkg Data",
	}
	if strings.Join(names, "\n") != strings.Join(wantNames, "\n") {
		t.Errorf("packages:\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(wantNames, "\n"))
	}
	want := map[string][]string{
		"Contoso.Phone1.Customizations.Data.spkg": {`\SharedData\MapData\maps\USA.map`},
		"Contoso.Phone1.Customizations.MainOS.spkg": {`\Programs\CommonFiles\ADC\Microsoft\ProvisionData.cab`,
			`\Programs\CommonFiles\Wallpapers\Contoso.jpg`, `\Windows\Packages\RegistryFiles\OEMSettings.reg`},
		"Contoso.Phone1.Customizations.StaticApps.MainOS.spkg": {`\Programs\CommonFiles\OEMApps\Contoso.xap`,
			`\Programs\CommonFiles\OEMApps\Contoso_License.xml`, `\Programs\PhoneProvisioner_OEM\OEM\MPAP_Contoso_01.provxml`},
		"Contoso.Phone1.Customizations.VariantApps.Data.spkg": {`\SharedData\OEMApps\SIM_Tiny\Tiny.xap`},
	}
	for name, files := range want {
		sort.Strings(got[name])
		if strings.Join(got[name], " ") != strings.Join(files, " ") {
			t.Errorf("%s holds %q, want %q", name, got[name], files)
		}
	}

	// Same inputs, same bytes.
	again, err := Write(t.TempDir(), plan(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range paths {
		a, _ := os.ReadFile(paths[i])
		b, _ := os.ReadFile(again[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", filepath.Base(paths[i]))
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(paths) {
		t.Errorf("output directory holds %d entries, want %d (no temporary files)", len(entries), len(paths))
	}
}

// checkReg decodes OEMSettings.reg (UTF-16LE with a byte order mark) and compares its text.
func checkReg(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || len(data)%2 != 0 {
		t.Fatalf("OEMSettings.reg is not UTF-16LE with a BOM: % x", data[:min(8, len(data))])
	}
	u := make([]uint16, (len(data)-2)/2)
	for i := range u {
		u[i] = uint16(data[2+2*i]) | uint16(data[3+2*i])<<8
	}
	got := string(utf16.Decode(u))
	want := "Windows Registry Editor Version 5.00\r\n" +
		"\r\n[HKEY_LOCAL_MACHINE\\Software\\Contoso\\Display]\r\n" +
		"\"Brightness\"=dword:000003e8\r\n" +
		"\"Calibration\"=hex:e8,03\r\n" +
		"\"Color\"=dword:00000001\r\n" +
		"\"Modes\"=hex(7):44,00,61,00,79,00,00,00,4e,00,69,00,67,00,68,00,74,00,00,00,00,00\r\n" +
		"\r\n[HKEY_LOCAL_MACHINE\\Software\\Contoso\\Wallpaper]\r\n" +
		"\"Current\"=\"Contoso.jpg\"\r\n" +
		"\"WallpaperSet\"=hex(7):5c,00,50,00,72,00,6f,00,67,00,72,00,61,00,6d,00,73,00,5c,00,43,00,6f,00,6d,00,6d,00,6f,00,6e,00,46,00,69,00,6c,00,65,00,73,00,5c,00,57,00,61,00,6c,00,6c,00,70,00,61,00,70,00,65,00,72,00,73,00,5c,00,43,00,6f,00,6e,00,74,00,6f,00,73,00,6f,00,2e,00,6a,00,70,00,67,00,00,00,00,00\r\n"
	if got != want {
		t.Errorf("OEMSettings.reg:\n%q\nwant\n%q", got, want)
	}
}

func TestProvisionData(t *testing.T) {
	var data []byte
	for _, p := range plan(t) {
		for _, f := range p.Files {
			if f.DevicePath == ProvisionDataPath {
				data = f.Data
			}
		}
	}
	r, err := cab.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var doc string
	for _, f := range r.Files {
		names = append(names, f.Name)
		if f.Name == ProvisionDataName {
			b, err := r.ReadFile(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			doc = string(b)
		}
	}
	if strings.Join(names, " ") != "ProvisionData.xml SIM_Tiny.MPAP_Tiny_01.provxml" {
		t.Errorf("ProvisionData.cab holds %q", names)
	}
	for _, w := range []string{
		`<Target Id="SIM_Tiny">`, `<Condition Name="MCC" Value="310"/>`,
		`<Variant Name="Tiny" TargetRef="SIM_Tiny">`,
		`<Application Source="\SharedData\OEMApps\SIM_Tiny\Tiny.xap" ProvXML="SIM_Tiny.MPAP_Tiny_01.provxml"/>`,
		`<characteristic type="Connectivity">`, `<parm name="MMSGateway" value="mms.tiny.example" datatype="string"/>`,
		`<characteristic type="Contoso\Display">`, `<parm name="Color" value="0" datatype="integer"/>`,
	} {
		if !strings.Contains(doc, w) {
			t.Errorf("ProvisionData.xml lacks %s:\n%s", w, doc)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	r := &answerfile.Resolved{C: &answerfile.Customizations{Root: &answerfile.File{Path: "/a.xml", Owner: "Contoso"}}}
	if _, err := Plan(r, Options{}); err == nil || !strings.Contains(err.Error(), "the OEMInput has no Device") {
		t.Errorf("no device: %v", err)
	}
	// Two assets with one device file name.
	pl := &planner{opt: Options{Device: "D"}, root: r.C.Root, pkgs: map[string]*Package{}}
	if err := pl.add("Customizations", "MainOS", File{DevicePath: `\a\b.jpg`, Source: "/x/b.jpg"}); err != nil {
		t.Fatal(err)
	}
	if err := pl.add("Customizations", "MainOS", File{DevicePath: `\A\B.jpg`, Source: "/y/b.jpg", Origin: answerfile.Pos{File: "/a.xml", Line: 9, Col: 1}}); err == nil || !strings.Contains(err.Error(), `/a.xml:9:1: /y/b.jpg would be written to \A\B.jpg`) {
		t.Errorf("device path clash: %v", err)
	}
}

func TestWriteAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	pkgs := plan(t)
	pkgs[len(pkgs)-1].Files = append(pkgs[len(pkgs)-1].Files, File{DevicePath: `\x\gone`, Source: filepath.Join(dir, "gone"), Origin: answerfile.Pos{File: "/a.xml", Line: 3, Col: 5}})
	if _, err := Write(dir, pkgs, nil); err == nil || !strings.HasPrefix(err.Error(), "/a.xml:3:5: ") {
		t.Fatalf("a missing source file: %v, want an error at the answer file line", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed Write left %d files", len(entries))
	}
}

// A package built by PkgGen carries its settings' policy at
// \Windows\CustomizationPolicy\<package name>.policy.xml, the root in no namespace.
func TestPolicyOfPkgGenPackage(t *testing.T) {
	data := []byte(`<?xml version="1.0" encoding="utf-8"?><CustomizationPolicy><SettingsGroup xmlns="` + answerfile.PolicyNamespace +
		`" Path="Contoso/Display"><Setting Name="Color"><RegistrySource Type="REG_DWORD" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\Color"/></Setting></SettingsGroup></CustomizationPolicy>`)
	path := filepath.Join(t.TempDir(), "Contoso.BaseOS.Settings.spkg")
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "BaseOS", SubComponent: "Settings", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	payload := []spkg.Payload{
		{DevicePath: `\Windows\CustomizationPolicy\Contoso.BaseOS.Settings.policy.xml`, Size: int64(len(data)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }},
		// A security policy (PkgGen's FileType SecurityPolicy) is no setting policy: not read.
		{DevicePath: `\Windows\Packages\PolicyFiles\Contoso.BaseOS.Settings.policy.xml`, Size: 5,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("<xx/>")), nil }},
	}
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadPolicies([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := ps.Match("contoso/display"); g == nil || g.Setting("Color") == nil || g.Pos.File != `Contoso.BaseOS.Settings.spkg\Windows\CustomizationPolicy\Contoso.BaseOS.Settings.policy.xml` {
		t.Errorf("groups %+v", ps.Groups)
	}
}
