package answerfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPolicy = `<?xml version="1.0" encoding="utf-8"?>
<CustomizationPolicy xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00">
  <SettingsGroup Path="Contoso/Display">
    <Setting Name="Brightness"><RegistrySource Type="REG_DWORD" Path="HKLM\Software\Contoso\Display\Brightness"/><Validate Min="0" Max="2000"/></Setting>
    <Setting Name="Color"><RegistrySource Type="REG_DWORD" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\Color"/>
      <Validate><Option Value="0" FriendlyName="Red"/><Option Value="1" FriendlyName="Green"/><Option Value="A" FriendlyName="Ten"/></Validate></Setting>
    <Setting Name="Label"><RegistrySource Type="REG_SZ" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\@"/><Validate MaxLength="8"/></Setting>
    <Setting Name="Modes"><RegistrySource Type="REG_MULTI_SZ" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\Modes"/></Setting>
    <Setting Name="Calibration"><RegistrySource Type="REG_BINARY" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\Calibration"/></Setting>
  </SettingsGroup>
  <SettingsGroup Path="LockScreen">
    <Asset Name="Wallpapers" Type=".jpg;.png" Path="\Programs\CommonFiles\Wallpapers">
      <MultiStringList Key="HKEY_LOCAL_MACHINE\Software\Contoso\Wallpaper" Value="WallpaperSet"/>
    </Asset>
    <Setting Name="DefaultWallpaper" Asset="Wallpapers"><RegistrySource Type="REG_SZ" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Wallpaper\Current"/></Setting>
  </SettingsGroup>
  <SettingsGroup Path="Accounts/$(AccountID)">
    <Setting Name="User"><RegistrySource Type="REG_SZ" Path="HKEY_LOCAL_MACHINE\Software\Contoso\$(AccountID)\User"/></Setting>
  </SettingsGroup>
  <SettingsGroup Path="Connectivity">
    <Setting Name="Gateway"><CSPSource Type="CFG_DATATYPE_STRING" Path="./Vendor/Contoso/Gateway"/></Setting>
  </SettingsGroup>
</CustomizationPolicy>
`

