package imggen_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// pkgSpec is a package a test writes: Contoso.<Component>, its files (device path -> content).
type pkgSpec struct {
	component, partition string
	version              spkg.Version
	release              string // "" is Production
	removal              bool
	files                map[string]string
	big                  int64 // > 0: one more file of that many zero bytes, \big.bin
}

func writePackage(t *testing.T, dir string, s pkgSpec) string {
	t.Helper()
	release := s.release
	if release == "" {
		release = "Production"
	}
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: s.component, Version: s.version},
		ReleaseType: release, OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: s.partition, IsRemoval: s.removal}
	var payload []spkg.Payload
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		data := s.files[p]
		payload = append(payload, spkg.Payload{DevicePath: p, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(data)), nil
		}})
	}
	if s.big > 0 {
		n := s.big
		payload = append(payload, spkg.Payload{DevicePath: `\big.bin`, Size: n, Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.LimitReader(zeroReader{}, n)), nil
		}})
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// mainOSv2 is the fixture's MainOS package in version 1.1 with another file set: the kernel
// moved, a second file.
func mainOSv2(pkgs []testimage.Package) []testimage.Package {
	for i, p := range pkgs {
		if p.Component == "MainOS" {
			pkgs[i].Version = spkg.Version{Major: 1, Minor: 1}
			pkgs[i].Path, pkgs[i].Data = `\Windows\System32\kernel2.exe`, "kernel, version 1.1"
		}
	}
	return pkgs
}

