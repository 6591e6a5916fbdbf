package pkggen

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// bcdXML wraps objects in a BCD layout file's root.
func bcdXML(rootAttrs, objects string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<BootConfigurationDatabase xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/phone/2011/10/BootConfiguration" ` + rootAttrs + `>
` + objects + `
</BootConfigurationDatabase>`
}

// bcdElem is one element of a WellKnownType with a value element.
func bcdElem(wk, value string) string {
	return `<Element><DataType><WellKnownType>` + wk + `</WellKnownType></DataType><ValueType>` + value + `</ValueType></Element>`
}

// The manufacturing-mode document's store (one object, SaveKeyToRegistry="false"), as that
// doc's package project builds it: the .reg at PkgGen's device path, read back by hivex.
func TestBCDStoreManufacturingMode(t *testing.T) {
	mfg := bcdXML("", `  <Objects>
    <!-- Global Settings Group -->
    <Object SaveKeyToRegistry="false">
      <FriendlyName>Windows Loader</FriendlyName>
      <Elements>
        <Element>
          <DataType>
            <WellKnownType>Manufacturing Mode</WellKnownType>
          </DataType>
          <ValueType>
            <StringValue>Default</StringValue>
          </ValueType>
        </Element>
      </Elements>
    </Object>
  </Objects>`)
	dir := tree(t, map[string]string{
		"exampleBcd.bcd.xml": mfg,
		"p.pkg.xml": `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="MfgMode" SubComponent="ManufacturingModeBcd" ReleaseType="Production" Partition="EFIESP" OwnerType="OEM">
    <Components>
        <BCDStore Source=".\exampleBcd.bcd.xml"/>
    </Components>
</Package>`,
	})
	var warns []string
	opt := baseOpt
	opt.Warn = func(s string) { warns = append(warns, s) }
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings for an EFIESP package: %v", warns)
	}
	loader := BCDHiveBase + `\Objects\{7619dcc9-fafe-11d9-b411-000476eba25f}`
	want := []registry.Value{
		{Key: BCDHiveBase}, {Key: BCDHiveBase + `\Objects`}, {Key: loader + `\Elements`},
		{Key: loader + `\Elements\22000140`, Name: "Element", Type: "REG_SZ", Data: utf16z("Default")},
	}
	name := "Contoso.MfgMode.ManufacturingModeBcd"
	if len(pkgs) != 1 || len(pkgs[0].bcd) != 1 {
		t.Fatalf("packages %v", Names(pkgs))
	}
	checkValues(t, pkgs[0].bcd[0], want, true)
	files := buildExtract(t, pkgs, baseOpt, name)
	reg, ok := files[`\Windows\Packages\RegistryFiles\`+name+`_BCDStore_0.reg`]
	if !ok {
		t.Fatalf("no BCD registry file in the package: %v", files)
	}
	if reg.FileType != "Registry" {
		t.Errorf("FileType %s; want Registry", reg.FileType)
	}
	if _, plain := files[`\Windows\Packages\RegistryFiles\`+name+`.reg`]; plain {
		t.Errorf("a .reg of <RegKeys> in a package that has none")
	}
	text := regText(t, reg.Data)
	if !strings.Contains(text, "[HKEY_LOCAL_MACHINE\\BCD\\Objects\\{7619dcc9-fafe-11d9-b411-000476eba25f}\\Elements\\22000140]\r\n\"Element\"=\"Default\"\r\n") {
		t.Errorf(".reg text:\n%s", text)
	}
	if strings.Contains(text, `\Description]`) {
		t.Errorf("SaveKeyToRegistry=\"false\" object has its Description written:\n%s", text)
	}
	checkHivex(t, reg.Data, want)
	t.Logf("hivexregedit --export of the merged store:\n%s", hivexMerge(t, reg.Data))
}

// Every value format the converter writes, descriptions, a second store, and a MainOS package
// (warned): the values, their bytes, and hivex's reading of both files.
func TestBCDStoreAllValueTypes(t *testing.T) {
	all := bcdXML(`IncludeDescriptions="true"`, `<Objects>
