package pkggen

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// tree writes files under a temporary directory and returns it.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func projectXML(body string, attrs string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Apps" SubComponent="Camera" ` + attrs + `>
` + body + `
</Package>`
}

var baseOpt = Options{BuildType: "fre", CPU: "arm", Version: spkg.Version{Major: 1}}

type want struct {
	name  string
	files map[string]string // device path -> source (relative to the tree)
}

func check(t *testing.T, dir string, got []*Package, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d packages %v, want %d", len(got), Names(got), len(wants))
	}
	for i, w := range wants {
		pk := got[i]
		if pk.Manifest.Name() != w.name {
			t.Errorf("package %d = %s, want %s", i, pk.Manifest.Name(), w.name)
		}
		files := map[string]string{}
		for _, f := range pk.Files {
			rel, _ := filepath.Rel(dir, f.Source)
			files[f.DevicePath] = rel
		}
		if !reflect.DeepEqual(files, w.files) {
			t.Errorf("%s files = %v, want %v", w.name, files, w.files)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := tree(t, map[string]string{
		"bin/camera.exe":        "exe",
		"bin/Camera.dll":        "dll",
		"res/en-US/camera.mui":  "en",
		"res/de-DE/camera.mui":  "de",
		"res/720x1280/logo.png": "png",
		"cfg/settings.xml":      "<x/>",
	})
	tests := []struct {
		name string
		body string
		opt  func(*Options)
		want []want
	}{
		{
			name: "files, macros and defaults",
			body: `<Macros><Macro Id="appdir" Value="$(runtime.programFiles)\ContosoCamera"/></Macros>
<Components><OSComponent><Files>
  <File Source="bin\camera.exe" DestinationDir="$(appdir)"/>
  <File Source="$(_RELEASEDIR)\bin\camera.dll" Name="contoso_camera.dll"/>
  <File Source="$(cfgdir)\settings.xml" DestinationDir="$(runtime.windows)\ImageUpdate" Attributes="ReadOnly Hidden"/>
</Files></OSComponent></Components>`,
			opt: func(o *Options) { o.Variables = map[string]string{"cfgdir": "cfg"} },
			want: []want{{"Contoso.Apps.Camera", map[string]string{
				`\Program Files\ContosoCamera\camera.exe`: "bin/camera.exe",
				`\windows\System32\contoso_camera.dll`:    "bin/Camera.dll", // found case-insensitively
				`\windows\ImageUpdate\settings.xml`:       "cfg/settings.xml",
			}}},
		},
		{
			name: "language and resolution satellites",
			body: `<Components><OSComponent>
<Files><File Source="bin\camera.exe" DestinationDir="$(runtime.programFiles)\Cam"/></Files>
<Files Language="*"><File Source="res\$(langid)\camera.mui" DestinationDir="$(runtime.default)\$(LANGID)"/></Files>
<Files Resolution="(720x1280)"><File Source="res\$(resid)\logo.png" DestinationDir="$(runtime.programFiles)\Cam"/></Files>
</OSComponent></Components>`,
			opt: func(o *Options) {
				o.Languages = []string{"en-US", "de-DE"}
				o.Resolutions = []string{"480x800", "720x1280"}
			},
			want: []want{
				{"Contoso.Apps.Camera", map[string]string{`\Program Files\Cam\camera.exe`: "bin/camera.exe"}},
				{"Contoso.Apps.Camera_Lang_en-US", map[string]string{`\windows\System32\en-US\camera.mui`: "res/en-US/camera.mui"}},
				{"Contoso.Apps.Camera_Lang_de-DE", map[string]string{`\windows\System32\de-DE\camera.mui`: "res/de-DE/camera.mui"}},
				{"Contoso.Apps.Camera_RES_720x1280", map[string]string{`\Program Files\Cam\logo.png`: "res/720x1280/logo.png"}},
			},
		},
		{
			name: "satellites only: no empty neutral package",
			body: `<Components><OSComponent>
