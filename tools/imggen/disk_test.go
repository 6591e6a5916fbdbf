package imggen

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/devicelayout"
	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/ffu"
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
	return makePackageVersion(t, dir, owner, comp, partition, spkg.Version{Major: 1}, files)
}

// makePackageVersion is makePackage of version v.
func makePackageVersion(t *testing.T, dir, owner, comp, partition string, v spkg.Version, files map[string]string) (string, *spkg.Package) {
	t.Helper()
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: owner, Component: comp, Version: v},
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
func newTestDisk(t *testing.T, layoutXML, img string) (*layout.Plan, *diskImage) {
	t.Helper()
	d, err := devicelayout.ParseDeviceLayout("DeviceLayout.xml", []byte(layoutXML))
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
	if err := f.Truncate(int64(plan.DiskSectors) * int64(plan.SectorSize)); err != nil {
		t.Fatal(err)
	}
	dk, err := newDisk(f, plan, "test", false, imageconst.Epoch, false)
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

// genPart is one partition of a generated layout, kept beside its XML to judge the placement.
type genPart struct {
	name, typ       string
	size, offset    uint64 // sectors; size 0 with allSpace
	byteAlign       uint64
	single, boot    bool
	allSpace, flash bool
}

type genLayout struct {
	mbr          bool
	ss           uint32
	disk         uint64 // sectors
	defaultAlign uint64
	parts        []genPart
}

var (
	genGPTTypes = []string{"{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}", "{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}", "{de94bba4-06d1-4d40-a16a-bfd50179d6ac}", "{07DE03AA-F07C-4800-A28A-9B9FF76E9F47}"}
	genMBRTypes = []string{"0x07", "0x0c", "0x0C", "0x0b", "0x83", "0x4d", "6", "0x01"}
)

func (g *genLayout) xml(parts []genPart) string {
	var b strings.Builder
	b.WriteString(`<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"><Partitions>`)
	for _, p := range parts {
		fmt.Fprintf(&b, "<Partition><Name>%s</Name><Type>%s</Type>", p.name, p.typ)
		if p.allSpace {
			b.WriteString("<UseAllSpace>true</UseAllSpace>")
		} else {
			fmt.Fprintf(&b, "<TotalSectors>%d</TotalSectors>", p.size)
		}
		if p.offset != 0 {
			fmt.Fprintf(&b, "<OffsetInSectors>%d</OffsetInSectors>", p.offset)
		}
		if p.byteAlign != 0 {
			fmt.Fprintf(&b, "<ByteAlignment>%#x</ByteAlignment>", p.byteAlign)
		}
		if p.single {
			b.WriteString("<SingleSectorAlignment>true</SingleSectorAlignment>")
		}
		if p.boot {
			b.WriteString("<Bootable>true</Bootable>")
		}
		fmt.Fprintf(&b, "<RequiredToFlash>%v</RequiredToFlash></Partition>", p.flash)
	}
	fmt.Fprintf(&b, "</Partitions><SectorSize>%d</SectorSize>", g.ss)
	if g.defaultAlign != 0 {
		fmt.Fprintf(&b, "<DefaultPartitionByteAlignment>%#x</DefaultPartitionByteAlignment>", g.defaultAlign)
	}
	b.WriteString("</DeviceLayout>")
	return b.String()
}

// alignOf is the start alignment in sectors the layout asks of p.
func (g *genLayout) alignOf(p genPart) uint64 {
	a := p.byteAlign
	if a == 0 {
		a = g.defaultAlign
	}
	if a == 0 {
		a = layout.DefaultAlignment
	}
	if p.single || a < uint64(g.ss) {
		return 1
	}
	return a / uint64(g.ss)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// newGenLayout draws a layout: GPT or MBR, 512- or 4096-byte sectors, 1 to 12 partitions
// (8 for MBR, so that logical partitions appear) of sizes around 128 KiB block boundaries or
// anywhere, alignments from one sector to 8 MiB, UseAllSpace anywhere, OffsetInSectors on the
// first partitions, RequiredToFlash either way.
func newGenLayout(t *testing.T, r *rand.Rand) *genLayout {
	g := &genLayout{mbr: r.IntN(2) == 0, ss: pick(r, []uint32{512, 4096})}
	ss := uint64(g.ss)
	g.disk = uint64(512+r.IntN(65536-512)) * (128 << 10) / ss
	g.defaultAlign = pick(r, []uint64{0, 0, ss, 64 << 10, 1 << 20, 2 << 20})
	n := 1 + r.IntN(12)
	if g.mbr {
		n = 1 + r.IntN(8)
	}
	allSpace := -1
	if r.IntN(2) == 0 {
		allSpace = r.IntN(n)
	}
	blk := uint64(128<<10) / ss
	// Sectors per partition: a half of the disk, leaving room for alignment, or (one layout
	// in four) all of it, so that some layouts just fit and others do not.
	budget := g.disk / 2 / uint64(n)
	if r.IntN(4) == 0 {
		budget = g.disk / uint64(n)
	}
	for i := 0; i < n; i++ {
		p := genPart{name: fmt.Sprintf("P%d", i), flash: r.IntN(3) != 0, boot: r.IntN(4) == 0}
		if g.mbr {
			p.typ = pick(r, genMBRTypes)
		} else {
			p.typ = pick(r, genGPTTypes)
		}
		p.byteAlign = pick(r, []uint64{0, 0, ss, 4096, 64 << 10, 1 << 20, 8 << 20})
		if p.byteAlign < ss {
			p.byteAlign = 0
		}
		p.single = r.IntN(8) == 0
		if i == allSpace {
			p.allSpace = true
		} else {
			k := max(budget/blk, 1)
			p.size = min(max(1, pick(r, []uint64{1, 2, blk - 1, blk, blk + 1, (1+r.Uint64N(k))*blk - 1, (1 + r.Uint64N(k)) * blk, 1 + r.Uint64N(budget), budget})), budget)
		}
		// A fixed start for one of the first (primary) partitions before UseAllSpace: a few
		// sectors to some MiB after the previous partition's end.
		if !p.allSpace && i < 3 && (allSpace < 0 || i < allSpace) && r.IntN(4) == 0 {
			prevEnd := uint64(1 + layout.GPTSectors(g.ss) - 1)
			if g.mbr {
				prevEnd = 0
			}
			if i > 0 {
				d, err := devicelayout.ParseDeviceLayout("prefix.xml", []byte(g.xml(g.parts)))
				if err != nil {
					t.Fatal(err)
				}
				plan, err := layout.Place(d, d.Stores[0], g.disk, nil, nil, "gen")
				if err != nil {
					return nil // the prefix does not fit: draw again
				}
				prevEnd = plan.Partitions[i-1].LastLBA
			}
			p.offset = prevEnd + 1 + r.Uint64N(4*blk)
		}
		g.parts = append(g.parts, p)
	}
	return g
}

// listedPartition is what a partitioning tool reports of one entry.
type listedPartition struct {
	start, size uint64
	typ         string // GPT type GUID (upper case) or MBR type byte in hex without 0x
	boot        bool
}

// listTable reads img's partition table with sfdisk --dump (512-byte sectors) or fdisk -b 4096
// -l (sfdisk has no sector-size option), in table order; MBR extended entries included.
func listTable(t *testing.T, sfdisk, fdisk, img string, ss uint32, mbr bool) []listedPartition {
	var out []listedPartition
	if ss == 512 {
		for _, line := range strings.Split(checker.Run(t, "", sfdisk, "--dump", img), "\n") {
			_, fields, ok := strings.Cut(line, " : ")
			if !ok {
				continue
			}
			var lp listedPartition
			for _, f := range strings.Split(fields, ",") {
				k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
				v = strings.TrimSpace(v)
				switch k {
				case "start":
					lp.start, _ = strconv.ParseUint(v, 10, 64)
				case "size":
					lp.size, _ = strconv.ParseUint(v, 10, 64)
				case "type":
					lp.typ = strings.ToUpper(v)
				case "bootable":
					lp.boot = true
				}
			}
			out = append(out, lp)
		}
		return out
	}
	cols := "Device,Start,Sectors,Type-UUID"
	if mbr {
		cols = "Device,Start,Sectors,Id,Boot"
	}
	started := false
	for _, line := range strings.Split(checker.Run(t, "", fdisk, "-b", "4096", "-l", "-o", cols, img), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "Device" {
			started = true
			continue
		}
		if !started || len(f) < 4 {
			continue
		}
		var lp listedPartition
		lp.start, _ = strconv.ParseUint(f[1], 10, 64)
		lp.size, _ = strconv.ParseUint(f[2], 10, 64)
		lp.typ = strings.ToUpper(f[3])
		lp.boot = len(f) > 4 && f[4] == "*"
		out = append(out, lp)
	}
	return out
}

// expectedTable is what the tools must list for plan: GPT entries in order; MBR primary
// entries, the extended entry (type 5) when there are logical partitions, then those.
func expectedTable(plan *layout.Plan) []listedPartition {
	var out []listedPartition
	entry := func(p *layout.Placed) listedPartition {
		if !plan.MBR {
			return listedPartition{start: p.FirstLBA, size: p.Sectors(), typ: strings.ToUpper(strings.Trim(p.Type, "{}"))}
		}
		return listedPartition{start: p.FirstLBA, size: p.Sectors(), typ: strings.ToUpper(strconv.FormatUint(uint64(p.Layout.MBRType), 16)), boot: p.Layout.Bootable}
	}
	for i, p := range plan.Partitions {
		if plan.Logical(i) && i == 3 {
			last := plan.Partitions[len(plan.Partitions)-1]
			out = append(out, listedPartition{start: p.EBR, size: last.LastLBA - p.EBR + 1, typ: "5"})
		}
		out = append(out, entry(p))
	}
	return out
}

// checkGenPlacement checks the plan against what the generated layout asked for.
func checkGenPlacement(g *genLayout, plan *layout.Plan) error {
	byName := map[string]*layout.Placed{}
	for _, p := range plan.Partitions {
		byName[p.Name] = p
	}
	blk := uint64(128<<10) / uint64(g.ss)
	for _, gp := range g.parts {
		p := byName[gp.name]
		switch {
		case p == nil:
			return fmt.Errorf("%s not placed", gp.name)
		case !gp.allSpace && p.Sectors() != gp.size:
			return fmt.Errorf("%s has %d sectors, asked %d", gp.name, p.Sectors(), gp.size)
		case gp.offset != 0 && p.FirstLBA != gp.offset:
			return fmt.Errorf("%s starts at %d, OffsetInSectors %d", gp.name, p.FirstLBA, gp.offset)
		case gp.offset == 0 && p.FirstLBA%g.alignOf(gp) != 0:
			return fmt.Errorf("%s starts at %d, not a multiple of its %d-sector alignment", gp.name, p.FirstLBA, g.alignOf(gp))
		case gp.allSpace && g.mbr && (p != plan.Partitions[len(plan.Partitions)-1] || p.Sectors()%blk != 0 || g.disk-1-p.LastLBA >= blk):
			return fmt.Errorf("MBR UseAllSpace %s at %d-%d: expected last, whole blocks, to the end of the %d-sector disk", gp.name, p.FirstLBA, p.LastLBA, g.disk)
		}
	}
	return nil
}

// genFFURoundTrip writes img (plan's empty disk, whose tables the tools have read) as an FFU,
// extracts it and compares the tables with the original's; it also checks that the
// flash-only table has exactly the RequiredToFlash partitions.
func genFFURoundTrip(dir, img string, plan *layout.Plan) error {
	disk, err := os.Open(img)
	if err != nil {
		return err
	}
	defer disk.Close()
	fi := &ffu.Image{Disk: disk, DiskSize: int64(plan.DiskSectors) * int64(plan.SectorSize), SectorSize: plan.SectorSize,
		PlatformIDs: []string{"Gen.Device"}, Store: ffu.StoreInfo{IsMainOSStore: true}}
	flash := map[uint64]bool{} // FirstLBA of the partitions in the flash-only table
	for _, p := range plan.Partitions {
		if !p.Meta {
			fi.Partitions = append(fi.Partitions, ffu.Partition{Name: p.Name, RequiredToFlash: p.Layout.RequiredToFlash, Type: p.Type})
		}
		if p.Layout.RequiredToFlash {
			flash[p.FirstLBA] = true
		}
	}
	out := filepath.Join(dir, "gen.ffu")
	if _, err := ffu.WriteFile(out, fi); err != nil {
		return fmt.Errorf("ffu.WriteFile: %v", err)
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		return err
	}
	back := filepath.Join(dir, "gen-back.img")
	dst, err := os.Create(back)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := rd.Extract(dst); err != nil {
		return err
	}
	got, err := readEntries(dst, fi.DiskSize, plan)
	if err != nil {
		return fmt.Errorf("extracted disk: %v", err)
	}
	want, err := readEntries(disk, fi.DiskSize, plan)
	if err != nil {
		return err
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("after the FFU the table has\n%v\nwant\n%v", got, want)
	}
	// The flash-only table: apply phases 1 and 2 only.
	s := rd.Stores[0]
	h := s.Header
	blk := make([]byte, h.BlockSize)
	tbl, err := os.Create(filepath.Join(dir, "gen-flash.img"))
	if err != nil {
		return err
	}
	defer tbl.Close()
	if err := tbl.Truncate(fi.DiskSize); err != nil {
		return err
	}
	for k := 0; k < int(h.FlashOnlyTableIndex+h.FlashOnlyTableCount); k++ {
		if err := rd.ReadBlock(0, k, blk); err != nil {
			return err
		}
		for _, l := range s.Entries[k].Locations {
			off := int64(l.BlockIndex) * int64(h.BlockSize)
			if l.Method == ffu.DiskEnd {
				off = fi.DiskSize - off - int64(h.BlockSize)
			}
			if _, err := tbl.WriteAt(blk, off); err != nil {
				return err
			}
		}
	}
	flashOnly, err := readEntries(tbl, fi.DiskSize, plan)
	if err != nil {
		return fmt.Errorf("flash-only table: %v", err)
	}
	var firstGot []uint64
	for _, e := range flashOnly {
		firstGot = append(firstGot, e.FirstLBA)
	}
	var firstWant []uint64
	for _, p := range plan.Partitions {
		if flash[p.FirstLBA] {
			firstWant = append(firstWant, p.FirstLBA)
		}
	}
	if fmt.Sprint(firstGot) != fmt.Sprint(firstWant) {
		return fmt.Errorf("flash-only table has partitions at %v, want the RequiredToFlash ones at %v", firstGot, firstWant)
	}
	return nil
}

// readEntries reads a disk's GPT or MBR entries with the project's reader.
func readEntries(r io.ReaderAt, size int64, plan *layout.Plan) ([]disk.Partition, error) {
	if plan.MBR {
		m, err := disk.ReadMBR(r, size, plan.SectorSize)
		if err != nil {
			return nil, err
		}
		return m.Entries, nil
	}
	g, err := disk.ReadGPT(r, size, plan.SectorSize)
	if err != nil {
		return nil, err
	}
	return g.Entries, nil
}

// A seeded generator of random valid layouts, each placed, its partition tables written to a
// sparse disk with empty partitions and read back by sgdisk/sfdisk/fdisk. The test reports how
// many layouts it checked and how many the generator drew that the disk could not hold.
func TestGeneratedLayouts(t *testing.T) {
	sfdisk, fdisk, sgdisk := checker.Find(t, "sfdisk"), checker.Find(t, "fdisk"), checker.Find(t, "sgdisk")
	n := 300
	if testing.Short() {
		n = 40
	}
	seed := uint64(1)
	if s := os.Getenv("OEMIMAGE_LAYOUT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 17))
	dir := t.TempDir()
	stats := map[string]int{}
	for checked := 0; checked < n; {
		g := newGenLayout(t, r)
		if g == nil {
			stats["prefix did not fit"]++
			continue
		}
		xml := g.xml(g.parts)
		d, err := devicelayout.ParseDeviceLayout("gen.xml", []byte(xml))
		if err != nil {
			t.Fatalf("seed %d: a generated layout does not parse: %v\n%s", seed, err, xml)
		}
		plan, err := layout.Place(d, d.Stores[0], g.disk, nil, nil, "gen")
		if err != nil {
			if !strings.Contains(err.Error(), "raise MinSectorCount") && !strings.Contains(err.Error(), "no space is left") && !strings.Contains(err.Error(), "-sector disk") {
				t.Fatalf("seed %d: a valid layout was refused: %v\n%s", seed, err, xml)
			}
			stats["too big for the disk"]++
			continue
		}
		if err := checkGenPlacement(g, plan); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, xml)
		}
		img := filepath.Join(dir, "gen.img")
		f, err := os.Create(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(int64(g.disk) * int64(g.ss)); err != nil {
			t.Fatal(err)
		}
		if err := writeTables(f, plan); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, xml)
		}
		f.Close()
		got, want := listTable(t, sfdisk, fdisk, img, g.ss, g.mbr), expectedTable(plan)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: the tools list\n%v\nwant\n%v\n%s", seed, got, want, xml)
		}
		if !g.mbr && g.ss == 512 {
			if out := checker.Run(t, "", sgdisk, "-v", img); !strings.Contains(out, "No problems found") {
				t.Fatalf("seed %d: sgdisk -v: %s\n%s", seed, out, xml)
			}
		}
		// Every other layout through an FFU: the tables the device gets in the end are the
		// same, and the flash-only table lacks exactly the RequiredToFlash=false partitions.
		if checked%2 == 0 {
			if err := genFFURoundTrip(dir, img, plan); err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, xml)
			}
			stats["through an FFU"]++
		}
		style := map[bool]string{true: "MBR", false: "GPT"}[g.mbr]
		stats[fmt.Sprintf("%s %d", style, g.ss)]++
		if plan.MBR && len(plan.Partitions) > 4 {
			stats["MBR with logical partitions"]++
		}
		for _, p := range g.parts {
			if p.offset != 0 {
				stats["with OffsetInSectors"]++
				break
			}
		}
		checked++
	}
	t.Logf("seed %d: %d layouts checked; %v", seed, n, stats)
}

