package imggen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	volread "github.com/oemimage/rules_oemimage/tools/volume"
)

const testPlatform = `<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
<MinSectorCount>1048576</MinSectorCount><DevicePlatformID>Test.Device</DevicePlatformID></OEMDevicePlatform>`

// selection makes packages for a small image and the selection ImgGen gets from resolve.
func selection(t *testing.T, dir, release string, layoutXML string) *resolve.Selection {
	t.Helper()
	pkg := func(comp, part string, files map[string]string, g manifest.Group) *resolve.Package {
		name, _ := makePackage(t, dir, "Contoso", comp, part, files)
		return &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name, HostPath: filepath.Join(dir, name),
			Reasons: []resolve.Reason{{FeatureID: string(g), Group: g}}}
	}
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Description: "test image", Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: release}
	sel.Packages = []*resolve.Package{
		pkg("MainOS", "MainOS", map[string]string{`\Windows\System32\ntoskrnl.exe`: "kernel"}, manifest.GroupBase),
		pkg("EFIESP", "EFIESP", map[string]string{`\efi\boot.efi`: "boot"}, manifest.GroupBase),
		pkg("Layout", "MainOS", map[string]string{imageconst.DeviceLayoutPath: layoutXML}, manifest.GroupDeviceLayout),
		pkg("Platform", "MainOS", map[string]string{imageconst.DevicePlatformPath: testPlatform}, manifest.GroupOEMDevicePlatform),
	}
	return sel
}

