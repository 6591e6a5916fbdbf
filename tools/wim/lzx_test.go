package wim

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// x86ish is data full of E8 bytes with small operands, as in x86 code: the E8 translation
// changes much of it.
func x86ish(seed int64, n int) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n+8)
	for len(b) < n {
		switch r.Intn(4) {
		case 0:
			v := int32(r.Intn(1<<16) - 1<<15)
			b = append(b, 0xE8, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		case 1:
			b = append(b, 0x8B, 0x45, byte(r.Intn(16)), 0x89)
		default:
			b = append(b, byte(r.Intn(256)))
		}
	}
	return b[:n]
}

// lzxEntries is a tree that exercises the LZX coder: literals, long and repeated matches,
// E8 translation, incompressible chunks and file sizes around chunk boundaries.
func lzxEntries() []entry {
	zeros := make([]byte, 300000)
	rep := make([]byte, 0, 200000)
	for len(rep) < 200000 {
		rep = append(rep, text(3, 700)...)
	}
	return []entry{
		file("text.txt", text(21, 400000)), file("mixed.bin", mixed(22, 500000)),
		file("random.bin", randomBytes(23, 100000)), file("code.exe", x86ish(24, 700000)),
		file("zeros", zeros), file("rep.txt", rep), file("small", []byte("abcabcabcabc")),
		file("x32767", mixed(25, 32767)), file("x32769", mixed(26, 32769)), file("tiny", []byte{0xE8}),
	}
}

// TestReadWimlibLZX reads LZX WIMs that wimlib-imagex (an independent encoder) wrote, at
// each chunk size (window) wimlib writes.
func TestReadWimlibLZX(t *testing.T) {
	wimlib := checker(t, "wimlib-imagex")
	entries := lzxEntries()
	src := filepath.Join(t.TempDir(), "src")
	for _, e := range entries {
		p := filepath.Join(src, e.path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, chunk := range []int{32768, 65536, 1 << 18, 1 << 21} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.wim")
			run(t, wimlib, "capture", src, path, "--compress=LZX", fmt.Sprintf("--chunk-size=%d", chunk))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, r := readTree(t, b)
			if r.Compression != LZX || r.Header.ChunkSize != uint32(chunk) {
				t.Errorf("compression %v, chunk size %d", r.Compression, r.Header.ChunkSize)
			}
			diffTrees(t, "our reader of wimlib's LZX WIM", got, want(entries))
		})
	}
}

// TestWriteLZX writes LZX WIMs at several chunk sizes: wimlib-imagex (an independent
// decoder) must verify and apply them, and our reader must read them back.
func TestWriteLZX(t *testing.T) {
	entries := lzxEntries()
	for _, chunk := range []int{0, 65536, 1 << 21} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			b := writeWIM(t, entries, Options{Compression: LZX, ChunkSize: chunk})
			got, r := readTree(t, b)
			if r.Compression != LZX {
				t.Errorf("compression %v", r.Compression)
			}
			diffTrees(t, "our reader", got, want(entries))
			wimlibCheck(t, b, want(entries))
			t.Logf("chunk %d: %d bytes", chunk, len(b))
		})
	}
}
