// Package testfs writes a volume of files into an image file, through disk.FileSystem, for
// the tests of the file systems that implement it (tools/fat, tools/ntfs): one helper, so that
// both are driven the same way imggen drives them.
package testfs

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// Build creates the image file name of size bytes in a temporary directory, opens a file
// system over all of it with open, writes n files (file(i) is the i-th one's device path, like
// \Windows\a.dll, and content; no attributes) and closes it; it returns the image's path and the
// extents the file system reports.
func Build(t testing.TB, name string, size int64, open func(w io.WriterAt) (disk.FileSystem, error), n int, file func(i int) (string, []byte)) (string, []disk.Extent) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := img.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fs, err := open(img)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		path, data := file(i)
		if err := fs.AddFile(path, int64(len(data)), bytes.NewReader(data), 0); err != nil {
			t.Fatal(err)
		}
	}
	ext, err := fs.Close()
	if err != nil {
		t.Fatal(err)
	}
	return path, ext
}
