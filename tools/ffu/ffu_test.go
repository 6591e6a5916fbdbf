package ffu

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// checkExtracted compares an extracted disk with the input on every allocated extent and on
// both GPTs (LBA 0..33 and the last 33 sectors for 512-byte sectors).
func checkExtracted(t *testing.T, d *testDisk, got []byte) {
	t.Helper()
	if int64(len(got)) != d.size {
		t.Fatalf("extracted disk of %d bytes, want %d", len(got), d.size)
	}
	want := make([]byte, d.size)
	if _, err := d.f.ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	for _, e := range d.allocated {
		if !bytes.Equal(got[e.Offset:e.Offset+e.Length], want[e.Offset:e.Offset+e.Length]) {
			t.Errorf("allocated extent at %d (%d bytes) differs after extraction", e.Offset, e.Length)
		}
	}
	ss := int64(d.ss)
	gptBytes := (2 + 16384/ss) * ss
	if !bytes.Equal(got[:gptBytes], want[:gptBytes]) {
		t.Errorf("primary GPT differs after extraction")
	}
	if !bytes.Equal(got[d.size-gptBytes+ss:], want[d.size-gptBytes+ss:]) {
		t.Errorf("backup GPT differs after extraction")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ss      uint32
		chunkKB uint32
		v2      bool
	}{
		{512, 128, false}, {512, 256, false}, {512, 128, true}, {512, 256, true},
		{4096, 256, false}, {512, 0, true}, {512, 64, false}, {512, 1024, false}, {512, 100, true},
	} {
		t.Run(fmt.Sprintf("ss%d_chunk%d_v2=%v", tc.ss, tc.chunkKB, tc.v2), func(t *testing.T) {
			d := standardDisk(t, tc.ss)
			img := d.image(tc.chunkKB, tc.v2)
			b, res := writeFFU(t, img)
			r := openFFU(t, b)
			if err := r.Verify(); err != nil {
				t.Fatal(err)
			}
			chunk := int64(tc.chunkKB) * 1024
			if chunk == 0 {
				chunk = DefaultChunkSizeKB * 1024
			}
			if r.Security.ChunkSizeKB != uint32(chunk/1024) || r.Image.ChunkSizeKB != uint32(chunk/1024) {
				t.Errorf("chunk sizes %d/%d KB, want %d", r.Security.ChunkSizeKB, r.Image.ChunkSizeKB, chunk/1024)
			}
			if r.ImageOffset%chunk != 0 || r.Size()%chunk != 0 || (r.Size()-r.ImageOffset)/chunk*hashSize != int64(len(r.HashTable())) {
				t.Errorf("layout: image header at %d, size %d, %d hashes, chunk %d", r.ImageOffset, r.Size(), len(r.HashTable())/hashSize, chunk)
			}
			if !bytes.Equal(r.Catalog(), res.Catalog) || !bytes.Equal(r.HashTable(), res.HashTable) {
				t.Error("catalog or hash table in the file differ from Result")
			}
			if len(r.Stores) != 1 {
				t.Fatalf("%d stores", len(r.Stores))
			}
			s := r.Stores[0]
			h := s.Header
			wantMajor := uint16(1)
			if tc.v2 {
				wantMajor = 2
			}
			if h.MajorVersion != wantMajor || h.MinorVersion != 0 || h.FullFlashMajorVersion != 2 || h.FullFlashMinorVersion != 0 {
				t.Errorf("store header versions %d.%d/%d.%d", h.MajorVersion, h.MinorVersion, h.FullFlashMajorVersion, h.FullFlashMinorVersion)
			}
			if tc.v2 && (h.NumOfStores != 1 || h.StoreIndex != 1 || h.DevicePath != img.Store.DevicePath || h.StorePayloadSize != uint64(res.PayloadBytes)) {
				t.Errorf("v2 fields: %d %d %q %d", h.NumOfStores, h.StoreIndex, h.DevicePath, h.StorePayloadSize)
			}
			if !slices.Equal(h.PlatformIDs, img.PlatformIDs) || h.BlockSize != BlockSize || h.UpdateType != 0 {
				t.Errorf("store header: platform IDs %q, block size %d, update type %d", h.PlatformIDs, h.BlockSize, h.UpdateType)
			}
			if s.DiskSize != d.size || s.SectorSize != d.ss {
				t.Errorf("disk size %d, sector size %d from the manifest", s.DiskSize, s.SectorSize)
			}
			checkPhases(t, d, r)

			out, err := os.Create(filepath.Join(t.TempDir(), "extracted.img"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if err := r.Extract(out); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out.Name())
			if err != nil {
				t.Fatal(err)
			}
			checkExtracted(t, d, got)

			// VerifyExtract writes the same disk in one read (blocks spanning its units when
			// the chunk is not the block size), and refuses a changed payload byte.
			both, err := os.Create(filepath.Join(t.TempDir(), "verified.img"))
			if err != nil {
				t.Fatal(err)
			}
			defer both.Close()
			if err := r.VerifyExtract(both); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(both.Name()); !bytes.Equal(again, got) {
				t.Error("VerifyExtract's disk differs from Extract's")
			}
			bad := bytes.Clone(b)
			bad[s.PayloadOffset+int64(len(s.Entries)-1)*int64(h.BlockSize)+7] ^= 1
			if err := openFFU(t, bad).VerifyExtract(both); err == nil || !strings.Contains(err.Error(), "does not match the hash table") {
				t.Errorf("VerifyExtract of a changed payload byte: %v; want a hash mismatch", err)
			}
		})
	}
}

// checkPhases checks the three phases: phase 1 wipes both GPT blocks; phase 2 holds the data
// of the RequiredToFlash partitions and a flash-only GPT without the others; phase 3 the other
// partitions' data, the final GPT and the backup GPT at DISK_END. It also flashes phases 1
// and 2 only, as a device does before it can be re-flashed, and reads that GPT back.
func checkPhases(t *testing.T, d *testDisk, r *Reader) {
	t.Helper()
	s := r.Stores[0]
	h := s.Header
	bs := int64(h.BlockSize)
	nblocks := uint32(d.size / bs)
	if h.InitialTableIndex != 0 || h.InitialTableCount != 1 {
		t.Errorf("initial table %d+%d, want 0+1", h.InitialTableIndex, h.InitialTableCount)
	}
	if want := []DiskLocation{{DiskBegin, 0}, {DiskEnd, 0}}; !slices.Equal(s.Entries[0].Locations, want) {
		t.Errorf("phase 1 entry: %v, want %v", s.Entries[0].Locations, want)
	}
	if h.FlashOnlyTableCount != 1 || h.FinalTableCount != 2 {
		t.Errorf("flash-only table count %d, final table count %d; want 1 and 2", h.FlashOnlyTableCount, h.FinalTableCount)
	}
	if int(h.FinalTableIndex+h.FinalTableCount) != len(s.Entries) {
		t.Errorf("final table ends at %d of %d entries", h.FinalTableIndex+h.FinalTableCount, len(s.Entries))
	}
	// Which partition holds a block, by disk block index.
	partOf := func(b uint32) *testPart {
		for i, p := range d.parts {
			start, end := int64(p.first)*int64(d.ss), int64(p.last+1)*int64(d.ss)
			if int64(b)*bs < end && int64(b+1)*bs > start {
				return &d.parts[i]
			}
		}
		return nil
	}
	stored := map[int]map[uint32]bool{1: {}, 2: {}, 3: {}}
	for k, e := range s.Entries {
		ph := s.Phase(k)
		if ph == 0 {
			t.Fatalf("entry %d is in no phase", k)
		}
		if k > 0 && len(e.Locations) != 1 {
			t.Errorf("entry %d has %d locations", k, len(e.Locations))
		}
		l := e.Locations[0]
		if l.Method == DiskEnd && k > 0 {
			if ph != 3 || k < int(h.FinalTableIndex) {
				t.Errorf("entry %d (phase %d) writes at DISK_END", k, ph)
			}
			continue
		}
		stored[ph][l.BlockIndex] = true
		if k == 0 || uint32(k) >= h.FlashOnlyTableIndex && uint32(k) < h.FlashOnlyTableIndex+h.FlashOnlyTableCount || uint32(k) >= h.FinalTableIndex {
			continue // GPT entries
		}
		if p := partOf(l.BlockIndex); p != nil && p.required != (ph == 2) {
			t.Errorf("entry %d: block %d of %s (required %v) in phase %d", k, l.BlockIndex, p.name, p.required, ph)
		}
	}
	// Every allocated block is stored in its partition's phase.
	for _, e := range d.allocated {
		for b := uint32(e.Offset / bs); int64(b)*bs < e.Offset+e.Length; b++ {
			p := partOf(b)
			ph := 2
			if p != nil && !p.required {
				ph = 3
			}
			if b != 0 && !stored[ph][b] {
				t.Errorf("allocated block %d (%v) not stored in phase %d", b, p.name, ph)
			}
		}
	}
	if len(stored[2])+len(stored[3])+2 > int(nblocks) {
		t.Errorf("too many blocks stored")
	}

	// Phases 1 and 2 only.
	partial := make(memDisk, d.size)
	for i := range partial {
		partial[i] = 0xA5 // old device contents
	}
	buf := make([]byte, bs)
	for k := 0; k < int(h.FlashOnlyTableIndex+h.FlashOnlyTableCount); k++ {
		if err := r.ReadBlock(0, k, buf); err != nil {
			t.Fatal(err)
		}
		for _, l := range s.Entries[k].Locations {
			off, _ := l.Offset(d.size, h.BlockSize)
			partial.WriteAt(buf, off)
		}
	}
	g, err := disk.ReadGPT(bytes.NewReader(partial), d.size, d.ss)
	if err != nil {
		t.Fatalf("flash-only GPT: %v", err)
	}
	var names []string
	for _, e := range g.Entries {
		names = append(names, e.Name)
	}
	var want []string
	for _, p := range d.parts {
		if p.required {
			want = append(want, p.name)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("flash-only GPT has %q, want %q", names, want)
	}
	if !allZero(partial[d.size-bs:]) {
		t.Errorf("after phase 2 the last block (backup GPT) is not wiped")
	}
}

func TestManifestContents(t *testing.T) {
	d := standardDisk(t, 512)
	img := d.image(128, true)
	img.Partitions[3].UseAllSpace = true
	img.Partitions[0].ByteAlignment = 0x10000
	img.Partitions[0].Bootable = true
	img.Partitions[1].Type = "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}"
	img.Partitions[2].UsedSectors = 7 // given: written as is
	b, _ := writeFFU(t, img)
	r := openFFU(t, b)
	// UsedSectors are the partition's sectors in the 128 KiB blocks holding its data
	// (standardDisk): EFIESP block 8 (70,000 bytes at 1 MiB), 256 sectors; MainOS blocks 40,
	// 48-50 (300,000 bytes at 6 MiB + 1000) and 72 (the block of zeros), 5 × 256 sectors.
	want := "[FullFlash]\r\n" +
		"AntiTheftVersion  = 1.1\r\n" +
		"Description       = test image\r\n" +
		"DevicePlatformId0 = Contoso.MSM8994.P6211\r\n" +
		"DevicePlatformId1 = Contoso.*\r\n" +
		"OSVersion         = 10.0.15254.0\r\n" +
		"Version           = 2.0\r\n" +
		"\r\n" +
		"[Store]\r\n" +
		"DevicePath                    = VenHw(860845C1-BE09-4355-8BC1-30D64FF8E63A)\r\n" +
		"IsMainOSStore                 = True\r\n" +
		"MinSectorCount                = 65536\r\n" +
		"OnlyAllocateDefinedGptEntries = False\r\n" +
		"SectorSize                    = 512\r\n" +
		"StoreId                       = {5a585bae-900b-41b5-b736-a4cecffc34b4}\r\n" +
		"\r\n" +
		"[Partition]\r\n" +
		"Bootable        = True\r\n" +
		"ByteAlignment   = 65536\r\n" +
		"FileSystem      = FAT32\r\n" +
		"Name            = EFIESP\r\n" +
		"RequiredToFlash = True\r\n" +
		"TotalSectors    = 8192\r\n" +
		"Type            = {c12a7328-f81f-11d2-ba4b-00a0c93ec93b}\r\n" +
		"UsedSectors     = 256\r\n" +
		"\r\n" +
		"[Partition]\r\n" +
		"FileSystem      = FAT32\r\n" +
		"Name            = MainOS\r\n" +
		"RequiredToFlash = True\r\n" +
		"TotalSectors    = 24576\r\n" +
		"Type            = {ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}\r\n" +
		"UsedSectors     = 1280\r\n" +
		"\r\n" +
		"[Partition]\r\n" +
		"FileSystem   = FAT32\r\n" +
		"Name         = CrashDump\r\n" +
		"TotalSectors = 8192\r\n" +
		"Type         = {ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}\r\n" +
		"UsedSectors  = 7\r\n" +
		"\r\n" +
		"[Partition]\r\n" +
		"FileSystem  = FAT32\r\n" +
		"Name        = Data\r\n" +
		"Type        = {ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}\r\n" +
		"UseAllSpace = true\r\n" +
		"\r\n"
	if got := string(r.ManifestBytes()); got != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", got, want)
	}
	ss := r.Manifest().StoreSections()
	if len(ss) != 1 || len(ss[0].Partitions) != 4 {
		t.Fatalf("store sections: %+v", ss)
	}
	if v, _ := ss[0].Partitions[3].Get("Name"); v != "Data" {
		t.Errorf("fourth partition %q", v)
	}
}

func TestDeterministic(t *testing.T) {
	d := standardDisk(t, 512)
	a, _ := writeFFU(t, d.image(128, false))
	b, _ := writeFFU(t, d.image(128, false))
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same image differ")
	}
	// The extent order given does not matter either.
	img := d.image(128, false)
	slices.Reverse(img.Allocated)
	c, _ := writeFFU(t, img)
	if !bytes.Equal(a, c) {
		t.Fatal("the order of Allocated changes the output")
	}
	// Nor does the number of hashing goroutines.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	e, _ := writeFFU(t, d.image(128, false))
	if !bytes.Equal(a, e) {
		t.Fatal("GOMAXPROCS=1 changes the output")
	}
}

