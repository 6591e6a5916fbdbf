package ntfs

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// stampReader yields n bytes of zeros with an 8-byte stamp (the offset) every 64 MiB, so a
// file above 4 GiB costs little disk when zero chunks are skipped.
type stampReader struct{ off, n int64 }

const stampEvery = 64 << 20

func (r *stampReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	clear(p)
	for s := (r.off + stampEvery - 1) / stampEvery * stampEvery; s < r.off+int64(len(p)); s += stampEvery {
		for i := int64(0); i < 8 && s+i < r.off+int64(len(p)); i++ {
			p[s+i-r.off] = byte(s >> (8 * i))
		}
	}
	r.off += int64(len(p))
	return len(p), nil
}

var zeros = make([]byte, 64<<10)

// sparseWriter skips writing all-zero buffers: the test's image is a fresh sparse file.
type sparseWriter struct{ f *os.File }

func (w sparseWriter) WriteAt(p []byte, off int64) (int, error) {
	for rest := p; len(rest) > 0; {
		n := min(len(rest), len(zeros))
		if !bytes.Equal(rest[:n], zeros[:n]) {
			return w.f.WriteAt(p, off)
		}
		rest = rest[n:]
	}
	return len(p), nil
}

// TestFileAbove4GiB writes a file of 4 GiB + 5 bytes (sizes and runs past 32 bits) and has
// ntfscat and the reader read it back.
func TestFileAbove4GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 4 GiB back")
	}
	cat := checker.Find(t, "ntfscat")
	const size, vol = 4<<30 + 5, 5 << 30
	path := filepath.Join(t.TempDir(), "big.img")
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := img.Truncate(vol); err != nil {
		t.Fatal(err)
	}
	w, err := New(sparseWriter{img}, 0, vol, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(`\a.txt`, 1, &stampReader{n: 1}, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(`\Data\huge.bin`, size, &stampReader{n: size}, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(`\z.txt`, 5000, &stampReader{n: 5000}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ntfsfix(t, path)
	want := sha256.New()
	io.Copy(want, &stampReader{n: size})
	got := sha256.New()
	cmd := exec.Command(cat, path, "/Data/huge.bin")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = got, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ntfscat: %v\n%s", err, stderr.Bytes())
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Error("ntfscat returns other bytes than written")
	}
	v := openVolume(t, path)
	fi, err := v.Stat(`\Data\huge.bin`)
	if err != nil || fi.Size != size {
		t.Fatalf("Stat: %+v %v, want %d bytes", fi, err, int64(size))
	}
	f, err := v.OpenFile(`\Data\huge.bin`)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	if _, err := f.ReadAt(b, 63*stampEvery); err != nil || le.Uint64(b) != 63*stampEvery {
		t.Errorf("reader at 4032 MiB: %x %v", b, err)
	}
	// The last 5 bytes: the start of the stamp at 4 GiB, then the end of the file.
	clear(b)
	if n, err := f.ReadAt(b, 64*stampEvery); n != 5 || err != io.EOF || le.Uint64(b) != 64*stampEvery {
		t.Errorf("reader at 4 GiB: %d bytes %x %v, want 5 bytes of the stamp and EOF", n, b[:n], err)
	}
}