<Files Language="!(de-DE)"><File Source="res\$(langid)\camera.mui"/></Files>
</OSComponent></Components>`,
			opt:  func(o *Options) { o.Languages = []string{"en-US", "de-DE"} },
			want: []want{{"Contoso.Apps.Camera_Lang_en-US", map[string]string{`\windows\System32\camera.mui`: "res/en-US/camera.mui"}}},
		},
		{
			name: "empty project: one empty package",
			body: `<Components/>`,
			want: []want{{"Contoso.Apps.Camera", map[string]string{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "camera.pkg.xml")
			if err := os.WriteFile(path, []byte(projectXML(tt.body, `ReleaseType="Production"`)), 0o644); err != nil {
				t.Fatal(err)
			}
			opt := baseOpt
			if tt.opt != nil {
				tt.opt(&opt)
			}
			got, err := Load(path, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if len(w.files) == 0 {
					w.files = map[string]string{}
				}
			}
			for _, pk := range got {
				if pk.Files == nil {
					pk.Files = []File{}
				}
			}
			check(t, dir, got, tt.want)
			if got[0].Manifest.ReleaseType != "Production" || got[0].Manifest.BuildType != "Retail" || got[0].Manifest.CpuType != "ARM" {
				t.Errorf("manifest properties %+v", got[0].Manifest)
			}
		})
	}
}

// comps wraps files in the Components of a project.
func comps(files string) string {
	return "<Components><OSComponent><Files>" + files + "</Files></OSComponent></Components>"
}

func TestLoadErrors(t *testing.T) {
	dir := tree(t, map[string]string{"a.txt": "a", "A.TXT": "A", "b.txt": "b", "sub/c.txt": "c"})
	tests := []struct {
		name, xml string
		vars      map[string]string
		want      string // the error starts with p.pkg.xml: and then this
	}{
		{"malformed", "<Package", nil, "1:9: malformed XML: unexpected EOF"},
		{"malformed attribute", projectXML(`<Components><OSComponent><Files><File Source="b.txt/></Files></OSComponent></Components>`, ""), nil, "3:"},
		{"wrong root", `<Packages xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00"/>`, nil, "1:1: root element is <Packages>; expected <Package>"},
		{"wrong namespace", `<Package xmlns="urn:other" Owner="C" Component="X"/>`, nil, "1:1: <Package> is in namespace urn:other; expected namespace urn:Microsoft.WindowsPhone/PackageSchema.v8.00"},
		{"missing owner", strings.Replace(projectXML("", ""), `Owner="Contoso" `, "", 1), nil, "2:1: Owner is empty"},
		{"unknown attribute", projectXML("", `Colour="red"`), nil, "2:120: unknown attribute Colour on <Package>"},
		{"near attribute", projectXML("", `Platfrom="x"`), nil, "2:120: unknown attribute Platfrom on <Package>; expected one of Owner, Component, SubComponent, ReleaseType, OwnerType, Partition, Platform, GroupingKey, BinaryPartition, Description (did you mean Platform?)"},
		{"release type", projectXML("", `ReleaseType="Retail"`), nil, `2:120: attribute ReleaseType of <Package> is "Retail"; expected Production, Test`},
		{"binary partition", projectXML("", `BinaryPartition="true"`), nil, "2:120: BinaryPartition=\"true\" but <Components> has no <BinaryPartition ImageSource=\"...\"/>; expected one, the partition's image"},
		{"owner macro unknown", strings.Replace(projectXML("", ""), `Owner="Contoso"`, `Owner="$(OEMNAME)"`, 1), nil,
			`2:65: attribute Owner of <Package> is "$(OEMNAME)": unknown macro $(OEMNAME); pass it on the command line with /variables:OEMNAME=value`},
		{"platform macro unknown", projectXML("", `Platform="$(BSPARCH)"`), nil, `2:120: attribute Platform of <Package> is "$(BSPARCH)": unknown macro $(BSPARCH); pass it on the command line with /variables:BSPARCH=value`},
		{"settings group component", projectXML("<Components>\n  <AppResource/></Components>", ""), nil, "4:3: <AppResource> is not supported yet (built: OSComponent, Driver, Service, ComServer, BCDStore, SettingsGroup, BinaryPartition)"},
		{"unknown component", projectXML("<Components><OSComponnet/></Components>", ""), nil, "3:13: unknown element <OSComponnet> in <Components>; expected one of OSComponent, AppResource"},
		{"near component", projectXML("<Components><OSComponnet/></Components>", ""), nil, "3:13: unknown element <OSComponnet> in <Components>; expected one of OSComponent, AppResource, Application, BCDStore, BinaryPartition, ComServer, Driver, Service, SvcHostGroup, WinRTHost, FullTrust, InboxApp, SettingsGroup (did you mean OSComponent?)"},
		{"Fles", projectXML(`<Components><OSComponent><Fles/></OSComponent></Components>`, ""), nil, "3:26: unknown element <Fles> in <OSComponent>; expected Files or RegKeys (did you mean Files?)"},
		{"Flie", projectXML(comps(`<Flie Source="b.txt"/>`), ""), nil, "3:33: unknown element <Flie> in <Files>; expected File (did you mean File?)"},
		{"capabilities", projectXML(`<Capabilities/>`, ""), nil, "3:1: <Capabilities> is not supported yet (a package project may hold CustomMetadata, Macros and Components)"},
		{"unknown element", projectXML(`<Bogus/>`, ""), nil, "3:1: unknown element <Bogus> in <Package>; expected one of CustomMetadata, Macros, Capabilities, Components, Authorization"},
		{"text", projectXML(`hello`, ""), nil, "2:1: unexpected text \"hello\" in <Package>"},
		{"file attribute", projectXML(comps(`<File Source="b.txt" DestinatonDir="x"/>`), ""), nil, "3:54: unknown attribute DestinatonDir on <File>; expected one of Source, DestinationDir, Name, Attributes, EmbeddedSigningCategory (did you mean DestinationDir?)"},
		{"missing source", projectXML(comps(`<File Source="b.txt"/>`+"\n"+`<File Source="nope.txt"/>`), ""), nil, `4:7: Source="nope.txt": `},
		{"no source", projectXML(comps(`<File Name="x"/>`), ""), nil, "3:33: <File> has no Source"},
		{"source directory", projectXML(comps(`<File Source="sub"/>`), ""), nil, `3:39: Source="sub": `},
		{"ambiguous source", projectXML(comps(`<File Source="a.Txt"/>`), ""), nil, "3:39: Source=\"a.Txt\": "},
		{"unknown macro", projectXML(comps(`<File Source="$(nowhere)\b.txt"/>`), ""), nil, "3:39: Source=\"$(nowhere)\\\\b.txt\": unknown macro $(nowhere); pass it on the command line with /variables:nowhere=value, or define it in <Macros> or a /config: file"},
		{"unset environment variable", projectXML(comps(`<File Source="%NOPE%\b.txt"/>`), ""), nil, "3:39: Source=\"%NOPE%\\\\b.txt\": environment variable %NOPE% is not set"},
		{"macro cycle", projectXML("<Macros>\n<Macro Id=\"a\" Value=\"$(b)x\"/>\n<Macro Id=\"b\" Value=\"$(a)y\"/></Macros>", ""), nil, "4:15: macro a: refers to itself through a cycle (a -> b -> a)"},
		{"macro bomb", projectXML("<Macros>\n<Macro Id=\"a\" Value=\""+strings.Repeat("$(a)", 16)+"\"/></Macros>", ""), nil, "4:15: macro a: refers to itself through a cycle (a -> a)"},
		{"macro bomb without a cycle", projectXML("<Macros>"+bombMacros(6)+"</Macros>", ""), nil, "6:16: macro m2: expands to more than 65536 bytes"},
		{"bomb in /variables:", projectXML(comps(`<File Source="$(v0)"/>`), ""), bombVars(6), "/variables: macro v2: expands to more than 65536 bytes"},
		{"cycle in /variables:", projectXML("", ""), map[string]string{"v": "$(w)", "W": "$(V)"}, "/variables: macro W: refers to itself through a cycle (W -> v -> W)"},
		{"huge attribute", projectXML(comps(`<File Source="`+strings.Repeat("x", 100000)+`"/>`), ""), nil, "3:39: Source=\"" + strings.Repeat("x", 100) + "... (100000 bytes)\": more than 65536 bytes after expansion"},
		{"macro without value", projectXML(`<Macros><Macro Id="a"/></Macros>`, ""), nil, "3:9: <Macro> \"a\" has no Value attribute"},
		{"macro id", projectXML(`<Macros><Macro Id="1a" Value=""/></Macros>`, ""), nil, "3:16: macro Id \"1a\": expected a letter or '_'"},
		{"macro twice", projectXML("<Macros><Macro Id=\"a\" Value=\"\"/>\n<Macro Id=\"A\" Value=\"\"/></Macros>", ""), nil, "4:8: macro A is defined twice (first at line 3)"},
		{"global redefined", projectXML(`<Macros><Macro Id="runtime.windows" Value="\W"/></Macros>`, ""), nil, "3:16: macro runtime.windows is a built-in global macro; a package project may not redefine a global macro"},
		{"macro element", projectXML(`<Macros><Macr Id="a" Value=""/></Macros>`, ""), nil, "3:9: unknown element <Macr> in <Macros>; expected Macro (did you mean Macro?)"},
		{"escaping destination", projectXML(comps(`<File Source="b.txt" DestinationDir="\Windows\..\.."/>`), ""), nil, "3:54: device path \"\\\\Windows\\\\..\\\\..\\\\b.txt\": empty, '.' or '..' element"},
		{"drive letter destination", projectXML(comps(`<File Source="b.txt" DestinationDir="C:\Windows"/>`), ""), nil, "3:54: device path \"C:\\\\Windows\\\\b.txt\": must start with"},
		{"duplicate device path", projectXML(comps(`<File Source="b.txt"/><File Source="a.txt" Name="B.TXT"/>`), ""), nil, "3:55: device path \\windows\\System32\\B.TXT is given twice"},
		{"bad attributes", projectXML(comps(`<File Source="b.txt" Attributes="Secret"/>`), ""), nil, "3:54: file attribute \"Secret\""},
		{"bad language syntax", projectXML(`<Components><OSComponent><Files Language="en-US"><File Source="b.txt"/></Files></OSComponent></Components>`, ""), nil, "3:33: Language=\"en-US\": expected *, (a;b) or !(a;b)"},
		{"language and resolution", projectXML(`<Components><OSComponent><Files Language="*" Resolution="*"><File Source="b.txt"/></Files></OSComponent></Components>`, ""), nil, "3:26: Language and Resolution on one Files group"},
		{"name with directory", projectXML(comps(`<File Source="b.txt" Name="x\b.txt"/>`), ""), nil, "3:54: Name=\"x\\\\b.txt\": a file name, without directories"},
		{"child of File", projectXML(comps(`<File Source="b.txt"><x/></File>`), ""), nil, "3:54: unknown element <x> in <File>"},
		{"too deep", projectXML(strings.Repeat("<Components>", 300), ""), nil, "3:3061: elements nested more than 256 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.pkg.xml")
			if err := os.WriteFile(path, []byte(tt.xml), 0o644); err != nil {
				t.Fatal(err)
			}
			opt := baseOpt
			opt.Variables = tt.vars
			_, err := Load(path, opt)
			prefix := path + ":" + tt.want
			if tt.want[0] == '/' {
				prefix = path + ": " + tt.want
			}
			if err == nil || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("err = %.500v\nwant it to start with %q", err, prefix)
			}
		})
	}
}