// A mostly empty disk gives a small FFU: only allocated blocks are stored.
func TestSparse(t *testing.T) {
	const gib = 1 << 30
	d := newTestDisk(t, 8*gib, 512, []testPart{
		{"MainOS", typeBasicData, 2048, 4*gib/512 - 1, true, 0},
		{"Data", typeBasicData, 4 * gib / 512, 8*gib/512 - 2048, false, 0},
	})
	d.fill(t, 1<<20, 3<<20, 1, false)
	d.fill(t, 5*gib, 1<<20, 2, false)
	b, res := writeFFU(t, d.image(256, false))
	if res.Size > 8<<20 {
		t.Errorf("FFU of a disk with 4 MiB of data is %d bytes", res.Size)
	}
	if want := 1 + 24 + 1 + 8 + 2; res.Phase1+res.Phase2+res.Phase3 != want {
		t.Errorf("%d+%d+%d blocks, want %d", res.Phase1, res.Phase2, res.Phase3, want)
	}
	r := openFFU(t, b)
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileLeavesNothingOnError(t *testing.T) {
	d := standardDisk(t, 512)
	img := d.image(128, false)
	img.PlatformIDs = nil
	dir := t.TempDir()
	path := filepath.Join(dir, "x.ffu")
	if _, err := WriteFile(path, img); err == nil {
		t.Fatal("no error without a platform ID")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	// A failing read of the disk half-way through: no file either.
	img = d.image(128, false)
	img.Disk = failingDisk{d, 3 << 20}
	if _, err := WriteFile(path, img); err == nil || !strings.Contains(err.Error(), "reading block") {
		t.Fatalf("error %v, want a disk read error", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

type failingDisk struct {
	d     *testDisk
	after int64
}

func (f failingDisk) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.after && len(p) == BlockSize {
		return 0, os.ErrClosed
	}
	return f.d.ReadAt(p, off)
}

func TestWriteErrors(t *testing.T) {
	d := standardDisk(t, 512)
	for _, tc := range []struct {
		name   string
		change func(*Image)
		want   string
	}{
		{"disk size", func(i *Image) { i.DiskSize -= 512 }, "not a positive multiple"},
		{"sector size", func(i *Image) { i.SectorSize = 520 }, "sector size 520"},
		{"chunk", func(i *Image) { i.ChunkSizeKB = 2048 }, "chunk size 2048"},
		{"no platform", func(i *Image) { i.PlatformIDs = nil }, "no device platform ID"},
		{"long platform", func(i *Image) { i.PlatformIDs = []string{strings.Repeat("x", 100), strings.Repeat("y", 91)} }, "store header holds 191"},
		{"platform byte", func(i *Image) { i.PlatformIDs = []string{"a\x00b"} }, "not printable"},
		{"unknown partition", func(i *Image) { i.Partitions[1].Name = "MainOs" }, `"MainOs" is not in the primary GPT`},
		{"missing partition", func(i *Image) { i.Partitions = i.Partitions[:3] }, `"Data") is not in Partitions`},
		{"twice", func(i *Image) { i.Partitions[2] = i.Partitions[1] }, "listed twice"},
		{"LBAs", func(i *Image) { i.Partitions[0].LastLBA++ }, "LBAs 2048..10240"},
		{"extent", func(i *Image) { i.Allocated = append(i.Allocated, disk.Extent{Offset: i.DiskSize - 10, Length: 11}) }, "outside the"},
		{"negative extent", func(i *Image) { i.Allocated = append(i.Allocated, disk.Extent{Offset: -1, Length: 1}) }, "outside the"},
		{"newline", func(i *Image) { i.Description = "a\nb" }, "control character"},
		{"min sectors", func(i *Image) { i.Store.MinSectorCount = 1 }, "MinSectorCount 1"},
		{"no disk", func(i *Image) { i.Disk = nil }, "no disk"},
		{"catalog time", func(i *Image) { i.CatalogTime = DefaultCatalogTime.AddDate(100, 0, 0) }, "UTCTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := d.image(128, false)
			tc.change(img)
			_, err := Write(&discardSeeker{}, img)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Broken GPTs on the input disk.
func TestWriteBadGPT(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  func(d *testDisk) int64
		want string
	}{
		{"primary signature", func(d *testDisk) int64 { return 512 }, "primary GPT: no \"EFI PART\" signature at LBA 1"},
		{"primary header CRC", func(d *testDisk) int64 { return 512 + 40 }, "primary GPT at LBA 1: header CRC32"},
		{"primary entries", func(d *testDisk) int64 { return 1024 + 60 }, "primary GPT at LBA 1: entry array CRC32"},
		{"backup header", func(d *testDisk) int64 { return d.size - 512 + 40 }, "backup GPT at LBA 65535: header CRC32"},
		{"backup entries", func(d *testDisk) int64 { return d.size - 33*512 + 60 }, "backup GPT at LBA 65535: entry array CRC32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := standardDisk(t, 512)
			b := []byte{0}
			d.f.ReadAt(b, tc.off(d))
			b[0] ^= 0xFF
			d.writeAt(t, b, tc.off(d))
			_, err := Write(&discardSeeker{}, d.image(128, false))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

type discardSeeker struct{ pos, size int64 }

func (d *discardSeeker) Write(p []byte) (int, error) {
	d.pos += int64(len(p))
	d.size = max(d.size, d.pos)
	return len(p), nil
}

func (d *discardSeeker) Seek(off int64, whence int) (int64, error) {
	d.pos = off
	return off, nil
}

// Corruption and truncation are found by Verify (or by Open when a header no longer fits).
func TestVerifyDetects(t *testing.T) {
	d := standardDisk(t, 512)
	good, _ := writeFFU(t, d.image(128, false))
	r := openFFU(t, good)
	s := r.Stores[0]
	flip := func(off int64) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 1; return b }
	}
	digest := sha1.Sum(r.HashTable())
	lastBlock := s.PayloadOffset + int64(len(s.Entries)-1)*BlockSize
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
		want   string // from Open or Verify
	}{
		{"manifest", flip(r.ImageOffset + imageHeaderSize + int64(bytes.Index(r.ManifestBytes(), []byte("test image")))),
			fmt.Sprintf("chunk 0 (offset %d, image header and manifest): SHA-256 does not match", r.ImageOffset)},
		{"store header", flip(s.HeaderOffset + 100), fmt.Sprintf("chunk 1 (offset %d, store 1 header and descriptors)", s.HeaderOffset)},
		{"payload", flip(s.PayloadOffset + 5*BlockSize + 77), "store 1 payload block 5): SHA-256"},
		{"last block", flip(lastBlock + BlockSize - 1), fmt.Sprintf("store 1 payload block %d): SHA-256", len(s.Entries)-1)},
		{"hash table", flip(securityHeaderSize + int64(r.Security.CatalogSize) + 3), "does not match the hash table's"},
		{"catalog digest", flip(securityHeaderSize + int64(bytes.Index(r.Catalog(), digest[:]))), "catalog: HashTable.blob SHA-1"},
		{"truncated in a chunk", func(b []byte) []byte { return b[:len(b)-1000] }, "beyond the end of the file"},
		{"truncated padding", func(b []byte) []byte {
			return b[:len(b)-BlockSize]
		}, "beyond the end of the file"},
		{"appended", func(b []byte) []byte { return append(b, 0) }, "1 bytes after the last hashed chunk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.change(bytes.Clone(good))
			r, err := Open(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				err = r.Verify()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A chunk size larger than the block: the end is padded to the chunk, and a file cut in the
// padding is reported by Verify as truncated, naming the chunk.
func TestVerifyTruncatedPadding(t *testing.T) {
	d := standardDisk(t, 512)
	for _, kb := range []uint32{256, 1024} {
		good, _ := writeFFU(t, d.image(kb, false))
		r := openFFU(t, good)
		s := r.Stores[0]
		end := s.PayloadOffset + int64(len(s.Entries))*BlockSize
		if int64(len(good)) == end {
			continue // no padding with this layout
		}
		b := good[:end]
		r, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		err = r.Verify()
		if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "chunk ") {
			t.Fatalf("chunk %d KB: error %v, want a truncated chunk", kb, err)
		}
	}
}

// Headers that Open must refuse, made by changing fields of a good image.
func TestOpenRejects(t *testing.T) {
	d := standardDisk(t, 512)
	good, _ := writeFFU(t, d.image(128, false))
	r := openFFU(t, good)
	s := r.Stores[0].HeaderOffset
	w := s + storeHeaderV1Size // first write descriptor
	le := binary.LittleEndian
	put32 := func(off int64, v uint32) func([]byte) { return func(b []byte) { le.PutUint32(b[off:], v) } }
	put16 := func(off int64, v uint16) func([]byte) { return func(b []byte) { le.PutUint16(b[off:], v) } }
	// inManifest replaces old by new (same length) in the manifest.
	inManifest := func(old, new string) func([]byte) {
		return func(b []byte) {
			i := bytes.Index(r.ManifestBytes(), []byte(old))
			if i < 0 || len(old) != len(new) {
				t.Fatalf("manifest edit %q -> %q", old, new)
			}
			copy(b[r.ImageOffset+imageHeaderSize+int64(i):], new)
		}
	}
	for _, tc := range []struct {
		name   string
		change func([]byte)
		want   string
	}{
		{"security cbSize", put32(0, 33), "cbSize 33"},
		{"security signature", func(b []byte) { b[5] = 'x' }, "signature"},
		{"chunk 0", put32(16, 0), "chunk size 0 KB"},
		{"chunk huge", put32(16, 4096), "chunk size 4096 KB"},
		{"algorithm", put32(20, 0x8004), "hash algorithm 0x8004"},
		{"catalog size", put32(24, 1<<31), "catalog of 2147483648 bytes is over the limit of 1048576 bytes"},
		{"hash table size huge", put32(28, 1<<31), "hash table of 2147483648 bytes is over the limit of 268435456 bytes"},
		{"catalog beyond the file", func(b []byte) { put32(24, 1<<20)(b); put32(28, 2<<20)(b) }, "beyond the end of the file"},
		{"hash table size", put32(28, 33), "not a multiple of 32"},
		{"image cbSize", put32(r.ImageOffset, 25), "cbSize 25"},
		{"image signature", func(b []byte) { b[r.ImageOffset+15] = 'x' }, "signature"},
		{"image chunk", put32(r.ImageOffset+20, 256), "chunk size 256 KB, but"},
		{"manifest length", put32(r.ImageOffset+16, 1<<30), "manifest of 1073741824 bytes is over the limit of 1048576 bytes"},
		{"manifest version", func(b []byte) {
			copy(b[r.ImageOffset+24+int64(bytes.Index(r.ManifestBytes(), []byte("2.0\r"))):], "3.0")
		}, "Version \"3.0\""},
		{"store version", put16(s+4, 3), "store header version 3.0"},
		{"compressed", put16(s+8, 3), "compressed store"},
		{"block size", put32(s+0xCC, 1000), "block size 1000"},
		{"block size 0", put32(s+0xCC, 0), "block size 0"},
		{"descriptor count", put32(s+0xD0, 1<<30), "cannot fit"},
		{"descriptor length", put32(s+0xD4, 1<<31), "2147483648 bytes of write descriptors are over the limit of 67108864 bytes"},
		{"descriptor length beyond the file", put32(s+0xD4, 64<<20), "go beyond the end of the file"},
		{"validation length huge", put32(s+0xDC, 0xFFFFFFFF), "4294967295 bytes of validation descriptors are over the limit"},
		{"descriptor length short", func(b []byte) { le.PutUint32(b[s+0xD4:], le.Uint32(b[s+0xD4:])-8) }, "go beyond the write descriptors"},
		{"descriptor length long", func(b []byte) { le.PutUint32(b[s+0xD4:], le.Uint32(b[s+0xD4:])+8) }, "8 bytes left after"},
		{"validation count", put32(s+0xD8, 1), "hold fewer than 1 descriptors"},
		{"validation length", put32(s+0xDC, 12), "bytes left after 0 validation"},
		{"initial table", put32(s+0xE0, 0xFFFFFFFF), "initial table index 4294967295"},
		{"final table", put32(s+0xF4, 1000), "final table index"},
		{"block count", put32(w+4, 2), "dwBlockCount 2, want 1"},
		{"no location", put32(w, 0), "no disk location"},
		{"locations overflow", put32(w, 0x20000000), "disk locations go beyond"},
		{"access method", put32(w+8, 1), "disk access method 1"},
		{"DISK_BEGIN beyond", put32(w+12, 256), "DISK_BEGIN 256 is beyond the disk"},
		{"DISK_END beyond", put32(w+20, 1000), "DISK_END 1000 is beyond the disk"},
		{"update type", put32(s, 7), "update type 7"},
		{"no MinSectorCount", inManifest("MinSectorCount", "MinSectorCoun "), "writes at DISK_END, but the manifest gives no MinSectorCount"},
		{"sector size", inManifest("= 512\r\n", "= 500\r\n"), `SectorSize "500"`},
		{"no store section", inManifest("[Store]", "[Stora]"), "0 [Store] sections for 1 store headers"},
		{"small disk", inManifest("= 65536\r\n", "= 16384\r\n"), "is beyond the disk (8388608 bytes, 64 blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tc.change(b)
			_, err := Open(bytes.NewReader(b), int64(len(b)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	for _, n := range []int{0, 10, 31, 100} {
		if _, err := Open(bytes.NewReader(good[:n]), int64(n)); err == nil {
			t.Errorf("%d bytes open", n)
		}
	}
}

// Partitions not aligned to blocks: a block holding a partition boundary is stored once per
// phase, in every phase of the partitions (and unpartitioned bytes) it holds.
func TestUnalignedPartitions(t *testing.T) {
	d := newTestDisk(t, 16<<20, 512, []testPart{
		{"A", typeBasicData, 2048, 2300, true, 0},    // block 8
		{"B", typeBasicData, 2301, 2600, true, 0},    // blocks 8-10
		{"C", typeBasicData, 2601, 5000, false, 0},   // blocks 10-19
		{"D", typeBasicData, 5101, 8000, true, 0},    // blocks 19-31, after a gap in block 19
		{"E", typeBasicData, 20480, 20600, false, 0}, // block 80, no data
	})
	d.fill(t, 2048*512, (8001-2048)*512, 9, false)
	b, _ := writeFFU(t, d.image(128, false))
	r := openFFU(t, b)
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	s := r.Stores[0]
	got := map[int][]uint32{}
	for k, e := range s.Entries {
		ph := s.Phase(k)
		if k == 0 || e.Locations[0].BlockIndex == 0 || e.Locations[0].Method == DiskEnd {
			continue // phase 1 and GPT blocks
		}
		got[ph] = append(got[ph], e.Locations[0].BlockIndex)
	}
	want2 := []uint32{8, 9, 10, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}
	want3 := []uint32{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	if !slices.Equal(got[2], want2) || !slices.Equal(got[3], want3) {
		t.Errorf("phase 2 blocks %v, want %v\nphase 3 blocks %v, want %v", got[2], want2, got[3], want3)
	}
	// Every partition but E is allocated whole, and UsedSectors stops at its bounds even where
	// its blocks hold its neighbours.
	for i, want := range []string{"253", "300", "2400", "2900", "0"} {
		if v, _ := s.Manifest.Partitions[i].Get("UsedSectors"); v != want {
			t.Errorf("partition %d: UsedSectors %s, want %s", i, v, want)
		}
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "x.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := r.Extract(out); err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(out.Name())
	checkExtracted(t, d, disk)
}

// DiskReader shows the same disk as Extract, without writing it.
func TestDiskReader(t *testing.T) {
	d := standardDisk(t, 512)
	b, _ := writeFFU(t, d.image(256, true))
	r := openFFU(t, b)
	view, err := r.DiskReader(0)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Stores[0]
	extracted := make(memDisk, s.DiskSize)
	if err := r.extractTo(0, extracted); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, s.DiskSize)
	if n, err := view.ReadAt(got, 0); n != len(got) || err != nil {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	if !bytes.Equal(got, extracted) {
		t.Fatal("DiskReader differs from Extract")
	}
	checkExtracted(t, d, got)
	if n, err := view.ReadAt(make([]byte, 10), s.DiskSize-4); n != 4 || err == nil {
		t.Errorf("read across the end: %d, %v", n, err)
	}
	g, err := disk.ReadGPT(view, s.DiskSize, s.SectorSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Entries) != 4 || g.Entries[3].Name != "Data" || g.Entries[1].Attributes != 0x8000000000000000 {
		t.Errorf("GPT entries %+v", g.Entries)
	}
}

// TestVerifyExtractSpansUnits: with a chunk that is not the block size (64 and 100 KB), the
// units VerifyExtract is handed cut blocks in two; every block of random data still lands
// whole at its disk offset.
func TestVerifyExtractSpansUnits(t *testing.T) {
	for _, chunkKB := range []uint32{64, 100, 128} {
		t.Run(fmt.Sprint(chunkKB), func(t *testing.T) {
			d := standardDisk(t, 512)
			d.fill(t, 21<<20, 6<<20, int64(chunkKB), false) // 48 blocks of random bytes in Data
			b, _ := writeFFU(t, d.image(chunkKB, true))
			r := openFFU(t, b)
			dir := t.TempDir()
			want, err := os.Create(filepath.Join(dir, "extracted.img"))
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			if err := r.Extract(want); err != nil {
				t.Fatal(err)
			}
			got, err := os.Create(filepath.Join(dir, "verified.img"))
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if err := r.VerifyExtract(got); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(want.Name())
			c, _ := os.ReadFile(got.Name())
			if !bytes.Equal(a, c) {
				t.Error("VerifyExtract's disk differs from Extract's")
			}
		})
	}
}
