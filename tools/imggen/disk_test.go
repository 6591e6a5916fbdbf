package imggen

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/layout"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

const testLayout = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><TotalSectors>65536</TotalSectors><FileSystem>FAT</FileSystem></Partition>
    <Partition><Name>PLAT</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>2048</TotalSectors></Partition>
    <Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem></Partition>
    <Partition><Name>Data</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><UseAllSpace>true</UseAllSpace><FileSystem>FAT32</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize>
</DeviceLayout>`

func makePackage(t *testing.T, dir, owner, comp, partition string, files map[string]string) (string, *spkg.Package) {
	t.Helper()
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: owner, Component: comp, Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: partition,
	}
	var payload []spkg.Payload
	for _, path := range sortedKeys(files) {
		data := files[path]
		payload = append(payload, spkg.Payload{DevicePath: path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(data)), nil
		}})
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	p, err := spkg.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return filepath.Base(path), p
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newTestDisk places layoutXML (1 MiB per package) and opens img for newDisk.
func newTestDisk(t *testing.T, layoutXML, img string) (*layout.Plan, *disk) {
	t.Helper()
	d, err := layout.ParseDeviceLayout("DeviceLayout.xml", []byte(layoutXML))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := layout.Place(d, d.Stores[0], 1<<20, func(string) uint64 { return 2048 }, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	dk, err := newDisk(f, plan, "test", false, DefaultTime)
	if err != nil {
		t.Fatal(err)
	}
	return plan, dk
}

// copyPartition copies partition p of img to dst, for checkers without an offset option.
func copyPartition(t *testing.T, img string, p *layout.Placed, dst string) string {
	t.Helper()
	src, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, io.NewSectionReader(src, int64(p.FirstLBA)*512, int64(p.Sectors())*512)); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestDiskInstallsPackages(t *testing.T) {
	sgdisk := checker.Find(t, "sgdisk")
	fsck := checker.Find(t, "fsck.fat")
	mtype := checker.Find(t, "mtype")
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	plan, dk := newTestDisk(t, testLayout, img)
	mainFiles := map[string]string{`\Windows\System32\ntoskrnl.exe`: "kernel", `\Programs\Contoso Camera\app.exe`: "camera"}
	efiFiles := map[string]string{`\efi\Microsoft\Boot\bootmgfw.efi`: "bootmgr"}
	for _, pk := range []struct {
		comp, part string
		files      map[string]string
	}{{"MainOS", "MainOS", mainFiles}, {"EFIESP", "EFIESP", efiFiles}} {
		name, p := makePackage(t, dir, "Contoso", pk.comp, pk.part, pk.files)
		if err := dk.install(name, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := dk.addFile("Data", `\SharedData\DuShared\UpdateOutput.xml`, []byte("<UpdateOSOutput/>")); err != nil {
		t.Fatal(err)
	}
	// The same device path from a second package is an error naming both.
	name, clash := makePackage(t, dir, "Other", "Clash", "MainOS", map[string]string{`\WINDOWS\System32\NTOSKRNL.EXE`: "x"})
	if err := dk.install(name, clash); err == nil || !strings.Contains(err.Error(), "Contoso.MainOS.spkg and Other.Clash.spkg") {
		t.Errorf("clash: err = %v", err)
	}
	name, nowhere := makePackage(t, dir, "Other", "Nowhere", "UpdateOS", map[string]string{`\a.txt`: "x"})
	if err := dk.install(name, nowhere); err == nil || !strings.Contains(err.Error(), "partition UpdateOS, which the device layout does not define") {
		t.Errorf("unknown partition: err = %v", err)
	}
	name, plat := makePackage(t, dir, "Other", "Plat", "PLAT", map[string]string{`\a.txt`: "x"})
	if err := dk.install(name, plat); err == nil || !strings.Contains(err.Error(), "no file system") {
		t.Errorf("raw partition: err = %v", err)
	}
	ext, err := dk.close()
	if err != nil {
		t.Fatal(err)
	}
	if len(ext) == 0 {
		t.Fatal("no extents")
	}
	if out := checker.Run(t, "", sgdisk, "-v", img); !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", out)
	}
	names := checker.Run(t, "", sgdisk, "-p", img)
	for _, p := range []string{"EFIESP", "PLAT", "MainOS", "Data"} {
		if !strings.Contains(names, p) {
			t.Errorf("sgdisk -p lacks %s:\n%s", p, names)
		}
	}
	// A package's own DSM is installed with its content, though its FileEntry says 0 bytes.
	mainPkg, err := spkg.Open(filepath.Join(dir, "Contoso.MainOS.spkg"))
	if err != nil {
		t.Fatal(err)
	}
	wantDSM, err := mainPkg.ReadFile(`\Windows\Packages\DsmFiles\Contoso.MainOS.dsm.xml`)
	mainPkg.Close()
	if err != nil || len(wantDSM) == 0 {
		t.Fatalf("DSM of the package: %v", err)
	}
	mainFiles[`\Windows\Packages\DsmFiles\Contoso.MainOS.dsm.xml`] = string(wantDSM)
	for part, files := range map[string]map[string]string{"MainOS": mainFiles, "EFIESP": efiFiles, "Data": {`\SharedData\DuShared\UpdateOutput.xml`: "<UpdateOSOutput/>"}} {
		p := plan.Partition(part)
		at := fmt.Sprintf("%s@@%d", img, p.FirstLBA*512)
		for path, want := range files {
			if got := checker.Run(t, "", mtype, "-i", at, "::"+strings.ReplaceAll(path, `\`, "/")); got != want {
				t.Errorf("%s %s = %q, want %q", part, path, got, want)
			}
		}
		// fsck.fat has no offset option: check a copy of the partition.
		checker.Run(t, "", fsck, "-n", copyPartition(t, img, p, filepath.Join(dir, part+".img")))
	}
}

// MainOS and Data are NTFS on real devices: the same install, read back by ntfs-3g.
func TestDiskInstallsPackagesNTFS(t *testing.T) {
	sgdisk := checker.Find(t, "sgdisk")
	ntfsfix := checker.Find(t, "ntfsfix")
	ntfscat := checker.Find(t, "ntfscat")
	dir := t.TempDir()
	xml := strings.ReplaceAll(testLayout, "<FileSystem>FAT32</FileSystem>", "<FileSystem>NTFS</FileSystem>")
	img := filepath.Join(dir, "disk.img")
	plan, dk := newTestDisk(t, xml, img)
	mainFiles := map[string]string{`\Windows\System32\ntoskrnl.exe`: "kernel", `\Programs\Contoso Camera\app.exe`: "camera"}
	name, p := makePackage(t, dir, "Contoso", "MainOS", "MainOS", mainFiles)
	if err := dk.install(name, p); err != nil {
		t.Fatal(err)
	}
	if err := dk.addFile("Data", `\SharedData\DuShared\UpdateOutput.xml`, []byte("<UpdateOSOutput/>")); err != nil {
		t.Fatal(err)
	}
	if _, err := dk.close(); err != nil {
		t.Fatal(err)
	}
	if out := checker.Run(t, "", sgdisk, "-v", img); !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", out)
	}
	for part, files := range map[string]map[string]string{"MainOS": mainFiles, "Data": {`\SharedData\DuShared\UpdateOutput.xml`: "<UpdateOSOutput/>"}} {
		p := plan.Partition(part)
		// ntfs-3g has no offset option: check a copy of the partition.
		copyPath := copyPartition(t, img, p, filepath.Join(dir, part+".ntfs"))
		checker.Run(t, "", ntfsfix, "-n", copyPath)
		for path, want := range files {
			if got := checker.Run(t, "", ntfscat, copyPath, strings.ReplaceAll(path, `\`, "/")); got != want {
				t.Errorf("%s %s = %q, want %q", part, path, got, want)
			}
		}
	}
}
