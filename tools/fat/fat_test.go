package fat

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	diskfile "github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/testfs"
)

type file struct {
	path string
	data []byte
}

func testFiles() []file {
	rng := rand.New(rand.NewSource(1))
	big := make([]byte, 300000)
	rng.Read(big)
	files := []file{
		{`\Windows\System32\ntoskrnl.exe`, []byte("kernel")},
		{`\Windows\System32\CodeIntegrity\policy.txt`, []byte("policy")},
		{`\Windows\System32\drivers\soc8000_gpu.sys`, big},
		{`\Windows\ImageUpdate\DeviceLayout.xml`, []byte("<DeviceLayout/>")},
		{`\Programs\Contoso Camera\Camera App.exe`, []byte("camera")},
		{`\Programs\Contoso Camera\de-DE\camera.mui`, []byte("de")},
		{`\EMPTY.TXT`, nil},
		{`\README`, []byte("upper-case 8.3 name: no long-name entries")},
		{`\Caméra.txt`, []byte("non-ASCII name")},
	}
	// Many names with one 8.3 basis: numeric tails must stay unique.
	for i := 0; i < 12; i++ {
		files = append(files, file{fmt.Sprintf(`\Windows\Fonts\LongFontName%02d.ttf`, i), []byte{byte(i)}})
	}
	// A directory that needs more than one cluster of entries.
	for i := 0; i < 200; i++ {
		files = append(files, file{fmt.Sprintf(`\Windows\Packages\DsmFiles\Contoso.Package%03d.dsm.xml`, i), []byte(fmt.Sprint(i))})
	}
	return files
}

// build writes files into a new volume of size bytes and returns the image's path and the
// volume's extents.
func build(t testing.TB, size int64, opt Options, files []file) (string, []disk.Extent) {
	t.Helper()
	open := func(w io.WriterAt) (disk.FileSystem, error) { return New(w, 0, size, opt) }
	return testfs.Build(t, "fs.img", size, open, len(files), func(i int) (string, []byte) { return files[i].path, files[i].data })
}

