package pkggen

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/registry"
)

// SettingsGroupProject is a project declaring MCSF settings: a registry setting with options and
// a Default, a string setting with a length range, a multi-setting group, an asset, a CSP one.
const settingsGroupBody = `<Macros><Macro Id="DisplayKey" Value="$(hklm.software)\Contoso\Display"/></Macros>
<Components>
  <SettingsGroup Path="Contoso/Display">
    <Constraints ImageTimeOnly="Yes"/>
    <Setting Name="Color" Description="Accent color">
      <RegistrySource Type="REG_DWORD" Path="$(DisplayKey)\Color" Default="0x1"/>
      <Validate><Option Value="0" FriendlyName="Red"/><Option Value="1" FriendlyName="Green"/></Validate>
    </Setting>
    <Setting Name="Label">
      <RegistrySource Type="REG_SZ" Path="$(DisplayKey)\Label" Default="Contoso"/>
      <Validate MinLength="1" MaxLength="8"/>
    </Setting>
    <Setting Name="Url"><CSPSource Type="CFG_DATATYPE_STRING" Path="./Vendor/Contoso/Url"/></Setting>
  </SettingsGroup>
  <SettingsGroup Path="Contoso/Operators/$(Operator)">
    <Asset Name="Ringtones" Type=".wma" Path="\Programs\CommonFiles\Ringtones"><MultiStringList Key="$(hklm.software)\Contoso\Ringtones" Value="List"/></Asset>
    <Setting Name="Name"><RegistrySource Type="REG_SZ" Path="$(hklm.software)\Contoso\Operators\$(Operator)\Name"/></Setting>
  </SettingsGroup>
  <SettingsGroup Path="Contoso/Audio">
    <Setting Name="Volume"><RegistrySource Type="REG_DWORD" Path="$(hklm.software)\Contoso\Audio\Volume"/><AccessType Delete="No"/><Validate Min="0" Max="0x64"/></Setting>
    <Setting Name="Mode"><RegistrySource Type="REG_SZ" Path="$(hklm.software)\Contoso\Audio\Mode"/><Validate><Option Value="Loud"/><Option Value="Quiet"/></Validate></Setting>
  </SettingsGroup>
</Components>`

