package wim

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

// entry is a file (data, possibly empty) or a directory of a test image.
type entry struct {
	path string
	dir  bool
	data []byte
}

func file(path string, data []byte) entry { return entry{path: path, data: data} }
func dir(path string) entry               { return entry{path: path, dir: true} }

// memFile is an in-memory Output.
type memFile = cab.MemFile

// noTruncate hides memFile's Truncate.
type noTruncate struct{ m *memFile }

func (n noTruncate) Write(p []byte) (int, error)               { return n.m.Write(p) }
func (n noTruncate) Seek(off int64, whence int) (int64, error) { return n.m.Seek(off, whence) }
func (n noTruncate) ReadAt(p []byte, off int64) (int, error)   { return n.m.ReadAt(p, off) }

func writeEntries(t testing.TB, out Output, entries []entry, opt Options) {
	t.Helper()
	w, err := NewWriter(out, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.dir {
			err = w.AddDir(e.path, 0)
		} else {
			err = w.AddFile(e.path, int64(len(e.data)), bytes.NewReader(e.data), 0)
		}
		if err != nil {
			t.Fatalf("adding %s: %v", e.path, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// writeWIM writes entries to a WIM in memory and returns its bytes.
func writeWIM(t testing.TB, entries []entry, opt Options) []byte {
	t.Helper()
	var m memFile
	writeEntries(t, &m, entries, opt)
	return m.Bytes()
}

// tree is what an image holds: path -> content, with directories as "<dir>".
type tree map[string]string

const dirMark = "<dir>"

// want is the tree entries describe, with the directories their paths imply.
func want(entries []entry) tree {
	tr := tree{}
	for _, e := range entries {
		p := strings.Trim(strings.ReplaceAll(e.path, `\`, "/"), "/")
		parts := strings.Split(p, "/")
		for i := 1; i < len(parts); i++ {
			tr[strings.Join(parts[:i], "/")] = dirMark
		}
		if e.dir {
			tr[p] = dirMark
		} else {
			tr[p] = string(e.data)
		}
	}
	return tr
}

// readTree reads image 1 with our reader, after verifying the WIM.
func readTree(t *testing.T, b []byte) (tree, *Reader) {
	t.Helper()
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := r.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	tr := tree{}
	err = r.Walk(1, func(f *File) error {
		if f.Path == "" {
			return nil
		}
		if f.IsDir {
			tr[f.Path] = dirMark
			return nil
		}
		rc, err := r.Open(f)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		if int64(len(data)) != f.Size {
			t.Errorf("%s: read %d bytes, Size %d", f.Path, len(data), f.Size)
		}
		tr[f.Path] = string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return tr, r
}

func diffTrees(t *testing.T, what string, got, want tree) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bad := 0
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("%s: %q missing", what, k)
		case !wok:
			t.Errorf("%s: unexpected %q", what, k)
		case g != w:
			t.Errorf("%s: %q has %d bytes (sha1 %x), want %d (sha1 %x)", what, k, len(g), sha1.Sum([]byte(g)), len(w), sha1.Sum([]byte(w)))
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatalf("%s: too many differences", what)
		}
	}
}

// checker finds an independent tool; tests that use one skip without it, unless
// OEMIMAGE_REQUIRE_CHECKERS=1 (tests/test_all.sh), where a missing tool is a failure.
func checker(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OEMIMAGE_REQUIRE_CHECKERS") == "1" {
			t.Fatalf("%s not found: the bootstrap (tools/bazel) installs it (Debian package wimtools)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// readDirTree reads a directory on disk as a tree.
func readDirTree(t *testing.T, root string) tree {
	t.Helper()
	tr := tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			tr[rel] = dirMark
			return nil
		}
		b, err := os.ReadFile(p)
		tr[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// wimlibCheck has wimlib-imagex, which nobody here wrote, check a WIM: info and verify
// must accept it, and apply must give exactly the expected tree.
func wimlibCheck(t *testing.T, b []byte, expect tree) {
	t.Helper()
	wimlib := checker(t, "wimlib-imagex")
	dir := t.TempDir()
	path := filepath.Join(dir, "test.wim")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	info := run(t, wimlib, "info", path)
	for _, s := range []string{"Image Count:    1", "Boot Index:     1", "Integrity info"} {
		if !strings.Contains(info, s) {
			t.Errorf("wimlib-imagex info lacks %q:\n%s", s, info)
		}
	}
	if out := run(t, wimlib, "verify", path); !strings.Contains(out, "successfully verified") {
		t.Errorf("wimlib-imagex verify:\n%s", out)
	}
	target := filepath.Join(dir, "applied")
	run(t, wimlib, "apply", path, "1", target)
	diffTrees(t, "wimlib-imagex apply", readDirTree(t, target), expect)
}

func deepPath(levels int) string {
	var parts []string
	for i := 0; i < levels; i++ {
		parts = append(parts, "level"+string(rune('a'+i%26)))
	}
	return strings.Join(parts, "/")
}

var roundTripCases = []struct {
	name    string
	entries []entry
	blobs   int // distinct non-empty contents
}{
	{"empty image", nil, 0},
	{"one empty file", []entry{file("empty.txt", nil)}, 0},
	{"empty dirs", []entry{dir("a"), dir("a/b"), dir("c"), file("c/x", []byte("x"))}, 1},
	{"implied dirs", []entry{file("Windows/System32/drivers/etc/hosts", []byte("127.0.0.1 localhost\r\n"))}, 1},
	{"deep path", []entry{file(deepPath(100)+"/leaf.txt", []byte("deep")), dir(deepPath(120))}, 1},
	{"long names", []entry{
		file(strings.Repeat("n", 255), []byte("255 units")),
		file(strings.Repeat("é", 120)+"/"+strings.Repeat("x", 200)+".dat", []byte("long dir")),
	}, 2},
	{"non-ASCII names", []entry{
		file("Ünïcode/名前.txt", []byte("names")),
		file("Ünïcode/Ελληνικά", []byte("greek")),
		file("emoji 😀.bin", []byte("surrogate pair")),
		file(`back\slash\sep.txt`, []byte("separators")),
	}, 4},
	{"duplicate contents", []entry{
		file("a/one.txt", text(1, 5000)),
		file("b/two.txt", text(1, 5000)),
		file("c/three.txt", text(1, 5000)),
		file("big1.bin", mixed(2, 1<<20+12345)),
		file("big2.bin", mixed(2, 1<<20+12345)),
		file("small-of-big.bin", mixed(2, 1<<20+12345)[:1000]),
		file("other.txt", text(3, 5000)),
	}, 4},
	{"zero-byte and one-byte files", []entry{file("zero", nil), file("one", []byte{0}), file("zero2", []byte{})}, 1},
	{"larger than a chunk", []entry{file("text.txt", text(4, 5*32768+17)), file("exact", text(5, 2*32768))}, 2},
	{"incompressible chunks", []entry{file("random.bin", randomBytes(6, 3*32768+100)), file("mixed.bin", mixed(7, 200000))}, 2},
	{"streamed large files", []entry{file("large.bin", mixed(8, 3<<20+1)), file("large-random.bin", randomBytes(9, (1<<20)+1))}, 2},
	{"duplicate large file last", []entry{file("x/large.bin", mixed(10, 2<<20)), file("y/copy.bin", mixed(10, 2<<20))}, 1},
	// Over 10 MiB of random bytes (stored even when compressed), so the integrity table has
	// several pieces, with streamed blobs and a discarded duplicate across piece boundaries.
	{"integrity pieces", []entry{
		file("a/first.bin", randomBytes(20, 9<<20+333)), file("b/small.txt", text(21, 70000)),
		file("c/second.bin", randomBytes(22, 3<<20+5)), file("d/copy-of-first.bin", randomBytes(20, 9<<20+333)),
		file("e/mixed.bin", mixed(23, 2<<20+99)), file("f/tail.bin", randomBytes(24, 1<<20+1)),
	}, 5},
	{"case-insensitive order", []entry{
		file("b.txt", []byte("b")), file("A.txt", []byte("A")), file("a_", []byte("a_")),
		file("C", []byte("C")), dir("aa"), file("Z/z", []byte("z")), file("_", []byte("_")),
	}, 6},
}

func TestRoundTrip(t *testing.T) {
	for _, comp := range []Compression{None, XPRESS, LZX} {
		for _, tt := range roundTripCases {
			t.Run(comp.String()+"/"+tt.name, func(t *testing.T) {
				b := writeWIM(t, tt.entries, Options{Compression: comp, Name: tt.name, Description: "round trip"})
				got, r := readTree(t, b)
				diffTrees(t, "our reader", got, want(tt.entries))
				if len(r.Blobs) != tt.blobs {
					t.Errorf("%d blobs, want %d (identical contents are stored once)", len(r.Blobs), tt.blobs)
				}
				checkRefCounts(t, r)
				checkHeader(t, r, comp, int64(len(b)))
				wimlibCheck(t, b, want(tt.entries))
			})
		}
	}
}

// checkRefCounts compares each blob's reference count with the entries using it.
func checkRefCounts(t *testing.T, r *Reader) {
	t.Helper()
	refs := map[[20]byte]uint32{}
	if err := r.Walk(1, func(f *File) error {
		if f.Hash != ([20]byte{}) {
			refs[f.Hash]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, b := range r.Blobs {
		if b.RefCount != refs[b.Hash] {
			t.Errorf("blob %x: reference count %d, used by %d entries", b.Hash, b.RefCount, refs[b.Hash])
		}
	}
	if r.Images[0].Metadata.RefCount != 1 {
		t.Errorf("metadata reference count %d", r.Images[0].Metadata.RefCount)
	}
}

func checkHeader(t *testing.T, r *Reader, comp Compression, size int64) {
	t.Helper()
	h := r.Header
	if r.Compression != comp {
		t.Errorf("compression %v, want %v", r.Compression, comp)
	}
	if h.BootIndex != 1 || h.ImageCount != 1 || h.Version != versionDefault {
		t.Errorf("boot index %d, image count %d, version %#x", h.BootIndex, h.ImageCount, h.Version)
	}
	if h.BootMetadata != r.Images[0].Metadata.Resource {
		t.Errorf("boot metadata %+v, image 1 metadata %+v", h.BootMetadata, r.Images[0].Metadata.Resource)
	}
	// The integrity table is the last thing in the file: nothing left behind by a
	// rewound duplicate.
	if end := h.Integrity.Offset + h.Integrity.SizeInWIM; end != size {
		t.Errorf("integrity table ends at %d, file has %d bytes", end, size)
	}
	if want := int64(0); comp == XPRESS || comp == LZX {
		want = defaultChunkSize
		if int64(h.ChunkSize) != want {
			t.Errorf("chunk size %d", h.ChunkSize)
		}
	} else if h.ChunkSize != 0 {
		t.Errorf("chunk size %d for an uncompressed WIM", h.ChunkSize)
	}
}

// topLevel lists the names in the root directory of a WIM, in on-disk order.
func topLevel(t *testing.T, b []byte) []string {
	t.Helper()
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var top []string
	if err := r.Walk(1, func(f *File) error {
		if f.Path != "" && !strings.Contains(f.Path, "/") {
			top = append(top, f.Path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return top
}

// TestDentryOrder checks that children are stored sorted by upper-cased UTF-16 units,
// as wimlib stores them: the same order as in a WIM wimlib-imagex captured.
func TestDentryOrder(t *testing.T) {
	entries := []entry{
		file("b.txt", nil), file("A.txt", nil), file("a_", nil), file("C", nil), dir("aa"),
		file("Z", nil), file("_", nil), file("é", nil), file("F", nil), file("ä", nil), file("Ω", nil), file("ω1", nil),
	}
	top := topLevel(t, writeWIM(t, entries, Options{}))
	want := []string{"A.txt", "aa", "a_", "b.txt", "C", "F", "Z", "_", "ä", "é", "Ω", "ω1"}
	if strings.Join(top, ",") != strings.Join(want, ",") {
		t.Errorf("order %q, want %q", top, want)
	}
	wimlib := checker(t, "wimlib-imagex")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	for _, e := range entries {
		if e.dir {
			os.Mkdir(filepath.Join(src, e.path), 0o755)
		} else {
			os.WriteFile(filepath.Join(src, e.path), nil, 0o644)
		}
	}
	path := filepath.Join(dir, "w.wim")
	run(t, wimlib, "capture", src, path, "--compress=none")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if theirs := topLevel(t, b); strings.Join(theirs, ",") != strings.Join(top, ",") {
		t.Errorf("order %q, wimlib's %q", top, theirs)
	}
}

// TestNoTruncate writes to an Output without Truncate: a rewound duplicate at the end
// leaves zeros after the integrity table, which wimlib accepts.
func TestNoTruncate(t *testing.T) {
	entries := roundTripCases[12].entries
	var m memFile
	writeEntries(t, noTruncate{&m}, entries, Options{Compression: XPRESS})
	img := m.Bytes()
	got, r := readTree(t, img)
	diffTrees(t, "our reader", got, want(entries))
	end := r.Header.Integrity.Offset + r.Header.Integrity.SizeInWIM
	if end >= int64(len(img)) || bytes.Count(img[end:], []byte{0}) != len(img)-int(end) {
		t.Errorf("integrity table ends at %d of %d bytes; want zeros after it", end, len(img))
	}
	wimlibCheck(t, img, want(entries))
}

// TestDeterministic writes the same tree twice, with different numbers of compressors,
// and to a file and to memory: the bytes must be equal.
func TestDeterministic(t *testing.T) {
	entries := roundTripCases[7].entries // duplicates, buffered and streamed
	entries = append(entries, roundTripCases[11].entries...)
	for _, comp := range []Compression{None, XPRESS, LZX} {
		a := writeWIM(t, entries, Options{Compression: comp, Workers: 1})
		b := writeWIM(t, entries, Options{Compression: comp, Workers: 5})
		f, err := os.Create(filepath.Join(t.TempDir(), "x.wim"))
		if err != nil {
			t.Fatal(err)
		}
		writeEntries(t, f, entries, Options{Compression: comp, Workers: 3})
		f.Close()
		c, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
			t.Errorf("%v: outputs differ (%d, %d, %d bytes)", comp, len(a), len(b), len(c))
		}
	}
}

// TestCompressesLikeWimlib compares the output size with wimlib's for the same tree, and for
// XPRESS the compressed bytes of every blob: our parse is wimlib's at its default level, with
// its hash tables and its end-of-chunk rule, so the chunks come out the same.
func TestCompressesLikeWimlib(t *testing.T) {
	wimlib := checker(t, "wimlib-imagex")
	entries := []entry{file("mixed.bin", mixed(11, 4<<20)), file("text.txt", text(12, 1<<20)), file("random.bin", randomBytes(13, 1<<20)),
		file("code.exe", x86ish(14, 1<<20)), file("half.bin", halfRandom(15, 3<<20+7)), file("runs.bin", longRuns(16, 2<<20+4)),
		file("tail5.bin", text(17, 32768+5)), file("tail4.bin", text(18, 32768+4)), file("small.txt", text(19, 300))}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	for _, e := range entries {
		p := filepath.Join(src, e.path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		comp     Compression
		flag     string
		maxRatio float64
	}{{XPRESS, "xpress", 1.05}, {LZX, "lzx", 1.05}} {
		ours := writeWIM(t, entries, Options{Compression: tc.comp})
		theirs := filepath.Join(dir, tc.flag+".wim")
		run(t, wimlib, "capture", src, theirs, "--compress="+tc.flag, "--threads=1")
		st, err := os.Stat(theirs)
		if err != nil {
			t.Fatal(err)
		}
		ratio := float64(len(ours)) / float64(st.Size())
		t.Logf("%v: ours %d bytes, wimlib %d bytes (%.4f)", tc.comp, len(ours), st.Size(), ratio)
		if ratio > tc.maxRatio {
			t.Errorf("%v output is %.1f%% larger than wimlib's", tc.comp, 100*(ratio-1))
		}
		if tc.comp == XPRESS {
			theirBytes, err := os.ReadFile(theirs)
			if err != nil {
				t.Fatal(err)
			}
			sameBlobs(t, ours, theirBytes)
		}
	}
}

// sameBlobs checks that every file blob of wimlib's WIM is in ours with the same resource
// bytes (chunk table and chunks).
func sameBlobs(t *testing.T, ours, theirs []byte) {
	t.Helper()
	o, err := Open(bytes.NewReader(ours), int64(len(ours)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(bytes.NewReader(theirs), int64(len(theirs)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range w.Blobs {
		if e.Flags&ResMetadata != 0 {
			continue
		}
		n++
		mine, ok := o.blob(e.Hash)
		if !ok {
			t.Errorf("blob %x of %d bytes: not in our WIM", e.Hash, e.UncompressedSize)
			continue
		}
		a := ours[mine.Offset : mine.Offset+mine.SizeInWIM]
		b := theirs[e.Offset : e.Offset+e.SizeInWIM]
		if !bytes.Equal(a, b) {
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Errorf("blob %x of %d bytes: ours %d bytes, wimlib's %d, first difference at byte %d", e.Hash, e.UncompressedSize, len(a), len(b), i)
		}
	}
	if n == 0 {
		t.Error("wimlib's WIM has no file blobs")
	}
}

// TestReadWimlibCapture reads WIMs that wimlib-imagex wrote, with each compression.
func TestReadWimlibCapture(t *testing.T) {
	wimlib := checker(t, "wimlib-imagex")
	entries := []entry{
		file("a.txt", []byte("hello\n")), file("B.txt", []byte("hello\n")), file("empty", nil), dir("emptydir"),
		file("sub/deeper/text.txt", text(14, 100000)), file("sub/mixed.bin", mixed(15, 300000)),
		file("Ünïcode/名前.txt", []byte("名前")),
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	for _, e := range entries {
		p := filepath.Join(src, e.path)
		if e.dir {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		flag string
		comp Compression
	}{{"none", None}, {"xpress", XPRESS}, {"lzx", LZX}} {
		t.Run(tc.flag, func(t *testing.T) {
			path := filepath.Join(dir, tc.flag+".wim")
			run(t, wimlib, "capture", src, path, "--compress="+tc.flag, "--check", "--boot")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, r := readTree(t, b)
			diffTrees(t, "our reader of wimlib's WIM", got, want(entries))
			if r.Compression != tc.comp || r.Images[0].Info.FileCount != 6 || r.Images[0].Info.DirCount != 5 {
				t.Errorf("compression %v, XML %+v", r.Compression, r.Images[0].Info)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	sd := testSecurityDescriptor()
	win := &WindowsInfo{Arch: 5, ProductName: "Microsoft® Windows® Operating System", EditionID: "MobileCore",
		InstallationType: "WindowsPhone", Languages: []string{"en-US"}, DefaultLanguage: "en-US",
		Version: WindowsVersion{10, 0, 10586, 0, 0}, SystemRoot: "WINDOWS"}
	opt := Options{
		Compression: XPRESS, ChunkSize: 4096, GUID: [16]byte{1, 2, 3}, Name: "MainOS <&>", Description: "Ünïcode",
		DisplayName: "disp", Flags: "MobileCore", Windows: win, SecurityDescriptor: sd,
	}
	entries := []entry{file("Windows/System32/x.dll", mixed(16, 50000)), dir("Data")}
	b := writeWIM(t, entries, opt)
	got, r := readTree(t, b)
	diffTrees(t, "our reader", got, want(entries))
	if r.Header.GUID != opt.GUID || r.Header.ChunkSize != 4096 {
		t.Errorf("GUID %x, chunk size %d", r.Header.GUID, r.Header.ChunkSize)
	}
	info := r.Images[0].Info
	if info.Name != opt.Name || info.Description != opt.Description || info.DisplayName != "disp" || info.Flags != "MobileCore" {
		t.Errorf("XML %+v", info)
	}
	if info.Windows == nil || info.Windows.ProductName != win.ProductName || info.Windows.Version != win.Version || info.Windows.Languages[0] != "en-US" {
		t.Errorf("WINDOWS %+v", info.Windows)
	}
	if info.CreationTime != filetime(imageconst.Epoch) || FiletimeToTime(info.CreationTime) != imageconst.Epoch {
		t.Errorf("creation time %d", info.CreationTime)
	}
	m, err := r.ReadMetadata(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.SecurityDescriptors) != 1 || !bytes.Equal(m.SecurityDescriptors[0], sd) || m.Root.SecurityID != 0 {
		t.Errorf("security descriptors %x, root security id %d", m.SecurityDescriptors, m.Root.SecurityID)
	}
	wimlibCheck(t, b, want(entries))
	if out := run(t, checker(t, "wimlib-imagex"), "info", "--xml", writeTemp(t, b)); !strings.Contains(utf16le(out), "<PRODUCTNAME>") {
		t.Errorf("wimlib-imagex info --xml lacks PRODUCTNAME")
	}
}

func writeTemp(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "t.wim")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func utf16le(s string) string {
	b := []byte(s)
	var out []rune
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, rune(binary.LittleEndian.Uint16(b[i:])))
	}
	return string(out)
}

// testSecurityDescriptor is O:BAG:BAD:(A;OICI;FA;;;WD) in self-relative form.
func testSecurityDescriptor() []byte {
	sid := func(auth byte, subs ...uint32) []byte {
		b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, auth}
		for _, s := range subs {
			b = binary.LittleEndian.AppendUint32(b, s)
		}
		return b
	}
	ba := sid(5, 32, 544)
	everyone := sid(1, 0)
	ace := []byte{0, 3} // ACCESS_ALLOWED, OBJECT_INHERIT|CONTAINER_INHERIT
	ace = binary.LittleEndian.AppendUint16(ace, uint16(8+len(everyone)))
	ace = binary.LittleEndian.AppendUint32(ace, 0x1F01FF)
	ace = append(ace, everyone...)
	acl := []byte{2, 0}
	acl = binary.LittleEndian.AppendUint16(acl, uint16(8+len(ace)))
	acl = binary.LittleEndian.AppendUint16(acl, 1)
	acl = append(acl, 0, 0)
	acl = append(acl, ace...)
	sd := []byte{1, 0}
	sd = binary.LittleEndian.AppendUint16(sd, 0x8004) // SELF_RELATIVE | DACL_PRESENT
	off := uint32(20)
	sd = binary.LittleEndian.AppendUint32(sd, off)                   // owner
	sd = binary.LittleEndian.AppendUint32(sd, off+uint32(len(ba)))   // group
	sd = binary.LittleEndian.AppendUint32(sd, 0)                     // SACL
	sd = binary.LittleEndian.AppendUint32(sd, off+2*uint32(len(ba))) // DACL
	sd = append(append(append(sd, ba...), ba...), acl...)
	return sd
}

func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"file twice", func(w *Writer) error {
			w.AddFile("a", 1, strings.NewReader("x"), 0)
			return w.AddFile("a", 1, strings.NewReader("x"), 0)
		}, "already added"},
		{"names differing in case", func(w *Writer) error {
			w.AddFile("dir/File.txt", 1, strings.NewReader("x"), 0)
			return w.AddFile("DIR/file.TXT", 1, strings.NewReader("x"), 0)
		}, "already added"},
		{"dir twice", func(w *Writer) error {
			w.AddDir("d", 0)
			return w.AddDir("d", 0)
		}, "directory added twice"},
		{"dir over file", func(w *Writer) error {
			w.AddFile("a", 1, strings.NewReader("x"), 0)
			return w.AddDir("a", 0)
		}, "already added as a file"},
		{"file under file", func(w *Writer) error {
			w.AddFile("a", 1, strings.NewReader("x"), 0)
			return w.AddFile("a/b", 1, strings.NewReader("x"), 0)
		}, "is a file, not a directory"},
		{"dot dot", func(w *Writer) error { return w.AddFile("a/../b", 1, strings.NewReader("x"), 0) }, "not a file name"},
		{"empty component", func(w *Writer) error { return w.AddFile("a//b", 1, strings.NewReader("x"), 0) }, "empty name"},
		{"bad UTF-8", func(w *Writer) error { return w.AddFile("a\xff", 1, strings.NewReader("x"), 0) }, "not valid UTF-8"},
		{"NUL", func(w *Writer) error { return w.AddFile("a\x00b", 1, strings.NewReader("x"), 0) }, "NUL"},
		{"root as file", func(w *Writer) error { return w.AddFile("/", 1, strings.NewReader("x"), 0) }, "needs a name"},
		{"short content", func(w *Writer) error { return w.AddFile("a", 10, strings.NewReader("x"), 0) }, "ended after 1 of 10 bytes"},
		{"short large content", func(w *Writer) error {
			return w.AddFile("a", 3<<20, bytes.NewReader(make([]byte, 2<<20)), 0)
		}, "ended after 2097152 of 3145728 bytes"},
		{"long content", func(w *Writer) error { return w.AddFile("a", 1, strings.NewReader("xy"), 0) }, "longer than the given size"},
		{"long empty content", func(w *Writer) error { return w.AddFile("a", 0, strings.NewReader("xy"), 0) }, "longer than the given size"},
		{"read error", func(w *Writer) error {
			return w.AddFile("a", 5<<20, io.MultiReader(bytes.NewReader(make([]byte, 2<<20)), iotest.ErrReader(errors.New("disk on fire"))), 0)
		}, "disk on fire"},
		{"directory attribute on file", func(w *Writer) error { return w.AddFile("a", 0, strings.NewReader(""), AttrDirectory) }, "directory attribute"},
		{"reparse point", func(w *Writer) error { return w.AddDir("j", AttrReparsePoint) }, "reparse points are not supported"},
	}
	for _, comp := range []Compression{None, XPRESS, LZX} {
		for _, tt := range tests {
			t.Run(comp.String()+"/"+tt.name, func(t *testing.T) {
				var m memFile
				w, err := NewWriter(&m, Options{Compression: comp})
				if err != nil {
					t.Fatal(err)
				}
				err = tt.do(w)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one containing %q", err, tt.want)
				}
				// The writer is still usable, and the failed file is not in the image.
				if err := w.AddFile("after.txt", 5, strings.NewReader("after"), 0); err != nil {
					t.Fatalf("AddFile after the error: %v", err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got, _ := readTree(t, m.Bytes())
				if _, ok := got["after.txt"]; !ok {
					t.Errorf("after.txt missing: %v", got)
				}
			})
		}
	}
}

func TestNewWriterErrors(t *testing.T) {
	tests := []struct {
		opt  Options
		want string
	}{
		{Options{Compression: LZX, ChunkSize: 4096}, "LZX chunks are a power of two from 32768"},
		{Options{Compression: LZMS}, "LZMS compression not supported yet"},
		{Options{Compression: 9}, "unknown compression"},
		{Options{Compression: XPRESS, ChunkSize: 1000}, "power of two"},
		{Options{Compression: XPRESS, ChunkSize: 1 << 17}, "power of two"},
	}
	for _, tt := range tests {
		_, err := NewWriter(&memFile{}, tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.opt, err, tt.want)
		}
	}
	w, _ := NewWriter(&memFile{}, Options{})
	w.Close()
	if err := w.Close(); err == nil {
		t.Error("second Close: no error")
	}
	if err := w.AddDir("x", 0); err == nil {
		t.Error("AddDir after Close: no error")
	}
}

// TestVerifyDetectsDamage flips bytes in a written WIM: Open or Verify must fail.
func TestVerifyDetectsDamage(t *testing.T) {
	entries := []entry{file("a.txt", text(17, 70000)), file("b.bin", randomBytes(18, 40000))}
	for _, comp := range []Compression{None, XPRESS, LZX} {
		b := writeWIM(t, entries, Options{Compression: comp})
		r, _ := Open(bytes.NewReader(b), int64(len(b)))
		targets := map[string]int64{
			"first blob":    r.Blobs[0].Offset + 300,
			"last blob":     r.Blobs[len(r.Blobs)-1].Offset + 10,
			"metadata":      r.Images[0].Metadata.Offset + 5,
			"blob table":    r.Header.BlobTable.Offset + 40,
			"integrity":     r.Header.Integrity.Offset + 20,
			"header length": 8,
		}
		for name, off := range targets {
			c := bytes.Clone(b)
			c[off] ^= 0x40
			r, err := Open(bytes.NewReader(c), int64(len(c)))
			if err == nil {
				err = r.Verify()
			}
			if err == nil {
				t.Errorf("%v: damage to %s (byte %d) not detected", comp, name, off)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	good := writeWIM(t, []entry{file("a", []byte("abc"))}, Options{})
	tests := []struct {
		name string
		mod  func(b []byte) []byte
		want string
	}{
		{"short", func(b []byte) []byte { return b[:100] }, "a WIM header has 208"},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "not a WIM file"},
		{"blob table outside", func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[0x38:], uint64(len(b)))
			return b
		}, "lie outside"},
		{"split", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[0x2A:], 2); return b }, "split WIMs"},
		{"image count", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[0x2C:], 2); return b }, "image count 2"},
		{"LZMS chunk size", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[0x10:], FlagCompression|FlagCompressLZMS)
			return b
		}, "chunk size 0 is not valid for LZMS"},
	}
	for _, tt := range tests {
		b := tt.mod(bytes.Clone(good))
		_, err := Open(bytes.NewReader(b), int64(len(b)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(writeWIM(f, []entry{file("a.txt", []byte("hello")), dir("d"), file("d/e", nil)}, Options{}))
	f.Add(writeWIM(f, []entry{file("a.txt", text(1, 3000)), file("b/c", text(1, 3000))}, Options{Compression: XPRESS, ChunkSize: 4096}))
	f.Add(writeWIM(f, []entry{file("r", randomBytes(2, 5000)), file("t", text(3, 9000))}, Options{Compression: XPRESS, ChunkSize: 4096, SecurityDescriptor: testSecurityDescriptor()}))
	f.Add(writeWIM(f, []entry{file("c.exe", x86ish(4, 5000)), file("t", text(5, 9000))}, Options{Compression: LZX}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for i := range r.Images {
			_ = r.Walk(i+1, func(fl *File) error {
				if fl.IsDir {
					return nil
				}
				rc, err := r.Open(fl)
				if err != nil {
					return nil
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
				return nil
			})
		}
		_ = r.Verify()
	})
}

// BenchmarkWriter writes 16 MiB of mixed files, one in ten a duplicate, through the
// whole writer.
func BenchmarkWriter(b *testing.B) {
	var entries []entry
	total := 0
	for i := 0; total < 16<<20; i++ {
		seed := int64(i)
		if i%10 == 9 {
			seed = int64(i - 5)
		}
		data := mixed(seed, 4096<<(seed%8))
		entries = append(entries, file(strings.Repeat("d/", i%5)+"f"+string(rune('a'+i%26))+strings.Repeat("x", i/26), data))
		total += len(data)
	}
	for _, comp := range []Compression{None, XPRESS, LZX} {
		b.Run(comp.String(), func(b *testing.B) {
			b.SetBytes(int64(total))
			var m memFile
			for i := 0; i < b.N; i++ {
				m.Reset()
				writeEntries(b, &m, entries, Options{Compression: comp})
			}
			b.ReportMetric(float64(len(m.Bytes()))/float64(total)*100, "%size")
		})
	}
}
