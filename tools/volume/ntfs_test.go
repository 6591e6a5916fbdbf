package volume

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/ntfs"
)

// zeros yields n zero bytes without holding them.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestNTFSReadFileLimit: ReadFile reads small files whole and refuses one past MaxReadFile,
// naming it and the limit; Walk streams that file whole.
func TestNTFSReadFileLimit(t *testing.T) {
	const size = 96 << 20
	path := filepath.Join(t.TempDir(), "ntfs.img")
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := img.Truncate(size); err != nil {
		t.Fatal(err)
	}
	w, err := ntfs.New(img, 0, size, ntfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layout := []byte("<DeviceLayout/>")
	if err := w.AddFile(`\Windows\ImageUpdate\DeviceLayout.xml`, int64(len(layout)), bytes.NewReader(layout), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(`\Windows\big.xml`, MaxReadFile+1, &zeros{MaxReadFile + 1}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	vol, err := OpenNTFS(img, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := vol.ReadFile(`\Windows\ImageUpdate\DeviceLayout.xml`); err != nil || !bytes.Equal(b, layout) {
		t.Errorf("ReadFile: %q %v, want %q", b, err, layout)
	}
	_, err = vol.ReadFile(`\Windows\big.xml`)
	if err == nil || !strings.Contains(err.Error(), `\Windows\big.xml`) || !strings.Contains(err.Error(), "64 MiB") {
		t.Errorf("ReadFile of %d bytes: %v, want an error naming the file and the 64 MiB limit", MaxReadFile+1, err)
	}
	var streamed int64
	err = vol.Walk(func(e Entry, r io.Reader) error {
		if e.Path == `\Windows\big.xml` {
			streamed, err = io.Copy(io.Discard, r)
			return err
		}
		return nil
	})
	if err != nil || streamed != MaxReadFile+1 {
		t.Errorf("Walk streamed %d bytes of \\Windows\\big.xml (%v), want %d", streamed, err, MaxReadFile+1)
	}
}
