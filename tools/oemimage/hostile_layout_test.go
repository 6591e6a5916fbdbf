package main

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Device layouts nobody sane would ship, through imggen; and FFUs of MBR disks whose MBR was
// corrupted after the fact, through ffu info.

const hostileNS = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`

// hostileMBRLayout is the kit's MBR layout shape, small enough for a 512 MiB disk.
const hostileMBRLayout = `<?xml version="1.0" encoding="utf-16"?>
<DeviceLayout ` + hostileNS + `>
  <Partitions>
    <Partition><Name>BOOTLOADER</Name><TotalSectors>4096</TotalSectors><Type>0x4d</Type><OffsetInSectors>2</OffsetInSectors></Partition>
    <Partition><Name>EFIESP</Name><Type>0x0c</Type><FileSystem>FAT</FileSystem><TotalSectors>65536</TotalSectors><Bootable>true</Bootable></Partition>
    <Partition><Name>MainOS</Name><Type>0x07</Type><FileSystem>NTFS</FileSystem><MinFreeSectors>65536</MinFreeSectors><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x1000</ClusterSize></Partition>
    <Partition><Name>Data</Name><Type>0x07</Type><FileSystem>NTFS</FileSystem><UseAllSpace>true</UseAllSpace><ByteAlignment>0x800000</ByteAlignment></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize><DefaultPartitionByteAlignment>0x200000</DefaultPartitionByteAlignment>
</DeviceLayout>`

// utf16LE is s in UTF-16LE with a byte order mark, as Windows editors save XML.
func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2+2*len(u))
	binary.LittleEndian.PutUint16(b, 0xFEFF)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2+2*i:], c)
	}
	return b
}

// layoutPackage writes a package that installs files, as pkggen would.
func layoutPackage(t *testing.T, dir, comp, partition string, files map[string][]byte) string {
	t.Helper()
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: "Contoso", Component: comp, Version: spkg.Version{Major: 1}},
		ReleaseType: "Test", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: partition,
	}
	var payload []spkg.Payload
	for path, data := range files {
		data := data
		payload = append(payload, spkg.Payload{DevicePath: path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(string(data))), nil
		}})
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// imggenInputs writes an OEMInput, a core and an OEM feature manifest and the packages of a
// small image whose device layout package holds layoutXML, and returns the imggen arguments
// that build it into out.ffu.
func imggenInputs(t *testing.T, dir string, layoutXML []byte) []string {
	t.Helper()
	writeFile(t, dir, "OEMInput.xml", []byte(`<OEMInput `+hostileNS+`>
  <Description>layout test</Description><SOC>SOC1</SOC><Device>Dev1</Device>
  <ReleaseType>Test</ReleaseType><BuildType>fre</BuildType>
  <SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface><Keyboard><Language>en-US</Language></Keyboard><Speech><Language>en-US</Language></Speech></SupportedLanguages>
  <BootUILanguage>en-US</BootUILanguage><BootLocale>en-US</BootLocale>
  <Resolutions><Resolution>720x1280</Resolution></Resolutions>
  <AdditionalFMs><AdditionalFM>%OEM_ROOT%\FMFiles\OEMFM.xml</AdditionalFM></AdditionalFMs>
</OEMInput>`))
	writeFile(t, dir, "MicrosoftPhoneFM.xml", []byte(`<FeatureManifest `+hostileNS+` OwnerType="Microsoft" ReleaseType="Production" ID="CoreFM">
  <BasePackages><PackageFile Path="$(mspackageroot)" Name="Contoso.MainOS.spkg"/></BasePackages>
</FeatureManifest>`))
	writeFile(t, dir, "OEMFM.xml", []byte(`<FeatureManifest `+hostileNS+` OwnerType="OEM" OwnerName="Contoso" ReleaseType="Test" ID="OEMFM">
  <DeviceLayoutPackages><PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Layout.spkg" SOC="SOC1"/></DeviceLayoutPackages>
  <OEMDevicePlatformPackages><PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Platform.spkg" Device="Dev1"/></OEMDevicePlatformPackages>
</FeatureManifest>`))
	pkgs := filepath.Join(dir, "pkgs")
	if err := os.Mkdir(pkgs, 0o755); err != nil {
		t.Fatal(err)
	}
	layoutPackage(t, pkgs, "MainOS", "MainOS", map[string][]byte{`\Windows\System32\ntoskrnl.exe`: []byte("kernel")})
	layoutPackage(t, pkgs, "Layout", "MainOS", map[string][]byte{imageconst.DeviceLayoutPath: layoutXML})
	layoutPackage(t, pkgs, "Platform", "MainOS", map[string][]byte{imageconst.DevicePlatformPath: []byte(`<OEMDevicePlatform ` + hostileNS + `>
