package imggen

// The generative image test: seeded random but valid device layouts and package sets, each
// built into an FFU by Build, extracted, and judged by tools nobody here wrote: sfdisk and
// sgdisk for the partition table, fsck.fat and mtools for FAT partitions, ntfsfix and ntfscat
// for NTFS, every payload file compared byte for byte. The shapes cross the boundaries the
// example never reaches: FAT12/FAT16/FAT32 cluster limits, 512 and 4096-byte sectors, chunk
// sizes, UseAllSpace, raw partitions, tiny and large files, deep trees and long names.
//
// OEMIMAGE_GEN_CASES sets the number of layouts (default genDefaultCases), OEMIMAGE_GEN_SEED
// the first seed; a failure names the seed, and OEMIMAGE_GEN_SEED=<seed> OEMIMAGE_GEN_CASES=1
// replays it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/fat"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	volread "github.com/oemimage/rules_oemimage/tools/volume"
)

const (
	typeBasic = "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}"
	typeESP   = "{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}"
	typeRaw   = "{de7d4029-0f5b-41c8-ae7e-f6c023a02b33}"
)

// genPartition is one partition of a generated layout.
type genPartition struct {
	Name, Type, FS string
	Total          uint64 // TotalSectors, 0 if sized otherwise
	MinFree        uint64 // MinFreeSectors
	UseAll         bool
	NotFlashed     bool              // RequiredToFlash false
	files          map[string]string // device path -> content, of the packages installed here
	Image          int               // raw partitions: size of a binary partition package's image, 0 for none
}

type genCase struct {
	Seed       int64
	SectorSize int
	ChunkKB    int
	MBR        bool // an MBR layout: <Type> bytes, MBR_META, logical partitions past the fourth
	MinSectors uint64
	Partitions []*genPartition
}

// sectors converts a size in 512-byte units to the case's sectors (at least one).
func (c *genCase) sectors(n512 uint64) uint64 {
	s := n512 * 512 / uint64(c.SectorSize)
	if s == 0 {
		s = 1
	}
	return s
}

// Partition sizes in 512-byte units, jittered by a few sectors. FAT: around the FAT12/FAT16
// limits and the cluster-size steps of the writer's defaults.
var fatSizes = []uint64{4096, 8160, 8200, 16384, 32680, 32768, 65536, 66000, 131072, 262144, 524288}

// FAT32 needs at least 65525 clusters of at least a sector: with 512-byte sectors from just
// above 32 MiB, with 4096-byte sectors from just above 256 MiB.
var fat32Sizes = map[int][]uint64{
	512:  {66600, 69000, 131072, 262144, 327680, 524288, 1048576},
	4096: {527000, 540000, 600000, 1048576},
}

// NTFS: 8 MiB to 512 MiB.
var ntfsSizes = []uint64{16384, 40000, 131072, 262144, 1048576}

// minSize is the smallest partition (512-byte units) each file system takes in a case.
func (c *genCase) minSize(fs string) uint64 {
	switch fs {
	case "FAT32":
		return fat32Sizes[c.SectorSize][0]
	case "NTFS":
		return 16384
	}
	return 4096
}

func choose[T any](r *rand.Rand, s []T) T { return s[r.Intn(len(s))] }

func jitter(r *rand.Rand, n uint64) uint64 {
	d := uint64(r.Intn(9))
	if n > 8 {
		return n - 4 + d
	}
	return n + d
}

// blockSectors is the FFU block (128 KiB) in sectors: the disk is a whole number of blocks.
func (c *genCase) blockSectors() uint64 { return 128 << 10 / uint64(c.SectorSize) }

