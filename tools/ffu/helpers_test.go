package ffu

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

// Test disks: a sparse file with a protective MBR, primary and backup GPT (128 entries of 128
// bytes) written here, independently of gpt.go's reader, and some data in the partitions.

var (
	typeBasicData = guidBytes(0xebd0a0a2, 0xb9e5, 0x4433, [8]byte{0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7})
	typeESP       = guidBytes(0xc12a7328, 0xf81f, 0x11d2, [8]byte{0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b})
)

func guidBytes(a uint32, b, c uint16, d [8]byte) [16]byte {
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:], a)
	binary.LittleEndian.PutUint16(g[4:], b)
	binary.LittleEndian.PutUint16(g[6:], c)
	copy(g[8:], d[:])
	return g
}

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
	allocated []Extent
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
	ss := int64(d.ss)
	last := uint64(d.size/ss) - 1
	const count, esize = 128, 128
	arraySectors := uint64((count*esize + ss - 1) / ss)
	le := binary.LittleEndian

	entries := make([]byte, count*esize)
	for i, p := range d.parts {
		e := entries[i*esize:]
		copy(e[0:], p.typ[:])
		uniq := guidBytes(0x11111111*uint32(i+1), 0x2222, 0x4333, [8]byte{0x83, 0x44, 1, 2, 3, 4, 5, byte(i)})
		copy(e[16:], uniq[:])
		le.PutUint64(e[32:], p.first)
		le.PutUint64(e[40:], p.last)
		le.PutUint64(e[48:], p.attrs)
		for k, u := range utf16.Encode([]rune(p.name)) {
			le.PutUint16(e[56+2*k:], u)
		}
	}
	header := func(my, alt, entriesLBA uint64) []byte {
		h := make([]byte, ss)
		copy(h, "EFI PART")
		le.PutUint32(h[8:], 0x00010000)
		le.PutUint32(h[12:], 92)
		le.PutUint64(h[24:], my)
		le.PutUint64(h[32:], alt)
		le.PutUint64(h[40:], 2+arraySectors)
		le.PutUint64(h[48:], last-1-arraySectors)
		disk := guidBytes(0xdeadbeef, 0x1234, 0x4567, [8]byte{0x89, 0xab, 0xcd, 0xef, 1, 2, 3, 4})
		copy(h[56:], disk[:])
		le.PutUint64(h[72:], entriesLBA)
		le.PutUint32(h[80:], count)
		le.PutUint32(h[84:], esize)
		le.PutUint32(h[88:], crc32.ChecksumIEEE(entries))
		le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		return h
	}
	mbr := make([]byte, ss)
	mbr[446+4] = 0xEE
	le.PutUint32(mbr[446+8:], 1)
	le.PutUint32(mbr[446+12:], uint32(min(last, 0xFFFFFFFF)))
	mbr[510], mbr[511] = 0x55, 0xAA
	d.writeAt(t, mbr, 0)
	d.writeAt(t, header(1, last, 2), ss)
	d.writeAt(t, entries, 2*ss)
	d.writeAt(t, entries, int64(last-arraySectors)*ss)
	d.writeAt(t, header(last, 1, last-arraySectors), int64(last)*ss)
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
	d.allocated = append(d.allocated, Extent{off, n})
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