<MinSectorCount>1048576</MinSectorCount><DevicePlatformID>Contoso.Dev1</DevicePlatformID></OEMDevicePlatform>`)})
	return []string{"imggen", "--timings=false", "--core-fm=MicrosoftPhoneFM.xml", "--fm=OEMFM.xml", "--package=pkgs", "out.ffu", "OEMInput.xml", "MSPackages"}
}

// mbrFFU builds a valid MBR image in dir (in this process) and returns its path.
func mbrFFU(t *testing.T, dir string) string {
	t.Helper()
	args := imggenInputs(t, dir, utf16LE(hostileMBRLayout))
	t.Chdir(dir) // restored when the test ends
	var out strings.Builder
	if code := run(args, &out, &out); code != 0 {
		t.Fatalf("building the MBR image: exit %d: %s", code, out.String())
	}
	for _, side := range imggen.SideFiles {
		os.Remove(filepath.Join(dir, "out."+side))
	}
	return filepath.Join(dir, "out.ffu")
}

// patchMBR rewrites, in every payload block the FFU writes to disk block 0, the MBR bytes at
// off (the hash table no longer matches: ffu info does not check it).
func patchMBR(t *testing.T, path string, off int, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	s := rd.Stores[0]
	n := 0
	for k, e := range s.Entries {
		if k >= int(s.Header.InitialTableCount) && e.Locations[0].Method == ffu.DiskBegin && e.Locations[0].BlockIndex == 0 {
			if _, err := f.WriteAt(b, s.PayloadOffset+int64(k)*int64(s.Header.BlockSize)+int64(off)); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no payload block for disk block 0")
	}
}

func mbrEntry(typ byte, start, n uint32) []byte {
	e := make([]byte, 16)
	e[4] = typ
	binary.LittleEndian.PutUint32(e[8:], start)
	binary.LittleEndian.PutUint32(e[12:], n)
	return e
}

func init() {
	layoutCase := func(name, xml string, want ...string) hostileCase {
		return hostileCase{
			name:  "layout/" + name,
			setup: func(t *testing.T, dir string) []string { return imggenInputs(t, dir, []byte(xml)) },
			want:  append([]string{`Contoso.Layout.spkg\Windows\ImageUpdate\DeviceLayout.xml`}, want...),
		}
	}
	addHostile(
		// The harness itself: a valid UTF-16 MBR layout with OffsetInSectors builds.
		hostileCase{
			name:     "layout/utf16-mbr-builds",
			setup:    func(t *testing.T, dir string) []string { return imggenInputs(t, dir, utf16LE(hostileMBRLayout)) },
			exitZero: true,
		},
		layoutCase("overlapping-offsets",
			strings.Replace(hostileMBRLayout, "<Bootable>", "<OffsetInSectors>4000</OffsetInSectors><Bootable>", 1),
			"partition BOOTLOADER (sectors 2-4097", "partition EFIESP (sectors 4000-69535", "overlap"),
		layoutCase("offset-into-the-gpt",
			strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(hostileMBRLayout, "0x4d", "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}"),
				"0x0c", "{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}"), "0x07", "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}"),
			"the protective MBR and primary GPT (sectors 0-33)", "partition BOOTLOADER (sectors 2-4097", "overlap"),
		layoutCase("bigger-than-the-disk",
			strings.Replace(hostileMBRLayout, "<TotalSectors>65536</TotalSectors>", "<TotalSectors>4000000000</TotalSectors>", 1),
			"the partitions need", "EFIESP 4000000000", "the disk has 1048576", "raise MinSectorCount",
			"DeviceLayout.xml", "the disk size is MinSectorCount 1048576 of", "OEMDevicePlatform.xml"),
		layoutCase("huge-offset",
			strings.Replace(hostileMBRLayout, "<OffsetInSectors>2<", "<OffsetInSectors>18446744073709551615<", 1),
			"partition BOOTLOADER at OffsetInSectors 18446744073709551615", "beyond the 1048576-sector disk"),
		layoutCase("malformed-utf16",
			string(utf16LE(strings.Replace(hostileMBRLayout, "</Partitions>", "</Partition>", 1))),
			"malformed XML"),
		layoutCase("unknown-element-line-col",
			string(utf16LE(strings.Replace(hostileMBRLayout, "<ChunkSize>128</ChunkSize>", "<ChunkSise>128</ChunkSise>", 1))),
			"DeviceLayout.xml:9:31: unknown element <ChunkSise> in <DeviceLayout>", "did you mean ChunkSize?"),
	)
	mbrCase := func(name string, off int, b []byte, want ...string) hostileCase {
		return hostileCase{
			name: "layout/" + name,
			setup: func(t *testing.T, dir string) []string {
				p := mbrFFU(t, dir)
				patchMBR(t, p, off, b)
				return []string{"ffu", "info", "out.ffu"}
			},
			want: append([]string{"out.ffu"}, want...),
		}
	}
	addHostile(
		// The readers behind imgtowim take an MBR image (MainOS and EFIESP named by MBR_META).
		hostileCase{
			name: "layout/imgtowim-mbr",
			setup: func(t *testing.T, dir string) []string {
				mbrFFU(t, dir)
				return []string{"imgtowim", "out.ffu", "out.wim"}
			},
			exitZero: true,
		},
		mbrCase("mbr-entry-beyond-the-disk", 446+16, mbrEntry(0x0c, 8192, 0x7FFFFFFF), "MBR entry 2 (type 0x0c) at sectors 8192-2147491838 is outside sectors 1-1048575"),
		mbrCase("mbr-start-ffffffff", 446+16, mbrEntry(0x0c, 0xFFFFFFFF, 65536), "MBR entry 2 (type 0x0c) at sectors 4294967295-"),
		mbrCase("mbr-two-extended", 446, mbrEntry(0x05, 2, 100), "both extended partitions"),
		mbrCase("mbr-no-signature", 510, []byte{0, 0}, "no 55 AA boot signature"),
		mbrCase("mbr-overlap", 446+16, mbrEntry(0x0c, 3000, 65536), "partition 1 (sectors 2-4097) and partition 2 (sectors 3000-68535) overlap"),
	)
}
