package pkggen

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// A field of binary device data: its offset and bytes. A layout is a list of fields that must
// tile the value from offset 0 to its end, so a field that moves or changes size fails.
type devField struct {
	name string
	off  int
	want []byte
}

func u32(n uint32) []byte  { return binary.LittleEndian.AppendUint32(nil, n) }
func u64b(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }
func zeros(n int) []byte   { return make([]byte, n) }

// hx is bytes written as hex digits (spaces ignored).
func hx(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GUIDs in .NET ToByteArray order, written out by hand (not through guidBytes).
const (
	hxSystemDisk = "400042ae dd13 f241 ae7f0dc35854c8d7" // {AE420040-13DD-41F2-AE7F-0DC35854C8D7}
	hxMMOS       = "5775a427 4382 8e4c 9d30846844c29c52" // {27a47557-8243-4c8e-9d30-846844c29c52}
	hxMainOS     = "e28c6ba7 8701 134c 8fca8651c9b0620a" // {a76b8ce2-0187-4c13-8fca-8651c9b0620a}
	hxEFIESP     = "0a048381 448b 9245 92f7c6d9ee0560f7" // {8183040a-8b44-4592-92f7-c6d9ee0560f7}
	hxOther      = "78563412 bc9a f0de 0123456789abcdef" // {12345678-9ABC-DEF0-0123-456789ABCDEF}
	hxRamdiskOpt = "e03455ae 24a9 6c46 b836758539a3ee3a" // {ae5534e0-a924-466c-b836-758539a3ee3a}
)

// gptLayout is a PartitionEx device (72 bytes) at off.
func gptLayout(t testing.TB, pre string, off int, part, disk string) []devField {
	return []devField{
		{pre + "type PartitionEx", off, u32(6)}, {pre + "flags", off + 4, u32(0)}, {pre + "size", off + 8, u32(72)}, {pre + "reserved", off + 12, u32(0)},
		{pre + "partition GUID", off + 16, hx(t, part)},
		{pre + "block I/O type HardDisk", off + 32, u32(0)}, {pre + "partition style GPT", off + 36, u32(0)},
		{pre + "disk GUID", off + 40, hx(t, disk)}, {pre + "padding", off + 56, zeros(16)},
	}
}

// bootLayout is the boot device (72 bytes) at off.
func bootLayout(pre string, off int) []devField {
	return []devField{
		{pre + "type Boot", off, u32(5)}, {pre + "flags", off + 4, u32(0)}, {pre + "size", off + 8, u32(72)}, {pre + "reserved", off + 12, u32(0)},
		{pre + "identifier", off + 16, zeros(56)},
	}
}

// ramdiskLayout is a ramdisk element: options, the device, its file and parent (72 bytes), path.
func ramdiskLayout(t testing.TB, path string, parent func(off int) []devField) []devField {
	p := utf16z(path)
	file := 12 + 72 + len(p)
	f := []devField{
		{"options GUID (Ramdisk Options)", 0, hx(t, hxRamdiskOpt)},
		{"type BlockIo", 16, u32(0)}, {"flags", 20, u32(1)}, {"size", 24, u32(uint32(16 + 24 + file))}, {"reserved", 28, u32(0)},
		{"block I/O type RamDisk", 32, u32(3)}, {"ramdisk reserved", 36, u32(0)}, {"image base", 40, u32(0)}, {"image size", 44, u64b(0)}, {"image offset", 52, u32(0)},
		{"file version", 56, u32(1)}, {"file length", 60, u32(uint32(file))}, {"file type File", 64, u32(5)},
	}
	f = append(f, parent(68)...)
	return append(f, devField{"path UTF-16 + 0", 140, p})
}

func checkLayout(t *testing.T, got []byte, layout []devField) {
	t.Helper()
	at := 0
	for _, f := range layout {
		if f.off != at {
			t.Fatalf("layout: %s at %d; the previous field ends at %d", f.name, f.off, at)
		}
		at += len(f.want)
		if at > len(got) {
			t.Errorf("%s: offset %d+%d beyond the value's %d bytes", f.name, f.off, len(f.want), len(got))
			return
		}
		if g := got[f.off:at]; string(g) != string(f.want) {
			t.Errorf("%s at %d: % x; want % x", f.name, f.off, g, f.want)
		}
	}
	if at != len(got) {
		t.Errorf("value is %d bytes; the layout ends at %d", len(got), at)
	}
}

// deviceXML is a store with one device element of type wk in the Windows Loader.
func deviceXML(wk, device string) string {
	return bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName><Elements>\n"+
		bcdElem(wk, "<DeviceValue>"+device+"</DeviceValue>")+"\n</Elements></Object></Objects>")
}

