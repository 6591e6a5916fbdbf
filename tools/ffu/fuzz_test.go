package ffu

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// smallFFU is a valid image with 4 KiB blocks and 1 KB chunks (the writer's test hook), small
// enough for the fuzzer to mutate.
func smallFFU(t testing.TB, v2 bool) []byte {
	t.Helper()
	const size = 256 << 10
	d := newTestDisk(t, size, 512, []testPart{
		{"EFIESP", typeESP, 64, 191, true, 0},
		{"Data", typeBasicData, 192, 447, false, 0},
	})
	d.fill(t, 64*512, 600, 1, false)
	d.fill(t, 192*512+5000, 100, 2, false)
	img := d.image(1, v2)
	img.blockSize, img.wipeBlocks = 4096, 1
	b, _ := writeFFU(t, img)
	return b
}

func TestSmallBlocks(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		b := smallFFU(t, v2)
		r := openFFU(t, b)
		if err := r.Verify(); err != nil {
			t.Fatal(err)
		}
		s := r.Stores[0]
		if s.Header.BlockSize != 4096 || s.Header.InitialTableCount != 1 {
			t.Errorf("block size %d, initial table %d", s.Header.BlockSize, s.Header.InitialTableCount)
		}
		extracted := make(memDisk, s.DiskSize)
		if err := r.extractTo(0, extracted); err != nil {
			t.Fatal(err)
		}
		if _, err := disk.ReadGPT(bytes.NewReader(extracted), s.DiskSize, 512); err != nil {
			t.Error(err)
		}
		if _, err := disk.ReadBackupGPT(bytes.NewReader(extracted), s.DiskSize, 512); err != nil {
			t.Error(err)
		}
	}
}

// boundedDisk accepts writes that lie within the disk and fails the test otherwise.
type boundedDisk struct {
	t    *testing.T
	size int64
}

func (b boundedDisk) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > b.size {
		b.t.Fatalf("write of %d bytes at %d on a disk of %d bytes", len(p), off, b.size)
	}
	return len(p), nil
}

func FuzzOpen(f *testing.F) {
	f.Add(smallFFU(f, false))
	f.Add(smallFFU(f, true))
	f.Add([]byte("SignedImage "))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		_ = r.Verify()
		_ = fmt.Sprint(r.Manifest().StoreSections(), r.where(0), r.where(r.Size()-1))
		for i, s := range r.Stores {
			buf := make([]byte, s.Header.BlockSize)
			for k := range s.Entries {
				_ = s.Phase(k)
				if err := r.ReadBlock(i, k, buf); err != nil {
					t.Fatalf("ReadBlock(%d, %d) of an opened image: %v", i, k, err)
				}
			}
			if err := r.extractTo(i, boundedDisk{t, s.DiskSize}); err != nil {
				t.Fatalf("extract store %d: %v", i+1, err)
			}
			if v, err := r.DiskReader(i); err == nil {
				_, _ = disk.ReadGPT(v, s.DiskSize, s.SectorSize)
				_, _ = disk.ReadBackupGPT(v, s.DiskSize, s.SectorSize)
			}
			ext := r.StoredExtents(i)
			for k, e := range ext {
				if e.Length <= 0 || e.Offset < 0 || e.Offset+e.Length > s.DiskSize || k > 0 && e.Offset <= ext[k-1].Offset+ext[k-1].Length {
					t.Fatalf("store %d: stored extent %d %+v: not a sorted, disjoint range of the %d-byte disk (%+v)", i+1, k, e, s.DiskSize, ext)
				}
			}
		}
		_, _ = r.Rewrite(bytes.NewReader(nil))
	})
}