func TestBuildDeterministic(t *testing.T) {
	src := t.TempDir()
	sel := selection(t, src, "Test", testLayout)
	var outputs [2]map[string][]byte
	for i := range outputs {
		out := t.TempDir()
		if err := Build(sel, Options{Output: filepath.Join(out, "image.ffu")}); err != nil {
			t.Fatal(err)
		}
		outputs[i] = map[string][]byte{}
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(out, e.Name()))
			outputs[i][e.Name()] = data
		}
	}
	if len(outputs[0]) != 1+len(SideFiles) {
		t.Errorf("outputs %d, want the FFU and %d side files (no temporary file left)", len(outputs[0]), len(SideFiles))
	}
	for name, data := range outputs[0] {
		if !bytes.Equal(data, outputs[1][name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
	if !bytes.Contains(outputs[0]["image.ImageApp.log"], []byte("durations are not recorded")) {
		t.Error("the log does not say durations are left out")
	}
}

func TestBuildRules(t *testing.T) {
	withDPP := strings.Replace(testLayout, "<Partition><Name>PLAT</Name>", `<Partition><Name>DPP</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>4096</TotalSectors><FileSystem>FAT</FileSystem></Partition><Partition><Name>PLAT</Name>`, 1)
	tests := []struct {
		name, release, layout string
		formatDPP             bool
		want                  string // "" = builds
	}{
		{"FormatDPP without DPP", "Test", testLayout, true, "has no DPP partition to format"},
		{"FormatDPP with DPP", "Test", withDPP, true, ""},
		{"Production", "Production", testLayout, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := selection(t, t.TempDir(), tt.release, tt.layout)
			sel.FormatDPP = tt.formatDPP
			out := t.TempDir()
			err := Build(sel, Options{Output: filepath.Join(out, "image.ffu")})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(out); err != nil && len(entries) != 0 {
				t.Errorf("a failed build left %d files", len(entries))
			}
		})
	}
	// A package for another CPU is refused, naming it.
	sel := selection(t, t.TempDir(), "Production", testLayout)
	sel.CPUType = "x86"
	if err := Build(sel, Options{Output: filepath.Join(t.TempDir(), "image.ffu")}); err == nil || !strings.Contains(err.Error(), "built for CPU ARM, the image for x86") {
		t.Errorf("CPU mismatch: err = %v", err)
	}
}

// The IoT Core kit's MBR8GB-R layout, scaled to the test's 512 MiB disk (MMOS smaller, MainOS
// with less free space): MBR type bytes, Bootable, ByteAlignment, ClusterSize and five
// partitions with MBR_META, so that two are logical; DPP-like RequiredToFlash=false CrashDump.
const testMBRLayout = `<?xml version="1.0" encoding="utf-8"?>
<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>0x0c</Type><FileSystem>FAT</FileSystem><TotalSectors>65536</TotalSectors><Bootable>true</Bootable></Partition>
    <Partition><Name>MainOS</Name><Type>0x07</Type><FileSystem>NTFS</FileSystem><MinFreeSectors>65536</MinFreeSectors><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x1000</ClusterSize></Partition>
    <Partition><Name>MMOS</Name><FileSystem>FAT32</FileSystem><TotalSectors>140000</TotalSectors><Type>0x0C</Type><RequiredToFlash>false</RequiredToFlash></Partition>
    <Partition><Name>Data</Name><Type>0x07</Type><FileSystem>NTFS</FileSystem><UseAllSpace>true</UseAllSpace><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x4000</ClusterSize></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize><DefaultPartitionByteAlignment>0x200000</DefaultPartitionByteAlignment><VersionTag>IoTUAP</VersionTag>
</DeviceLayout>`

// An MBR layout builds into an FFU whose disk other tools read: sfdisk sees the MBR, EBRs and
// types, fsck.fat and ntfs-3g the file systems; the FFU's flash-only MBR lacks MMOS
// (RequiredToFlash=false); phase 1 wipes the start only; ffu info's reader names the
// partitions from MBR_META.
func TestBuildMBR(t *testing.T) {
	sfdisk, fsck, ntfsfix := checker.Find(t, "sfdisk"), checker.Find(t, "fsck.fat"), checker.Find(t, "ntfsfix")
	sel := selection(t, t.TempDir(), "Test", testMBRLayout)
	out := t.TempDir()
	ffuPath := filepath.Join(out, "image.ffu")
	if err := Build(sel, Options{Output: ffuPath}); err != nil {
		t.Fatal(err)
	}
	im, err := volread.OpenImage(ffuPath, true)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if im.MBR == nil || !im.MBR.HasMeta || im.MBR.DiskSignature != 0xAE420040 {
		t.Fatalf("table %s, MBR %+v", im.Table(), im.MBR)
	}
	var names []string
	for _, e := range im.GPT.Entries {
		names = append(names, fmt.Sprintf("%s %s %d", e.Name, e.Type, e.Index))
	}
	if got, want := strings.Join(names, ", "), "EFIESP 0x0c 1, MainOS 0x07 2, MMOS 0x0c 3, MBR_META 0x70 5, Data 0x07 6"; got != want {
		t.Errorf("partitions %s, want %s", got, want)
	}
	disk, err := im.Disk()
	if err != nil {
		t.Fatal(err)
	}
	dump := checker.Run(t, "", sfdisk, "--dump", disk.Name())
	for _, w := range []string{"label: dos", "label-id: 0xae420040", "type=c, bootable", "type=7", "type=5", "type=70"} {
		if !strings.Contains(dump, w) {
			t.Errorf("sfdisk --dump lacks %q:\n%s", w, dump)
		}
	}
	for _, e := range im.GPT.Entries {
		dst := filepath.Join(t.TempDir(), e.Name)
		off, size := im.Extent(&e)
		f, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, io.NewSectionReader(im.ReaderAt(), off, size)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		switch e.Name {
		case "EFIESP", "MMOS":
			checker.Run(t, "", fsck, "-n", dst)
		case "MainOS", "Data":
			checker.Run(t, "", ntfsfix, "-n", dst)
			vol, err := im.Volume(&e)
			if err != nil {
				t.Fatalf("%s: %v", e.Name, err)
			}
			if e.Name == "MainOS" {
				if _, err := vol.ReadFile(imageconst.UpdateHistoryPath); err != nil {
					t.Errorf("MainOS: %v", err)
				}
			}
		}
	}

	// The store: phase 1 at the disk's start only; the flash-only MBR without MMOS, the final
	// one with it.
	s := im.FFU.Stores[0]
	h := s.Header
	for k := uint32(0); k < h.InitialTableCount; k++ {
		if l := s.Entries[k].Locations; len(l) != 1 || l[0].Method != ffu.DiskBegin {
			t.Errorf("phase 1 descriptor %d: %+v, want one DISK_BEGIN location", k, l)
		}
	}
	mmos := im.Partition("MMOS")
	entryOf := func(k uint32) []byte {
		blk := make([]byte, h.BlockSize)
		if err := im.FFU.ReadBlock(0, int(k), blk); err != nil {
			t.Fatal(err)
		}
		return blk[446+16*2 : 446+16*3]
	}
	found := 0
	for k := h.FlashOnlyTableIndex; k < h.FlashOnlyTableIndex+h.FlashOnlyTableCount; k++ {
		if s.Entries[k].Locations[0].BlockIndex == 0 {
			found++
			if e := entryOf(k); e[4] != 0 {
				t.Errorf("flash-only MBR still has MMOS: %x", e)
			}
		}
	}
	for k := h.FinalTableIndex; k < h.FinalTableIndex+h.FinalTableCount; k++ {
		if s.Entries[k].Locations[0].BlockIndex == 0 {
			found++
			if e := entryOf(k); e[4] != 0x0c || binary.LittleEndian.Uint32(e[8:]) != uint32(mmos.FirstLBA) {
				t.Errorf("final MBR entry 3 %x, want MMOS at %d", e, mmos.FirstLBA)
			}
		}
	}
	if found != 2 {
		t.Errorf("block 0 in %d table phases, want 2", found)
	}
	manifest := string(im.FFU.ManifestBytes())
	for _, w := range []string{"Type              = 0x0c", "Name              = EFIESP"} {
		if !strings.Contains(strings.Join(strings.Fields(manifest), " "), strings.Join(strings.Fields(w), " ")) {
			t.Errorf("manifest lacks %q:\n%s", w, manifest)
		}
	}
	if strings.Contains(manifest, "MBR_META") {
		t.Errorf("manifest lists MBR_META:\n%s", manifest)
	}
}

// A phone image's device platform package must be OEM-owned (ImageApp's rule); other
// products take any owner.
func TestBuildDevicePlatformOwner(t *testing.T) {
	for _, tt := range []struct{ owner, product, want string }{
		{"OEM", "Windows Phone", ""},
		{"Microsoft", "Windows Phone", `device platform package Contoso.Platform.spkg has OwnerType "Microsoft"; a Windows Phone image takes its OEMDevicePlatform.xml from an OEM-owned package`},
		{"SiliconVendor", "Phone Manufacturing OS", `device platform package Contoso.Platform.spkg has OwnerType "SiliconVendor"`},
		{"Microsoft", "Manufacturing OS", ""},
	} {
		t.Run(tt.owner+" "+tt.product, func(t *testing.T) {
			src := t.TempDir()
			sel := selection(t, src, "Test", testLayout)
			sel.Product = tt.product
			p := sel.Packages[3]
			m := spkg.Manifest{
				Identity:    spkg.Identity{Owner: "Contoso", Component: "Platform", Version: spkg.Version{Major: 1}},
				ReleaseType: "Production", OwnerType: tt.owner, BuildType: "Retail", CpuType: "ARM", Partition: "MainOS",
			}
			payload := []spkg.Payload{{DevicePath: imageconst.DevicePlatformPath, Size: int64(len(testPlatform)), Open: func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(testPlatform)), nil
			}}}
			if _, err := spkg.WriteFile(p.HostPath, m, payload, cab.Options{}); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			err := Build(sel, Options{Output: filepath.Join(out, "image.ffu")})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(out); err != nil && len(entries) != 0 {
				t.Errorf("a failed build left %d files", len(entries))
			}
		})
	}
}
