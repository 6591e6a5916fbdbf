package volume

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// A corrupt FFU is an error naming the file, never a panic: any failure after ffu.Open used to
// run the cleanup on a nil image.
func TestOpenImageCorrupt(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty.ffu":     nil,
		"short.ffu":     []byte("\x00\x00\x00\x00SignedImage "),
		"garbage.ffu":   []byte(strings.Repeat("\xff", 4096)),
		"truncated.ffu": append([]byte("\x20\x00\x00\x00SignedImage \x00\x00\x10\x00"), make([]byte, 64)...),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, verify := range []bool{false, true} {
			im, err := OpenImage(p, verify)
			if err == nil {
				im.Close()
				t.Errorf("%s: opened a corrupt FFU", name)
				continue
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%s: error %q does not name the file", name, err)
			}
		}
	}
}

// An image's partitions are read from the FFU's blocks in place: opening and reading files
// writes nothing to TMPDIR; Disk extracts the disk once, with the bytes ReaderAt reads, and
// Close removes it.
func TestOpenImageInPlace(t *testing.T) {
	path, err := testimage.FFU(t.TempDir(), "in place", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	im, err := OpenImage(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	vol, err := im.Volume(im.Partition("MainOS"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vol.ReadFile(imageconst.DeviceLayoutPath); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("opening and reading the image wrote %d files to TMPDIR", len(left))
	}
	disk, err := im.Disk()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := im.Disk(); again != disk {
		t.Error("Disk extracted the disk twice")
	}
	extracted, err := os.ReadFile(disk.Name())
	if err != nil {
		t.Fatal(err)
	}
	view := make([]byte, len(extracted))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	dr, err := rd.DiskReader(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dr.ReadAt(view, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(view, extracted) {
		t.Error("the extracted disk differs from the disk read in place")
	}
	im.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("Close left %d files in TMPDIR", len(left))
	}
}