<Object>
  <FriendlyName>windows boot manager</FriendlyName>
  <Id>{9DEA862C-5CDD-4E70-ACC1-F32B344D4795}</Id>
  <Elements>
    `+bcdElem("Timeout Value", `<IntegerValue>0x1E</IntegerValue>`)+`
    `+bcdElem("Boot Menu Policy", `<IntegerValue>10</IntegerValue>`)+`
    `+bcdElem("Display Boot Menu", `<BooleanValue>true</BooleanValue>`)+`
    `+bcdElem("Allow Pre-release Signatures", `<BooleanValue>0</BooleanValue>`)+`
    `+bcdElem("Default Object", `<ObjectValue>Windows Loader</ObjectValue>`)+`
    `+bcdElem("Display Order", `<ObjectListValue><StringValues><StringValue>Windows Loader</StringValue><StringValue>Reset My Phone App</StringValue></StringValues></ObjectListValue>`)+`
    `+bcdElem("Custom Action List", `<IntegerListValue><StringValues><StringValue>0x10008</StringValue><StringValue>Boot Sequence</StringValue></StringValues></IntegerListValue>`)+`
    `+bcdElem("Description", `<StringValue>C:\Boot Manager</StringValue>`)+`
  </Elements>
</Object>
</Objects>`)
	second := bcdXML(`SaveKeyToRegistry="0"`, `<Objects SaveKeyToRegistry="false"><Object SaveKeyToRegistry="false"><FriendlyName>Global Settings Group</FriendlyName>
<Elements SaveKeyToRegistry="false">`+bcdElem("Debugger Enabled", `<BooleanValue>1</BooleanValue>`)+`</Elements></Object></Objects>`)
	dir := tree(t, map[string]string{
		"all.bcd.xml": all, "second.bcd.xml": second,
		"p.pkg.xml": projectXML(`<Components><BCDStore Source="all.bcd.xml"/><BCDStore Source="$(d)\second.bcd.xml"/>
