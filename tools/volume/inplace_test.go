package volume_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

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
	im, err := volume.OpenImage(path, true)
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
	// The disk is 512 MiB (sparse): compared a MiB at a time, so the test stays far below the
	// 2 GiB address space its package's tests run under.
	dst, _ := disk.Stat()
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); off < dst.Size(); off += int64(len(a)) {
		n := min(int64(len(a)), dst.Size()-off)
		if _, err := disk.ReadAt(a[:n], off); err != nil {
			t.Fatal(err)
		}
		if _, err := dr.ReadAt(b[:n], off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a[:n], b[:n]) {
			t.Fatalf("the extracted disk differs from the disk read in place in the MiB at %d", off)
		}
	}
	im.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("Close left %d files in TMPDIR", len(left))
	}
}