// bombMacros is a chain of macros, each 16 references to the next, one per line from line 4.
func bombMacros(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\n<Macro Id=\"m%d\" Value=\"%s\"/>", i, strings.Repeat(fmt.Sprintf("$(m%d)", i+1), 16))
	}
	fmt.Fprintf(&b, "\n<Macro Id=\"m%d\" Value=\"%s\"/>", n, strings.Repeat("x", 16))
	return b.String()
}

func bombVars(n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("v%d", i)] = strings.Repeat(fmt.Sprintf("$(v%d)", i+1), 16)
	}
	m[fmt.Sprintf("v%d", n)] = strings.Repeat("x", 16)
	return m
}

func TestOptionsErrors(t *testing.T) {
	dir := tree(t, map[string]string{"p.pkg.xml": projectXML("", "")})
	for _, opt := range []Options{{BuildType: "debug", CPU: "arm"}, {BuildType: "fre", CPU: "mips"}} {
		if _, err := Load(filepath.Join(dir, "p.pkg.xml"), opt); err == nil {
			t.Errorf("Load with %+v: no error", opt)
		}
	}
}

func TestConfigMacros(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.txt":     "a",
		"cfg.xml":   `<PkgGenConfig><GlobalMacros><Macro Id="runtime.oem" Value="\OEM"/><Macro Id="runtime.windows" Value="\Win"/></GlobalMacros></PkgGenConfig>`,
		"p.pkg.xml": projectXML(`<Components><OSComponent><Files><File Source="a.txt" DestinationDir="$(runtime.oem)"/><File Source="a.txt" Name="b.txt" DestinationDir="$(runtime.windows)"/></Files></OSComponent></Components>`, ""),
	})
	opt := baseOpt
	opt.Config = filepath.Join(dir, "cfg.xml")
	got, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	check(t, dir, got, []want{{"Contoso.Apps.Camera", map[string]string{`\OEM\a.txt`: "a.txt", `\Win\b.txt`: "a.txt"}}})
}