func genImageCase(seed int64) *genCase {
	r := rand.New(rand.NewSource(seed))
	c := &genCase{Seed: seed, SectorSize: choose(r, []int{512, 512, 4096}), ChunkKB: choose(r, []int{64, 128, 256}), MBR: r.Intn(3) == 0}
	fsOf := func(choices ...string) string { return choose(r, choices) }
	size := func(fs string) uint64 {
		switch fs {
		case "FAT":
			return c.sectors(jitter(r, choose(r, fatSizes)))
		case "FAT32":
			return c.sectors(jitter(r, choose(r, fat32Sizes[c.SectorSize])) + 8)
		case "NTFS":
			return c.sectors(jitter(r, choose(r, ntfsSizes)) + 8)
		}
		return c.sectors(jitter(r, uint64(1+r.Intn(4096))))
	}
	c.Partitions = append(c.Partitions, &genPartition{Name: "EFIESP", Type: typeESP, FS: "FAT", Total: size("FAT")})
	if r.Intn(2) == 0 {
		c.Partitions = append(c.Partitions, &genPartition{Name: "UEFI", Type: typeRaw, Total: size(""), NotFlashed: r.Intn(3) == 0})
	}
	main := &genPartition{Name: "MainOS", Type: typeBasic, FS: fsOf("FAT32", "NTFS")}
	if r.Intn(2) == 0 {
		main.Total = size(main.FS)
	} else {
		// MinFreeSectors: the partition is sized to its content plus this, which must still be a
		// valid volume of its file system.
		main.MinFree = c.sectors(c.minSize(main.FS) + 4096 + uint64(r.Intn(40000)))
	}
	c.Partitions = append(c.Partitions, main)
	if r.Intn(3) > 0 {
		data := &genPartition{Name: "Data", Type: typeBasic, FS: fsOf("FAT", "FAT32", "NTFS")}
		if r.Intn(2) == 0 {
			data.UseAll = true
		} else {
			data.Total = size(data.FS)
		}
		data.NotFlashed = r.Intn(4) == 0
		c.Partitions = append(c.Partitions, data)
	}
	// The disk: what the fixed partitions need, plus room for MainOS by MinFree and for a
	// UseAllSpace partition of its file system's smallest valid size, in whole FFU blocks.
	need := c.sectors(8192)
	if c.MBR {
		need += c.sectors(2048 + 8*128) // MBR_META and the extended boot records
	}
	for _, p := range c.Partitions {
		need += p.Total + p.MinFree + c.sectors(4096)
		if p.UseAll {
			need += c.sectors(c.minSize(p.FS) + 4096)
		}
	}
	need += c.sectors(uint64(r.Intn(200000)))
	b := c.blockSectors()
	c.MinSectors = (need + b - 1) / b * b
	for _, p := range c.Partitions {
		if p.FS != "" {
			p.files = genFiles(r, p.Name)
		}
	}
	// Raw partitions: mostly a binary partition package's image, of the partition's size or
	// less (any byte count). Drawn last, so the layouts of the seeds stay what they were.
	for _, p := range c.Partitions {
		if p.FS == "" && r.Intn(3) > 0 {
			capacity := int(p.Total) * c.SectorSize
			p.Image = choose(r, []int{capacity, 1 + r.Intn(capacity)})
		}
	}
	return c
}

// fixedCases are layouts that once failed, kept beside the generated ones.
func fixedCases() []struct {
	name string
	*genCase
} {
	files := func() map[string]string {
		return map[string]string{`\Windows\System32\a.dll`: "a", `\Data\b.txt`: strings.Repeat("b", 5000)}
	}
	// A FAT32 Data partition with UseAllSpace on a 256 MiB disk: its FAT was one entry short
	// ("Filesystem has 126975 clusters but only space for 126974 FAT entries").
	issue := &genCase{Seed: -1, SectorSize: 512, ChunkKB: 128, MinSectors: 524288, Partitions: []*genPartition{
		{Name: "EFIESP", Type: typeESP, FS: "FAT", Total: 65536, files: files()},
		{Name: "MainOS", Type: typeBasic, FS: "FAT32", Total: 327680, files: files()},
		{Name: "Data", Type: typeBasic, FS: "FAT32", UseAll: true, files: files()},
	}}
	return []struct {
		name string
		*genCase
	}{{"fat32_data_use_all_space_256MiB", issue}}
}

var nameParts = []string{"a", "System32", "Program Files", "ContosoCamera", "x.dll", "very long file name with spaces.txt",
	"ÄÖÜ-ünïcode.bin", "UPPER.TXT", "lower.txt", "Mixed.Case.Name.dat", "1", "data.bin", "config.xml", "deep"}

var fileSizes = []int{0, 1, 511, 512, 513, 4095, 4096, 4097, 65536, 65537}