// A GPT layout's ByteAlignment places the partition; its ClusterSize reaches the FAT and NTFS
// writers: fsck.fat and ntfsinfo read the cluster sizes back.
func TestDiskAlignmentAndClusterSize(t *testing.T) {
	fsck, ntfsinfo := checker.Find(t, "fsck.fat"), checker.Find(t, "ntfsinfo")
	const xml = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><TotalSectors>65536</TotalSectors><FileSystem>FAT</FileSystem><ClusterSize>0x2000</ClusterSize></Partition>
    <Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>140000</MinFreeSectors><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x1000</ClusterSize><FileSystem>NTFS</FileSystem></Partition>
    <Partition><Name>Data</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><UseAllSpace>true</UseAllSpace><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x4000</ClusterSize><FileSystem>NTFS</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize>
</DeviceLayout>`
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	plan, dk := newTestDisk(t, xml, img)
	if _, err := dk.close(); err != nil {
		t.Fatal(err)
	}
	// EFIESP at 1 MiB (2048) to 67583; MainOS at the next 8 MiB (16384-sector) boundary, 81920,
	// with 140000+2048 sectors to 223967; Data at the next boundary, 229376.
	for name, first := range map[string]uint64{"EFIESP": 2048, "MainOS": 81920, "Data": 229376} {
		if p := plan.Partition(name); p.FirstLBA != first {
			t.Errorf("%s at %d, want %d", name, p.FirstLBA, first)
		}
	}
	if out := checker.Run(t, "", fsck, "-v", "-n", copyPartition(t, img, plan.Partition("EFIESP"), filepath.Join(dir, "efiesp"))); !strings.Contains(out, " 8192 bytes per cluster") {
		t.Errorf("EFIESP:\n%s", out)
	}
	for name, want := range map[string]string{"MainOS": "4096", "Data": "16384"} {
		out := checker.Run(t, "", ntfsinfo, "-m", copyPartition(t, img, plan.Partition(name), filepath.Join(dir, name)))
		if !regexp.MustCompile(`Cluster Size:\s+` + want + `\b`).MatchString(out) {
			t.Errorf("%s: want cluster size %s:\n%s", name, want, out)
		}
	}
}
