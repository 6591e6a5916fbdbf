package pkggen

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// tree writes files under a temporary directory and returns it.
func tree(t *testing.T, files map[string]string) string {
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
				`\Programs\ContosoCamera\camera.exe`:   "bin/camera.exe",
				`\Windows\System32\contoso_camera.dll`: "bin/Camera.dll", // found case-insensitively
				`\Windows\ImageUpdate\settings.xml`:    "cfg/settings.xml",
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
				{"Contoso.Apps.Camera", map[string]string{`\Programs\Cam\camera.exe`: "bin/camera.exe"}},
				{"Contoso.Apps.Camera_Lang_en-US", map[string]string{`\Windows\System32\en-US\camera.mui`: "res/en-US/camera.mui"}},
				{"Contoso.Apps.Camera_Lang_de-DE", map[string]string{`\Windows\System32\de-DE\camera.mui`: "res/de-DE/camera.mui"}},
				{"Contoso.Apps.Camera_RES_720x1280", map[string]string{`\Programs\Cam\logo.png`: "res/720x1280/logo.png"}},
			},
		},
		{
			name: "satellites only: no empty neutral package",
			body: `<Components><OSComponent>
<Files Language="!(de-DE)"><File Source="res\$(langid)\camera.mui"/></Files>
</OSComponent></Components>`,
			opt:  func(o *Options) { o.Languages = []string{"en-US", "de-DE"} },
			want: []want{{"Contoso.Apps.Camera_Lang_en-US", map[string]string{`\Windows\System32\camera.mui`: "res/en-US/camera.mui"}}},
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

func TestLoadErrors(t *testing.T) {
	dir := tree(t, map[string]string{"a.txt": "a", "A.TXT": "A", "b.txt": "b"})
	tests := []struct {
		name, xml, want string
	}{
		{"malformed", "<Package", "not well-formed"},
		{"wrong namespace", `<Package xmlns="urn:other" Owner="C" Component="X"/>`, "namespace"},
		{"missing owner", strings.Replace(projectXML("", ""), `Owner="Contoso" `, "", 1), "Owner is empty"},
		{"unknown attribute", projectXML("", `Colour="red"`), "unknown attribute Colour"},
		{"binary partition", projectXML("", `BinaryPartition="true"`), "binary partition packages are not supported yet"},
		{"driver component", projectXML(`<Components><Driver InfSource="x.inf"/></Components>`, ""), "Package/Components/Driver: <Driver> components are not supported yet"},
		{"registry keys", projectXML(`<Components><OSComponent><RegKeys/></OSComponent></Components>`, ""), "<RegKeys> is not supported yet"},
		{"unknown element", projectXML(`<Bogus/>`, ""), "unknown element <Bogus>"},
		{"missing source", projectXML(`<Components><OSComponent><Files><File Source="b.txt"/><File Source="nope.txt"/></Files></OSComponent></Components>`, ""),
			"Package/Components/OSComponent/Files/File[2]: Source=\"nope.txt\""},
		{"ambiguous source", projectXML(`<Components><OSComponent><Files><File Source="a.Txt"/></Files></OSComponent></Components>`, ""), "differ only in letter case"},
		{"unknown macro", projectXML(`<Components><OSComponent><Files><File Source="$(nowhere)\b.txt"/></Files></OSComponent></Components>`, ""), "unknown macro $(nowhere); define it in <Macros>"},
		{"macro cycle", projectXML(`<Macros><Macro Id="a" Value="$(b)x"/><Macro Id="b" Value="$(a)y"/></Macros>`, ""), "cycle"},
		{"escaping destination", projectXML(`<Components><OSComponent><Files><File Source="b.txt" DestinationDir="\Windows\..\.."/></Files></OSComponent></Components>`, ""), "stay inside its partition"},
		{"drive letter destination", projectXML(`<Components><OSComponent><Files><File Source="b.txt" DestinationDir="C:\Windows"/></Files></OSComponent></Components>`, ""), "must start with"},
		{"duplicate device path", projectXML(`<Components><OSComponent><Files><File Source="b.txt"/><File Source="a.txt" Name="B.TXT"/></Files></OSComponent></Components>`, ""), "given twice"},
		{"bad attributes", projectXML(`<Components><OSComponent><Files><File Source="b.txt" Attributes="Secret"/></Files></OSComponent></Components>`, ""), `file attribute "Secret"`},
		{"bad language syntax", projectXML(`<Components><OSComponent><Files Language="en-US"><File Source="b.txt"/></Files></OSComponent></Components>`, ""), "expected *, (a;b) or !(a;b)"},
		{"language and resolution", projectXML(`<Components><OSComponent><Files Language="*" Resolution="*"><File Source="b.txt"/></Files></OSComponent></Components>`, ""), "not both"},
		{"name with directory", projectXML(`<Components><OSComponent><Files><File Source="b.txt" Name="x\b.txt"/></Files></OSComponent></Components>`, ""), "without directories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.pkg.xml")
			if err := os.WriteFile(path, []byte(tt.xml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, baseOpt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "p.pkg.xml") {
				t.Errorf("err = %v, want it to name the project and contain %q", err, tt.want)
			}
		})
	}
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
		if _, err := Build(pkgs[0], out, opt); err != nil {
			t.Fatal(err)
		}
		p, err := spkg.Open(filepath.Join(out, "Contoso.Apps.Camera.spkg"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Manifest.Files[0].DevicePath != `\Programs\Cam\camera.exe` || p.Manifest.Files[0].FileSize != 140000 {
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
