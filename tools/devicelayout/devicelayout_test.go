package devicelayout

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// The shape of the IoT Core kit's MBR8GB-R layout: MBR type bytes, Bootable, per-partition
// ByteAlignment and ClusterSize, DefaultPartitionByteAlignment.

// The layouts of the tests, in testdata (tools/layout's tests place them too). They are read
// in TestMain, not at package init: under Bazel the test starts in its runfiles directory
// only once rules_go's test main has run, after this package's initializers.
var v1, v2, mbr8R string

func TestMain(m *testing.M) {
	v1, v2, mbr8R = testLayout("v1"), testLayout("v2"), testLayout("mbr8R")
	os.Exit(m.Run())
}

func testLayout(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name+".xml"))
	if err != nil {
		panic(err) // the test's own file
	}
	return string(b)
}

func TestParseDeviceLayout(t *testing.T) {
	d, err := ParseDeviceLayout("v1.xml", []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || d.ChunkSizeKB != 128 || d.DefaultPartitionByteAlignment != 0x100000 || d.VersionTag != "T1" || len(d.Stores) != 1 {
		t.Errorf("layout %+v", d)
	}
	dpp := d.Partition("dpp")
	if dpp == nil || dpp.RequiredToFlash || dpp.UpdateType != "Never" || d.Partition("EFIESP").FileSystem != "FAT" {
		t.Errorf("DPP %+v", dpp)
	}
	if !d.Partition("Data").UseAllSpace || d.Partition("MainOS").MinFreeSectors != 65536 || d.Partition("CrashDump").ByteAlignment != 0x10000 {
		t.Error("partition fields not read")
	}
	m, err := ParseDeviceLayout("mbr.xml", []byte(strings.Replace(mbr8R, "<Bootable>", "<OffsetInSectors>2048</OffsetInSectors><Bootable>", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !m.MBR || m.Partition("EFIESP").MBRType != 0x0c || m.Partition("MMOS").MBRType != 0x0c || m.Partition("Data").MBRType != 0x07 ||
		!m.Partition("EFIESP").Bootable || m.Partition("EFIESP").OffsetInSectors != 2048 || m.Partition("Data").ClusterSize != 0x4000 ||
		m.DefaultPartitionByteAlignment != 0x200000 || m.Partition("MainOS").Pos.String() != "mbr.xml:11:5" {
		t.Errorf("MBR layout %+v %+v", m, m.Partition("EFIESP"))
	}
	if d.MBR {
		t.Error("a GPT layout read as MBR")
	}
	d2, err := ParseDeviceLayout("v2.xml", []byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	if d2.Version != 2 || d2.Stores[0].SizeInSectors != 4194304 || d2.Stores[0].StoreType != "MainOSStore" || d2.MainStore() != d2.Stores[0] {
		t.Errorf("v2 %+v %+v", d2, d2.Stores[0])
	}
}

func TestExampleLayoutParses(t *testing.T) {
	for _, f := range []string{"../../examples/contoso/soc/DeviceLayout.xml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Skip("example not in this tree:", err)
		}
		if _, err := ParseDeviceLayout(f, data); err != nil {
			t.Error(err)
		}
	}
	data, err := os.ReadFile("../../examples/contoso/device/OEMDevicePlatform.xml")
	if err == nil {
		dp, err := ParseDevicePlatform("OEMDevicePlatform.xml", data)
		if err != nil || dp.MinSectorCount == 0 || len(dp.DevicePlatformIDs) != 1 {
			t.Errorf("%+v %v", dp, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	// want is the whole first line of the error: file:line:col and the message.
	tests := []struct{ name, xml, want string }{
		{"malformed", "<DeviceLayout", "dl.xml:1:14: malformed XML"},
		{"wrong root", `<Layout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"/>`, "dl.xml:1:1: root element is <Layout>; expected <DeviceLayout>"},
		{"wrong namespace", `<DeviceLayout xmlns="urn:x"/>`, "dl.xml:1:1: <DeviceLayout> is in namespace urn:x; expected namespace " + NamespaceV1},
		{"unknown element", strings.Replace(v1, "<VersionTag>", "<Colour/><VersionTag>", 1), "dl.xml:13:3: unknown element <Colour> in <DeviceLayout>"},
		{"misspelt element", strings.Replace(v1, "<TotalSectors>8192</TotalSectors>", "<TotalSector>8192</TotalSector>", 1), "dl.xml:8:89: unknown element <TotalSector> in <Partition>; expected one of Name, Type"},
		{"bad number", strings.Replace(v1, "<TotalSectors>65536", "<TotalSectors>lots", 1), `dl.xml:4:86: <TotalSectors> is "lots"; expected a non-negative number`},
		{"bad bool", strings.Replace(v1, "<Bootable>true", "<Bootable>yes", 1), `dl.xml:4:148: <Bootable> is "yes"; expected true or false`},
		{"bad file system", strings.Replace(v1, "<FileSystem>FAT</FileSystem><Bootable>", "<FileSystem>EXT4</FileSystem><Bootable>", 1), `dl.xml:4:120: <FileSystem> is "EXT4"; expected NTFS, FAT or FAT32`},
		{"no size", strings.Replace(v1, "<MinFreeSectors>65536</MinFreeSectors>", "", 1), "dl.xml:6:5: partition MainOS: expected TotalSectors, MinFreeSectors or UseAllSpace"},
		{"two UseAllSpace", strings.Replace(v1, "<TotalSectors>8192</TotalSectors>", "<UseAllSpace>true</UseAllSpace>", 1), `dl.xml:8:5: partition CrashDump: store "MainOSStore" already has a UseAllSpace partition (Data)`},
		{"duplicate", strings.Replace(v1, "<Name>DPP</Name>", "<Name>efiesp</Name>", 1), "dl.xml:5:5: partition efiesp is defined twice (first at line 4)"},
		{"twice", strings.Replace(v1, "<Name>DPP</Name>", "<Name>DPP</Name><Name>DPP2</Name>", 1), "dl.xml:5:32: <Name> appears twice in <Partition> (first at line 5)"},
		{"bad alignment", strings.Replace(v1, "0x10000</ByteAlignment>", "0x10001</ByteAlignment>", 1), "dl.xml:8:122: <ByteAlignment> 0x10001 is not a power of two"},
		{"alignment below a sector", strings.Replace(v1, "0x10000</ByteAlignment>", "0x100</ByteAlignment>", 1), "dl.xml:8:5: partition CrashDump: ByteAlignment 0x100 is smaller than the 512-byte sector"},
		{"bad cluster", strings.Replace(v1, "<ByteAlignment>", "<ClusterSize>3000</ClusterSize><ByteAlignment>", 1), "dl.xml:8:122: <ClusterSize> 0xbb8: expected a power of two"},
		{"bad chunk", strings.Replace(v1, "<ChunkSize>128", "<ChunkSize>2048", 1), "dl.xml:11:3: <ChunkSize> is 2048 KB; expected 1 to 1024"},
		{"bad sector size", strings.Replace(v1, "<SectorSize>512", "<SectorSize>1024", 1), "dl.xml:10:3: <SectorSize> is 1024; expected 512 or 4096"},
		{"v2 without stores", `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate/v2"><Stores/></DeviceLayout>`, "dl.xml:1:1: no <Store> in <Stores>; expected at least one"},
		{"v1 without partitions", `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"></DeviceLayout>`, `dl.xml:1:1: store "MainOSStore" has no partitions`},
		{"v1 stores", strings.Replace(v1, "<SectorSize>", "<Stores/><SectorSize>", 1), "dl.xml:10:3: <Stores> belongs to v2 layouts"},
		{"long name", strings.Replace(v1, "<Name>DPP</Name>", "<Name>"+strings.Repeat("x", 37)+"</Name>", 1), "dl.xml:5:5: partition name \"" + strings.Repeat("x", 37) + "\" is longer than the 36 characters"},
		{"text in value", strings.Replace(v1, "<Name>DPP</Name>", "<Name>DPP<b/></Name>", 1), "dl.xml:5:25: unexpected element <b> in <Name>; expected only text"},
		{"bad type", strings.Replace(v1, "<Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>16384", "<Type>0x100</Type><TotalSectors>16384", 1), `dl.xml:5:32: partition DPP: <Type> is "0x100"; expected a GPT type GUID`},
		{"mixed styles", strings.Replace(v1, "<Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>16384", "<Type>0x0c</Type><TotalSectors>16384", 1), "dl.xml:5:5: partition DPP: <Type> 0x0c is an MBR type byte, but the first partition (EFIESP) makes this a GPT layout"},
		{"extended type", strings.Replace(mbr8R, "<Type>0x0C</Type>", "<Type>0x0f</Type>", 1), "mbr:23:7: partition MMOS: MBR type 0x0f is an extended-partition container"},
		{"meta type", strings.Replace(mbr8R, "<Type>0x0C</Type>", "<Type>112</Type>", 1), "mbr:23:7: partition MMOS: MBR type 0x70 is the MBR_META partition"},
		{"offset with UseAllSpace", strings.Replace(v1, "<UseAllSpace>true</UseAllSpace>", "<UseAllSpace>true</UseAllSpace><OffsetInSectors>5</OffsetInSectors>", 1), "dl.xml:7:5: partition Data: UseAllSpace and OffsetInSectors exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "dl.xml"
			if strings.HasPrefix(tt.want, "mbr:") {
				file = "mbr"
			}
			_, err := ParseDeviceLayout(file, []byte(tt.xml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to start with %q", err, tt.want)
			}
		})
	}
}

// utf16File encodes s as UTF-16 with a byte order mark, as Windows editors save XML.
func utf16File(s string, bigEndian bool) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2+2*len(u))
	order := binary.ByteOrder(binary.LittleEndian)
	if bigEndian {
		order = binary.BigEndian
	}
	order.PutUint16(out, 0xFEFF)
	for i, c := range u {
		order.PutUint16(out[2+2*i:], c)
	}
	return out
}

// Layouts and platform files saved as UTF-16 (with a byte order mark) or UTF-8 with a BOM parse
// as their UTF-8 form does; errors in them still give line and column.
func TestParseEncodings(t *testing.T) {
	xml16 := strings.Replace(v1, `encoding="utf-8"`, `encoding="utf-16"`, 1)
	const platform = `<?xml version="1.0" encoding="utf-16"?>
<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"><MinSectorCount>2097152</MinSectorCount><DevicePlatformID>A.B</DevicePlatformID></OEMDevicePlatform>`
	for _, enc := range []struct {
		name string
		conv func(string) []byte
	}{
		{"UTF-16LE", func(s string) []byte { return utf16File(s, false) }},
		{"UTF-16BE", func(s string) []byte { return utf16File(s, true) }},
		{"UTF-8 BOM", func(s string) []byte { return append([]byte{0xEF, 0xBB, 0xBF}, s...) }},
	} {
		t.Run(enc.name, func(t *testing.T) {
			d, err := ParseDeviceLayout("dl.xml", enc.conv(xml16))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Stores[0].Partitions) != 5 || d.Partition("CrashDump").ByteAlignment != 0x10000 || d.VersionTag != "T1" {
				t.Errorf("layout %+v", d)
			}
			dp, err := ParseDevicePlatform("p.xml", enc.conv(platform))
			if err != nil || dp.MinSectorCount != 2097152 || dp.DevicePlatformIDs[0] != "A.B" {
				t.Errorf("platform %+v, %v", dp, err)
			}
			_, err = ParseDeviceLayout("dl.xml", enc.conv(strings.Replace(xml16, "<TotalSectors>65536", "<TotalSectors>lots", 1)))
			if want := `dl.xml:4:86: <TotalSectors> is "lots"`; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
}

func TestParseDevicePlatform(t *testing.T) {
	const ns = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`
	dp, err := ParseDevicePlatform("p.xml", []byte(`<OEMDevicePlatform `+ns+`><MinSectorCount>2097152</MinSectorCount>
<DevicePlatformIDs><ID>A.B.C</ID><ID>A.B.D</ID></DevicePlatformIDs><AdditionalMainOSFreeSectorsRequest>100</AdditionalMainOSFreeSectorsRequest>
<CompressedPartitions><Name>MainOS</Name></CompressedPartitions><Rules/></OEMDevicePlatform>`))
	if err != nil || dp.MinSectorCount != 2097152 || len(dp.DevicePlatformIDs) != 2 || dp.AdditionalMainOSFreeSectorsRequest != 100 || dp.CompressedPartitions[0] != "MainOS" {
		t.Errorf("%+v %v", dp, err)
	}
	for xml, want := range map[string]string{
		`<OEMDevicePlatform ` + ns + `><DevicePlatformID>X</DevicePlatformID></OEMDevicePlatform>`:                                  "MinSectorCount> is required",
		`<OEMDevicePlatform ` + ns + `><MinSectorCount>1</MinSectorCount></OEMDevicePlatform>`:                                      "DevicePlatformID",
		`<OEMDevicePlatform ` + ns + `><MinSectorCount>1</MinSectorCount><Bogus/></OEMDevicePlatform>`:                              "unknown element <Bogus>",
		`<OEMDevicePlatform ` + ns + `><MinSectorCount>1</MinSectorCount><DevicePlatformID></DevicePlatformID></OEMDevicePlatform>`: "1 to 191",
	} {
		if _, err := ParseDevicePlatform("p.xml", []byte(xml)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}