func testPolicies(t *testing.T) *Policies {
	t.Helper()
	groups, err := ParsePolicy("p.policy.xml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	p := &Policies{}
	if err := p.Add(groups); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeFiles writes name -> content into a new directory; "{{DIR}}" in content is the directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "{{DIR}}", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func answer(attrs, body string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<ImageCustomizations xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate" Name="N" Description="D" Owner="Contoso" OwnerType="OEM"` + attrs + `>
` + body + `
</ImageCustomizations>
`
}

func static(settings string) string {
	return "<Static>\n" + settings + "\n</Static>"
}

func setting(group, name, value string) string {
	return `<Settings Path="` + group + `"><Setting Name="` + name + `" Value="` + value + `"/></Settings>`
}

func TestValueFormats(t *testing.T) {
	p := testPolicies(t)
	g, _ := p.Match("Contoso/Display")
	tests := []struct {
		setting, value string
		want           []byte
		wantErr        string
	}{
		{"Brightness", "1000", []byte{0xE8, 0x03, 0, 0}, ""},
		{"Brightness", "0x3E8", []byte{0xE8, 0x03, 0, 0}, ""},
		{"Brightness", "0X3e8", []byte{0xE8, 0x03, 0, 0}, ""},
		{"Brightness", "12x", nil, `value "12x" is not a REG_DWORD`},
		{"Brightness", "0x100000000", nil, "at most 32 bits"},
		{"Brightness", "3000", nil, "out of range; expected from 0 to 2000"},
		{"Color", "1", []byte{1, 0, 0, 0}, ""},
		{"Color", "Green", []byte{1, 0, 0, 0}, ""},
		{"Color", "green", []byte{1, 0, 0, 0}, ""},
		{"Color", "Ten", []byte{10, 0, 0, 0}, ""},
		{"Color", "0xA", []byte{10, 0, 0, 0}, ""},
		{"Color", "10", []byte{10, 0, 0, 0}, ""},
		{"Color", "Purple", nil, "expected one of 0x0 (Red), 0x1 (Green), 0xA (Ten)"},
		{"Color", "2", nil, "is not an option"},
		{"Label", "Hi", []byte{'H', 0, 'i', 0, 0, 0}, ""},
		{"Label", "Much too long", nil, "has 13 characters; expected 0 to 8"},
		{"Modes", "Red.png;Green.png", append(append([]byte{}, utf16z("Red.png")...), append(utf16z("Green.png"), 0, 0)...), ""},
		{"Calibration", "E8,03", []byte{0xE8, 0x03}, ""},
		{"Calibration", "e8, 3", []byte{0xE8, 0x03}, ""},
		{"Calibration", "0xE8,03", nil, "without 0x"},
		{"Calibration", "E8,,03", nil, `byte 2 is ""`},
		{"Calibration", "100", nil, `byte 1 is "100"`},
	}
	for _, tt := range tests {
		v, err := Encode(g.Setting(tt.setting), tt.value)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s=%q: error %v, want %q", tt.setting, tt.value, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s=%q: %v", tt.setting, tt.value, err)
			continue
		}
		if !bytes.Equal(v.Data, tt.want) {
			t.Errorf("%s=%q: data % x, want % x", tt.setting, tt.value, v.Data, tt.want)
		}
	}
}

func loadErr(t *testing.T, dir string) error {
	t.Helper()
	_, err := Load(filepath.Join(dir, "root.xml"), map[string]string{"ASSETS": dir})
	return err
}

func mustLoad(t *testing.T, dir string) *Customizations {
	t.Helper()
	c, err := Load(filepath.Join(dir, "root.xml"), map[string]string{"ASSETS": dir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// staticValues lists group/name=value of the merged static settings, in order.
func staticValues(c *Customizations) []string {
	var out []string
	for _, g := range c.Static.Settings {
		for _, s := range g.Settings {
			out = append(out, g.Path+"/"+s.Name+"="+s.Value)
		}
	}
	return out
}

func imports(names ...string) string {
	var b strings.Builder
	b.WriteString("<Imports>")
	for _, n := range names {
		b.WriteString(`<Import Source="$(CurrentFileDir)\` + n + `"/>`)
	}
	b.WriteString("</Imports>")
	return b.String()
}

func TestImportsAndPriorities(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		wantErr []string
	}{
		{
			name: "importer overrides imported",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml")+static(setting("Contoso/Display", "Color", "Red"))),
				"a.xml":    answer("", static(setting("Contoso/Display", "Color", "Green")+setting("Contoso/Display", "Label", "A"))),
			},
			want: []string{"Contoso/Display/Color=Red", "Contoso/Display/Label=A"},
		},
		{
			name: "siblings with the same item",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml", "b.xml")),
				"a.xml":    answer("", static(setting("Contoso/Display", "Color", "Green"))),
				"b.xml":    answer("", "\n"+static(setting("Contoso/Display", "Color", "Red"))),
			},
			wantErr: []string{"b.xml:5:", `setting "Color" of group "Contoso/Display" in static is set both here and at`, "a.xml:4:", "imported by root.xml with the same priority"},
		},
		{
			name: "siblings with equal priorities",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml", "b.xml")),
				"a.xml":    answer(` Priority="2"`, static(setting("Contoso/Display", "Color", "Green"))),
				"b.xml":    answer(` Priority="2"`, static(setting("Contoso/Display", "Color", "Red"))),
			},
			wantErr: []string{"same priority"},
		},
		{
			name: "priority 1 wins over 2",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml", "b.xml")),
				"a.xml":    answer(` Priority="2"`, static(setting("Contoso/Display", "Color", "Green"))),
				"b.xml":    answer(` Priority="1"`, static(setting("Contoso/Display", "Color", "Red"))),
			},
			want: []string{"Contoso/Display/Color=Red"},
		},
		{
			name: "a priority wins over none",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml", "b.xml")),
				"a.xml":    answer(` Priority="5"`, static(setting("Contoso/Display", "Color", "Green"))),
				"b.xml":    answer("", static(setting("Contoso/Display", "Color", "Red"))),
			},
			want: []string{"Contoso/Display/Color=Green"},
		},
		{
			name: "different settings of one group merge",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml", "b.xml")),
				"a.xml":    answer("", static(setting("Contoso/Display", "Color", "Green"))),
				"b.xml":    answer("", static(setting(`Contoso\Display`, "Label", "B"))),
			},
			want: []string{"Contoso/Display/Color=Green", "Contoso/Display/Label=B"},
		},
		{
			name: "nested imports and a diamond",
			files: map[string]string{
				"root.xml":     answer("", imports("a.xml", "b.xml")),
				"a.xml":        answer("", imports("common.xml")),
				"b.xml":        answer("", imports("common.xml")),
				"common.xml":   answer("", static(setting("Contoso/Display", "Color", "Green"))),
				"unused/x.xml": "not read",
			},
			want: []string{"Contoso/Display/Color=Green"},
		},
		{
			name: "import cycle",
			files: map[string]string{
				"root.xml": answer("", imports("a.xml")),
				"a.xml":    answer("", imports("b.xml")),
				"b.xml":    answer("", imports("a.xml")),
			},
			wantErr: []string{"b.xml:3:", "import cycle: a.xml imports b.xml imports a.xml"},
		},
		{
			name: "self import",
			files: map[string]string{
				"root.xml": answer("", imports("root.xml")),
			},
			wantErr: []string{"root.xml:3:", "import cycle: root.xml imports root.xml"},
		},
		{
			name: "missing import",
			files: map[string]string{
				"root.xml": answer("", imports("gone.xml")),
			},
			wantErr: []string{"root.xml:3:", "gone.xml: does not exist"},
		},
		{
			name: "twice in one file",
			files: map[string]string{
				"root.xml": answer("", static(setting("Contoso/Display", "Color", "Red")+"\n"+setting("contoso/display", "color", "Green"))),
			},
			wantErr: []string{"root.xml:5:", "is set twice in this file (first at line 4)"},
		},
		{
			name: "bad priority",
			files: map[string]string{
				"root.xml": answer(` Priority="0"`, ""),
			},
			wantErr: []string{"root.xml:2:", "0 and negative numbers are not allowed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			if tt.wantErr != nil {
				err := loadErr(t, dir)
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			got := staticValues(mustLoad(t, dir))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

const targetsXML = `<Targets>
  <Target Id="SIM_Tiny">
    <TargetState><Condition Name="MCC" Value="310"/><Condition Name="MNC" Value="26"/></TargetState>
    <TargetState><Condition Name="SPN" Value="Tiny*" IsWildCard="true"/></TargetState>
  </Target>
  <Target Id="SIM_Big"><TargetState><Condition Name="MCC" Value="311"/></TargetState></Target>
</Targets>`

func variant(name, ref, body string) string {
	return `<Variant Name="` + name + `"><TargetRefs><TargetRef Id="` + ref + `"/></TargetRefs>` + body + `</Variant>`
}

func TestTargetsAndVariants(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"root.xml": answer("", imports("ops.xml")+targetsXML+
			variant("Tiny", "SIM_Tiny", setting("Contoso/Display", "Color", "Red"))),
		"ops.xml": answer("", variant("Tiny from ops", "SIM_Tiny", setting("Contoso/Display", "Color", "Green")+setting("Contoso/Display", "Label", "Tiny"))+
			variant("Big", "SIM_Big", setting("Contoso/Display", "Color", "Green"))),
	})
	c := mustLoad(t, dir)
	if len(c.Targets) != 2 || c.Targets[1].ID != "SIM_Tiny" || len(c.Targets[1].States) != 2 || !c.Targets[1].States[1][0].IsWildCard || c.Targets[1].States[0][1].Value != "26" {
		t.Fatalf("targets: %+v", c.Targets)
	}
	r, err := Resolve(c, testPolicies(t), false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range r.Variants {
		for _, s := range v.Settings {
			got = append(got, v.Variant.TargetRef+":"+s.Name+"="+s.Value.Text+"@"+filepath.Base(s.Pos.File))
		}
	}
	want := "SIM_Big:Color=0x1@ops.xml SIM_Tiny:Color=0x0@root.xml SIM_Tiny:Label=Tiny@ops.xml"
	if strings.Join(got, " ") != want {
		t.Errorf("variant settings %q, want %q", strings.Join(got, " "), want)
	}
	// A static and a variant setting of the same path are different items.
	dir = writeFiles(t, map[string]string{
		"root.xml": answer("", imports("a.xml", "b.xml")+targetsXML),
		"a.xml":    answer("", static(setting("Contoso/Display", "Color", "Red"))),
		"b.xml":    answer("", variant("Tiny", "SIM_Tiny", setting("Contoso/Display", "Color", "Green"))),
	})
	if c := mustLoad(t, dir); len(c.Variants) != 1 || len(staticValues(c)) != 1 {
		t.Errorf("static and variant: %q, %d variants", staticValues(c), len(c.Variants))
	}
}

func TestErrors(t *testing.T) {
	asset := func(src string) string {
		return static(`<Settings Path="LockScreen"><Asset Name="Wallpapers" Source="` + src + `"/></Settings>`)
	}
	tests := []struct {
		name, root string
		env        map[string]string
		want       []string
	}{
		{"relative asset", answer("", asset(`Assets\a.jpg`)), nil, []string{"root.xml:4:", `Source "Assets\\a.jpg": a relative path; expected an absolute path`}},
		{"drive path", answer("", asset(`C:\Assets\a.jpg`)), nil, []string{"root.xml:4:", "a drive path has no host equivalent", "--var=C:=DIR"}},
		{"drive-relative path", answer("", asset(`C:a.jpg`)), nil, []string{"root.xml:4:", "a drive-relative path"}},
		{"percent variable", answer("", asset(`%ASSETS%\a.jpg`)), nil, []string{"root.xml:4:", "uses %ASSETS%; %NAME% is not allowed"}},
		{"unset variable", answer("", asset(`$(NOPE)\a.jpg`)), nil, []string{"root.xml:4:", "uses $(NOPE), an environment variable that is not set"}},
		{"variable in file name", answer("", asset(`$(ASSETS)\$(NAME).jpg`)), nil, []string{"only Import sources may"}},
		{"CurrentFileDir outside imports", answer("", asset(`$(CurrentFileDir)\a.jpg`)), nil, []string{"which only Import sources may use"}},
		{"missing asset", answer("", asset(`$(ASSETS)\missing.jpg`)), nil, []string{"root.xml:4:", "asset {{DIR}}/missing.jpg: does not exist"}},
		{"missing application", answer("", static(`<Applications><Application Source="$(ASSETS)\app.xap" License="$(ASSETS)\lic.xml"/></Applications>`)), nil,
			[]string{"application license {{DIR}}/lic.xml: does not exist"}},
		{"unknown target", answer("", targetsXML+"\n"+variant("V", "SIM_Tinny", "")), nil, []string{"root.xml:10:", `refers to target "SIM_Tinny", which no answer file defines`, "did you mean SIM_Tiny?"}},
		{"two target refs", answer("", targetsXML+`<Variant Name="V"><TargetRefs><TargetRef Id="SIM_Tiny"/><TargetRef Id="SIM_Big"/></TargetRefs></Variant>`), nil, []string{"a second <TargetRef>"}},
		{"no owner", strings.Replace(answer("", ""), ` Owner="Contoso"`, "", 1), nil, []string{"the root answer file has no Owner"}},
		{"bad owner type", strings.Replace(answer("", ""), `OwnerType="OEM"`, `OwnerType="Carrier"`, 1), nil, []string{`OwnerType of <ImageCustomizations> is "Carrier"; expected one of OEM, SiliconVendor, MobileOperator`}},
		{"unknown element", answer("", "<Statics/>"), nil, []string{"root.xml:3:", "unknown element <Statics>", "did you mean Static?"}},
		{"wrong namespace", `<ImageCustomizations Owner="C"/>`, nil, []string{"is in no namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"root.xml": tt.root, "a.jpg": "jpg", "app.xap": "xap"})
			err := loadErr(t, dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "{{DIR}}", dir); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Answer files written on Windows name their files by drive paths: with the drive mapped, they
// load unchanged.
func TestDrivePaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"root.xml":            answer("", static(`<Settings Path="LockScreen"><Asset Name="Wallpapers" Source="c:\Customization\a.jpg"/></Settings>`)),
		"Customization/a.jpg": "jpg",
	})
	c, err := Load(filepath.Join(dir, "root.xml"), map[string]string{"C:": dir})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "Customization", "a.jpg")
	if g := c.Static.Settings; len(g) != 1 || len(g[0].Assets) != 1 || g[0].Assets[0].Source != want {
		t.Errorf("settings %+v: want one asset from %s", g, want)
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"wrong type", static(setting("Contoso/Display", "Brightness", "bright")), []string{"root.xml:5:", `setting Contoso/Display/Brightness (REG_DWORD): value "bright" is not a REG_DWORD`}},
		{"bad option", static(setting("Contoso/Display", "Color", "Blue")), []string{`value "Blue" is not an option`}},
		{"asset extension", static(`<Settings Path="LockScreen"><Asset Name="Wallpapers" Source="$(ASSETS)\a.jpg" TargetFileName="a.gif"/></Settings>`), []string{`has extension ".gif"; expected .jpg, .png`}},
	}
	for _, tt := range tests {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s strict=%v", tt.name, strict), func(t *testing.T) {
				dir := writeFiles(t, map[string]string{"root.xml": answer("", "\n"+tt.body), "a.jpg": "jpg"})
				_, err := Resolve(mustLoad(t, dir), testPolicies(t), strict)
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
			})
		}
	}
}

// A setting or asset no policy declares is left out with a warning at the answer file's line,
// as the documentation says; with +StrictSettingPolicies it is an error.
func TestUndeclaredSettings(t *testing.T) {
	policies := func(t *testing.T) *Policies { return testPolicies(t) }
	none := func(*testing.T) *Policies { return &Policies{} }
	tests := []struct {
		name     string
		body     string
		policies func(*testing.T) *Policies
		want     []string // in the warning, and in the strict error
		kept     []string // group/name of the settings and assets kept when not strict
	}{
		{"unknown group", static(setting("Contoso/Dsplay", "Color", "1") + setting("Contoso/Display", "Color", "1")), policies,
			[]string{"root.xml:5:", `setting "Color" of group "Contoso/Dsplay" is not declared: no policy file of the image declares group "Contoso/Dsplay" (nearest: "Contoso/Display")`},
			[]string{"Contoso/Display/Color"}},
		{"unknown setting", static(setting("Contoso/Display", "Colour", "1") + setting("Contoso/Display", "Label", "x")), policies,
			[]string{"root.xml:5:", `setting "Colour" of group "Contoso/Display" is not declared: the group (p.policy.xml:3:`, `declares no such setting (nearest: "Color")`},
			[]string{"Contoso/Display/Label"}},
		{"undeclared asset", static(`<Settings Path="LockScreen"><Asset Name="Ringtones" Source="$(ASSETS)\a.jpg"/><Asset Name="Wallpapers" Source="$(ASSETS)\a.jpg"/></Settings>`), policies,
			[]string{"root.xml:5:", `asset "Ringtones" of group "LockScreen" is not declared: the group (p.policy.xml:`, "declares only Wallpapers"},
			[]string{"LockScreen/Wallpapers"}},
		{"asset of an unknown group", static(`<Settings Path="Lock"><Asset Name="Wallpapers" Source="$(ASSETS)\a.jpg"/></Settings>`), policies,
			[]string{"root.xml:5:", `asset "Wallpapers" of group "Lock" is not declared: no policy file of the image declares group "Lock"`},
			nil},
		{"variant setting", targetsXML + variant("V", "SIM_Tiny", setting("Contoso/Display", "Hue", "1")), policies,
			[]string{"root.xml:", `setting "Hue" of group "Contoso/Display" is not declared`},
			nil},
		{"no policy files", static(setting("A", "B", "C")), none,
			[]string{"root.xml:5:", `setting "B" of group "A" is not declared: no selected package has a policy file (\Windows\CustomizationPolicy\...)`},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"root.xml": answer("", "\n"+tt.body), "a.jpg": "jpg"})
			c := mustLoad(t, dir)
			r, err := Resolve(c, tt.policies(t), false)
			if err != nil {
				t.Fatalf("not strict: %v", err)
			}
			if len(r.Warnings) != 1 {
				t.Fatalf("warnings %q, want one", r.Warnings)
			}
			for _, w := range append(tt.want, "it is left out of the image (+StrictSettingPolicies makes this an error)") {
				if !strings.Contains(r.Warnings.Error(), w) {
					t.Errorf("warning %q lacks %q", r.Warnings, w)
				}
			}
			var kept []string
			for _, a := range append([]*ResolvedVariant{{Applied: r.Static}}, r.Variants...) {
				for _, s := range a.Settings {
					kept = append(kept, s.Group+"/"+s.Name)
				}
				for _, s := range a.Assets {
					kept = append(kept, s.Group+"/"+s.Asset.Name)
				}
			}
			if strings.Join(kept, " ") != strings.Join(tt.kept, " ") {
				t.Errorf("kept %q, want %q", kept, tt.kept)
			}

			_, err = Resolve(c, tt.policies(t), true)
			if err == nil {
				t.Fatal("strict: no error")
			}
			for _, w := range append(tt.want, "expected a declaration in a policy file of a selected package (+StrictSettingPolicies)") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("strict: error %q lacks %q", err, w)
				}
			}
		})
	}
}

// However many settings are undeclared, the report is bounded and the time linear.
func TestUndeclaredBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3*MaxReports; i++ {
		fmt.Fprintf(&b, `<Settings Path="G%d"><Setting Name="S" Value="1"/></Settings>`, i)
	}
	c := mustLoad(t, writeFiles(t, map[string]string{"root.xml": answer("", static(b.String()))}))
	r, err := Resolve(c, testPolicies(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != MaxReports || r.MoreWarnings != 2*MaxReports {
		t.Errorf("%d warnings and %d more, want %d and %d", len(r.Warnings), r.MoreWarnings, MaxReports, 2*MaxReports)
	}
	_, err = Resolve(c, testPolicies(t), true)
	if err == nil || strings.Count(err.Error(), "\n") != MaxReports || !strings.HasSuffix(err.Error(), fmt.Sprintf("root.xml: %d more errors like these", 2*MaxReports)) {
		t.Errorf("strict: %d lines, want %d and a count: %.200q", strings.Count(fmt.Sprint(err), "\n")+1, MaxReports+1, err)
	}
}

func TestResolveAssetsAndVariables(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"root.xml": answer("", static(`<Settings Path="LockScreen">
  <Asset Name="Wallpapers" Source="$(ASSETS)\img\a.jpg" TargetFileName="Contoso.jpg" DisplayName="Contoso"/>
  <Setting Name="DefaultWallpaper" Value="Contoso.jpg"/>
</Settings>`+setting("Accounts/{71986}", "User", "Robin")+setting("Connectivity", "Gateway", "gw.contoso.com")+
			`<Applications><Application Source="$(ASSETS)\app.xap" License="$(ASSETS)\lic.xml" ProvXML="$(ASSETS)\MPAP_app_01.provxml"/></Applications>`+
			`<DataAssets Type="MapData"><DataAsset Source="$(ASSETS)\img"/></DataAssets>`)),
		"img/a.jpg": "jpg", "app.xap": "xap", "lic.xml": "lic", "MPAP_app_01.provxml": "prov",
	})
	c := mustLoad(t, dir)
	r, err := Resolve(c, testPolicies(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Static.Assets) != 1 || r.Static.Assets[0].DevicePath != `\Programs\CommonFiles\Wallpapers\Contoso.jpg` {
		t.Errorf("assets %+v", r.Static.Assets)
	}
	var user *SettingValue
	for _, s := range r.Static.Settings {
		if s.Name == "User" {
			user = s
		}
	}
	if user == nil || user.RegKey != `HKEY_LOCAL_MACHINE\Software\Contoso\{71986}` || user.RegName != "User" {
		t.Errorf("multi-setting: %+v", user)
	}
	if a := c.Static.Applications; len(a) != 1 || a[0].ProvXML != filepath.Join(dir, "MPAP_app_01.provxml") {
		t.Errorf("applications %+v", a)
	}
	if d := c.Static.DataAssets; len(d) != 1 || d[0].Type != "MapData" || d[0].Source != filepath.Join(dir, "img") {
		t.Errorf("data assets %+v", d)
	}
}

func TestPolicyErrors(t *testing.T) {
	wrap := func(s string) string {
		return `<CustomizationPolicy xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00">` + "\n" + s + "\n</CustomizationPolicy>"
	}
	tests := []struct{ name, xml, want string }{
		{"no source", wrap(`<SettingsGroup Path="A"><Setting Name="S"/></SettingsGroup>`), `p.xml:2:25: setting "S" has no <RegistrySource> or <CSPSource>`},
		{"bad type", wrap(`<SettingsGroup Path="A"><Setting Name="S"><RegistrySource Type="REG_WORD" Path="HKLM\A\B"/></Setting></SettingsGroup>`), `attribute Type of <RegistrySource> is "REG_WORD"`},
		{"bad hive", wrap(`<SettingsGroup Path="A"><Setting Name="S"><RegistrySource Type="REG_SZ" Path="HKXX\A\B"/></Setting></SettingsGroup>`), `starts with "HKXX"`},
		{"bad option", wrap(`<SettingsGroup Path="A"><Setting Name="S"><RegistrySource Type="REG_DWORD" Path="HKLM\A\B"/><Validate><Option Value="G"/></Validate></Setting></SettingsGroup>`), `option "G" of setting "S"`},
		{"duplicate group", wrap(`<SettingsGroup Path="A"/><SettingsGroup Path="a"/>`), `settings group "a" is declared twice`},
		{"unknown asset", wrap(`<SettingsGroup Path="A"><Setting Name="S" Asset="X"><RegistrySource Type="REG_SZ" Path="HKLM\A\B"/></Setting></SettingsGroup>`), `refers to asset "X"`},
		{"wrong root", `<Policy/>`, "expected <CustomizationPolicy>"},
	}
	for _, tt := range tests {
		_, err := ParsePolicy("p.xml", []byte(tt.xml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	groups, _ := ParsePolicy("q.xml", []byte(wrap(`<SettingsGroup Path="Contoso/Display"/>`)))
	p := testPolicies(t)
	if err := p.Add(groups); err == nil || !strings.Contains(err.Error(), "is also declared at p.policy.xml:3:") {
		t.Errorf("group in two files: %v", err)
	}
}

// Where and how the original's tools keep setting policies: PkgGen writes
// $(runtime.windows)\CustomizationPolicy\<package>.policy.xml, ImageApp's policy store reads
// every file a package installs under \Windows\CustomizationPolicy\ (docs/customization.md).
func TestPolicyPaths(t *testing.T) {
	for _, tt := range []struct {
		path string
		want bool
	}{
		{`\Windows\CustomizationPolicy\Contoso.BaseOS.Settings.policy.xml`, true},
		{`\windows\customizationpolicy\Contoso.Display.POLICY.xml`, true},
		{`\Windows\CustomizationPolicy\sub\a.policy.xml`, true},
		{`\Windows\CustomizationPolicy\Contoso.xml`, true},
		{`\Windows\CustomizationPolicy\`, false},
		{`\Windows\Packages\PolicyFiles\Contoso.BaseOS.Settings.policy.xml`, false}, // a security policy
		{`\Windows\a.policy.xml`, false},
		{`\Windows\CustomizationPolicyX\a.policy.xml`, false},
	} {
		if got := IsPolicyPath(tt.path); got != tt.want {
			t.Errorf("IsPolicyPath(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// PkgGen writes the root in no namespace and copies each SettingsGroup with the project's
// namespace; hand-written files may have the namespace on the root.
func TestPolicyAsPkgGenWritesIt(t *testing.T) {
	group := `<SettingsGroup Path="Contoso/Display"><Setting Name="Color"><RegistrySource Type="REG_DWORD" Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\Color"/></Setting></SettingsGroup>`
	tests := []struct{ name, xml, wantErr string }{
		{"PkgGen", `<?xml version="1.0" encoding="utf-8"?><CustomizationPolicy>` + strings.Replace(group, "<SettingsGroup ", `<SettingsGroup xmlns="`+PolicyNamespace+`" `, 1) + `</CustomizationPolicy>`, ""},
		{"namespace on the root", `<CustomizationPolicy xmlns="` + PolicyNamespace + `">` + group + `</CustomizationPolicy>`, ""},
		{"no namespace at all", `<CustomizationPolicy>` + group + `</CustomizationPolicy>`, "<SettingsGroup> is in no namespace; expected namespace " + PolicyNamespace},
		{"another namespace", `<CustomizationPolicy xmlns="urn:x">` + group + `</CustomizationPolicy>`, "is in namespace urn:x"},
	}
	for _, tt := range tests {
		groups, err := ParsePolicy("p.xml", []byte(tt.xml))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(groups) != 1 || groups[0].Path != "Contoso/Display" || groups[0].Setting("Color") == nil {
			t.Errorf("%s: groups %+v", tt.name, groups)
		}
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"$(accountid)": "{7}", "$(x)": "$(AccountID)"}
	for _, tt := range []struct{ in, want string }{
		{`HKLM\A\$(AccountID)\User`, `HKLM\A\{7}\User`},
		{`HKLM\$(ACCOUNTID)\$(accountid)`, `HKLM\{7}\{7}`},
		{`HKLM\$(X)\V`, `HKLM\$(AccountID)\V`}, // a value is not expanded again
		{`HKLM\$(Other)\$(`, `HKLM\$(Other)\$(`},
		{`HKLM\İ$(accountid)`, `HKLM\İ{7}`}, // lower-casing changes byte lengths here
	} {
		if got := substitute(tt.in, vars); got != tt.want {
			t.Errorf("substitute(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