func genFiles(r *rand.Rand, partition string) map[string]string {
	files := map[string]string{}
	seen := map[string]bool{}
	n := 1 + r.Intn(12)
	for len(files) < n {
		depth := 1 + r.Intn(4)
		parts := []string{}
		for i := 0; i < depth; i++ {
			parts = append(parts, choose(r, nameParts))
		}
		path := `\` + strings.Join(parts, `\`)
		key := strings.ToLower(path)
		// A path may not be both a file and a directory, in any case.
		clash := seen[key]
		for k := range seen {
			if strings.HasPrefix(k, key+`\`) || strings.HasPrefix(key, k+`\`) {
				clash = true
			}
		}
		if clash {
			continue
		}
		seen[key] = true
		size := choose(r, fileSizes)
		if r.Intn(4) == 0 {
			size = r.Intn(300 << 10)
		}
		b := make([]byte, size)
		r.Read(b)
		files[path] = string(b)
	}
	return files
}

func (c *genCase) layoutXML() string {
	var b strings.Builder
	b.WriteString(`<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"><Partitions>`)
	for _, p := range c.Partitions {
		fmt.Fprintf(&b, "<Partition><Name>%s</Name><Type>%s</Type>", p.Name, c.partitionType(p))
		if p.Total > 0 {
			fmt.Fprintf(&b, "<TotalSectors>%d</TotalSectors>", p.Total)
		}
		if p.MinFree > 0 {
			fmt.Fprintf(&b, "<MinFreeSectors>%d</MinFreeSectors>", p.MinFree)
		}
		if p.UseAll {
			b.WriteString("<UseAllSpace>true</UseAllSpace>")
		}
		if p.FS != "" {
			fmt.Fprintf(&b, "<FileSystem>%s</FileSystem>", p.FS)
		}
		if p.NotFlashed {
			b.WriteString("<RequiredToFlash>false</RequiredToFlash>")
		}
		b.WriteString("</Partition>")
	}
	fmt.Fprintf(&b, "</Partitions><SectorSize>%d</SectorSize><ChunkSize>%d</ChunkSize></DeviceLayout>", c.SectorSize, c.ChunkKB)
	return b.String()
}

// partitionType is the <Type> of p: a GPT type GUID, or for MBR layouts the type byte.
func (c *genCase) partitionType(p *genPartition) string {
	if !c.MBR {
		return p.Type
	}
	switch p.FS {
	case "NTFS":
		return "0x07"
	case "":
		return "0xda" // non-file-system data
	}
	return "0x0c" // FAT, LBA
}

func (c *genCase) platformXML() string {
	return fmt.Sprintf(`<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">`+
		`<MinSectorCount>%d</MinSectorCount><DevicePlatformID>Gen.Device</DevicePlatformID></OEMDevicePlatform>`, c.MinSectors)
}

func (c *genCase) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

func genCount(t *testing.T) (first int64, n int) {
	n = genDefaultCases
	if v := os.Getenv("OEMIMAGE_GEN_CASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("OEMIMAGE_GEN_CASES=%q: expected a positive number", v)
		}
	}
	first = 1
	if v := os.Getenv("OEMIMAGE_GEN_SEED"); v != "" {
		var err error
		if first, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("OEMIMAGE_GEN_SEED=%q: expected a number", v)
		}
	}
	return first, n
}

func TestGenerativeImages(t *testing.T) {
	tools := map[string]string{}
	for _, name := range []string{"fdisk", "sgdisk", "fsck.fat", "mcopy", "ntfsfix", "ntfscat"} {
		tools[name] = checker.Find(t, name)
	}
	first, n := genCount(t)
	stats := map[string]int{}
	for _, c := range fixedCases() {
		c := c
		if !t.Run(c.name, func(t *testing.T) { buildAndCheck(t, c.genCase, tools, stats) }) {
			t.Logf("case: %s", c.genCase)
		}
	}
	for seed := first; seed < first+int64(n); seed++ {
		c := genImageCase(seed)
		ok := t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			buildAndCheck(t, c, tools, stats)
		})
		if !ok {
			t.Logf("case: %s", c)
		}
	}
	var keys []string
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s []string
	for _, k := range keys {
		s = append(s, fmt.Sprintf("%s %d", k, stats[k]))
	}
	t.Logf("%d layouts from seed %d; disks (table/sector size) and partitions checked: %s", n, first, strings.Join(s, ", "))
}

