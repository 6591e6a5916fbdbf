package ffu

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"
)

// writeDirect writes img's FFU through a Layout: planned from tables (a disk holding only the
// partition tables, or nil for img.Disk itself), then the whole of img.Disk replayed into the
// Layout's disk in pieces of seeded random sizes, as file systems write, then finished.
func writeDirect(t *testing.T, img *Image, tables io.ReaderAt, seed int64) ([]byte, *Result) {
	t.Helper()
	planned := *img
	if tables != nil {
		planned.Disk = tables
	}
	l, err := planned.Plan()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "direct.ffu"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("stale bytes a fresh layout must cut"); err != nil {
		t.Fatal(err)
	}
	d, err := l.Disk(f)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(seed))
	buf := make([]byte, 3<<20)
	for off := int64(0); off < img.DiskSize; {
		n := min(img.DiskSize-off, 1+rng.Int63n(int64(len(buf))))
		if _, err := img.Disk.ReadAt(buf[:n], off); err != nil {
			t.Fatal(err)
		}
		if _, err := d.WriteAt(buf[:n], off); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	res, err := l.Finish(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != res.Size {
		t.Fatalf("direct FFU of %d bytes, Result.Size %d", len(b), res.Size)
	}
	return b, res
}

// A Layout writes the bytes Write writes from the same disk: GPT disks of both sector sizes,
// every chunk size, v1 and v2 store headers, partitions sharing blocks across phases (a block
// stored twice), an MBR disk with its extended boot records.
func TestLayoutSameAsWrite(t *testing.T) {
	type shape struct {
		name   string
		img    func(t *testing.T) *Image
		tables func(t *testing.T) io.ReaderAt // a disk with the same tables and no data
	}
	var shapes []shape
	for _, tc := range []struct {
		ss      uint32
		chunkKB uint32
		v2      bool
	}{{512, 128, false}, {512, 256, true}, {4096, 256, false}, {512, 64, false}, {512, 1024, true}, {512, 100, true}, {4096, 4, false}} {
		shapes = append(shapes, shape{
			name: fmt.Sprintf("standard_ss%d_chunk%d_v2=%v", tc.ss, tc.chunkKB, tc.v2),
			img:  func(t *testing.T) *Image { return standardDisk(t, tc.ss).image(tc.chunkKB, tc.v2) },
			tables: func(t *testing.T) io.ReaderAt {
				d := standardDisk(t, tc.ss)
				return newTestDisk(t, d.size, tc.ss, d.parts)
			},
		})
	}
	unaligned := []testPart{
		{"A", typeBasicData, 2048, 2300, true, 0},
		{"B", typeBasicData, 2301, 2600, true, 0},
		{"C", typeBasicData, 2601, 5000, false, 0},
		{"D", typeBasicData, 5101, 8000, true, 0},
		{"E", typeBasicData, 20480, 20600, false, 0},
		{"F", typeBasicData, 34, 300, false, 0}, // in the primary GPT's block
	}
	shapes = append(shapes, shape{
		name: "unaligned",
		img: func(t *testing.T) *Image {
			d := newTestDisk(t, 16<<20, 512, unaligned)
			d.fill(t, 2048*512, (8001-2048)*512, 9, false)
			d.fill(t, 34*512, 100*512, 10, false)
			return d.image(128, false)
		},
		tables: func(t *testing.T) io.ReaderAt { return newTestDisk(t, 16<<20, 512, unaligned) },
	})
	mbrImage := func(b []byte) *Image {
		return &Image{
			Disk: bytes.NewReader(b), DiskSize: int64(len(b)), SectorSize: 512, ChunkSizeKB: 4,
			PlatformIDs: []string{"Test.Device"}, Store: StoreInfo{IsMainOSStore: true},
			Partitions: []Partition{{Name: "EFIESP", RequiredToFlash: true}, {Name: "MainOS", RequiredToFlash: true},
				{Name: "MMOS"}, {Name: "Data", RequiredToFlash: true}},
			Allocated: []disk.Extent{{Offset: 64 * 512, Length: 4096}, {Offset: 832 * 512, Length: 4096}, {Offset: 1100 * 512, Length: 9000}},
			blockSize: 4096, wipeBlocks: 2,
		}
	}
	shapes = append(shapes, shape{
		name: "mbr",
		img: func(t *testing.T) *Image {
			d := testgpt.KitMBR()
			rand.New(rand.NewSource(11)).Read(d.B[64*512 : 64*512+4096])
			rand.New(rand.NewSource(12)).Read(d.B[832*512 : 832*512+4096])
			rand.New(rand.NewSource(13)).Read(d.B[1100*512 : 1100*512+9000])
			return mbrImage(d.B)
		},
		tables: func(t *testing.T) io.ReaderAt { return bytes.NewReader(testgpt.KitMBR().B) },
	})
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			img := s.img(t)
			want, wantRes := writeFFU(t, img)
			for seed := int64(1); seed <= 3; seed++ {
				var tables io.ReaderAt
				if seed == 3 {
					tables = s.tables(t)
				}
				got, res := writeDirect(t, img, tables, seed)
				if !bytes.Equal(got, want) {
					t.Fatalf("seed %d: the Layout's FFU (%d bytes) differs from Write's (%d bytes)", seed, len(got), len(want))
				}
				if !bytes.Equal(res.Catalog, wantRes.Catalog) || res.Phase2 != wantRes.Phase2 || res.PayloadBytes != wantRes.PayloadBytes {
					t.Errorf("seed %d: Result %+v, Write's %+v", seed, res, wantRes)
				}
			}
			if err := openFFU(t, want).Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A write outside the disk is an error, not a write somewhere in the FFU.
func TestLayoutDiskBounds(t *testing.T) {
	img := standardDisk(t, 512).image(128, false)
	l, err := img.Plan()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "x.ffu"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := l.Disk(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{-1, img.DiskSize - 1, img.DiskSize} {
		if _, err := d.WriteAt(make([]byte, 2), off); err == nil {
			t.Errorf("write of 2 bytes at %d on a %d-byte disk: no error", off, img.DiskSize)
		}
	}
}
