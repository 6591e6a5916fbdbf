package ffu

import (
	"bytes"
	"fmt"
	"testing"
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
		disk := make(memDisk, s.DiskSize)
		if err := r.extractTo(0, disk); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadGPT(bytes.NewReader(disk), s.DiskSize, 512); err != nil {
			t.Error(err)
		}
		if _, err := ReadBackupGPT(bytes.NewReader(disk), s.DiskSize, 512); err != nil {
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
				_, _ = ReadGPT(v, s.DiskSize, s.SectorSize)
				_, _ = ReadBackupGPT(v, s.DiskSize, s.SectorSize)
			}
		}
	})
}

// FuzzManifest: the parser never panics, and what it accepts formats to text it reads back
// the same.
func FuzzManifest(f *testing.F) {
	r, err := Open(bytes.NewReader(smallFFU(f, true)), int64(len(smallFFU(f, true))))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(r.ManifestBytes())
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
