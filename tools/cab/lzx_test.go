package cab

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// x86ish is content full of E8 (CALL) bytes, which LZX's E8 translation rewrites.
func x86ish(seed int64, n int) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n+8)
	for len(b) < n {
		if r.Intn(4) == 0 {
			v := int32(r.Intn(1<<16) - 1<<15)
			b = append(b, 0xE8, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		} else {
			b = append(b, byte(r.Intn(64)))
		}
	}
	return b[:n]
}

// lzxEntries are files that make an LZX folder slide its window and use every block type.
func lzxEntries() []entry {
	return []entry{
		{"man.dsm.xml", []byte("<Package/>")},
		{`Windows\System32\a.dll`, x86ish(1, 300000)},
		{"random.bin", randomBytes(5, 3*blockSize+17)},
		{"text.txt", text(400000)},
		{"again.dll", x86ish(1, 100000)},
		{"zeros", make([]byte, 70000)},
		{"odd", text(blockSize*2 + 1)},
	}
}

// TestLZXCabextract writes LZX cabinets at every window size: cabextract (libmspack, an
// independent decoder) must test and extract them, and our reader must read them back.
func TestLZXCabextract(t *testing.T) {
	cabextract := checker.Find(t, "cabextract")
	entries := lzxEntries()
	for bits := 15; bits <= 21; bits++ {
		t.Run(fmt.Sprint(bits), func(t *testing.T) {
			b := write(t, entries, Options{Compression: LZXWindow(bits)})
			got := readAll(t, b)
			for _, e := range entries {
				if !bytes.Equal(got[e.name], e.data) {
					t.Errorf("our reader: %s differs", e.name)
				}
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "lzx.cab")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if out := checker.Run(t, dir, cabextract, "-t", path); !strings.Contains(out, "All done, no errors") {
				t.Errorf("cabextract -t:\n%s", out)
			}
			out := filepath.Join(dir, "x")
			checker.Run(t, dir, cabextract, "-q", "-d", out, path)
			for _, e := range entries {
				got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(strings.ReplaceAll(e.name, `\`, "/"))))
				if err != nil || !bytes.Equal(got, e.data) {
					t.Errorf("cabextract's %s differs (%v)", e.name, err)
				}
			}
			t.Logf("window 2^%d: %d bytes", bits, len(b))
		})
	}
}

// TestLZXHeader checks the folder's typeCompress: LZX with the window in the high byte.
func TestLZXHeader(t *testing.T) {
	for _, tc := range []struct {
		opt  Compression
		want uint16
	}{{LZX, 0x1503}, {LZXWindow(15), 0x0F03}, {LZXWindow(18), 0x1203}} {
		b := write(t, []entry{{"a", text(1000)}}, Options{Compression: tc.opt})
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got := uint16(r.Folders[0].Compression); got != tc.want {
			t.Errorf("%#x: typeCompress %#x, want %#x", uint16(tc.opt), got, tc.want)
		}
	}
}
