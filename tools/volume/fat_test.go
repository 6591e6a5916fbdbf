package volume

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/fat"
)

// baseVolume is a small FAT32 volume written by tools/fat: 512-byte clusters, a file of 6
// clusters at the root, a subdirectory with a file, a long name.
func baseVolume(t *testing.T) []byte {
	t.Helper()
	const size = 40 << 20
	path := filepath.Join(t.TempDir(), "base.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	w, err := fat.New(f, 0, size, fat.Options{Type: fat.FAT32, ClusterSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range []struct{ path, data string }{
		{`\DATA.BIN`, strings.Repeat("d", 3000)},
		{`\SUB\INNER.TXT`, "inner"},
		{`\SUB\Long File Name.txt`, "long"},
	} {
		if err := w.AddFile(fl.path, int64(len(fl.data)), strings.NewReader(fl.data), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fat32Geometry is what the corruptions need of a FAT32 boot sector.
type fat32Geometry struct{ ss, fatStart, fatBytes, fats, dataStart, clusterBytes int }

func geometry(b []byte) fat32Geometry {
	le := binary.LittleEndian
	ss := int(le.Uint16(b[11:]))
	g := fat32Geometry{ss: ss, fatStart: int(le.Uint16(b[14:])) * ss, clusterBytes: int(b[13]) * ss}
	g.fats, g.fatBytes = int(b[16]), int(le.Uint32(b[36:]))*ss
	g.dataStart = g.fatStart + g.fats*g.fatBytes
	return g
}

// entry finds the directory entry with an 8.3 name ("DATA    BIN").
func entry(t *testing.T, b []byte, short string) int {
	t.Helper()
	i := bytes.Index(b, []byte(short))
	if i < 0 || i%32 != 0 {
		t.Fatalf("no directory entry %q", short)
	}
	return i
}

func firstCluster(b []byte, e int) uint32 {
	return uint32(binary.LittleEndian.Uint16(b[e+20:]))<<16 | uint32(binary.LittleEndian.Uint16(b[e+26:]))
}

// setFAT sets a cluster's entry in every FAT (readers may check that the copies agree).
func setFAT(b []byte, g fat32Geometry, c, v uint32) {
	for i := 0; i < g.fats; i++ {
		binary.LittleEndian.PutUint32(b[g.fatStart+i*g.fatBytes+4*int(c):], v)
	}
}

// readAll opens the volume and reads every file, as imgtowim does.
func readAll(disk *os.File, size int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	v, err := OpenFAT(disk, 0, size, 512)
	if err != nil {
		return err
	}
	err = v.Walk(func(e Entry, r io.Reader) error {
		if r != nil {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = v.ReadFile(`\SUB\INNER.TXT`)
	return err
}

// TestFATCorrupt: each bad shape of a FAT volume is an error that says what is wrong, never a
// panic, an allocation the size of a claimed field, or a hang. What go-diskfs 1.9.4 (the
// reader before tools/fat's) did with each is noted.
func TestFATCorrupt(t *testing.T) {
	base := baseVolume(t)
	g := geometry(base)
	le := binary.LittleEndian
	tests := []struct {
		name    string
		corrupt func(t *testing.T, b []byte)
		want    string
	}{
		// slice bounds out of range [:4] with capacity 0
		{"zero sectors per FAT", func(t *testing.T, b []byte) { le.PutUint32(b[36:], 0) }, "sectors per FAT"},
		// out of memory: cannot allocate 2147483648-byte block
		{"huge sectors per FAT", func(t *testing.T, b []byte) { le.PutUint32(b[36:], 1<<22) }, "beyond"},
		// index out of range [6] with length 6
		{"file larger than its chain", func(t *testing.T, b []byte) {
			le.PutUint32(b[entry(t, b, "DATA    BIN")+28:], 1<<20)
		}, `\DATA.BIN`},
		// out of memory (the cluster list grows forever)
		{"file chain loop", func(t *testing.T, b []byte) {
			first := firstCluster(b, entry(t, b, "DATA    BIN"))
			setFAT(b, g, first+5, first)
		}, `\DATA.BIN`},
		// out of memory
		{"directory chain loop", func(t *testing.T, b []byte) {
			sub := firstCluster(b, entry(t, b, "SUB        "))
			setFAT(b, g, sub, sub)
		}, `\SUB`},
		// no answer (the walk recurses forever)
		{"directory cycle", func(t *testing.T, b []byte) {
			e := entry(t, b, "INNER   TXT")
			sub := firstCluster(b, entry(t, b, "SUB        "))
			b[e+11] = 0x10
			le.PutUint16(b[e+20:], uint16(sub>>16))
			le.PutUint16(b[e+26:], uint16(sub))
		}, `\SUB\INNER.TXT`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(base)
			tt.corrupt(t, b)
			path := filepath.Join(t.TempDir(), "bad.img")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			done := make(chan error, 1)
			go func() { done <- readAll(f, int64(len(b))) }()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("no answer within 20 s")
			}
			if err == nil || strings.HasPrefix(err.Error(), "panic") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want an error naming %q", err, tt.want)
			}
			t.Log(err)
		})
	}
}