<OSComponent><RegKeys><RegKey KeyName="$(hklm.software)\Contoso"><RegValue Name="A" Type="REG_DWORD" Value="00000001"/></RegKey></RegKeys></OSComponent></Components>`, ""),
	})
	var warns []string
	opt := baseOpt
	opt.Variables = map[string]string{"d": "."}
	opt.Warn = func(s string) { warns = append(warns, s) }
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "p.pkg.xml:3:13: warning: the BCD settings of all.bcd.xml go to the BCD store") || !strings.Contains(warns[0], "Partition is MainOS") {
		t.Errorf("warnings: %q", warns)
	}
	bm := BCDHiveBase + `\Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}`
	el := func(typ, rt string, data []byte) registry.Value {
		return registry.Value{Key: bm + `\Elements\` + typ, Name: "Element", Type: rt, Data: data}
	}
	u64 := func(ns ...uint64) []byte {
		var b []byte
		for _, n := range ns {
			b = binary.LittleEndian.AppendUint64(b, n)
		}
		return b
	}
	want := []registry.Value{
		{Key: BCDHiveBase},
		{Key: BCDHiveBase + `\Description`, Name: "KeyName", Type: "REG_SZ", Data: utf16z("BCD00000000")},
		{Key: BCDHiveBase + `\Description`, Name: "System", Type: "REG_DWORD", Data: le32(1)},
		{Key: BCDHiveBase + `\Description`, Name: "TreatAsSystem", Type: "REG_DWORD", Data: le32(1)},
		{Key: BCDHiveBase + `\Objects`}, {Key: bm},
		{Key: bm + `\Description`, Name: "Type", Type: "REG_DWORD", Data: le32(0x10100002)},
		{Key: bm + `\Elements`},
		el("25000004", "REG_BINARY", u64(0x1e)),
		el("250000c2", "REG_BINARY", u64(0x10)), // hexadecimal, as the converter reads it
		el("26000020", "REG_BINARY", []byte{1}),
		el("16000049", "REG_BINARY", []byte{0}),
		el("23000003", "REG_SZ", utf16z("{7619dcc9-fafe-11d9-b411-000476eba25f}")),
		el("24000001", "REG_MULTI_SZ", multiSz([]string{"{7619dcc9-fafe-11d9-b411-000476eba25f}", "{bd8951c4-eabd-4c6f-aafb-4ddb4eb0469b}"})),
		el("27000030", "REG_BINARY", u64(0x10008, 0x24000002)),
		el("12000004", "REG_SZ", utf16z(`C:\Boot Manager`)),
	}
	gs := BCDHiveBase + `\Objects\{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}\Elements\16000010`
	want2 := []registry.Value{{Key: gs, Name: "Element", Type: "REG_BINARY", Data: []byte{1}}}
	pk := pkgs[0]
	if len(pk.bcd) != 2 {
		t.Fatalf("%d BCD stores; want 2", len(pk.bcd))
	}
	checkValues(t, pk.bcd[0], want, true)
	checkValues(t, pk.bcd[1], want2, true)
	files := buildExtract(t, pkgs, baseOpt, "Contoso.Apps.Camera")
	for i, w := range [][]registry.Value{want, want2} {
		dp := `\Windows\Packages\RegistryFiles\Contoso.Apps.Camera_BCDStore_` + string(rune('0'+i)) + `.reg`
		reg, ok := files[dp]
		if !ok {
			t.Fatalf("no %s: %v", dp, files)
		}
		checkHivex(t, reg.Data, w)
	}
	if _, ok := files[`\Windows\Packages\RegistryFiles\Contoso.Apps.Camera.reg`]; !ok {
		t.Errorf("the RegKeys .reg is missing beside the BCD stores")
	}
	// Deterministic: the same project gives the same bytes.
	again, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := registry.File(pk.bcd[0])
	b, _ := registry.File(again[0].bcd[0])
	if string(a) != string(b) {
		t.Errorf("two loads of one store differ")
	}
}

// Invalid BCD layouts, each refused at its line and column in the BCD file, and through the
// project at the BCDStore's Source.
func TestParseBCDErrors(t *testing.T) {
	obj := func(elems string) string {
		return "<Objects><Object><FriendlyName>Windows Loader</FriendlyName><Elements>\n" + elems + "\n</Elements></Object></Objects>"
	}
	for _, tc := range []struct{ name, xml, want string }{
		{"root", `<BootConfiguration xmlns="http://schemas.microsoft.com/phone/2011/10/BootConfiguration"/>`, "x.bcd.xml:1:1: root element is <BootConfiguration>; expected <BootConfigurationDatabase>"},
		{"namespace", `<BootConfigurationDatabase/>`, "x.bcd.xml:1:1: <BootConfigurationDatabase> is in no namespace"},
		{"malformed", bcdXML("", "<Objects>"), "x.bcd.xml:"},
		{"no objects", bcdXML("", ""), "x.bcd.xml:2:1: <BootConfigurationDatabase> has no <Objects>"},
		{"root attr", bcdXML(`SaveKey="true"`, obj(bcdElem("Description", "<StringValue>a</StringValue>"))), "x.bcd.xml:2:151: unknown attribute SaveKey on <BootConfigurationDatabase>; expected one of SaveKeyToRegistry, IncludeDescriptions, IncludeRegistryHeader"},
		{"bool attr", bcdXML(`IncludeDescriptions="yes"`, obj(bcdElem("Description", "<StringValue>a</StringValue>"))), `x.bcd.xml:2:151: attribute IncludeDescriptions of <BootConfigurationDatabase> is "yes"; expected true or false`},
		{"unknown object", bcdXML("", "<Objects><Object>\n<FriendlyName>Windows Loder</FriendlyName><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:4:1: "Windows Loder" is not a well-known BCD object; expected one of Boot Loader Settings Group,`},
		{"unknown object hint", bcdXML("", "<Objects><Object>\n<FriendlyName>Windows Loder</FriendlyName><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), `(did you mean Windows Loader?)`},
		{"no friendly name", bcdXML("", "<Objects>\n<Object><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), "x.bcd.xml:4:1: <Object> has no <FriendlyName>"},
		{"no elements", bcdXML("", "<Objects>\n<Object><FriendlyName>Windows Loader</FriendlyName></Object></Objects>"), "x.bcd.xml:4:1: <Object> has no <Elements>"},
		{"id differs", bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName>\n<Id>{9dea862c-5cdd-4e70-acc1-f32b344d4795}</Id><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:4:1: <Id> is {9dea862c-5cdd-4e70-acc1-f32b344d4795}, but "Windows Loader" is {7619dcc9-fafe-11d9-b411-000476eba25f}`},
		{"id form", bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName>\n<Id>7619dcc9</Id><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:4:1: <Id> is "7619dcc9"; expected a GUID in braces`},
		{"raw object type", bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName>\n<RawType>5</RawType><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:4:1: <RawType> is 5, but "Windows Loader" has type 270532611 (0x10200003)`},
		{"twice", bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName>\n<FriendlyName>MMOS</FriendlyName></Object></Objects>"), "x.bcd.xml:4:1: <FriendlyName> appears twice in <Object> (first at line 3)"},
		{"unknown type", bcdXML("", obj(bcdElem("Manufacturing Mod", "<StringValue>a</StringValue>"))), `x.bcd.xml:4:20: <WellKnownType> "Manufacturing Mod" is not a well-known BCD element type of BcdLayout.xsd (did you mean Manufacturing Mode?)`},
		{"type case", bcdXML("", obj(bcdElem("manufacturing mode", "<StringValue>a</StringValue>"))), `(names are case-sensitive: Manufacturing Mode)`},
		{"raw type", bcdXML("", obj("<Element><DataType><RawType><Class>Library</Class><SubClass>4</SubClass></RawType></DataType><ValueType><StringValue>a</StringValue></ValueType></Element>")), `x.bcd.xml:4:20: <RawType> data types are refused by PkgGen's converter ("Only WellKnownTypes are currently supported")`},
		{"wrong format", bcdXML("", obj(bcdElem("Manufacturing Mode", "<BooleanValue>true</BooleanValue>"))), `x.bcd.xml:4:91: <BooleanValue> for "Manufacturing Mode", whose data is of format String; expected <StringValue>`},
		{"unknown value", bcdXML("", obj(bcdElem("Manufacturing Mode", "<StrValue>a</StrValue>"))), `x.bcd.xml:4:91: unknown element <StrValue> in <ValueType>; expected one of`},
		{"bool", bcdXML("", obj(bcdElem("Display Boot Menu", "<BooleanValue>yes</BooleanValue>"))), `x.bcd.xml:4:90: <BooleanValue> is "yes"; expected true, false, 1 or 0`},
		{"integer", bcdXML("", obj(bcdElem("Timeout Value", "<IntegerValue>30s</IntegerValue>"))), `x.bcd.xml:4:86: <IntegerValue> is "30s"; expected a 64-bit hexadecimal number, 0x optional (the converter reads every BCD integer as hexadecimal: 30 is 0x30)`},
		{"integer overflow", bcdXML("", obj(bcdElem("Timeout Value", "<IntegerValue>0x10000000000000000</IntegerValue>"))), `x.bcd.xml:4:86: <IntegerValue> is "0x10000000000000000"`},
		{"object", bcdXML("", obj(bcdElem("Default Object", "<ObjectValue>{7619dcc9-fafe-11d9-b411-000476eba25f}</ObjectValue>"))), `x.bcd.xml:4:87: "{7619dcc9-fafe-11d9-b411-000476eba25f}" is not a well-known BCD object`},
		{"object list", bcdXML("", obj(bcdElem("Display Order", "<ObjectListValue><StringValue>MMOS</StringValue></ObjectListValue>"))), `x.bcd.xml:4:86: <ObjectListValue> holds 1 elements; expected one <StringValues>`},
		{"object list item", bcdXML("", obj(bcdElem("Display Order", "<ObjectListValue><StringValues><StringValue>MMOS</StringValue><Value/></StringValues></ObjectListValue>"))), `unknown element <Value> in <StringValues>; expected StringValue`},
		{"custom action odd", bcdXML("", obj(bcdElem("Custom Action List", "<IntegerListValue><StringValues><StringValue>1</StringValue></StringValues></IntegerListValue>"))), `x.bcd.xml:4:91: the Custom Action List has 1 values; expected pairs`},
		{"device", bcdXML("", obj(bcdElem("Boot Device", "<DeviceValue><GPTDevice/></DeviceValue>"))), `x.bcd.xml:4:97: <GPTDevice> has no <DiskId> or <Partition>`},
		{"element twice", bcdXML("", obj(bcdElem("Description", "<StringValue>a</StringValue>")+"\n"+bcdElem("Description", "<StringValue>b</StringValue>"))), `x.bcd.xml:5:1: element "Description" (12000004) is given twice for this object (first at line 4)`},
		{"no value", bcdXML("", obj("<Element><DataType><WellKnownType>Description</WellKnownType></DataType></Element>")), "x.bcd.xml:4:1: <Element> needs a <DataType> and a <ValueType>"},
		{"two values", bcdXML("", obj(bcdElem("Description", "<StringValue>a</StringValue><StringValue>b</StringValue>"))), "x.bcd.xml:4:73: <ValueType> has 2 child elements; expected exactly one"},
		{"text in objects", bcdXML("", "<Objects>junk<Object><FriendlyName>MMOS</FriendlyName><Elements>"+bcdElem("Description", "<StringValue>a</StringValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:3:1: unexpected text "junk" in <Objects>`},
		{"empty elements", bcdXML("", "<Objects><Object><FriendlyName>MMOS</FriendlyName>\n<Elements/></Object></Objects>"), "x.bcd.xml:4:1: <Elements> has no <Element>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBCD("x.bcd.xml", []byte(tc.xml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want it to contain %q", err, tc.want)
			}
		})
	}
	// Through the project: at the BCDStore's Source, naming the BCD file's own position.
	wantLoadError(t, map[string]string{"b.bcd.xml": bcdXML("", "")}, projectXML("<Components>\n<BCDStore Source=\"b.bcd.xml\"/></Components>", `Partition="EFIESP"`),
		`p.pkg.xml:4:11: Source: BCD layout: `)
	wantLoadError(t, nil, projectXML("<Components>\n<BCDStore/></Components>", ""), `p.pkg.xml:4:1: <BCDStore> has no Source`)
	wantLoadError(t, nil, projectXML("<Components>\n<BCDStore Source=\"none.bcd.xml\"/></Components>", ""), `p.pkg.xml:4:11: Source="none.bcd.xml"`)
	wantLoadError(t, map[string]string{"b.bcd.xml": "x"}, projectXML("<Components>\n<BCDStore Source=\"b.bcd.xml\" Store=\"x\"/></Components>", ""), `p.pkg.xml:4:30: unknown attribute Store on <BCDStore>`)
}

// Bounds: an object repeated thousands of times records its keys once (its element, given
// again, is an error), and a list of too many items is refused.
func TestParseBCDBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("<Objects>")
	for i := range 5000 {
		b.WriteString("<Object><FriendlyName>MMOS</FriendlyName><Elements>")
		if i == 0 {
			b.WriteString(bcdElem("Description", "<StringValue>a</StringValue>"))
		} else {
			b.WriteString(bcdElem("Timeout Value", "<IntegerValue>1</IntegerValue>"))
		}
		b.WriteString("</Elements></Object>")
	}
	b.WriteString("</Objects>")
	_, err := ParseBCD("big.bcd.xml", []byte(bcdXML("", b.String())))
	if err == nil || !strings.Contains(err.Error(), `element "Timeout Value" (25000004) is given twice for this object`) {
		t.Errorf("a repeated object: %v", err)
	}
	b.Reset()
	b.WriteString("<Objects>")
	for range 5000 {
		b.WriteString("<Object><FriendlyName>MMOS</FriendlyName><Elements>" + bcdElem("Description", "<StringValue>a</StringValue>") + "</Elements></Object>")
	}
	items := strings.Repeat("<StringValue>MMOS</StringValue>", maxBCDListItems+1)
	if _, err := ParseBCD("l.bcd.xml", []byte(bcdXML("", "<Objects><Object><FriendlyName>MMOS</FriendlyName><Elements>"+bcdElem("Display Order", "<ObjectListValue><StringValues>"+items+"</StringValues></ObjectListValue>")+"</Elements></Object></Objects>"))); err == nil || !strings.Contains(err.Error(), "has 1025 <StringValue>; expected 1 to 1024") {
		t.Errorf("a long list: %v", err)
	}
}
