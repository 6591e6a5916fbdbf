package ntfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

type file struct {
	path string
	data []byte
}

// build writes files into a new volume of size bytes and returns the image's path.
func build(t testing.TB, size int64, opt Options, files []file) (string, []Extent) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ntfs.img")
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := img.Truncate(size); err != nil {
		t.Fatal(err)
	}
	w, err := New(img, 0, size, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := w.AddFile(f.path, int64(len(f.data)), bytes.NewReader(f.data), 0); err != nil {
			t.Fatal(err)
		}
	}
	ext, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return path, ext
}

// ntfsfix checks a volume with ntfsfix -n (no changes) and fails on anything but a clean report.
func ntfsfix(t *testing.T, path string) {
	t.Helper()
	out := checker.Run(t, "", checker.Find(t, "ntfsfix"), "-n", path)
	if !strings.Contains(out, "processed successfully") || strings.Contains(strings.ToLower(out), "error") ||
		strings.Contains(out, "FAILED") {
		t.Errorf("ntfsfix -n:\n%s", out)
	}
}

// TestEmptyVolume has ntfs-3g check freshly formatted volumes of several geometries.
func TestEmptyVolume(t *testing.T) {
	info := checker.Find(t, "ntfsinfo")
	tests := []struct {
		name string
		size int64
		opt  Options
		want []string
	}{
		{"defaults", 64 << 20, Options{Label: "MainOS", Serial: 0x1234}, []string{"Volume Name: MainOS", "Cluster Size: 4096", "Volume Version: 3.1"}},
		{"512-byte clusters", 8 << 20, Options{ClusterSize: 512}, []string{"Cluster Size: 512", "Sector Size: 512"}},
		{"64K clusters", 256 << 20, Options{ClusterSize: 64 << 10, Label: "Data"}, []string{"Cluster Size: 65536"}},
		{"4K sectors", 64 << 20, Options{SectorSize: 4096}, []string{"Sector Size: 4096", "MFT Record Size: 4096"}},
		{"odd size", 64<<20 + 3*512 + 100, Options{}, []string{"Volume Version: 3.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := build(t, tt.size, tt.opt, nil)
			ntfsfix(t, path)
			out := checker.Run(t, "", info, "-m", path)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("ntfsinfo -m lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