func buildAndCheck(t *testing.T, c *genCase, tools map[string]string, stats map[string]int) {
	checkGenImage(t, c, buildGenImage(t, c), c.Partitions, tools, stats)
}

// buildGenImage builds case c's image with imggen and returns the FFU's path.
func buildGenImage(t *testing.T, c *genCase) string {
	src := t.TempDir()
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Description: "generated", Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: "Test"}
	add := func(comp, part string, files map[string]string, g manifest.Group) {
		name, _ := makePackage(t, src, "Gen", comp, part, files)
		sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name,
			HostPath: filepath.Join(src, name), Reasons: []resolve.Reason{{FeatureID: string(g), Group: g}}})
	}
	for _, p := range c.Partitions {
		if p.files != nil {
			add("Files."+p.Name, p.Name, p.files, manifest.GroupBase)
		}
	}
	for _, p := range c.Partitions {
		if p.Image > 0 {
			addBinaryPackage(t, sel, src, "Image."+p.Name, p.Name, randomBytes(c.Seed, p.Image))
		}
	}
	add("Layout", "MainOS", map[string]string{imageconst.DeviceLayoutPath: c.layoutXML()}, manifest.GroupDeviceLayout)
	add("Platform", "MainOS", map[string]string{imageconst.DevicePlatformPath: c.platformXML()}, manifest.GroupOEMDevicePlatform)

	out := t.TempDir()
	ffuPath := filepath.Join(out, "image.ffu")
	if err := Build(sel, Options{Output: ffuPath}); err != nil {
		t.Fatalf("Build: %v", err)
	}
	return ffuPath
}

// checkGenImage judges the FFU at ffuPath, of case c's layout, with independent tools: the
// partition table (fdisk, sgdisk), each file system (fsck.fat -n, ntfsfix -n) and the files
// of partitions (mtools, ntfscat), which have the names and contents each of them lists.
func checkGenImage(t *testing.T, c *genCase, ffuPath string, partitions []*genPartition, tools map[string]string, stats map[string]int) {
	out := t.TempDir()
	disk := filepath.Join(out, "disk.img")
	extract(t, ffuPath, disk)

	// The partition table as fdisk reads it (util-linux; its -b gives the logical sector size
	// a disk image cannot tell), and sgdisk's verification for 512-byte sectors, the only size
	// it assumes for an image file.
	stats[fmt.Sprintf("%s/%d", map[bool]string{false: "GPT", true: "MBR"}[c.MBR], c.SectorSize)]++
	parts := readTable(t, tools["fdisk"], disk, c.SectorSize, c.MBR)
	if c.MBR {
		parts = mbrNames(t, ffuPath, parts)
	}
	if c.SectorSize == 512 && !c.MBR {
		if v := run(t, tools["sgdisk"], "-v", disk); !strings.Contains(v, "No problems found") {
			t.Errorf("sgdisk -v:\n%s", v)
		}
	}
	ss := int64(c.SectorSize)
	for _, want := range partitions {
		got, ok := parts[want.Name]
		if !ok {
			t.Errorf("partition %s is not in the table fdisk reads: %v", want.Name, parts)
			continue
		}
		if want.Total > 0 && uint64(got.Size) != want.Total {
			t.Errorf("%s: %d sectors, want TotalSectors %d", want.Name, got.Size, want.Total)
		}
		if want.FS == "" {
			stats["raw"]++
			if want.Image > 0 {
				checkRawImage(t, disk, got.Start*ss, got.Size*ss, randomBytes(c.Seed, want.Image), want.Name)
				stats["raw with an image"]++
			}
			continue
		}
		part := filepath.Join(out, want.Name+".img")
		copyRegion(t, disk, part, got.Start*ss, got.Size*ss)
		switch want.FS {
		case "NTFS":
			checkNTFS(t, tools, part, want)
		default:
			checkFAT(t, tools, part, want, out)
		}
		stats[want.FS]++
		os.Remove(part)
	}
	checkInPlace(t, ffuPath, c.SectorSize, partitions, parts)
}