func TestSettingsGroupBuild(t *testing.T) {
	dir := tree(t, map[string]string{"p.pkg.xml": projectXML(settingsGroupBody, "")})
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), baseOpt)
	if err != nil {
		t.Fatal(err)
	}
	files := buildExtract(t, pkgs, baseOpt, "Contoso.Apps.Camera")
	pol, ok := files[`\Windows\CustomizationPolicy\Contoso.Apps.Camera.policy.xml`]
	if !ok {
		t.Fatalf("no policy file: %v", files)
	}
	if pol.FileType != "Regular" {
		t.Errorf("policy FileType %s; want Regular", pol.FileType)
	}
	text := string(pol.Data)
	for _, want := range []string{"\uFEFF<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<CustomizationPolicy>",
		`<SettingsGroup Path="Contoso/Display" xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00">`,
		`Path="HKEY_LOCAL_MACHINE\Software\Contoso\Display\Color"`, `Path="Contoso/Operators/$(Operator)"`,
		`Path="HKEY_LOCAL_MACHINE\Software\Contoso\Operators\$(Operator)\Name"`} {
		if !strings.Contains(text, want) {
			t.Errorf("policy file lacks %q:\n%s", want, text)
		}
	}
	groups, err := answerfile.ParsePolicy("p.policy.xml", pol.Data)
	if err != nil {
		t.Fatalf("the policy file does not parse as one: %v\n%s", err, text)
	}
	if len(groups) != 3 || groups[0].Path != "Contoso/Display" || len(groups[0].Settings) != 3 || groups[0].Setting("Color").Registry.Key != `HKEY_LOCAL_MACHINE\Software\Contoso\Display` {
		t.Errorf("groups %+v", groups)
	}
	key := `HKEY_LOCAL_MACHINE\Software\Contoso\Display`
	want := []registry.Value{{Key: key}, {Key: key, Name: "Color", Type: "REG_DWORD", Data: le32(1)}, {Key: key, Name: "Label", Type: "REG_SZ", Data: utf16z("Contoso")}}
	// The run-time MCSF datastore of the groups that are not ImageTimeOnly.
	ds := func(uri, sourcePath string, sourceType, access, method uint32) []registry.Value {
		k := MCSFSettingsKey + `\` + uri
		return []registry.Value{{Key: k},
			{Key: k, Name: "AllowedAccess", Type: "REG_DWORD", Data: le32(access)}, {Key: k, Name: "Source", Type: "REG_DWORD", Data: le32(1)},
			{Key: k, Name: "SourcePath", Type: "REG_SZ", Data: utf16z(sourcePath)}, {Key: k, Name: "SourceType", Type: "REG_DWORD", Data: le32(sourceType)},
			{Key: k, Name: "ValidationMethod", Type: "REG_DWORD", Data: le32(method)}}
	}
	sw := `HKEY_LOCAL_MACHINE\Software\Contoso`
	want = append(want, ds("Contoso/Operators/~Operator~/Ringtones.OEMAssets", sw+`\Ringtones\List`, 7, 0xF, 0)...)
	want = append(want, ds("Contoso/Operators/~Operator~/Name", sw+`\Operators\~Operator~\Name`, 1, 0xF, 0)...)
	vol := MCSFSettingsKey + `\Contoso/Audio/Volume`
	want = append(want, ds("Contoso/Audio/Volume", sw+`\Audio\Volume`, 4, 0xD, 1)...)
	want = append(want, registry.Value{Key: vol, Name: "ValidateMin", Type: "REG_DWORD", Data: le32(0)}, registry.Value{Key: vol, Name: "ValidateMax", Type: "REG_DWORD", Data: le32(0x64)})
	mode := MCSFSettingsKey + `\Contoso/Audio/Mode`
	want = append(want, ds("Contoso/Audio/Mode", sw+`\Audio\Mode`, 1, 0xF, 2)...)
	want = append(want, registry.Value{Key: mode + `\Options`}, registry.Value{Key: mode + `\Options`, Name: "0", Type: "REG_SZ", Data: utf16z("Loud")},
		registry.Value{Key: mode + `\Options`, Name: "1", Type: "REG_SZ", Data: utf16z("Quiet")})
	checkValues(t, pkgs[0].Registry, want, true)
	checkHivex(t, files[`\Windows\Packages\RegistryFiles\Contoso.Apps.Camera.reg`].Data, want)
}

func TestSettingsGroupErrors(t *testing.T) {
	g := func(path, body string) string {
		return "<Components>\n<SettingsGroup Path=\"" + path + "\">\n" + body + "\n</SettingsGroup></Components>"
	}
	reg := func(attrs string) string {
		return `<Setting Name="S"><RegistrySource Type="REG_DWORD" Path="$(hklm.software)\C\S" ` + attrs + `/></Setting>`
	}
	for _, tc := range []struct{ name, xml, want string }{
		{"no path", "<Components>\n<SettingsGroup/></Components>", "4:1: "},
		{"macro first", g("$(Op)/Display", reg("")), `4:16: Path="$(Op)/Display": a multi-setting path must start with a segment that is not a macro`},
		{"segment", g("Contoso/Dis-play", reg("")), `4:16: Path="Contoso/Dis-play": segment "Dis-play"; expected only letters and digits`},
		{"partial macro", g("Contoso/x$(Op)", reg("")), `4:16: Path="Contoso/x$(Op)": a multi-setting macro must be a whole segment`},
		{"variable", g("Contoso/$(1op)", reg("")), `4:16: Path="Contoso/$(1op)": "1op" is not a variable name`},
		{"runtime macro", g("Contoso/$(__IMSI)", `<Constraints ImageTimeOnly="Yes"/><Setting Name="A/$(__IMSI)"><RegistrySource Type="REG_SZ" Path="HKLM\\C\\S"/></Setting>`), `5:44: Name="A/$(__IMSI)": the __IMSI macro is for run-time settings only`},
		{"default on multi", g("Contoso/$(Op)", reg(`Default="1"`)), `5:80: Default on a multi-setting`},
		{"type", g("Contoso/D", `<Setting Name="S"><RegistrySource Type="REG_QWORD" Path="$(hklm.software)\C\S"/></Setting>`), `5:35: Type="REG_QWORD": PkgGen compiles settings of REG_SZ, REG_MULTI_SZ, REG_DWORD and REG_BINARY only`},
		{"bad type", g("Contoso/D", `<Setting Name="S"><RegistrySource Type="REG_WORD" Path="$(hklm.software)\C\S"/></Setting>`), `5:35: attribute Type of <RegistrySource> is "REG_WORD"`},
		{"dword default", g("Contoso/D", reg(`Default="one"`)), `5:80: Default="one": expected a decimal or 0x hexadecimal 32-bit integer`},
		{"validate binary", g("Contoso/D", `<Setting Name="S"><RegistrySource Type="REG_BINARY" Path="$(hklm.software)\C\S"/><Validate MinLength="1"/></Setting>`), `5:82: <Validate> on a REG_BINARY setting`},
		{"validate int", g("Contoso/D", `<Setting Name="S"><RegistrySource Type="REG_DWORD" Path="$(hklm.software)\C\S"/><Validate MaxLength="3"/></Setting>`), `5:81: <Validate> of an integer setting has no <Option>, Min or Max`},
		{"validate string", g("Contoso/D", `<Setting Name="S"><RegistrySource Type="REG_SZ" Path="$(hklm.software)\C\S"/><Validate Min="3"/></Setting>`), `5:78: <Validate> of a string setting has no <Option>, MinLength or MaxLength`},
		{"no source", g("Contoso/D", `<Setting Name="S"/>`), `5:1: setting "S" has no <RegistrySource> or <CSPSource>`},
		{"unknown child", g("Contoso/D", `<Settings Name="S"/>`), `5:1: unknown element <Settings> in <SettingsGroup>; expected one of Constraints, Asset, Setting (did you mean Setting?)`},
		{"unknown macro", g("Contoso/D", `<Setting Name="S"><RegistrySource Type="REG_SZ" Path="$(nokey)\S" Default="a"/></Setting>`), `5:49: Path="$(nokey)\\S": unknown macro $(nokey)`},
		{"twice", g("Contoso/D", reg(""))[:len(g("Contoso/D", reg("")))-len("</Components>")] + "\n<SettingsGroup Path=\"contoso/d\">" + reg("") + "</SettingsGroup></Components>", `7:1: settings group "contoso/d" is declared twice (first at line 4)`},
		{"setting twice", g("Contoso/D", reg("")+"\n"+reg("")), `6:1: setting "S" is declared twice in this group (first at line 5)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLoadError(t, nil, projectXML(tc.xml, ""), tc.want)
		})
	}
}
