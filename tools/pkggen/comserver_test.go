package pkggen

import (
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// A ComServer with a class of every attribute (and its own RegKey under $(hkcr.clsid)) and an
// interface, plus CustomMetadata: the registry values, the .meta.xml, cabextract and hivex.
func TestComServerAndMetadataBuild(t *testing.T) {
	dir := tree(t, map[string]string{
		"com.dll": "MZ com",
		"p.pkg.xml": projectXML(`<CustomMetadata><Field Name="Model">DCD6000</Field><Field Name="Team">A &amp; B</Field></CustomMetadata>
<Components><ComServer>
  <Dll Source="com.dll"/>
  <Classes>
    <Class Id="{2933BF90-7B36-11D2-B20E-00C04F983E60}" Version="1.0" TypeLib="{D63E0CE2-A0A2-11D0-9C02-00C04FC99C8E}"
        ThreadingModel="Apartment" ProgId="Contoso.Dom.1" VersionIndependentProgId="Contoso.Dom" Description="DOM"
        DefaultIcon="%SystemRoot%\x.ico" AppId="{00000000-0000-0000-0000-000000000001}">
      <RegKey KeyName="$(hkcr.clsid)\SideBySide"><RegValue Name="RefCount" Type="REG_DWORD" Value="00000001"/></RegKey>
    </Class>
    <Class Id="{2933BF90-7B36-11D2-B20E-00C04F983E61}" SkipInProcServer32="true"/>
  </Classes>
  <Interfaces>
    <Interface Id="{D4D4A0FC-3B73-11D1-B2B4-00C04FB92596}" TypeLib="{D63E0CE2-A0A2-11D0-9C02-00C04FC99C8E}" Name="IDom"
        ProxyStubClsId="{00020424-0000-0000-C000-000000000046}" ProxyStubClsId32="{00020424-0000-0000-C000-000000000046}" Version="1.0" NumMethods="7"/>
  </Interfaces>
</ComServer></Components>`, ""),
	})
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), baseOpt)
	if err != nil {
		t.Fatal(err)
	}
	check(t, dir, pkgs, []want{{"Contoso.Apps.Camera", map[string]string{`\windows\System32\com.dll`: "com.dll"}}})
	c := `HKEY_LOCAL_MACHINE\Software\Classes\CLSID\{2933BF90-7B36-11D2-B20E-00C04F983E60}`
	c2 := `HKEY_LOCAL_MACHINE\Software\Classes\CLSID\{2933BF90-7B36-11D2-B20E-00C04F983E61}`
	i := `HKEY_LOCAL_MACHINE\Software\Classes\Interface\{D4D4A0FC-3B73-11D1-B2B4-00C04FB92596}`
	sz := func(k, n, v string) registry.Value {
		return registry.Value{Key: k, Name: n, Type: "REG_SZ", Data: utf16z(v)}
	}
	want := []registry.Value{
		{Key: c}, sz(c+`\TypeLib`, "@", "{D63E0CE2-A0A2-11D0-9C02-00C04FC99C8E}"), sz(c, "@", "DOM"), sz(c, "AppId", "{00000000-0000-0000-0000-000000000001}"),
		sz(c+`\ProgId`, "@", "Contoso.Dom.1"), sz(c+`\VersionIndependentProgId`, "@", "Contoso.Dom"),
		{Key: c + `\DefaultIcon`, Name: "@", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\x.ico`)}, sz(c+`\Version`, "@", "1.0"),
		{Key: c + `\InProcServer32`, Name: "@", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\System32\com.dll`)},
		sz(c+`\InProcServer32`, "ThreadingModel", "Apartment"),
		{Key: c + `\SideBySide`}, {Key: c + `\SideBySide`, Name: "RefCount", Type: "REG_DWORD", Data: le32(1)},
		{Key: c2},
		{Key: i}, sz(i+`\TypeLib`, "@", "{D63E0CE2-A0A2-11D0-9C02-00C04FC99C8E}"), sz(i+`\ProxyStubClsId`, "@", "{00020424-0000-0000-C000-000000000046}"),
		sz(i+`\ProxyStubClsId32`, "@", "{00020424-0000-0000-C000-000000000046}"), sz(i, "@", "IDom"), sz(i+`\TypeLib`, "Version", "1.0"), sz(i+`\NumMethods`, "@", "7"),
	}
	pk := pkgs[0]
	checkValues(t, pk.Registry, want, true)
	files := buildExtract(t, pkgs, baseOpt, "Contoso.Apps.Camera")
	reg, hasReg := files[`\Windows\Packages\RegistryFiles\Contoso.Apps.Camera.reg`]
	meta, hasMeta := files[`\Windows\Packages\CustomMetadataFiles\Contoso.Apps.Camera.meta.xml`]
	if !hasReg || !hasMeta {
		t.Fatalf("the package holds .reg %v and .meta.xml %v: %v", hasReg, hasMeta, files)
	}
	checkHivex(t, reg.Data, pk.Registry)
	wantMeta := `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<CustomMetadata xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00">` + "\n" +
		`  <Field Name="Model">DCD6000</Field>` + "\n" + `  <Field Name="Team">A &amp; B</Field>` + "\n" + `</CustomMetadata>` + "\n"
	if string(meta.Data) != wantMeta {
		t.Errorf(".meta.xml =\n%s\nwant\n%s", meta.Data, wantMeta)
	}
}

func TestComServerErrors(t *testing.T) {
	for _, tc := range []struct{ name, xml, want string }{
		{"no dll", `<Components><ComServer>` + "\n" + `</ComServer></Components>`, "3:13: <ComServer> has 0 <Dll>"},
		{"bad id", `<Components><ComServer><Dll Source="com.dll"/><Classes>` + "\n" + `<Class Id="2933BF90"/></Classes></ComServer></Components>`, `4:8: Id="2933BF90": expected a GUID in braces`},
		{"no id", `<Components><ComServer><Dll Source="com.dll"/><Interfaces>` + "\n" + `<Interface/></Interfaces></ComServer></Components>`, "4:1: <Interface> has no Id"},
		{"threading", `<Components><ComServer><Dll Source="com.dll"/><Classes>` + "\n" + `<Class Id="{2933BF90-7B36-11D2-B20E-00C04F983E60}" ThreadingModel="Single"/></Classes></ComServer></Components>`, `ThreadingModel="Single": expected one of Apartment, Both, Free, Neutral`},
		{"wrong child", `<Components><ComServer><Dll Source="com.dll"/><Classes>` + "\n" + `<Interface/></Classes></ComServer></Components>`, "4:1: unknown element <Interface> in <Classes>; expected Class"},
		{"metadata field twice", `<CustomMetadata><Field Name="a">1</Field>` + "\n" + `<Field Name="A">2</Field></CustomMetadata>`, `4:8: field "A" is given twice`},
		{"metadata child", `<CustomMetadata>` + "\n" + `<Key/></CustomMetadata>`, "4:1: unknown element <Key> in <CustomMetadata>; expected Field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLoadError(t, map[string]string{"com.dll": "x"}, projectXML(tc.xml, ""), tc.want)
		})
	}
}