// checkInPlace reads the image as its own readers do, from the FFU's blocks in place
// (tools/volume, no extracted disk): each partition where fdisk puts it, each generated file
// with its content.
func checkInPlace(t *testing.T, ffuPath string, sectorSize int, partitions []*genPartition, parts map[string]fdiskPartition) {
	t.Helper()
	im, err := volread.OpenImage(ffuPath, true)
	if err != nil {
		t.Fatalf("volume.OpenImage: %v", err)
	}
	defer im.Close()
	ss := int64(sectorSize)
	for _, want := range partitions {
		e := im.Partition(want.Name)
		if e == nil {
			t.Errorf("in place: no partition %s (%s)", want.Name, im.Names())
			continue
		}
		off, size := im.Extent(e)
		if got := parts[want.Name]; off != got.Start*ss || size != got.Size*ss {
			t.Errorf("in place: %s at %d+%d bytes, fdisk says %d+%d", want.Name, off, size, got.Start*ss, got.Size*ss)
		}
		if want.FS == "" || want.files == nil {
			continue
		}
		vol, err := im.Volume(e)
		if err != nil {
			t.Errorf("in place: %s: %v", want.Name, err)
			continue
		}
		for path, content := range want.files {
			data, err := vol.ReadFile(path)
			if err != nil || string(data) != content {
				t.Errorf("in place: %s%s: %d bytes, %v; want the %d bytes installed", want.Name, path, len(data), err, len(content))
			}
		}
	}
}

type fdiskPartition struct{ Start, Size int64 }

// readTable lists a GPT disk's partitions by name, as fdisk -l prints them.
func readTable(t *testing.T, fdisk, disk string, sectorSize int, mbr bool) map[string]fdiskPartition {
	t.Helper()
	label, cols := "gpt", "Start,Sectors,Name"
	if mbr {
		// An MBR names no partition: they are listed by position, named by mbrNames.
		label, cols = "dos", "Start,Sectors,Device"
	}
	out := run(t, fdisk, "-b", strconv.Itoa(sectorSize), "-l", "-o", cols, disk)
	if !strings.Contains(out, "Disklabel type: "+label) {
		t.Fatalf("fdisk does not read a %s table:\n%s", label, out)
	}
	parts := map[string]fdiskPartition{}
	_, list, ok := strings.Cut(out, "\n\n")
	for ok {
		var block string
		block, list, ok = strings.Cut(list, "\n\n")
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) == 0 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "Start") {
			continue
		}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) < 3 {
				t.Fatalf("fdisk line %q", l)
			}
			start, err1 := strconv.ParseInt(f[0], 10, 64)
			size, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("fdisk line %q", l)
			}
			parts[strings.Join(f[2:], " ")] = fdiskPartition{start, size}
		}
	}
	return parts
}

// mbrNames names the partitions fdisk lists on an MBR disk: the image's MBR_META gives each
// name's extent (our reader), and fdisk must list a partition at exactly that start and size.
func mbrNames(t *testing.T, ffuPath string, listed map[string]fdiskPartition) map[string]fdiskPartition {
	t.Helper()
	im, err := volread.OpenImage(ffuPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	at := map[fdiskPartition]bool{}
	for _, p := range listed {
		at[p] = true
	}
	named := map[string]fdiskPartition{}
	for _, e := range im.GPT.Entries {
		off, size := im.Extent(&e)
		p := fdiskPartition{off / im.SectorSize, size / im.SectorSize}
		if !at[p] {
			t.Errorf("partition %s (sectors %d+%d by MBR_META) is not one fdisk lists: %v", e.Name, p.Start, p.Size, listed)
		}
		named[e.Name] = p
	}
	return named
}

func run(t *testing.T, tool string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(tool), strings.Join(args, " "), err, b)
	}
	return string(b)
}

// OpenVerified opens the FFU at ffuPath and checks every block's hash against its catalog;
// the file stays open until the test ends. Exported for the external tests (update_test.go).
func OpenVerified(t *testing.T, ffuPath string) *ffu.Reader {
	t.Helper()
	f, err := os.Open(ffuPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", ffuPath, err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatalf("%s: %v", ffuPath, err)
	}
	return rd
}