// FuzzManifest: the parser never panics, and what it accepts formats to text it reads back
// the same.
func FuzzManifest(f *testing.F) {
	f.Add(openFFU(f, smallFFU(f, true)).ManifestBytes())
	for _, s := range []string{
		"[FullFlash]\nVersion=2.0\n  OSVersion   =   10.0  \n",
		"[FullFlash]\r\nDescription = one\r\ntwo words\r\n  three \r\nVersion = 2.0\r\n",
		"[A]\r\nk = 1\r\nk = 2\r\n",
		"Version = 2.0\r\n",
		"[]\r\n[a = b]\r\nk = \xc3\xa9\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Add(manyKeys(2000))
	f.Add(longDescription(2000))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		text := m.Bytes()
		back, err := ParseManifest(text)
		if err != nil {
			t.Fatalf("formatted manifest does not parse: %v\n%q", err, text)
		}
		if again := back.Bytes(); !bytes.Equal(again, text) {
			t.Fatalf("formatted twice:\n%q\n%q", text, again)
		}
		_ = m.StoreSections()
	})
}

// countingDisk counts the blocks written to it, within the disk (boundedDisk's check).
type countingDisk struct {
	boundedDisk
	writes *int64
}

func (c countingDisk) WriteAt(p []byte, off int64) (int, error) {
	*c.writes++
	return c.boundedDisk.WriteAt(p, off)
}

// FuzzStore opens files whose security and image headers are right, with fuzzed [Store] keys
// and store bytes (header, validation and write descriptors, payload): what opens reads every
// block, and extracting it writes no more blocks than the disk has plus the descriptors. The
// seeds are stores of a few 512-byte blocks, small for the fuzzer to minimize.
func FuzzStore(f *testing.F) {
	keys := "SectorSize = 512\r\nMinSectorCount = 64\r\n"
	f.Add(keys, rawStore(512, []BlockEntry{begin(0, 63), begin(5)}))
	f.Add(keys, rawStore(4096, []BlockEntry{begin(0), begin(1, 2, 3)}))
	f.Add("SectorSize = 512\r\n", rawStore(512, []BlockEntry{begin(9)}))
	f.Add("SectorSize = 4096\r\nMinSectorCount = 4294967295\r\n", rawStore(512, []BlockEntry{{Locations: []DiskLocation{{DiskEnd, 0}}}}))
	f.Add(keys, rawStoreVersion(2, 512, []BlockEntry{begin(0, 63), begin(2), {Locations: []DiskLocation{{DiskEnd, 0}}}}))
	f.Fuzz(func(t *testing.T, keys string, store []byte) {
		b := storeFile(keys, store)
		r, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		_ = r.Verify()
		for i, s := range r.Stores {
			buf := make([]byte, s.Header.BlockSize)
			for k := range s.Entries {
				if err := r.ReadBlock(i, k, buf); err != nil {
					t.Fatalf("ReadBlock(%d, %d): %v", i, k, err)
				}
			}
			var writes int64
			if err := r.extractTo(i, countingDisk{boundedDisk{t, s.DiskSize}, &writes}); err != nil {
				t.Fatalf("extract store %d: %v", i+1, err)
			}
			if limit := s.DiskSize/int64(s.Header.BlockSize) + int64(len(s.Entries)); writes > limit {
				t.Fatalf("store %d: %d block writes, more than %d", i+1, writes, limit)
			}
			if v, err := r.DiskReader(i); err == nil {
				_, _ = disk.ReadGPT(v, s.DiskSize, s.SectorSize)
				_, _ = disk.ReadBackupGPT(v, s.DiskSize, s.SectorSize)
			}
			ext := r.StoredExtents(i)
			for k, e := range ext {
				if e.Length <= 0 || e.Offset < 0 || e.Offset+e.Length > s.DiskSize || k > 0 && e.Offset <= ext[k-1].Offset+ext[k-1].Length {
					t.Fatalf("store %d: stored extent %d %+v: not a sorted, disjoint range of the %d-byte disk (%+v)", i+1, k, e, s.DiskSize, ext)
				}
			}
		}
		_, _ = r.Rewrite(bytes.NewReader(nil))
	})
}
