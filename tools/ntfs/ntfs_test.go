package ntfs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/testfs"
)

type file struct {
	path string
	data []byte
}

// build writes files into a new volume of size bytes and returns the image's path and the
// volume's extents.
func build(t testing.TB, size int64, opt Options, files []file) (string, []disk.Extent) {
	t.Helper()
	open := func(w io.WriterAt) (disk.FileSystem, error) { return New(w, 0, size, opt) }
	return testfs.Build(t, "ntfs.img", size, open, len(files), func(i int) (string, []byte) { return files[i].path, files[i].data })
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

// deepCheck has ntfs-3g account for every cluster (a dry run of ntfsresize compares $Bitmap
// with every runlist) and audit $Secure (ntfssecaudit: $SDS, its mirror, $SII, $SDH, hashes).
func deepCheck(t *testing.T, path string, size int64) {
	t.Helper()
	out := checker.Run(t, "", checker.Find(t, "ntfsresize"), "--no-action", "--force", "--size", fmt.Sprint(size*3/4), path)
	if !strings.Contains(out, "The read-only test run ended successfully") || strings.Contains(out, "accounting") {
		t.Errorf("ntfsresize --no-action:\n%s", out)
	}
	out = checker.Run(t, "", checker.Find(t, "ntfssecaudit"), "-a", path)
	if !strings.Contains(out, "No errors were found") {
		t.Errorf("ntfssecaudit -a:\n%s", out)
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
			deepCheck(t, path, tt.size)
			// ntfsls complains it cannot type view-index files, on mkntfs's volumes too.
			var ext []string
			for _, l := range strings.Split(checker.Run(t, "", checker.Find(t, "ntfsls"), "-a", "-s", "-p", "/$Extend", path), "\n") {
				if l != "" && !strings.HasPrefix(l, "Could not decode the type of inode") {
					ext = append(ext, l)
				}
			}
			if want := []string{".", "..", "$ObjId", "$Quota", "$Reparse"}; !reflect.DeepEqual(ext, want) {
				t.Errorf("$Extend holds %q, want %q", ext, want)
			}
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
			deepCheck(t, path, tt.size)
			// ntfs-3g can change the volume: a new MFT record, an entry in a B-tree of ours.
			src := filepath.Join(t.TempDir(), "added.txt")
			if err := os.WriteFile(src, []byte("added by ntfscp"), 0o644); err != nil {
				t.Fatal(err)
			}
			checker.Run(t, "", checker.Find(t, "ntfscp"), "-f", path, src, "/Windows/Packages/DsmFiles/Added.txt")
			if got := checker.Run(t, "", cat, path, "/Windows/Packages/DsmFiles/Added.txt"); got != "added by ntfscp" {
				t.Errorf("ntfscat of the file ntfscp added: %q", got)
			}
			ntfsfix(t, path)
			deepCheck(t, path, tt.size)
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

// TestLargeDirectory puts 10,000 entries of mixed case into one directory: a B-tree of index
// blocks three levels deep, which ntfs-3g must list completely and search by name (48 names
// spread over the directory; each ntfscat takes a while).
func TestLargeDirectory(t *testing.T) {
	ls := checker.Find(t, "ntfsls")
	cat := checker.Find(t, "ntfscat")
	var files []file
	cases := []string{"file", "File", "FILE", "fïle", "Ωfile"}
	for i := 0; i < 10000; i++ {
		files = append(files, file{fmt.Sprintf(`\big\%s%05d.dat`, cases[i%len(cases)], i*7919%10000), []byte(fmt.Sprint(i))})
	}
	path, _ := build(t, 64<<20, Options{}, files)
	ntfsfix(t, path)
	deepCheck(t, path, 64<<20)
	got := strings.Fields(checker.Run(t, "", ls, "-p", "/big", path))
	want := []string{"."}
	for _, f := range files {
		want = append(want, strings.TrimPrefix(f.path, `\big\`))
	}
	// ntfsls reads index blocks in disk order, not tree order: compare sets; ntfscat's lookups
	// below walk the tree, and fail if it is out of order.
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ntfsls lists %d entries, want %d", len(got), len(want))
	}
	for i := 0; i < len(files); i += 211 {
		f := files[i]
		if got := checker.Run(t, "", cat, path, strings.ReplaceAll(f.path, `\`, "/")); got != string(f.data) {
			t.Errorf("ntfscat %s: %q, want %q", f.path, got, f.data)
		}
	}
}

func sha(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestDeterministic writes the same tree twice and expects the same bytes; the derived serial
// follows the tree.
func TestDeterministic(t *testing.T) {
	files := testFiles()
	a, extA := build(t, 64<<20, Options{}, files)
	b, extB := build(t, 64<<20, Options{}, files)
	if sha(t, a) != sha(t, b) || !reflect.DeepEqual(extA, extB) {
		t.Fatal("two writes of one tree differ")
	}
	c, _ := build(t, 64<<20, Options{}, files[1:])
	serial := func(p string) uint64 {
		img, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return le.Uint64(img[72:])
	}
	if serial(a) == serial(c) {
		t.Error("the derived serial does not change with the tree")
	}
	d, _ := build(t, 64<<20, Options{Serial: 0x1122334455667788}, files)
	if serial(d) != 0x1122334455667788 {
		t.Errorf("serial %#x, want the caller's", serial(d))
	}
}

// TestExtents: the extents cover the data and leave the free space out, so an FFU stays sparse.
func TestExtents(t *testing.T) {
	const size = 256 << 20
	_, ext := build(t, size, Options{}, testFiles())
	var total int64
	for _, e := range ext {
		total += e.Length
	}
	if total > 16<<20 || ext[len(ext)-1].Offset != size-512 {
		t.Errorf("extents %v: %d bytes; want under 16 MiB ending in the backup boot sector", ext, total)
	}
}

type shortReader struct{ n int }

func (r *shortReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

type failWriter struct{}

func (failWriter) WriteAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestErrors(t *testing.T) {
	newVol := func(t *testing.T) *Writer {
		img, err := os.Create(filepath.Join(t.TempDir(), "img"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { img.Close() })
		w, err := New(img, 0, 8<<20, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddFile(`\dir\a.txt`, 1, strings.NewReader("a"), 0); err != nil {
			t.Fatal(err)
		}
		return w
	}
	tests := []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"exists", func(w *Writer) error { return w.AddFile(`\dir\a.txt`, 0, nil, 0) }, `\dir\a.txt already exists`},
		{"exists in another case", func(w *Writer) error { return w.AddFile(`\DIR\A.TXT`, 0, nil, 0) }, `already exists`},
		{"system file", func(w *Writer) error { return w.AddFile(`\$MFT`, 0, nil, 0) }, `already exists`},
		{"into a system file", func(w *Writer) error { return w.AddFile(`\$Extend\x`, 0, nil, 0) }, `\$Extend is not a directory`},
		{"file as directory", func(w *Writer) error { return w.Mkdir(`\dir\a.txt\b`) }, `\dir\a.txt is not a directory`},
		{"bad name", func(w *Writer) error { return w.AddFile(`\dir\a?b`, 0, nil, 0) }, `character '?' is not allowed`},
		{"trailing dot", func(w *Writer) error { return w.AddFile(`\dir\a.`, 0, nil, 0) }, `ends in '.'`},
		{"no name", func(w *Writer) error { return w.AddFile(`\`, 0, nil, 0) }, `no file name`},
		{"short read", func(w *Writer) error { return w.AddFile(`\b`, 10000, &shortReader{5000}, 0) }, `\b: reading bytes 0-10000 of 10000: unexpected EOF`},
		{"short resident read", func(w *Writer) error { return w.AddFile(`\b`, 10, &shortReader{5}, 0) }, `\b: reading 10 bytes: unexpected EOF`},
		{"volume full", func(w *Writer) error { return w.AddFile(`\big`, 9<<20, &shortReader{9 << 20}, 0) }, `\big (9437184 bytes): volume full`},
		{"closed", func(w *Writer) error { w.Close(); return w.AddFile(`\c`, 0, nil, 0) }, `volume already closed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(newVol(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	news := []struct {
		name string
		size int64
		opt  Options
		want string
	}{
		{"sector size", 8 << 20, Options{SectorSize: 520}, "sector size 520"},
		{"cluster size", 8 << 20, Options{ClusterSize: 3000}, "cluster size 3000"},
		{"cluster below sector", 8 << 20, Options{SectorSize: 4096, ClusterSize: 2048}, "cluster size 2048"},
		{"too small", 100 << 10, Options{}, "too small"},
		{"label", 8 << 20, Options{Label: strings.Repeat("x", 33)}, "longer than 32"},
		{"write error", 8 << 20, Options{}, "disk on fire"},
	}
	for _, tt := range news {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(failWriter{}, 0, tt.size, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// BenchmarkWrite writes 256 files of 256 KiB (64 MiB) into a 256 MiB volume image.
func BenchmarkWrite(b *testing.B) {
	data := make([]byte, 256<<10)
	rand.New(rand.NewSource(1)).Read(data)
	b.SetBytes(256 * int64(len(data)))
	open := func(w io.WriterAt) (disk.FileSystem, error) { return New(w, 0, 256<<20, Options{}) }
	for i := 0; i < b.N; i++ {
		testfs.Build(b, "bench.img", 256<<20, open, 256, func(j int) (string, []byte) {
			return fmt.Sprintf(`\d%d\file%03d.bin`, j%8, j), data
		})
	}
}