func extract(t *testing.T, ffuPath, disk string) {
	t.Helper()
	rd := OpenVerified(t, ffuPath)
	d, err := os.Create(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := rd.Extract(d); err != nil {
		t.Fatal(err)
	}
}

// copyRegion copies length bytes at off of src to a new file dst, keeping holes: checkers
// without an offset option get the partition as a file of its own.
func copyRegion(t *testing.T, src, dst string, off, length int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	const seekData, seekHole = 3, 4
	pos := off
	for pos < off+length {
		data, err := in.Seek(pos, seekData)
		if err != nil || data >= off+length {
			break // no more data in the region
		}
		hole, err := in.Seek(data, seekHole)
		if err != nil || hole > off+length {
			hole = off + length
		}
		if _, err := io.Copy(io.NewOffsetWriter(out, data-off), io.NewSectionReader(in, data, hole-data)); err != nil {
			t.Fatal(err)
		}
		pos = hole
	}
	if err := out.Truncate(length); err != nil {
		t.Fatal(err)
	}
}

// checkRawImage checks that the partition at off (size bytes) of disk starts with image and
// holds zeros after it.
func checkRawImage(t *testing.T, disk string, off, size int64, image []byte, name string) {
	t.Helper()
	f, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, size)
	if _, err := f.ReadAt(got, off); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !bytes.Equal(got[:len(image)], image) {
		t.Errorf("%s does not start with its %d-byte image", name, len(image))
	}
	if len(bytes.Trim(got[len(image):], "\x00")) != 0 {
		t.Errorf("%s is not zeros after its %d-byte image", name, len(image))
	}
}

func checkFAT(t *testing.T, tools map[string]string, part string, p *genPartition, tmp string) {
	t.Helper()
	// fsck.fat -n exits 1 for errors it found and would have fixed.
	out, err := exec.Command(tools["fsck.fat"], "-n", part).CombinedOutput()
	if err != nil {
		t.Errorf("%s (%s): fsck.fat -n: %v\n%s", p.Name, p.FS, err, out)
		return
	}
	checkUsage(t, p, part, out)
	dst := filepath.Join(tmp, p.Name+".files")
	os.RemoveAll(dst)
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, tools["mcopy"], "-s", "-n", "-i", part, "::/", dst)
	compareTree(t, p, func(devicePath string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dst, filepath.FromSlash(strings.ReplaceAll(strings.TrimPrefix(devicePath, `\`), `\`, "/"))))
	})
	os.RemoveAll(dst)
}

func checkNTFS(t *testing.T, tools map[string]string, part string, p *genPartition) {
	t.Helper()
	if out, err := exec.Command(tools["ntfsfix"], "-n", part).CombinedOutput(); err != nil {
		t.Errorf("%s: ntfsfix -n: %v\n%s", p.Name, err, out)
		return
	}
	compareTree(t, p, func(devicePath string) ([]byte, error) {
		cmd := exec.Command(tools["ntfscat"], part, strings.ReplaceAll(devicePath, `\`, "/"))
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		return cmd.Output()
	})
}

func compareTree(t *testing.T, p *genPartition, read func(devicePath string) ([]byte, error)) {
	t.Helper()
	for path, want := range p.files {
		got, err := read(path)
		if err != nil {
			t.Errorf("%s: %s: %v", p.Name, path, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s: %s: %d bytes differ from the %d installed", p.Name, path, len(got), len(want))
		}
	}
}

var fsckClusters = regexp.MustCompile(`(\d+)/(\d+) clusters`)

// checkUsage compares the FAT reader's count of the volume's clusters (Usage: what the image
// report shows as used and free) with fsck.fat's "used/total clusters".
func checkUsage(t *testing.T, p *genPartition, part string, fsckOut []byte) {
	t.Helper()
	m := fsckClusters.FindSubmatch(fsckOut)
	if m == nil {
		t.Errorf("%s: fsck.fat printed no used/total clusters:\n%s", p.Name, fsckOut)
		return
	}
	used, _ := strconv.ParseInt(string(m[1]), 10, 64)
	total, _ := strconv.ParseInt(string(m[2]), 10, 64)
	f, err := os.Open(part)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	v, err := fat.Open(f, 0, st.Size())
	if err != nil {
		t.Errorf("%s: fat.Open: %v", p.Name, err)
		return
	}
	_, clusters, free, err := v.Usage()
	if err != nil {
		t.Errorf("%s: Usage: %v", p.Name, err)
		return
	}
	if clusters != total || free != total-used {
		t.Errorf("%s (%s): Usage counts %d clusters, %d free; fsck.fat %d, %d free", p.Name, p.FS, clusters, free, total, total-used)
	}
}