// deviceFiles walks every FAT/NTFS partition of an FFU: partition\path -> digest, size and
// attributes ("dir" for directories).
func deviceFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	im, err := volume.OpenImage(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	out := map[string]string{}
	for i := range im.GPT.Entries {
		e := &im.GPT.Entries[i]
		if !im.IsFAT(e) && !im.IsNTFS(e) {
			continue
		}
		v, err := im.Volume(e)
		if err != nil {
			t.Fatalf("%s: %s: %v", path, e.Name, err)
		}
		err = v.Walk(func(en volume.Entry, r io.Reader) error {
			key := e.Name + en.Path
			if en.Dir {
				out[key] = "dir"
				return nil
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				return err
			}
			out[key] = fmt.Sprintf("%x %d attrs %#x", h.Sum(nil)[:8], en.Size, en.Attrs)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %s: %v", path, e.Name, err)
		}
	}
	return out
}

func readDeviceFile(t *testing.T, ffuPath, partition, devicePath string) ([]byte, error) {
	t.Helper()
	im, err := volume.OpenImage(ffuPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	e := im.Partition(partition)
	if e == nil {
		t.Fatalf("%s: no partition %s", ffuPath, partition)
	}
	v, err := im.Volume(e)
	if err != nil {
		t.Fatal(err)
	}
	return v.ReadFile(devicePath)
}

// partitionBytes extracts an FFU's disk and writes partition name's bytes to a file.
func partitionBytes(t *testing.T, ffuPath, name, out string) {
	t.Helper()
	im, err := volume.OpenImage(ffuPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	e := im.Partition(name)
	off, size := im.Extent(e)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.NewSectionReader(im.ReaderAt(), off, size)); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateMatchesFromScratch: the fixture updated with MainOS 1.1 (its old file gone, its
// DSM replaced) and a new package holds the same device files, contents and attributes as
// the image imggen builds of that package set, but for the update records; EFIESP, which no
// package touches, keeps its bytes; fsck.fat and mdir accept the rebuilt MainOS.
func TestUpdateMatchesFromScratch(t *testing.T) {
	t.Run("FAT32", func(t *testing.T) { testMatchesFromScratch(t, "") })
	// An NTFS MainOS: the NTFS writer rebuilds it, ntfsinfo and ntfsls judge it.
	t.Run("NTFS", func(t *testing.T) { testMatchesFromScratch(t, ntfsLayout) })
	// An MBR disk, NTFS MainOS and Data, a partition not required to flash (phase 3).
	t.Run("MBR", func(t *testing.T) { testMatchesFromScratch(t, mbrLayout) })
}

const mbrLayout = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>0x0c</Type><FileSystem>FAT</FileSystem><TotalSectors>65536</TotalSectors><Bootable>true</Bootable></Partition>
    <Partition><Name>MainOS</Name><Type>0x07</Type><FileSystem>NTFS</FileSystem><MinFreeSectors>65536</MinFreeSectors><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x1000</ClusterSize></Partition>
    <Partition><Name>MMOS</Name><FileSystem>FAT32</FileSystem><TotalSectors>140000</TotalSectors><Type>0x0C</Type><RequiredToFlash>false</RequiredToFlash></Partition>
    <Partition><Name>Data</Name><Type>0x07</Type><FileSystem>NTFS</FileSystem><UseAllSpace>true</UseAllSpace><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x4000</ClusterSize></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize><DefaultPartitionByteAlignment>0x200000</DefaultPartitionByteAlignment>
</DeviceLayout>`

var ntfsLayout = strings.Replace(testimage.Layout, "<MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem>",
	"<MinFreeSectors>140000</MinFreeSectors><FileSystem>NTFS</FileSystem>", 1)

func testMatchesFromScratch(t *testing.T, layoutXML string) {
	base := t.TempDir()
	img, err := testimage.FFU(base, "update test", testimage.Options{Layout: layoutXML})
	if err != nil {
		t.Fatal(err)
	}
	scratchDir := t.TempDir()
	extra := writePackage(t, scratchDir, pkgSpec{component: "Extra", partition: "MainOS", version: spkg.Version{Major: 3},
		files: map[string]string{`\Windows\extra.txt`: "extra", `\Programs\Extra\app.dll`: "app"}})
	scratch, err := testimage.FFU(scratchDir, "update test", testimage.Options{Layout: layoutXML, EditPackages: mainOSv2, Extra: []string{extra}})
	if err != nil {
		t.Fatal(err)
	}
	newMain := filepath.Join(scratchDir, "Contoso.MainOS.spkg")
	out := filepath.Join(base, "updated.ffu")
	err = imggen.Update(imggen.UpdateRequest{Image: img, Output: out, Input: "update.xml", Description: "update test",
		Packages: []string{newMain, extra}})
	if err != nil {
		t.Fatal(err)
	}
	got, want := deviceFiles(t, out), deviceFiles(t, scratch)
	t.Logf("%d device files and directories in the updated image, %d in the one built from scratch", len(got), len(want))
	records := map[string]bool{"MainOS" + imageconst.UpdateHistoryPath: true, "Data" + imageconst.UpdateOutputPath: true}
	for k, w := range want {
		if g, ok := got[k]; records[k] {
			if !ok {
				t.Errorf("updated image lacks %s", k)
			}
		} else if g != w {
			t.Errorf("%s: updated %q, from scratch %q", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("updated image holds %s, which the image built from scratch does not", k)
		}
	}
	if _, ok := got[`MainOS\Windows\System32\ntoskrnl.exe`]; ok {
		t.Errorf("the file of MainOS 1.0 is still in the updated image")
	}
	dsm, err := readDeviceFile(t, out, "MainOS", `\Windows\Packages\DsmFiles\Contoso.MainOS.dsm.xml`)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := spkg.ParseManifest(dsm, "dsm"); err != nil || m.Version.String() != "1.1.0.0" {
		t.Errorf("MainOS DSM after the update: %v %v, want version 1.1.0.0", m, err)
	}

	// The history: the imaging event, then the update's, listing its two packages.
	hist, err := readDeviceFile(t, out, "MainOS", imageconst.UpdateHistoryPath)
	if err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(filepath.Join(base, "updated.UpdateHistory.xml"))
	if err != nil || !bytes.Equal(side, hist) {
		t.Errorf("updated.UpdateHistory.xml differs from the image's (%v)", err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(hist); err != nil {
		t.Fatal(err)
	}
	events := d.FindElements("/UpdateHistory/UpdateEvents/UpdateEvent")
	if len(events) != 2 {
		t.Fatalf("%d update events, want 2:\n%s", len(events), hist)
	}
	if s := events[1].FindElement("Sequence").Text(); s != "2" {
		t.Errorf("update event sequence %s, want 2", s)
	}
	var ids []string
	for _, p := range events[1].FindElements("UpdateOSOutput/Packages/Package/PackageIdentity") {
		ids = append(ids, p.Text())
	}
	if strings.Join(ids, " ") != "Contoso.MainOS Contoso.Extra" {
		t.Errorf("update event lists %v, want Contoso.MainOS Contoso.Extra", ids)
	}
	list, err := os.ReadFile(filepath.Join(base, "updated.PackageList.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(list), "<PackageIdentity>"); n != 5 || !strings.Contains(string(list), `Major="1" Minor="1"`) {
		t.Errorf("PackageList.xml: %d packages, want 5 with MainOS 1.1:\n%s", n, list)
	}

	// EFIESP is untouched: byte for byte as before (cmp, which nobody here wrote).
	dir := t.TempDir()
	a, b := filepath.Join(dir, "efiesp.before"), filepath.Join(dir, "efiesp.after")
	partitionBytes(t, img, "EFIESP", a)
	partitionBytes(t, out, "EFIESP", b)
	checker.Run(t, "", checker.Find(t, "cmp"), a, b)

	// The rebuilt MainOS, judged by fsck.fat and mdir, or ntfsinfo and ntfsls.
	mainOS := filepath.Join(dir, "mainos.img")
	partitionBytes(t, out, "MainOS", mainOS)
	var listing string
	if !strings.Contains(layoutXML, "NTFS") {
		checker.Run(t, "", checker.Find(t, "fsck.fat"), "-n", mainOS)
		listing = checker.Run(t, "", checker.Find(t, "mdir"), "-i", mainOS, "-/", "::/Windows/System32")
	} else {
		info := checker.Run(t, "", checker.Find(t, "ntfsinfo"), "-m", mainOS)
		if !strings.Contains(info, "Volume Name: MainOS") {
			t.Errorf("ntfsinfo -m of the updated MainOS does not name the volume MainOS:\n%s", info)
		}
		listing = checker.Run(t, "", checker.Find(t, "ntfsls"), "-a", "-p", "/Windows/System32", mainOS)
	}
	if !strings.Contains(listing, "kernel2") || strings.Contains(strings.ToLower(listing), "ntoskrnl") {
		t.Errorf("listing of the updated MainOS\\Windows\\System32:\n%s", listing)
	}

	// Same inputs, same bytes.
	again := filepath.Join(base, "again.ffu")
	if err := imggen.Update(imggen.UpdateRequest{Image: img, Output: again, Input: "update.xml", Description: "update test",
		Packages: []string{newMain, extra}}); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(out)
	y, _ := os.ReadFile(again)
	if !bytes.Equal(x, y) {
		t.Errorf("two updates of the same inputs differ")
	}
}

// TestUpdateInPlace: without an output, the image itself is replaced, and no temporary file
// is left; a second update of the result sees the first one's packages.
func TestUpdateInPlace(t *testing.T) {
	base := t.TempDir()
	img, err := testimage.FFU(base, "in place", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(img)
	p1 := writePackage(t, t.TempDir(), pkgSpec{component: "One", partition: "EFIESP", version: spkg.Version{Major: 1}, files: map[string]string{`\efi\one.efi`: "one"}})
	if err := imggen.Update(imggen.UpdateRequest{Image: img, Input: "u.xml", Packages: []string{p1}}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(img)
	if bytes.Equal(before, after) {
		t.Fatalf("the image was not updated in place")
	}
	if data, err := readDeviceFile(t, img, "EFIESP", `\efi\one.efi`); err != nil || string(data) != "one" {
		t.Errorf("EFIESP\\efi\\one.efi: %q %v", data, err)
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	// Again: the package is now in the image, so the same version is refused.
	err = imggen.Update(imggen.UpdateRequest{Image: img, Input: "u.xml", Packages: []string{p1}})
	if err == nil || !strings.Contains(err.Error(), "Contoso.One") || !strings.Contains(err.Error(), "higher version") {
		t.Errorf("second update with the same package: %v", err)
	}
	// A later update of the updated image (its release type now from the side file the first
	// update wrote) is event 3.
	p2 := writePackage(t, t.TempDir(), pkgSpec{component: "Two", partition: "MainOS", version: spkg.Version{Major: 1}, files: map[string]string{`\two.txt`: "two"}})
	if err := imggen.Update(imggen.UpdateRequest{Image: img, Input: "u.xml", Packages: []string{p2}}); err != nil {
		t.Fatal(err)
	}
	hist, err := readDeviceFile(t, img, "MainOS", imageconst.UpdateHistoryPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hist), "<Sequence>3</Sequence>") || strings.Count(string(hist), "<UpdateEvent>") != 3 {
		t.Errorf("after two updates, want three events, the last sequence 3:\n%s", hist)
	}
}

// TestUpdateRefusals: each rule of the documentation is an error naming the package or file,
// and leaves no output.
func TestUpdateRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		image   testimage.Options
		retail  bool   // the image made from a Production OEMInput
		noSide  bool   // the image's side files removed
		side    string // then this UpdateInput.xml side file written
		pkg     pkgSpec
		fixture string // update with the fixture's own package of this component
		want    []string
	}{
		{name: "same version", fixture: "MainOS", want: []string{"Contoso.MainOS", "1.0.0.0", "higher version"}},
		{name: "lower version", image: testimage.Options{EditPackages: func(p []testimage.Package) []testimage.Package {
			p[0].Version = spkg.Version{Major: 2}
			return p
		}}, pkg: pkgSpec{component: "MainOS", partition: "MainOS", version: spkg.Version{Major: 1, Minor: 5}, files: map[string]string{`\a`: "a"}},
			want: []string{"Contoso.MainOS", "1.5.0.0", "2.0.0.0", "higher version"}},
		{name: "partition not in layout", pkg: pkgSpec{component: "Crash", partition: "CrashDump", version: spkg.Version{Major: 1}, files: map[string]string{`\a`: "a"}},
			want: []string{"Contoso.Crash", "CrashDump", "EFIESP, MainOS, Data"}},
		{name: "does not fit", pkg: pkgSpec{component: "Huge", partition: "EFIESP", version: spkg.Version{Major: 1}, big: 40 << 20},
			want: []string{"Contoso.Huge", `EFIESP\big.bin`, "bytes short"}},
		{name: "does not fit NTFS", image: testimage.Options{Layout: ntfsLayout}, pkg: pkgSpec{component: "Huge", partition: "MainOS", version: spkg.Version{Major: 1}, big: 100 << 20},
			want: []string{"Contoso.Huge", `MainOS\big.bin`, "volume full", "bytes short"}},
		{name: "retail", retail: true, pkg: pkgSpec{component: "New", partition: "MainOS", version: spkg.Version{Major: 1}, files: map[string]string{`\a`: "a"}},
			want: []string{"Retail image", "Production"}},
		{name: "release unknown", noSide: true, pkg: pkgSpec{component: "New", partition: "MainOS", version: spkg.Version{Major: 1}, files: map[string]string{`\a`: "a"}},
			want: []string{"release type", "unknown", imggen.OEMInputPath}},
		{name: "release neither", noSide: true, side: "<UpdateOSInput><!-- oemimage imageapp: ReleaseType=Testing --></UpdateOSInput>",
			pkg:  pkgSpec{component: "New", partition: "MainOS", version: spkg.Version{Major: 1}, files: map[string]string{`\a`: "a"}},
			want: []string{`ReleaseType "Testing"`, "the side file", "UpdateInput.xml", "expected Test or Production"}},
		{name: "removal", pkg: pkgSpec{component: "Gone", partition: "MainOS", version: spkg.Version{Major: 9}, removal: true, files: map[string]string{`\a`: "a"}},
			want: []string{"Contoso.Gone", "cannot remove"}},
		{name: "file of another package", pkg: pkgSpec{component: "Clash", partition: "MainOS", version: spkg.Version{Major: 1}, files: map[string]string{`\Windows\System32\ntoskrnl.exe`: "x"}},
			want: []string{"ntoskrnl.exe", "two packages", "Contoso.MainOS.spkg", "Contoso.Clash.spkg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var img string
			if tc.retail {
				sel, err := testimage.Packages(dir, "retail", tc.image)
				if err != nil {
					t.Fatal(err)
				}
				sel.ReleaseType = "Production"
				img = filepath.Join(dir, "image.ffu")
				if err := imggen.Build(sel, imggen.Options{Output: img}); err != nil {
					t.Fatal(err)
				}
			} else {
				var err error
				if img, err = testimage.FFU(dir, "refusal", tc.image); err != nil {
					t.Fatal(err)
				}
			}
			if tc.noSide {
				for _, s := range imggen.SideFiles {
					os.Remove(strings.TrimSuffix(img, ".ffu") + "." + s)
				}
			}
			if tc.side != "" {
				if err := os.WriteFile(strings.TrimSuffix(img, ".ffu")+".UpdateInput.xml", []byte(tc.side), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pkg := filepath.Join(dir, "Contoso."+tc.fixture+".spkg")
			if tc.fixture == "" {
				pkg = writePackage(t, t.TempDir(), tc.pkg)
			}
			before, _ := os.ReadFile(img)
			out := filepath.Join(dir, "out.ffu")
			err := imggen.Update(imggen.UpdateRequest{Image: img, Output: out, Input: "u.xml", Packages: []string{pkg}})
			if err == nil {
				t.Fatalf("update succeeded; want an error with %q", tc.want)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("%s written despite the error", out)
			}
			if after, _ := os.ReadFile(img); !bytes.Equal(before, after) {
				t.Errorf("the input image changed")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "out.") {
					t.Errorf("%s left behind", e.Name())
				}
			}
		})
	}
}

// TestUpdateTestPackageTellsRelease: an image holding a Test package is not Retail, so it is
// updated without side files.
func TestUpdateTestPackageTellsRelease(t *testing.T) {
	dir := t.TempDir()
	test := writePackage(t, t.TempDir(), pkgSpec{component: "Probe", partition: "MainOS", version: spkg.Version{Major: 1}, release: "Test", files: map[string]string{`\probe.txt`: "p"}})
	img, err := testimage.FFU(dir, "test pkg", testimage.Options{Extra: []string{test}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range imggen.SideFiles {
		os.Remove(strings.TrimSuffix(img, ".ffu") + "." + s)
	}
	p := writePackage(t, t.TempDir(), pkgSpec{component: "New", partition: "Data", version: spkg.Version{Major: 1}, files: map[string]string{`\SharedData\new.txt`: "n"}})
	out := filepath.Join(dir, "out.ffu")
	if err := imggen.Update(imggen.UpdateRequest{Image: img, Output: out, Input: "u.xml", Packages: []string{p}}); err != nil {
		t.Fatal(err)
	}
	if data, err := readDeviceFile(t, out, "Data", `\SharedData\new.txt`); err != nil || string(data) != "n" {
		t.Errorf("Data\\SharedData\\new.txt: %q %v", data, err)
	}
	side, err := os.ReadFile(filepath.Join(dir, "out.UpdateInput.xml"))
	if err != nil || !strings.Contains(string(side), "ReleaseType=Test") {
		t.Errorf("out.UpdateInput.xml does not record the release type (%v):\n%s", err, side)
	}
	imggen.OpenVerified(t, out) // the output FFU checks out
}

// TestRewriteIsIdentity: an FFU written again from its own disk, with the blocks it stores
// and its manifest (ffu.Reader.Rewrite, StoredExtents), is the same file: what the update
// relies on for the blocks it does not touch.
func TestRewriteIsIdentity(t *testing.T) {
	for name, layoutXML := range map[string]string{"FAT32": "", "NTFS": ntfsLayout, "MBR": mbrLayout} {
		t.Run(name, func(t *testing.T) {
			img, err := testimage.FFU(t.TempDir(), "rewrite", testimage.Options{Layout: layoutXML})
			if err != nil {
				t.Fatal(err)
			}
			im, err := volume.OpenImage(img, true)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			again, err := im.FFU.Rewrite(im.ReaderAt())
			if err != nil {
				t.Fatal(err)
			}
			again.Allocated = im.FFU.StoredExtents(0)
			again.CatalogTime = imageconst.Epoch // what imggen stamped
			w := &cab.MemFile{}                  // the fixture's FFU is a few MiB
			if _, err := ffu.Write(w, again); err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(img)
			if !bytes.Equal(orig, w.Bytes()) {
				first := 0
				for first < len(orig) && first < len(w.Bytes()) && orig[first] == w.Bytes()[first] {
					first++
				}
				n := 0
				for i := range min(len(orig), len(w.Bytes())) {
					if orig[i] != w.Bytes()[i] {
						n++
					}
				}
				t.Errorf("the FFU written again differs from byte %d on (%d bytes differ): %d bytes, the original %d", first, n, len(w.Bytes()), len(orig))
			}
		})
	}
}

// writeBinaryPackage writes a binary partition package of image for partition.
func writeBinaryPackage(t *testing.T, dir, partition string, v spkg.Version, image []byte) string {
	t.Helper()
	return writeBinary(t, dir, "Plat", partition, v, image)
}

func writeBinaryPackageNamed(t *testing.T, dir, component, partition string, image []byte) string {
	t.Helper()
	return writeBinary(t, dir, component, partition, spkg.Version{Major: 1}, image)
}

func writeBinary(t *testing.T, dir, component, partition string, v spkg.Version, image []byte) string {
	t.Helper()
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: component, Version: v},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: partition, IsBinaryPartition: true}
	path := filepath.Join(dir, m.Name()+".spkg")
	payload := []spkg.Payload{{DevicePath: `\` + partition + ".bin", Size: int64(len(image)), FileType: "BinaryPartition",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(image)), nil }}}
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUpdateBinaryPartition: a newer binary partition package replaces the image in its raw
// partition (the old one's longer tail gone: zeros) and its DSM in MainOS.
func TestUpdateBinaryPartition(t *testing.T) {
	layoutXML := strings.Replace(testimage.Layout, "<Partition><Name>MainOS</Name>",
		"<Partition><Name>PLAT</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>2048</TotalSectors></Partition>\n    <Partition><Name>MainOS</Name>", 1)
	old, next := bytes.Repeat([]byte("old image "), 30000), bytes.Repeat([]byte("NEW"), 33333)
	dir := t.TempDir()
	img, err := testimage.FFU(dir, "binary", testimage.Options{Layout: layoutXML,
		Extra: []string{writeBinaryPackage(t, t.TempDir(), "PLAT", spkg.Version{Major: 1}, old)}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.ffu")
	pkg := writeBinaryPackage(t, t.TempDir(), "PLAT", spkg.Version{Major: 1, QFE: 1}, next)
	if err := imggen.Update(imggen.UpdateRequest{Image: img, Output: out, Input: "u.xml", Packages: []string{pkg}}); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(t.TempDir(), "plat.img")
	partitionBytes(t, out, "PLAT", raw)
	got, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), next...), make([]byte, 2048*512-len(next))...)
	if !bytes.Equal(got, want) {
		t.Errorf("PLAT after the update: not the new image followed by zeros")
	}
	dsm, err := readDeviceFile(t, out, "MainOS", `\Windows\Packages\DsmFiles\Contoso.Plat.dsm.xml`)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := spkg.ParseManifest(dsm, "dsm"); err != nil || m.Version.String() != "1.0.1.0" {
		t.Errorf("Contoso.Plat DSM: %v %v, want version 1.0.1.0", m, err)
	}
	// Another package's image for the same partition would remove Contoso.Plat: refused.
	otherDir := t.TempDir()
	if err := imggen.Update(imggen.UpdateRequest{Image: out, Output: filepath.Join(dir, "out2.ffu"), Input: "u.xml",
		Packages: []string{writeBinaryPackageNamed(t, otherDir, "Plat2", "PLAT", next)}}); err == nil ||
		!strings.Contains(err.Error(), "Contoso.Plat2") || !strings.Contains(err.Error(), "holds the image of package Contoso.Plat") {
		t.Errorf("a second image for PLAT: %v", err)
	}
	dir2 := t.TempDir()
	a, b := filepath.Join(dir2, "a"), filepath.Join(dir2, "b")
	partitionBytes(t, img, "EFIESP", a)
	partitionBytes(t, out, "EFIESP", b)
	checker.Run(t, "", checker.Find(t, "cmp"), a, b)
}

// TestUpdateDropsEmptiedDirectory: a directory whose only files belonged to the replaced
// version of a package is not in the updated image (on FAT32 and NTFS); the other
// directories stay.
func TestUpdateDropsEmptiedDirectory(t *testing.T) {
	for name, layoutXML := range map[string]string{"FAT32": "", "NTFS": ntfsLayout} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			v1 := writePackage(t, t.TempDir(), pkgSpec{component: "Mover", partition: "MainOS", version: spkg.Version{Major: 1},
				files: map[string]string{`\Old\Deeper\a.txt`: "a", `\Kept\b.txt`: "b"}})
			img, err := testimage.FFU(dir, "moved", testimage.Options{Layout: layoutXML, Extra: []string{v1}})
			if err != nil {
				t.Fatal(err)
			}
			v2 := writePackage(t, t.TempDir(), pkgSpec{component: "Mover", partition: "MainOS", version: spkg.Version{Major: 1, Minor: 1},
				files: map[string]string{`\New\a.txt`: "a2", `\Kept\b.txt`: "b2"}})
			out := filepath.Join(dir, "out.ffu")
			if err := imggen.Update(imggen.UpdateRequest{Image: img, Output: out, Input: "u.xml", Packages: []string{v2}}); err != nil {
				t.Fatal(err)
			}
			tree := deviceFiles(t, out)
			for _, gone := range []string{`MainOS\Old`, `MainOS\Old\Deeper`, `MainOS\Old\Deeper\a.txt`} {
				if _, ok := tree[gone]; ok {
					t.Errorf("%s is still in the updated image", gone)
				}
			}
			for _, kept := range []string{`MainOS\New`, `MainOS\Kept`, `MainOS\Windows`} {
				if tree[kept] != "dir" {
					t.Errorf("%s is not a directory of the updated image: %q", kept, tree[kept])
				}
			}
		})
	}
}