func TestSelect(t *testing.T) {
	supported := []string{"en-US", "de-DE", "fr-FR"}
	tests := []struct {
		spec string
		want []string
		err  bool
	}{
		{"*", supported, false},
		{"(fr-FR;en-us)", []string{"en-US", "fr-FR"}, false},
		{"!(de-DE)", []string{"en-US", "fr-FR"}, false},
		{"(ja-JP)", nil, false},
		{"en-US", nil, true},
		{"(*;en-US)", nil, true},
		{"!*", nil, true},
	}
	for _, tt := range tests {
		got, err := Select(tt.spec, supported)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Select(%q) = %v, %v; want %v (error %v)", tt.spec, got, err, tt.want, tt.err)
		}
	}
}

func TestBuildWritesReadablePackages(t *testing.T) {
	dir := tree(t, map[string]string{
		"bin/camera.exe": strings.Repeat("camera ", 20000),
		"p.pkg.xml":      projectXML(`<Components><OSComponent><Files><File Source="bin\camera.exe" DestinationDir="$(runtime.programFiles)\Cam"/></Files></OSComponent></Components>`, ""),
	})
	out := t.TempDir()
	for _, compress := range []bool{false, true} {
		opt := baseOpt
		opt.Compress = compress
		pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Build(pkgs[:1], out, opt); err != nil {
			t.Fatal(err)
		}
		p, err := spkg.Open(filepath.Join(out, "Contoso.Apps.Camera.spkg"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Manifest.Files[0].DevicePath != `\Program Files\Cam\camera.exe` || p.Manifest.Files[0].FileSize != 140000 {
			t.Errorf("compress=%v: manifest %+v", compress, p.Manifest.Files[0])
		}
		p.Close()
		// +compress is the original's FastLZX: LZX folders with a 2 MiB window, which
		// cabextract (libmspack) must accept.
		path := filepath.Join(out, "Contoso.Apps.Camera.spkg")
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		cr, err := cab.NewReader(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		want := cab.None
		if compress {
			want = cab.LZXWindow(21)
		}
		for i, fo := range cr.Folders {
			if fo.Compression != want {
				t.Errorf("compress=%v: folder %d compression %#x, want %#x", compress, i, uint16(fo.Compression), uint16(want))
			}
		}
		f.Close()
		checker.Run(t, "", checker.Find(t, "cabextract"), "-t", path)
	}
}

// The shape of the IoT Core kit's projects: every Package attribute a macro given with
// /variables:, the kit's global folders, and a UTF-16 file with a byte order mark.
// A source swapped for a named pipe after Load is refused by name when the packages are
// written, and nothing is written: opening it would block for ever.
func TestBuildSourceSwapped(t *testing.T) {
	dir := tree(t, map[string]string{
		"camera.exe":           "camera",
		"res/en-us/camera.mui": "en",
		"res/fr-fr/camera.mui": "fr",
		"p.pkg.xml": projectXML(`<Components><OSComponent><Files><File Source="camera.exe"/></Files>
<Files Language="*"><File Source="res\$(langid)\camera.mui"/></Files></OSComponent></Components>`, ""),
	})
	opt := baseOpt
	opt.Languages = []string{"en-us", "fr-fr"}
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "res/fr-fr/camera.mui")
	if err := os.Remove(pipe); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	out := t.TempDir()
	done := make(chan error, 1)
	go func() {
		_, err := Build(pkgs, out, opt)
		done <- err
	}()
	select {
	case err := <-done:
		if want := pipe + ": a named pipe; expected a regular file"; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Build did not return within 10 s")
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a failed Build left %d files", len(ents))
	}
}

func TestLoadRealWorldProjects(t *testing.T) {
	dir := tree(t, map[string]string{
		"AppInstall/app.cmd": "cmd", "prov.ppkg": "ppkg", "drv.sys": "sys", "ACPITABL.dat": "acpi", "Test.txt": "t",
	})
	project := `<?xml version="1.0" encoding="utf-16"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00"
  Owner="$(OEMNAME)" OwnerType="$(OWNERTYPE)" ReleaseType="$(RELTYPE)" Platform="$(BSPARCH)"
  Component="$(COMP)" SubComponent="$(SUB)" Partition="$(PART)" GroupingKey="$(OEMNAME).g" Description="for $(PROD)">
  <Components><OSComponent><Files>
    <File Source="AppInstall\app.cmd" DestinationDir="$(runtime.root)\AppInstall" Name="app.cmd"/>
    <File Source="$(_RELEASEDIR)\prov.ppkg" DestinationDir="$(runtime.windows)\Provisioning\Packages"/>
    <File Source="drv.sys" DestinationDir="$(runtime.drivers)"/>
    <File Source="ACPITABL.dat" DestinationDir="$(runtime.bootDrive)\efi"/>
    <File Source="Test.txt"/>
  </Files></OSComponent></Components>
</Package>`
	for _, enc := range []string{"utf-8", "utf-16le", "utf-16be"} {
		t.Run(enc, func(t *testing.T) {
			var data []byte
			switch enc {
			case "utf-8":
				data = []byte(strings.Replace(project, "utf-16", "utf-8", 1))
			default:
				data = utf16Bytes(project, enc == "utf-16be")
			}
			path := filepath.Join(dir, "Custom.Settings.pkg.xml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			opt := baseOpt
			opt.Variables = map[string]string{"OEMNAME": "Contoso", "OWNERTYPE": "OEM", "RELTYPE": "Production", "BSPARCH": "arm",
				"COMP": "Custom", "SUB": "Settings", "PART": "MainOS", "PROD": "ProductA"}
			got, err := Load(path, opt)
			if err != nil {
				t.Fatal(err)
			}
			check(t, dir, got, []want{{"Contoso.Custom.Settings", map[string]string{
				`\AppInstall\app.cmd`:                      "AppInstall/app.cmd",
				`\windows\Provisioning\Packages\prov.ppkg`: "prov.ppkg",
				`\windows\System32\drivers\drv.sys`:        "drv.sys",
				`\efi\ACPITABL.dat`:                        "ACPITABL.dat",
				`\windows\System32\Test.txt`:               "Test.txt",
			}}})
			m := got[0].Manifest
			if m.Platform != "arm" || m.OwnerType != "OEM" || m.ReleaseType != "Production" || m.Partition != "MainOS" || m.GroupingKey != "Contoso.g" {
				t.Errorf("manifest %+v", m)
			}
		})
	}
}

func utf16Bytes(s string, bigEndian bool) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	}
	for _, c := range u {
		if bigEndian {
			out = append(out, byte(c>>8), byte(c))
		} else {
			out = append(out, byte(c), byte(c>>8))
		}
	}
	return out
}

// The global macros expand to the folders of the kit's PkgGen.cfg.xml.
func TestGlobalMacros(t *testing.T) {
	vals, err := winpath.ResolveMacros(sortedMacros(GlobalMacros, "built in"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"runtime.root": ``, "runtime.windows": `\windows`, "runtime.system32": `\windows\System32`,
		"runtime.drivers": `\windows\System32\drivers`, "runtime.programFiles": `\Program Files`,
		"runtime.programData": `\ProgramData`, "runtime.commonfiles": `\Programs\CommonFiles`,
		"runtime.inf": `\windows\INF`, "runtime.bootDrive": ``, "runtime.default": `\windows\System32`,
		"runtime.clipAppLicenseInstall": `\ProgramData\Microsoft\Windows\ClipSVC\Install\Apps`,
		"env.drivers":                   `%SystemRoot%\System32\drivers`, "data.public": `\Users\Public`,
		"hklm.autologger": `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Control\WMI\Autologger`,
		"hkcr.root":       `HKEY_LOCAL_MACHINE\Software\Classes`,
	} {
		if vals[name] != want {
			t.Errorf("$(%s) = %q, want %q", name, vals[name], want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := tree(t, map[string]string{
		"p.pkg.xml": projectXML("", ""),
		"noid.xml":  "<Macros>\n  <Macro Value=\"x\"/></Macros>",
		"bad.xml":   "<Macros>\n  <Macro",
		"cycle.xml": "<Macros>\n  <Macro Id=\"x\" Value=\"$(x)\"/></Macros>",
	})
	for _, tt := range []struct{ cfg, want string }{
		{"noid.xml", "noid.xml:2:3: <Macro> has no Id attribute"},
		{"bad.xml", "bad.xml:2:9: malformed XML"},
		{"cycle.xml", "cycle.xml:2:17: macro x: refers to itself"},
		{"none.xml", "/config: " + filepath.Join(dir, "none.xml") + ": does not exist; expected a regular file"},
	} {
		opt := baseOpt
		opt.Config = filepath.Join(dir, tt.cfg)
		_, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("/config:%s: err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// wantWarnings fails t for each of want that no warning contains.
func wantWarnings(t *testing.T, warnings []string, want ...string) {
	t.Helper()
	all := strings.Join(warnings, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no warning %q in\n%s", w, all)
		}
	}
}

// checkValues checks that each of want is in got (key and name ignoring case) with its type
// and data; with exact, got holds nothing else.
func checkValues(t *testing.T, got, want []registry.Value, exact bool) {
	t.Helper()
	byName := map[string]registry.Value{}
	for _, v := range got {
		byName[strings.ToLower(v.Key+"|"+v.Name)] = v
	}
	for _, w := range want {
		g, ok := byName[strings.ToLower(w.Key+"|"+w.Name)]
		if !ok || g.Type != w.Type || string(g.Data) != string(w.Data) {
			t.Errorf("value %s\\%s = %+v, want %+v", w.Key, w.Name, g, w)
		}
	}
	if exact && len(got) != len(want) {
		t.Errorf("%d registry entries, want %d: %+v", len(got), len(want), got)
	}
}

// builtFile is a file of a built package as cabextract reads it back.
type builtFile struct {
	FileType string
	Data     []byte
}

// buildExtract builds pkgs into a scratch directory, extracts package name.spkg with
// cabextract and returns its files by device path.
func buildExtract(t *testing.T, pkgs []*Package, opt Options, name string) map[string]builtFile {
	t.Helper()
	out := t.TempDir()
	if _, err := Build(pkgs, out, opt); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, name+".spkg")
	p, err := spkg.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	x := t.TempDir()
	checker.Run(t, "", checker.Find(t, "cabextract"), "-q", "-d", x, path)
	files := map[string]builtFile{}
	for _, f := range p.Manifest.Files {
		data, err := os.ReadFile(filepath.Join(x, f.CabPath))
		if err != nil {
			t.Fatal(err)
		}
		files[f.DevicePath] = builtFile{f.FileType, data}
	}
	return files
}

// wantLoadError writes xml as p.pkg.xml beside files, loads it and checks that the error
// contains want; a want starting with line:col: must follow the project's path.
func wantLoadError(t *testing.T, files map[string]string, xml, want string) {
	t.Helper()
	dir := tree(t, files)
	path := filepath.Join(dir, "p.pkg.xml")
	if err := os.WriteFile(path, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, baseOpt)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if linecol.MatchString(want) && !strings.Contains(err.Error(), path+":"+want) {
		t.Fatalf("err = %v\nwant it at %s:%s", err, path, want)
	}
}

var linecol = regexp.MustCompile(`^\d+:\d+: `)
