package ntfs

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
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

func testFiles() []file {
	rng := rand.New(rand.NewSource(1))
	big := make([]byte, 3<<20+123)
	rng.Read(big)
	files := []file{
		{`\Windows\System32\ntoskrnl.exe`, []byte("kernel")},
		{`\Windows\System32\CodeIntegrity\policy.txt`, []byte("policy")},
		{`\Windows\System32\drivers\soc8000_gpu.sys`, big},
		{`\Windows\System32\config\SYSTEM`, bytes.Repeat([]byte("hive"), 1000)}, // just non-resident
		{`\Windows\ImageUpdate\DeviceLayout.xml`, []byte("<DeviceLayout/>")},
		{`\Programs\Contoso Camera\Camera App.exe`, []byte("camera")},
		{`\Programs\Contoso Camera\de-DE\camera.mui`, []byte("de")},
		{`\EMPTY.TXT`, nil},
		{`\README`, []byte("an upper-case 8.3 name")},
		{`\Caméra.txt`, []byte("non-ASCII name")},
		{`\日本語\ファイル.txt`, []byte("CJK")},
		{`\a.b.c.d`, []byte("dots")},
	}
	for i := 0; i < 12; i++ {
		files = append(files, file{fmt.Sprintf(`\Windows\Fonts\LongFontName%02d.ttf`, i), []byte{byte(i)}})
	}
	// A directory whose index needs blocks.
	for i := 0; i < 300; i++ {
		files = append(files, file{fmt.Sprintf(`\Windows\Packages\DsmFiles\Contoso.Package%03d.dsm.xml`, i), []byte(fmt.Sprint(i))})
	}
	return files
}

// listing parses ntfsls -R: every path below the root, without "." and "..".
func listing(out string) []string {
	var paths []string
	dir := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "" || line == "." || line == "..":
		case strings.HasPrefix(line, "/") && strings.HasSuffix(line, ":"):
			dir = strings.TrimSuffix(strings.TrimSuffix(line, ":"), "/")
		default:
			paths = append(paths, dir+"/"+line)
		}
	}
	sort.Strings(paths)
	return paths
}

// treePaths lists the files of files and their directories as ntfsls -R prints them.
func treePaths(files []file) []string {
	set := map[string]bool{}
	for _, f := range files {
		p := strings.ReplaceAll(f.path, `\`, "/")
		for p != "" {
			set[p] = true
			p = p[:strings.LastIndexByte(p, '/')]
		}
	}
	var paths []string
	for p := range set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// TestTree has ntfs-3g list the tree and read back every file.
func TestTree(t *testing.T) {
	ls := checker.Find(t, "ntfsls")
	cat := checker.Find(t, "ntfscat")
	tests := []struct {
		name string
		size int64
		opt  Options
	}{
		{"4K clusters", 64 << 20, Options{Label: "MainOS"}},
		{"512-byte clusters", 64 << 20, Options{ClusterSize: 512}},
		{"64K clusters", 256 << 20, Options{ClusterSize: 64 << 10}},
		{"4K sectors", 64 << 20, Options{SectorSize: 4096}},
		{"no short names", 64 << 20, Options{NoShortNames: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := testFiles()
			path, _ := build(t, tt.size, tt.opt, files)
			ntfsfix(t, path)
			got := listing(checker.Run(t, "", ls, "-R", path))
			if want := treePaths(files); !reflect.DeepEqual(got, want) {
				t.Errorf("ntfsls -R lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, f := range files {
				if got := checker.Run(t, "", cat, path, strings.ReplaceAll(f.path, `\`, "/")); got != string(f.data) {
					t.Errorf("ntfscat %s: %d bytes differ from the %d written", f.path, len(got), len(f.data))
				}
			}
		})
	}
}

// TestShortNames checks the DOS names ntfs-3g reads (ntfsls -x) against Windows' rules.
func TestShortNames(t *testing.T) {
	ls := checker.Find(t, "ntfsls")
	files := []file{
		{`\d\Program Files`, nil}, {`\d\README`, nil}, {`\d\readme.txt`, nil}, {`\d\Contoso.Package001.dsm.xml`, nil},
		{`\d\Contoso.Package002.dsm.xml`, nil}, {`\d\a+b.txt`, nil}, {`\d\Caméra.jpeg`, nil}, {`\d\.profile`, nil},
		{`\d\PROGRA~1`, nil},
	}
	path, _ := build(t, 16<<20, Options{}, files)
	got := strings.Fields(checker.Run(t, "", ls, "-x", "-p", "/d", path))
	sort.Strings(got)
	// README and PROGRA~1 are their own DOS names; readme.txt is a legal 8.3 name, so it gets
	// none; a name that lost characters gets a tail (ntfsls prints "." but not "..").
	want := []string{".", "A_B~1.TXT", "CAM_RA~1.JPE", "CONTOS~1.XML", "CONTOS~2.XML", "PROFIL~1", "PROGRA~1", "PROGRA~2", "README"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ntfsls -x: %q, want %q", got, want)
	}
}