func mpath(p string) string { return "::" + strings.ReplaceAll(p, `\`, "/") }

// TestCheckers has fsck.fat and mtools, which nobody here wrote, check the file systems.
func TestCheckers(t *testing.T) {
	fsck := checker.Find(t, "fsck.fat")
	mtype := checker.Find(t, "mtype")
	mdir := checker.Find(t, "mdir")
	tests := []struct {
		name string
		size int64
		opt  Options
		want Type
	}{
		{"FAT12 small", 2 << 20, Options{Label: "DPP"}, FAT12},
		{"FAT16 EFIESP", 32 << 20, Options{Label: "EFIESP"}, FAT16},
		{"FAT32 MainOS", 300 << 20, Options{Type: FAT32, Label: "MainOS"}, FAT32},
		{"FAT32 4K clusters", 300 << 20, Options{Type: FAT32, ClusterSize: 4096}, FAT32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := testFiles()
			path, _ := build(t, tt.size, tt.opt, files)
			out := checker.Run(t, "", fsck, "-n", "-v", path)
			if !strings.Contains(out, fmt.Sprintf("2 FATs, %d bit entries", tt.want)) {
				t.Errorf("fsck.fat does not see FAT%d:\n%s", tt.want, out)
			}
			for _, f := range files {
				got := checker.Run(t, "", mtype, "-i", path, mpath(f.path))
				if got != string(f.data) {
					t.Errorf("mtype %s: %d bytes, want %d", f.path, len(got), len(f.data))
				}
			}
			listing := checker.Run(t, "", mdir, "-i", path, "::/Programs/Contoso Camera")
			if !strings.Contains(listing, "Camera App.exe") {
				t.Errorf("mdir lacks the long name:\n%s", listing)
			}
			if tt.opt.Label != "" {
				root := checker.Run(t, "", mdir, "-i", path, "::/")
				if !strings.Contains(root, "Volume in drive : is "+strings.ToUpper(tt.opt.Label)) {
					t.Errorf("label %q missing:\n%s", tt.opt.Label, root)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := build(t, 64<<20, Options{Type: FAT32, ClusterSize: 512}, testFiles())
	b, _ := build(t, 64<<20, Options{Type: FAT32, ClusterSize: 512}, testFiles())
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Error("two builds of one file system differ")
	}
}

func TestExtentsCoverData(t *testing.T) {
	files := testFiles()
	path, ext := build(t, 32<<20, Options{}, files)
	data, _ := os.ReadFile(path)
	// Zero everything outside the extents: the file system must still read the same.
	masked := make([]byte, len(data))
	var total int64
	for _, e := range ext {
		copy(masked[e.Offset:e.Offset+e.Length], data[e.Offset:e.Offset+e.Length])
		total += e.Length
	}
	if total > 2<<20 {
		t.Errorf("extents cover %d bytes for %d bytes of files", total, 320000)
	}
	if err := os.WriteFile(path, masked, 0o644); err != nil {
		t.Fatal(err)
	}
	mtype := checker.Find(t, "mtype")
	for _, f := range files[:5] {
		if got := checker.Run(t, "", mtype, "-i", path, mpath(f.path)); got != string(f.data) {
			t.Errorf("%s differs once data outside the extents is dropped", f.path)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	f, _ := os.Create(filepath.Join(dir, "x.img"))
	defer f.Close()
	if _, err := New(f, 0, 1<<20, Options{Type: FAT32}); err == nil || !strings.Contains(err.Error(), "FAT32") {
		t.Errorf("FAT32 on 1 MiB: err = %v", err)
	}
	w, err := New(f, 0, 1<<20, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile(`\a\b.txt`, 1, strings.NewReader("x"), 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		size int64
		want string
	}{
		{`\A\B.TXT`, 1, "already exists"},
		{`\a\b.txt\c`, 1, "is a file"},
		{`\a\bad?.txt`, 1, "not allowed"},
		{`\a\trailing.`, 1, "Windows drops"},
		{`\big.bin`, 2 << 20, "file system full"},
		{`\short.bin`, 10, "of 10 bytes"},
	}
	for _, tt := range tests {
		err := w.AddFile(tt.path, tt.size, strings.NewReader("x"), 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AddFile(%s): err = %v, want %q", tt.path, err, tt.want)
		}
	}
}

func TestShortNames(t *testing.T) {
	used, tails := map[string]bool{}, map[string]int{}
	tests := []struct {
		name, want string
		lfn        bool
	}{
		{"README", "README     ", false},
		{"NTOSKRNL.EXE", "NTOSKRNLEXE", false},
		{"ntoskrnl.exe", "NTOSKR~1EXE", true},
		{"ntoskrnl.exe.bak", "NTOSKR~1BAK", true},
		{"Camera App.exe", "CAMERA~1EXE", true},
		{"CameraApp.exe", "CAMERA~2EXE", true},
		{".hidden", "HIDDEN~1   ", true},
		{"Caméra.txt", "CAM_RA~1TXT", true},
	}
	for _, tt := range tests {
		got, lfn := shortName(tt.name, used, tails)
		used[string(got[:])] = true
		if string(got[:]) != tt.want || lfn != tt.lfn {
			t.Errorf("shortName(%q) = %q %v, want %q %v", tt.name, got, lfn, tt.want, tt.lfn)
		}
	}
}

// BenchmarkWrite writes 64 files of 4 MiB into a FAT32 file system on a sparse file.
func BenchmarkWrite(b *testing.B) {
	data := make([]byte, 4<<20)
	rand.New(rand.NewSource(2)).Read(data)
	b.SetBytes(64 * int64(len(data)))
	open := func(w io.WriterAt) (disk.FileSystem, error) { return New(w, 0, 1<<30, Options{Type: FAT32}) }
	for i := 0; i < b.N; i++ {
		testfs.Build(b, "fs.img", 1<<30, open, 64, func(j int) (string, []byte) {
			return fmt.Sprintf(`\Windows\System32\file%02d.dll`, j), data
		})
	}
}

// go-diskfs, a reader nobody here wrote, assumes the FAT32 root directory at cluster 2, as some
// firmware does; a root large enough to need more clusters must still read back.
func TestGoDiskfsReadsFAT32(t *testing.T) {
	files := testFiles()
	for i := 0; i < 100; i++ {
		files = append(files, file{fmt.Sprintf(`\RootFile%03d.txt`, i), []byte(fmt.Sprint(i))})
	}
	path, _ := build(t, 64<<20, Options{Type: FAT32}, files)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, err := fat32.Read(diskfile.New(f, true), 64<<20, 0, 512)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range files {
		if len(fl.data) == 0 {
			continue // go-diskfs cannot open an empty file (first cluster 0)
		}
		got, err := fs.ReadFile(strings.ReplaceAll(fl.path, `\`, "/"))
		if err != nil || !bytes.Equal(got, fl.data) {
			t.Errorf("go-diskfs reads %s: %v (%d bytes, want %d)", fl.path, err, len(got), len(fl.data))
		}
	}
}