const (
	gptMMOS = `<GPTDevice><DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId><Partition><Name>MMOS</Name></Partition></GPTDevice>`
	mbrDev  = `<MBRDevice><DiskSignature>0xAE420040</DiskSignature><PartitionName>MainOS</PartitionName></MBRDevice>`
)

func TestBCDDeviceLayouts(t *testing.T) {
	loader := BCDHiveBase + `\Objects\{7619dcc9-fafe-11d9-b411-000476eba25f}\Elements\`
	gpt := func(part, disk string) []devField {
		return append([]devField{{"options GUID (none)", 0, zeros(16)}}, gptLayout(t, "", 16, part, disk)...)
	}
	for _, tc := range []struct {
		name, wk, device string
		layout           []devField
	}{
		{"GPT by name MMOS", "Boot Device", gptMMOS, gpt(hxMMOS, hxSystemDisk)},
		{"GPT by name MAINOS", "OS Loader Type", `<GPTDevice><Partition><Name>MAINOS</Name></Partition><DiskId>{ae420040-13dd-41f2-ae7f-0dc35854c8d7}</DiskId></GPTDevice>`, gpt(hxMainOS, hxSystemDisk)},
		{"GPT by name EFIESP", "Ramdisk SDI Device", `<GPTDevice><DiskId>{12345678-9ABC-DEF0-0123-456789ABCDEF}</DiskId><Partition><Name>EFIESP</Name></Partition></GPTDevice>`, gpt(hxEFIESP, hxOther)},
		{"GPT by id", "Boot Device", `<GPTDevice><DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId><Partition><Id>{12345678-9abc-def0-0123-456789abcdef}</Id></Partition></GPTDevice>`, gpt(hxOther, hxSystemDisk)},
		{"MBR is the boot device", "Boot Device", mbrDev, append([]devField{{"options GUID (none)", 0, zeros(16)}}, bootLayout("", 16)...)},
		{"ramdisk on GPT", "Boot Device", `<RamdiskDevice><ParentDevice>` + gptMMOS + `</ParentDevice><FilePath>\winpe.wim</FilePath><RamdiskOptions>true</RamdiskOptions></RamdiskDevice>`,
			ramdiskLayout(t, `\winpe.wim`, func(off int) []devField { return gptLayout(t, "parent ", off, hxMMOS, hxSystemDisk) })},
		{"ramdisk options false", "OS Loader Type", `<RamdiskDevice><RamdiskOptions> 0 </RamdiskOptions><FilePath>\a.wim</FilePath><ParentDevice>` + gptMMOS + `</ParentDevice></RamdiskDevice>`,
			ramdiskLayout(t, `\a.wim`, func(off int) []devField { return gptLayout(t, "parent ", off, hxMMOS, hxSystemDisk) })},
		{"ramdisk on MBR", "OS Loader Type", `<RamdiskDevice><RamdiskOptions>false</RamdiskOptions><FilePath>\sources\boot.wim</FilePath><ParentDevice>` + mbrDev + `</ParentDevice></RamdiskDevice>`,
			ramdiskLayout(t, `\sources\boot.wim`, func(off int) []devField { return bootLayout("parent ", off) })},
		{"ramdisk path outside the BMP", "Boot Device", `<RamdiskDevice><RamdiskOptions>1</RamdiskOptions><FilePath>\ü𝄞.wim</FilePath><ParentDevice>` + mbrDev + `</ParentDevice></RamdiskDevice>`,
			ramdiskLayout(t, "\\ü\U0001D11E.wim", func(off int) []devField { return bootLayout("parent ", off) })},
		{"ramdisk empty path", "Boot Device", `<RamdiskDevice><RamdiskOptions>1</RamdiskOptions><FilePath/><ParentDevice>` + mbrDev + `</ParentDevice></RamdiskDevice>`,
			ramdiskLayout(t, "", func(off int) []devField { return bootLayout("parent ", off) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values, err := ParseBCD("d.bcd.xml", []byte(deviceXML(tc.wk, tc.device)))
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%s%08x", loader, bcdElementTypes[tc.wk])
			var got *registry.Value
			for i := range values {
				if values[i].Key == key && values[i].Name == "Element" {
					got = &values[i]
				}
			}
			if got == nil {
				t.Fatalf("no value at %s: %v", key, values)
			}
			if got.Type != "REG_BINARY" {
				t.Errorf("type %s; want REG_BINARY", got.Type)
			}
			checkLayout(t, got.Data, tc.layout)
			// The fuzz target's oracle accepts it, and not with a size field off by two.
			if err := checkDeviceSizes(got.Data); err != nil {
				t.Errorf("checkDeviceSizes: %v", err)
			}
			bad := append([]byte(nil), got.Data...)
			bad[24] += 2
			if checkDeviceSizes(bad) == nil {
				t.Errorf("checkDeviceSizes accepts a wrong device size")
			}
		})
	}
	// The PkgGen sizes: 88 bytes for a partition or the boot device, 162 for \winpe.wim.
	if n := len(append(zeros(16), bcdGPTDevice(zeros(16), zeros(16))...)); n != 88 {
		t.Errorf("GPT element %d bytes; want 88", n)
	}
	if n := 16 + len(bcdRamdiskDevice(`\winpe.wim`, bcdBootDevice())); n != 162 {
		t.Errorf("ramdisk element %d bytes; want 162", n)
	}
}

func TestParseBCDDeviceErrors(t *testing.T) {
	dev := func(inner string) string { return deviceXML("Boot Device", inner) }
	ram := func(inner string) string { return dev("<RamdiskDevice>" + inner + "</RamdiskDevice>") }
	gptDisk := `<DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId>`
	for _, tc := range []struct{ name, xml, want string }{
		{"empty", dev(""), `x.bcd.xml:4:84: <DeviceValue> (for "Boot Device") holds 0 elements; expected one of <GPTDevice>, <MBRDevice>, <RamdiskDevice>`},
		{"two forms", dev(gptMMOS + mbrDev), `x.bcd.xml:4:84: <DeviceValue> (for "Boot Device") holds 2 elements`},
		{"unknown form", dev("\n<LocateDevice/>"), `x.bcd.xml:5:1: unknown element <LocateDevice> in <DeviceValue>; expected one of GPTDevice, MBRDevice, RamdiskDevice`},
		{"form hint", dev("\n<GptDevice/>"), `x.bcd.xml:5:1: unknown element <GptDevice> in <DeviceValue>; expected one of GPTDevice, MBRDevice, RamdiskDevice (did you mean GPTDevice? names are case-sensitive)`},
		{"text", dev("\nboot"), `x.bcd.xml:4:84: unexpected text "boot" in <DeviceValue>`},
		{"gpt attribute", dev("\n<GPTDevice Disk=\"0\">" + gptDisk + "<Partition><Name>MMOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:12: unknown attribute Disk on <GPTDevice>`},
		{"gpt no disk", dev("\n<GPTDevice><Partition><Name>MMOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: <GPTDevice> has no <DiskId>; expected <DiskId>, <Partition>`},
		{"gpt nothing", dev("\n<GPTDevice/>"), `x.bcd.xml:5:1: <GPTDevice> has no <DiskId> or <Partition>; expected <DiskId>, <Partition>`},
		{"gpt unknown child", dev("<GPTDevice>" + gptDisk + "\n<Volume/><Partition><Name>MMOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: unknown element <Volume> in <GPTDevice>; expected DiskId or Partition`},
		{"gpt disk twice", dev("<GPTDevice>" + gptDisk + "\n" + gptDisk + "<Partition><Name>MMOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: <DiskId> appears twice in <GPTDevice> (first at line 4)`},
		{"disk id no braces", dev("<GPTDevice>\n<DiskId>AE420040-13DD-41F2-AE7F-0DC35854C8D7</DiskId><Partition><Name>MMOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: <DiskId> is "AE420040-13DD-41F2-AE7F-0DC35854C8D7"; expected a GUID in braces with nothing around it, e.g. {AE420040-13DD-41F2-AE7F-0DC35854C8D7} (BcdLayout.xsd's GuidString)`},
		{"disk id space", dev("<GPTDevice>\n<DiskId> {AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId><Partition><Name>MMOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: <DiskId> is " {AE420040-13DD-41F2-AE7F-0DC35854C8D7}"; expected a GUID in braces`},
		{"partition name", dev("<GPTDevice>" + gptDisk + "<Partition>\n<Name>Data</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: <Name> is "Data"; expected MAINOS, EFIESP or MMOS (BcdLayout.xsd's names; PkgGen knows no other partition's GUID, give it by <Id>)`},
		{"partition name case", dev("<GPTDevice>" + gptDisk + "<Partition>\n<Name>MainOS</Name></Partition></GPTDevice>"), `x.bcd.xml:5:1: <Name> is "MainOS"; expected MAINOS, EFIESP or MMOS (the schema's names are upper case: MAINOS)`},
		{"partition both", dev("<GPTDevice>" + gptDisk + "\n<Partition><Name>MMOS</Name><Id>{27a47557-8243-4c8e-9d30-846844c29c52}</Id></Partition></GPTDevice>"), `x.bcd.xml:5:1: <Partition> has 2 of <Name> and <Id>; expected exactly one`},
		{"partition empty", dev("<GPTDevice>" + gptDisk + "\n<Partition/></GPTDevice>"), `x.bcd.xml:5:1: <Partition> has 0 of <Name> and <Id>; expected exactly one`},
		{"partition unknown", dev("<GPTDevice>" + gptDisk + "<Partition>\n<Label>MMOS</Label></Partition></GPTDevice>"), `x.bcd.xml:5:1: unknown element <Label> in <Partition>; expected Name or Id`},
		{"partition id", dev("<GPTDevice>" + gptDisk + "<Partition>\n<Id>27a47557</Id></Partition></GPTDevice>"), `x.bcd.xml:5:1: <Id> is "27a47557"; expected a GUID in braces with nothing around it, e.g. {27a47557-8243-4c8e-9d30-846844c29c52}`},
		{"mbr missing", dev("\n<MBRDevice><DiskSignature>1</DiskSignature></MBRDevice>"), `x.bcd.xml:5:1: <MBRDevice> has no <PartitionName>; expected <DiskSignature>, <PartitionName>`},
		{"mbr element in text", dev("<MBRDevice><DiskSignature>1</DiskSignature><PartitionName>\n<b/></PartitionName></MBRDevice>"), `x.bcd.xml:5:1: unexpected element <b> in <PartitionName>; expected only text`},
		{"ramdisk missing", ram("<RamdiskOptions>true</RamdiskOptions><ParentDevice>" + gptMMOS + "</ParentDevice>"), `x.bcd.xml:4:97: <RamdiskDevice> has no <FilePath>; expected <RamdiskOptions>, <FilePath>, <ParentDevice>`},
		{"ramdisk options", ram("\n<RamdiskOptions>yes</RamdiskOptions><FilePath>\\a.wim</FilePath><ParentDevice>" + gptMMOS + "</ParentDevice>"), `x.bcd.xml:5:1: <RamdiskOptions> is "yes"; expected true, false, 1 or 0 (xs:boolean)`},
		{"ramdisk on ramdisk", ram("<RamdiskOptions>true</RamdiskOptions><FilePath>\\a.wim</FilePath><ParentDevice>\n<RamdiskDevice/></ParentDevice>"), `x.bcd.xml:5:1: a ramdisk's <ParentDevice> is a <RamdiskDevice>; expected <GPTDevice> or <MBRDevice>`},
		{"ramdisk parent empty", ram("<RamdiskOptions>true</RamdiskOptions><FilePath>\\a.wim</FilePath>\n<ParentDevice/>"), `x.bcd.xml:5:1: <ParentDevice> holds 0 elements; expected one <GPTDevice> or <MBRDevice>`},
		{"ramdisk parent unknown", ram("<RamdiskOptions>true</RamdiskOptions><FilePath>\\a.wim</FilePath><ParentDevice>\n<LocateDevice/></ParentDevice>"), `x.bcd.xml:5:1: unknown element <LocateDevice> in <ParentDevice>; expected GPTDevice or MBRDevice`},
		{"ramdisk parent bad", ram("<RamdiskOptions>true</RamdiskOptions><FilePath>\\a.wim</FilePath><ParentDevice><GPTDevice>" + gptDisk + "<Partition>\n<Name>X</Name></Partition></GPTDevice></ParentDevice>"), `x.bcd.xml:5:1: <Name> is "X"; expected MAINOS, EFIESP or MMOS`},
		{"ramdisk path long", ram("<RamdiskOptions>true</RamdiskOptions>\n<FilePath>" + strings.Repeat("a", maxBCDDevicePath+1) + "</FilePath><ParentDevice>" + gptMMOS + "</ParentDevice>"), `x.bcd.xml:5:1: <FilePath> is 32768 UTF-16 units long; expected at most 32767`},
		{"device for a string", bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName><Elements>\n"+bcdElem("Description", "<DeviceValue>"+gptMMOS+"</DeviceValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:4:84: <DeviceValue> for "Description", whose data is of format String; expected <StringValue>`},
		{"string for a device", bcdXML("", "<Objects><Object><FriendlyName>Windows Loader</FriendlyName><Elements>\n"+bcdElem("Boot Device", "<StringValue>boot</StringValue>")+"</Elements></Object></Objects>"), `x.bcd.xml:4:84: <StringValue> for "Boot Device", whose data is of format Device; expected <DeviceValue>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBCD("x.bcd.xml", []byte(tc.xml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

// recoveryBCD is a store shaped like a recovery OS's (an MMOS loader booting a WIM from a
// ramdisk on the MMOS partition), written for this test, with a second object of the other forms.
const recoveryBCD = `<?xml version='1.0' encoding='utf-8' standalone='yes'?>
<BootConfigurationDatabase xmlns="http://schemas.microsoft.com/phone/2011/10/BootConfiguration"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" IncludeDescriptions="true" IncludeRegistryHeader="true">
  <Objects>
    <Object>
      <FriendlyName>MMOS</FriendlyName>
      <Elements>
        <Element><DataType><WellKnownType>Description</WellKnownType></DataType>
          <ValueType><StringValue>Contoso recovery (ramdisk WIM)</StringValue></ValueType></Element>
        <Element><DataType><WellKnownType>Inherit</WellKnownType></DataType>
          <ValueType><ObjectListValue><StringValues><StringValue>Boot Loader Settings Group</StringValue></StringValues></ObjectListValue></ValueType></Element>
        <Element><DataType><WellKnownType>WinPE Image</WellKnownType></DataType>
          <ValueType><BooleanValue>true</BooleanValue></ValueType></Element>
        <Element><DataType><WellKnownType>Boot Device</WellKnownType></DataType>
          <ValueType>
            <DeviceValue>
              <RamdiskDevice>
                <RamdiskOptions>true</RamdiskOptions>
                <ParentDevice>
                  <GPTDevice>
                    <Partition><Name>MMOS</Name></Partition>
                    <DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId>
                  </GPTDevice>
                </ParentDevice>
                <FilePath>\recovery\re.wim</FilePath>
              </RamdiskDevice>
            </DeviceValue>
          </ValueType>
        </Element>
        <Element><DataType><WellKnownType>OS Loader Type</WellKnownType></DataType>
          <ValueType>
            <DeviceValue>
              <RamdiskDevice>
                <FilePath>\recovery\re.wim</FilePath>
                <ParentDevice><GPTDevice><DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId><Partition><Name>MMOS</Name></Partition></GPTDevice></ParentDevice>
                <RamdiskOptions>true</RamdiskOptions>
              </RamdiskDevice>
            </DeviceValue>
          </ValueType>
        </Element>
      </Elements>
    </Object>
    <Object>
      <FriendlyName>Windows Loader</FriendlyName>
      <Elements>
        <Element><DataType><WellKnownType>Boot Device</WellKnownType></DataType>
          <ValueType><DeviceValue><MBRDevice><DiskSignature>AE420040</DiskSignature><PartitionName>MainOS</PartitionName></MBRDevice></DeviceValue></ValueType></Element>
        <Element><DataType><WellKnownType>OS Loader Type</WellKnownType></DataType>
          <ValueType><DeviceValue><GPTDevice><DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId><Partition><Id>{12345678-9abc-def0-0123-456789abcdef}</Id></Partition></GPTDevice></DeviceValue></ValueType></Element>
        <Element><DataType><WellKnownType>Ramdisk SDI Device</WellKnownType></DataType>
          <ValueType><DeviceValue><RamdiskDevice><RamdiskOptions>false</RamdiskOptions><FilePath>\boot.wim</FilePath><ParentDevice><MBRDevice><DiskSignature>1</DiskSignature><PartitionName>EFIESP</PartitionName></MBRDevice></ParentDevice></RamdiskDevice></DeviceValue></ValueType></Element>
      </Elements>
    </Object>
  </Objects>
</BootConfigurationDatabase>
`

// The recovery-shaped project builds: its package carries the store's .reg, whose device
// values hivexregedit merges into a hive and exports with the same bytes.
func TestBCDStoreDeviceValues(t *testing.T) {
	dir := tree(t, map[string]string{
		"Recovery.BCD.xml": recoveryBCD,
		"Recovery.pkg.xml": `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Component="Recovery" SubComponent="GPT-BCD" Owner="$(OEMNAME)" OwnerType="OEM" Partition="EFIESP" Platform="$(BSPARCH)" ReleaseType="Production">
  <Components><BCDStore Source=".\Recovery.BCD.xml"/></Components>
</Package>`,
	})
	opt := baseOpt
	opt.Variables = map[string]string{"OEMNAME": "Contoso", "BSPARCH": "arm"}
	var warns []string
	opt.Warn = func(s string) { warns = append(warns, s) }
	pkgs, err := Load(filepath.Join(dir, "Recovery.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	mmos := BCDHiveBase + `\Objects\{a5935ff2-32ba-4617-bf36-5ac314b3f9bf}\Elements\`
	loader := BCDHiveBase + `\Objects\{7619dcc9-fafe-11d9-b411-000476eba25f}\Elements\`
	re := bcdRamdiskDevice(`\recovery\re.wim`, bcdGPTDevice(hx(t, hxSystemDisk), hx(t, hxMMOS)))
	el := func(key string, data []byte) registry.Value {
		return registry.Value{Key: key, Name: "Element", Type: "REG_BINARY", Data: data}
	}
	want := []registry.Value{
		el(mmos+"11000001", append(hx(t, hxRamdiskOpt), re...)),
		el(mmos+"21000001", append(hx(t, hxRamdiskOpt), re...)),
		el(loader+"11000001", append(zeros(16), bcdBootDevice()...)),
		el(loader+"21000001", append(zeros(16), bcdGPTDevice(hx(t, hxSystemDisk), hx(t, hxOther))...)),
		el(loader+"31000003", append(hx(t, hxRamdiskOpt), bcdRamdiskDevice(`\boot.wim`, bcdBootDevice())...)),
		el(mmos+"26000022", []byte{1}),
	}
	if len(pkgs) != 1 || len(pkgs[0].bcd) != 1 {
		t.Fatalf("packages %v", Names(pkgs))
	}
	checkValues(t, pkgs[0].bcd[0], want, false)
	name := "Contoso.Recovery.GPT-BCD"
	files := buildExtract(t, pkgs, opt, name)
	reg, ok := files[`\Windows\Packages\RegistryFiles\`+name+`_BCDStore_0.reg`]
	if !ok {
		t.Fatalf("no BCD registry file in the package: %v", files)
	}
	text := regText(t, reg.Data)
	// REG_BINARY is written hex: in the .reg (= hex(3), as hivex exports it).
	if !strings.Contains(text, "[HKEY_LOCAL_MACHINE\\BCD\\Objects\\{7619dcc9-fafe-11d9-b411-000476eba25f}\\Elements\\11000001]\r\n\"Element\"=hex:00,00,") {
		t.Errorf(".reg text:\n%s", text)
	}
	checkHivex(t, reg.Data, want)
	t.Logf("hivexregedit --export of the merged store:\n%s", hivexMerge(t, reg.Data))
}
