package main

import (
	"bytes"
	"io"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

const (
	testLayout = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><TotalSectors>65536</TotalSectors><FileSystem>FAT</FileSystem></Partition>
    <Partition><Name>PLAT</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>2048</TotalSectors></Partition>
    <Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize>
</DeviceLayout>`
	testPlatform = `<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
<MinSectorCount>1048576</MinSectorCount><DevicePlatformID>Test.Device</DevicePlatformID></OEMDevicePlatform>`
)

// writePackage writes package comp for partition into dir; binary makes it a binary partition
// package whose image is the one file's content.
func writePackage(t *testing.T, dir, comp, partition string, files map[string]string, binary bool) string {
	t.Helper()
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: "Contoso", Component: comp, Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: partition,
		IsBinaryPartition: binary,
	}
	var payload []spkg.Payload
	for path, data := range files {
		pl := spkg.Payload{DevicePath: path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}
		if binary {
			pl.FileType = "BinaryPartition"
		}
		payload = append(payload, pl)
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// imagecheck confirms a binary partition package's image at the start of its raw partition,
// and finds a package whose image differs.
func TestCheckBinaryPartition(t *testing.T) {
	for _, tool := range []string{"sgdisk", "fsck.fat", "mtype", "dd"} {
		checker.Find(t, tool)
	}
	src := t.TempDir()
	image := make([]byte, 200001)
	rand.New(rand.NewSource(4)).Read(image)
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Description: "test image", Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: "Test"}
	var paths []string
	add := func(path string, g manifest.Group) {
		name := filepath.Base(path)
		paths = append(paths, path)
		sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name, HostPath: path,
			Reasons: []resolve.Reason{{FeatureID: string(g), Group: g}}})
	}
	add(writePackage(t, src, "MainOS", "MainOS", map[string]string{`\Windows\System32\ntoskrnl.exe`: "kernel"}, false), manifest.GroupBase)
	add(writePackage(t, src, "Layout", "MainOS", map[string]string{imageconst.DeviceLayoutPath: testLayout}, false), manifest.GroupDeviceLayout)
	add(writePackage(t, src, "Platform", "MainOS", map[string]string{imageconst.DevicePlatformPath: testPlatform}, false), manifest.GroupOEMDevicePlatform)
	add(writePackage(t, src, "Plat", "PLAT", map[string]string{`\PLAT.bin`: string(image)}, true), manifest.GroupBase)
	ffuPath := filepath.Join(t.TempDir(), "image.ffu")
	if err := imggen.Build(sel, imggen.Options{Output: ffuPath}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := check(ffuPath, paths, &out); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "dd: 1 binary partition images at the start of their partitions") {
		t.Errorf("output:\n%s", out.String())
	}

	// The same package name with one byte of the image changed: its catalog (which holds the
	// image's SHA-1) no longer matches the one in MainOS, the first thing checked.
	other := t.TempDir()
	image[150000] ^= 1
	paths[3] = writePackage(t, other, "Plat", "PLAT", map[string]string{`\PLAT.bin`: string(image)}, true)
	err := check(ffuPath, paths, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `Contoso.Plat.spkg: MainOS\Windows\System32\catroot\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\Contoso.Plat.cat differs from the package's`) {
		t.Errorf("err = %v", err)
	}
}
