package ffu

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"
)

// Test disks: a sparse file with a protective MBR, primary and backup GPT written by testgpt,
// independently of gpt.go's reader, and some data in the partitions.

var (
	typeBasicData = testgpt.BasicData
	typeESP       = testgpt.ESP
)

type testPart struct {
	name        string
	typ         [16]byte
	first, last uint64 // LBAs
	required    bool
	attrs       uint64
}

type testDisk struct {
	f     *os.File
	path  string
	size  int64
	ss    uint32
	parts []testPart
	// data written, as extents
	allocated []disk.Extent
}

func (d *testDisk) ReadAt(p []byte, off int64) (int, error) { return d.f.ReadAt(p, off) }

// newTestDisk makes a sparse disk with the partitions' GPT.
func newTestDisk(t testing.TB, size int64, ss uint32, parts []testPart) *testDisk {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	d := &testDisk{f: f, path: path, size: size, ss: ss, parts: parts}
	d.writeGPT(t)
	return d
}

func (d *testDisk) writeGPT(t testing.TB) {
	t.Helper()
	parts := make([]testgpt.Partition, len(d.parts))
	for i, p := range d.parts {
		parts[i] = testgpt.Partition{Name: p.name, Type: p.typ, First: p.first, Last: p.last, Attributes: p.attrs}
	}
	if err := testgpt.Write(d.f, uint64(d.size)/uint64(d.ss), int(d.ss), parts); err != nil {
		t.Fatal(err)
	}
}

func (d *testDisk) writeAt(t testing.TB, b []byte, off int64) {
	t.Helper()
	if _, err := d.f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// fill writes n bytes of data (pseudo-random, or zeros) at off and records them as allocated.
func (d *testDisk) fill(t testing.TB, off, n int64, seed int64, zeros bool) {
	t.Helper()
	b := make([]byte, n)
	if !zeros {
		rand.New(rand.NewSource(seed)).Read(b)
	}
	d.writeAt(t, b, off)
	d.allocated = append(d.allocated, disk.Extent{Offset: off, Length: n})
}

func (d *testDisk) partitions() []Partition {
	var out []Partition
	for _, p := range d.parts {
		out = append(out, Partition{Name: p.name, FirstLBA: p.first, LastLBA: p.last, RequiredToFlash: p.required, FileSystem: "FAT32"})
	}
	return out
}

func (d *testDisk) image(chunkKB uint32, v2 bool) *Image {
	return &Image{
		Disk: d, DiskSize: d.size, SectorSize: d.ss, ChunkSizeKB: chunkKB,
		Description: "test image", OSVersion: "10.0.15254.0",
		PlatformIDs: []string{"Contoso.MSM8994.P6211", "Contoso.*"},
		Store:       StoreInfo{IsMainOSStore: true, DevicePath: "VenHw(860845C1-BE09-4355-8BC1-30D64FF8E63A)", StoreID: "{5a585bae-900b-41b5-b736-a4cecffc34b4}"},
		V2:          v2,
		Partitions:  d.partitions(),
		Allocated:   d.allocated,
	}
}

// standardDisk is a 32 MiB disk: EFIESP and MainOS required, CrashDump and Data not, with
// data in each, a block of allocated zeros in MainOS and data outside the partitions' blocks
// boundaries.
func standardDisk(t testing.TB, ss uint32) *testDisk {
	t.Helper()
	const mib = 1 << 20
	lba := func(off int64) uint64 { return uint64(off / int64(ss)) }
	size := int64(32 * mib)
	parts := []testPart{
		{"EFIESP", typeESP, lba(1 * mib), lba(5*mib) - 1, true, 0},
		{"MainOS", typeBasicData, lba(5 * mib), lba(17*mib) - 1, true, 0x8000000000000000},
		{"CrashDump", typeBasicData, lba(17 * mib), lba(21*mib) - 1, false, 0},
		{"Data", typeBasicData, lba(21 * mib), lba(size-mib) - 1, false, 0},
	}
	d := newTestDisk(t, size, ss, parts)
	d.fill(t, 1*mib, 70000, 1, false)                // EFIESP boot sector and more
	d.fill(t, 5*mib, 4096, 2, false)                 // MainOS metadata
	d.fill(t, 6*mib+1000, 300000, 3, false)          // MainOS file across blocks, unaligned
	d.fill(t, 9*mib, BlockSize, 0, true)             // MainOS: an allocated block of zeros
	d.fill(t, 17*mib+BlockSize, 1000, 4, false)      // CrashDump
	d.fill(t, 21*mib, 200000, 5, false)              // Data
	d.fill(t, size-mib-BlockSize-512, 512, 6, false) // end of Data
	return d
}

func writeFFU(t testing.TB, img *Image) ([]byte, *Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.ffu")
	res, err := WriteFile(path, img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != res.Size {
		t.Fatalf("file of %d bytes, Result.Size %d", len(b), res.Size)
	}
	return b, res
}

func openFFU(t testing.TB, b []byte) *Reader {
	t.Helper()
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// memDisk is an io.WriterAt for extracting in memory.
type memDisk []byte

func (m memDisk) WriteAt(p []byte, off int64) (int, error) {
	return copy(m[off:], p), nil
}
