package fat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// readBack opens the volume at path and returns every entry: files by path with their
// content, directories as path + `\` with nil, in Walk order.
func readBack(t *testing.T, path string) (map[string][]byte, []string, *Volume) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	v, err := Open(f, 0, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	var order []string
	err = v.Walk(func(fl File, r io.Reader) error {
		if fl.Dir {
			got[fl.Path+`\`] = nil
			order = append(order, fl.Path+`\`)
			return nil
		}
		b, err := io.ReadAll(r)
		if int64(len(b)) != fl.Size {
			return fmt.Errorf("%s: read %d bytes, entry says %d", fl.Path, len(b), fl.Size)
		}
		got[fl.Path] = b
		order = append(order, fl.Path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, order, v
}

// want is what a volume of files must read back as: each file and every parent directory.
func want(files []file) map[string][]byte {
	m := map[string][]byte{}
	for _, f := range files {
		m[f.path] = f.data
		if m[f.path] == nil {
			m[f.path] = []byte{}
		}
		for p := f.path; strings.LastIndexByte(p, '\\') > 0; {
			p = p[:strings.LastIndexByte(p, '\\')]
			m[p+`\`] = nil
		}
	}
	return m
}

func compare(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: missing", p)
		case (w == nil) != (g == nil):
			t.Errorf("%s: a directory on one side only", p)
		case !bytes.Equal(g, w):
			t.Errorf("%s: %d bytes differ from the %d written", p, len(g), len(w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: read, never written", p)
		}
	}
}

// checkOrder: parents before children, siblings by lower-cased name.
func checkOrder(t *testing.T, order []string) {
	t.Helper()
	for i := 1; i < len(order); i++ {
		a, b := strings.TrimSuffix(order[i-1], `\`), strings.TrimSuffix(order[i], `\`)
		pa, pb := a[:strings.LastIndexByte(a, '\\')], b[:strings.LastIndexByte(b, '\\')]
		if pa == pb && strings.ToLower(a) >= strings.ToLower(b) {
			t.Errorf("%s before %s", a, b)
		}
	}
	seen := map[string]bool{``: true}
	for _, p := range order {
		p = strings.TrimSuffix(p, `\`)
		if !seen[p[:strings.LastIndexByte(p, '\\')]] {
			t.Errorf("%s before its directory", p)
		}
		seen[p] = true
	}
}

// roundTripFiles has what the reader must get right: long and non-ASCII names (one outside
// the BMP), empty files, files exactly filling clusters or one byte over, a deep tree,
// directories of many clusters.
func roundTripFiles(cb int) []file {
	rng := rand.New(rand.NewSource(int64(cb)))
	data := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	files := testFiles()
	files = append(files,
		file{`\exact\one.bin`, data(cb)},
		file{`\exact\two.bin`, data(2 * cb)},
		file{`\exact\over.bin`, data(cb + 1)},
		file{`\exact\under.bin`, data(cb - 1)},
		file{`\exact\empty`, nil},
		file{`\names\日本語のファイル名.txt`, []byte("cjk")},
		file{`\names\emoji 😀.txt`, []byte("astral")},
		file{`\names\` + strings.Repeat("L", 255), []byte("255 units")},
		file{`\names\lower.txt`, []byte("lower-case 8.3")},
		file{`\names\a.b.c.d`, []byte("dots")},
	)
	deep := ""
	for i := 0; i < 40; i++ {
		deep += fmt.Sprintf(`\level%02d`, i)
	}
	files = append(files, file{deep + `\bottom.txt`, []byte("deep")})
	return files
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int64
		opt  Options
		want Type
	}{
		{"FAT12 512", 2 << 20, Options{}, FAT12},
		{"FAT12 512 4K clusters", 8 << 20, Options{ClusterSize: 4096}, FAT12},
		{"FAT12 4096", 8 << 20, Options{SectorSize: 4096}, FAT12},
		{"FAT16 512", 32 << 20, Options{}, FAT16},
		{"FAT16 512 2K clusters", 100 << 20, Options{ClusterSize: 2048}, FAT16},
		{"FAT16 4096", 300 << 20, Options{SectorSize: 4096}, FAT16},
		{"FAT32 512", 40 << 20, Options{Type: FAT32}, FAT32},
		{"FAT32 512 1K clusters", 80 << 20, Options{Type: FAT32, ClusterSize: 1024}, FAT32},
		{"FAT32 512 4K clusters", 300 << 20, Options{Type: FAT32, ClusterSize: 4096}, FAT32},
		{"FAT32 4096", 300 << 20, Options{Type: FAT32, SectorSize: 4096}, FAT32},
		{"FAT32 4096 32K clusters", 2100 << 20, Options{Type: FAT32, SectorSize: 4096, ClusterSize: 32768}, FAT32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := max(tt.opt.SectorSize, 512)
			cb := tt.opt.ClusterSize
			if cb == 0 {
				cb = ss
			}
			files := roundTripFiles(cb)
			path, _ := build(t, tt.size, tt.opt, files)
			got, order, v := readBack(t, path)
			if v.Type() != tt.want || v.SectorSize() != ss {
				t.Errorf("read as %v with %d-byte sectors, want %v, %d", v.Type(), v.SectorSize(), tt.want, ss)
			}
			compare(t, got, want(files))
			checkOrder(t, order)
			for _, f := range files[len(files)-3:] {
				fl, r, err := v.Open(strings.ToUpper(f.path))
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(b, f.data) || fl.Path != f.path {
					t.Errorf("Open(%s) = %s, %d bytes, %v", strings.ToUpper(f.path), fl.Path, len(b), err)
				}
			}
		})
	}
}

// TestReadsMtools reads volumes that mkfs.fat formatted and mcopy filled, a writer nobody here
// wrote: its 8.3 names with the NT lower-case bits (readme.txt), its long names and layout.
func TestReadsMtools(t *testing.T) {
	mkfs := checker.Find(t, "mkfs.fat")
	mcopy := checker.Find(t, "mcopy")
	mmd := checker.Find(t, "mmd")
	files := []file{
		{`\readme.txt`, []byte("NT case bits 0x18")},
		{`\lower`, []byte("NT case bit 0x08")},
		{`\UPPER.TXT`, []byte("plain 8.3")},
		{`\Mixed Case.TXT`, []byte("long name")},
		{`\Caméra.txt`, []byte("non-ASCII long name")},
		{`\empty.txt`, nil},
		{`\dir\Sub Dir\file.bin`, bytes.Repeat([]byte("0123456789"), 10000)},
	}
	for i := 0; i < 150; i++ {
		files = append(files, file{fmt.Sprintf(`\dir\many\Package %03d.dsm.xml`, i), []byte(fmt.Sprint(i))})
	}
	src := t.TempDir()
	for _, f := range files {
		p := filepath.Join(src, filepath.FromSlash(strings.ReplaceAll(f.path, `\`, "/")))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		mib  int64
		want Type
		ss   int
	}{
		{"FAT12", []string{"-F", "12"}, 4, FAT12, 512},
		{"FAT16", []string{"-F", "16"}, 64, FAT16, 512},
		{"FAT16 4096", []string{"-F", "16", "-S", "4096"}, 64, FAT16, 4096},
		{"FAT32", []string{"-F", "32"}, 300, FAT32, 512},
		{"FAT32 4096", []string{"-F", "32", "-S", "4096"}, 600, FAT32, 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "m.img")
			if err := os.WriteFile(img, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, tt.mib<<20); err != nil {
				t.Fatal(err)
			}
			checker.Run(t, "", mkfs, append(tt.args, img)...)
			for _, d := range []string{"::/dir", "::/dir/Sub Dir", "::/dir/many"} {
				checker.Run(t, "", mmd, "-i", img, d)
			}
			var top []string
			entries, _ := os.ReadDir(src)
			for _, e := range entries {
				if !e.IsDir() {
					top = append(top, filepath.Join(src, e.Name()))
				}
			}
			sort.Strings(top)
			checker.Run(t, "", mcopy, append(append([]string{"-i", img}, top...), "::/")...)
			checker.Run(t, "", mcopy, "-i", img, filepath.Join(src, "dir", "Sub Dir", "file.bin"), "::/dir/Sub Dir/")
			many, _ := filepath.Glob(filepath.Join(src, "dir", "many", "*"))
			checker.Run(t, "", mcopy, append(append([]string{"-i", img}, many...), "::/dir/many/")...)
			got, order, v := readBack(t, img)
			if v.Type() != tt.want || v.SectorSize() != tt.ss {
				t.Errorf("read as %v with %d-byte sectors, want %v, %d", v.Type(), v.SectorSize(), tt.want, tt.ss)
			}
			compare(t, got, want(files))
			checkOrder(t, order)
		})
	}
}

// image is a volume in memory for the corruptions.
type image []byte

func (m image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m image) WriteAt(p []byte, off int64) (int, error) { return copy(m[off:], p), nil }

// memVolume writes files into an in-memory volume.
func memVolume(t testing.TB, size int64, opt Options, files []file) image {
	t.Helper()
	m := make(image, size)
	w, err := New(m, 0, size, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := w.AddFile(f.path, int64(len(f.data)), bytes.NewReader(f.data), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return m
}

// layoutOf is where a volume's structures are, from its boot sector (read here, apart from
// the reader's own parsing).
type layoutOf struct {
	typ                                          Type
	ss, cb, fatStart, fatBytes, fats, root, data int
	clusters                                     int
}

func where(b []byte, typ Type) layoutOf {
	l := layoutOf{typ: typ, ss: int(le.Uint16(b[11:])), fats: int(b[16])}
	l.cb = int(b[13]) * l.ss
	l.fatStart = int(le.Uint16(b[14:])) * l.ss
	fatSecs := int(le.Uint16(b[22:]))
	if fatSecs == 0 {
		fatSecs = int(le.Uint32(b[36:]))
	}
	total := int(le.Uint16(b[19:]))
	if total == 0 {
		total = int(le.Uint32(b[32:]))
	}
	l.fatBytes = fatSecs * l.ss
	l.root = l.fatStart + l.fats*l.fatBytes
	l.data = l.root + (int(le.Uint16(b[17:]))*32+l.ss-1)/l.ss*l.ss
	l.clusters = (total*l.ss - l.data) / l.cb
	return l
}

// set sets cluster c's entry in every FAT.
func (l layoutOf) set(b []byte, c, v uint32) {
	for i := 0; i < l.fats; i++ {
		o := l.fatStart + i*l.fatBytes
		switch l.typ {
		case FAT32:
			le.PutUint32(b[o+4*int(c):], v)
		case FAT16:
			le.PutUint16(b[o+2*int(c):], uint16(v))
		default:
			o += int(c) * 3 / 2
			if c%2 == 0 {
				b[o], b[o+1] = byte(v), b[o+1]&0xF0|byte(v>>8)&0x0F
			} else {
				b[o], b[o+1] = b[o]&0x0F|byte(v<<4), byte(v>>4)
			}
		}
	}
}

// marks are a variant's bad-cluster and first reserved values.
func (l layoutOf) bad() uint32 {
	return map[Type]uint32{FAT12: 0xFF7, FAT16: 0xFFF7, FAT32: 0x0FFFFFF7}[l.typ]
}

func (l layoutOf) reserved() uint32 {
	return map[Type]uint32{FAT12: 0xFF0, FAT16: 0xFFF0, FAT32: 0x0FFFFFF0}[l.typ]
}

func findEntry(t testing.TB, b []byte, short string) int {
	t.Helper()
	for i := 0; i+32 <= len(b); i += 32 {
		if string(b[i:i+11]) == short {
			return i
		}
	}
	t.Fatalf("no entry %q", short)
	return 0
}

func first(b []byte, e int) uint32 {
	return uint32(binary.LittleEndian.Uint16(b[e+20:]))<<16 | uint32(binary.LittleEndian.Uint16(b[e+26:]))
}

var corruptFiles = []file{
	{`\DATA.BIN`, bytes.Repeat([]byte("d"), 3000)},
	{`\OTHER.BIN`, bytes.Repeat([]byte("o"), 1000)},
	{`\SUB\INNER.TXT`, []byte("inner")},
	{`\SUB\Long File Name.txt`, []byte("long")},
}

// readEverything opens a volume and reads every file, as imgtowim does, then opens one.
func readEverything(r io.ReaderAt, size int64) error {
	v, err := Open(r, 0, size)
	if err != nil {
		return err
	}
	err = v.Walk(func(f File, r io.Reader) error {
		if r != nil {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, r2, err := v.Open(`\SUB\Long File Name.txt`)
	if err == nil && r2 != nil {
		_, err = io.Copy(io.Discard, r2)
	}
	return err
}

var le = binary.LittleEndian

type corruption struct {
	name    string
	corrupt func(t testing.TB, b []byte, l layoutOf)
	want    string
}

// bootCorruptions break the boot sector's parameters.
var bootCorruptions = []corruption{
	{"no signature", func(t testing.TB, b []byte, l layoutOf) { b[510] = 0 }, "55 AA"},
	{"bytes per sector 0", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[11:], 0) }, "bytes per sector 0"},
	{"bytes per sector 3000", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[11:], 3000) }, "bytes per sector 3000"},
	{"bytes per sector 8192", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[11:], 8192) }, "bytes per sector 8192"},
	{"sectors per cluster 0", func(t testing.TB, b []byte, l layoutOf) { b[13] = 0 }, "sectors per cluster 0"},
	{"sectors per cluster 3", func(t testing.TB, b []byte, l layoutOf) { b[13] = 3 }, "sectors per cluster 3"},
	{"reserved 0", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[14:], 0) }, "0 reserved"},
	{"FATs 0", func(t testing.TB, b []byte, l layoutOf) { b[16] = 0 }, "0 FATs"},
	{"FATs 3", func(t testing.TB, b []byte, l layoutOf) { b[16] = 3 }, "3 FATs"},
	{"total sectors 0", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[19:], 0); le.PutUint32(b[32:], 0) }, "total sectors is 0"},
	{"total sectors beyond", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[19:], 0); le.PutUint32(b[32:], 1<<30) }, "beyond the partition"},
}

// fat32Corruptions break what only FAT32 has.
var fat32Corruptions = []corruption{
	{"sectors per FAT 0", func(t testing.TB, b []byte, l layoutOf) { le.PutUint32(b[36:], 0) }, "sectors per FAT is 0"},
	{"sectors per FAT huge", func(t testing.TB, b []byte, l layoutOf) { le.PutUint32(b[36:], 1<<22) }, "beyond the volume"},
	{"sectors per FAT too few", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint32(b[36:], le.Uint32(b[36:])/2)
	}, "room for"},
	{"root cluster 0", func(t testing.TB, b []byte, l layoutOf) { le.PutUint32(b[44:], 0) }, "root directory cluster 0"},
	{"root cluster beyond", func(t testing.TB, b []byte, l layoutOf) { le.PutUint32(b[44:], 0x0FFFFFF0) }, "root directory cluster"},
	{"FAT16 count in FAT32 layout", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint32(b[32:], uint32(l.data/l.ss+60000)) // 60,000 clusters: FAT16 by count
	}, "make it FAT16"},
	{"root entries in FAT32", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[17:], 16) }, "root directory entries"},
	{"version", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[42:], 0x0100) }, "version 1.0"},
	{"active FAT beyond", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[40:], 0x83) }, "active FAT 3"},
}

// fat16Corruptions break the FAT12/16 layout.
var fat16Corruptions = []corruption{
	// With the 16-bit field 0, the FAT32 field counts: here it is the extended boot record.
	{"sectors per FAT 0", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[22:], 0) }, "beyond the volume"},
	{"sectors per FAT 0, FAT32 field small", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint16(b[22:], 0)
		le.PutUint32(b[36:], 2)
	}, "a FAT32 boot sector, but"},
	{"sectors per FAT huge", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[22:], 0xFFFF) }, "beyond the volume"},
	{"sectors per FAT too few", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[22:], 1) }, "room for"},
	{"no root entries", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[17:], 0) }, "without root directory entries"},
	{"reserved beyond", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[14:], 0xFFFF) }, "beyond the volume"},
}

// fat12Corruptions need a volume of fewer sectors than a full root directory takes.
var fat12Corruptions = []corruption{
	{"root beyond", func(t testing.TB, b []byte, l layoutOf) { le.PutUint16(b[17:], 0xFFFF) }, "beyond the volume"},
}

// chainCorruptions break chains and directories, on any variant.
var chainCorruptions = []corruption{
	{"file larger than its chain", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint32(b[findEntry(t, b, "DATA    BIN")+28:], 1<<20)
	}, `\DATA.BIN: 1048576 bytes, but its cluster chain ends`},
	{"file larger than the volume", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint32(b[findEntry(t, b, "DATA    BIN")+28:], 0xFFFFFFFF)
	}, `\DATA.BIN: 4294967295 bytes, more than`},
	{"file chain longer than its size", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint32(b[findEntry(t, b, "DATA    BIN")+28:], 10)
	}, `\DATA.BIN (10 bytes`},
	{"file chain loop", func(t testing.TB, b []byte, l layoutOf) {
		f := first(b, findEntry(t, b, "DATA    BIN"))
		l.set(b, f+uint32((3000+l.cb-1)/l.cb)-1, f)
	}, `\DATA.BIN`},
	{"file chain to itself", func(t testing.TB, b []byte, l layoutOf) {
		f := first(b, findEntry(t, b, "DATA    BIN"))
		l.set(b, f, f)
	}, "met twice"},
	{"file chain to a free cluster", func(t testing.TB, b []byte, l layoutOf) {
		f := first(b, findEntry(t, b, "DATA    BIN"))
		l.set(b, f, 0)
	}, "marked free"},
	{"file chain to a bad cluster", func(t testing.TB, b []byte, l layoutOf) {
		f := first(b, findEntry(t, b, "DATA    BIN"))
		l.set(b, f, l.bad())
	}, "marked bad"},
	{"file chain out of range", func(t testing.TB, b []byte, l layoutOf) {
		f := first(b, findEntry(t, b, "DATA    BIN"))
		l.set(b, f, l.reserved())
	}, "outside"},
	{"file first cluster out of range", func(t testing.TB, b []byte, l layoutOf) {
		le.PutUint16(b[findEntry(t, b, "DATA    BIN")+26:], 1)
	}, "cluster 1 is outside"},
	{"file without clusters", func(t testing.TB, b []byte, l layoutOf) {
		e := findEntry(t, b, "DATA    BIN")
		le.PutUint16(b[e+26:], 0)
		le.PutUint16(b[e+20:], 0)
	}, "no clusters"},
	{"cross-linked files", func(t testing.TB, b []byte, l layoutOf) {
		d, o := findEntry(t, b, "DATA    BIN"), findEntry(t, b, "OTHER   BIN")
		copy(b[o+20:o+22], b[d+20:d+22])
		copy(b[o+26:o+28], b[d+26:d+28])
	}, `\OTHER.BIN`},
	{"directory chain loop", func(t testing.TB, b []byte, l layoutOf) {
		s := first(b, findEntry(t, b, "SUB        "))
		l.set(b, s, s)
	}, `\SUB: directory: cluster`},
	{"directory cycle", func(t testing.TB, b []byte, l layoutOf) {
		e := findEntry(t, b, "INNER   TXT")
		b[e+11] = attrDirectory
		copy(b[e+20:e+22], b[findEntry(t, b, "SUB        ")+20:])
		copy(b[e+26:e+28], b[findEntry(t, b, "SUB        ")+26:])
	}, `\SUB\INNER.TXT: directory at cluster`},
	{"directory without clusters", func(t testing.TB, b []byte, l layoutOf) {
		e := findEntry(t, b, "SUB        ")
		le.PutUint16(b[e+20:], 0)
		le.PutUint16(b[e+26:], 0)
	}, `\SUB: a directory without clusters`},
	{"directory too large", func(t testing.TB, b []byte, l layoutOf) {
		// chain SUB's cluster through every cluster after it
		s := first(b, findEntry(t, b, "SUB        "))
		n := uint32(MaxDirBytes/l.cb + 2)
		if int(s+n) > l.clusters {
			t.Skipf("%d clusters cannot hold a directory of %d", l.clusters, MaxDirBytes)
		}
		for c := s; c < s+n; c++ {
			l.set(b, c, c+1)
		}
	}, "longer than"},
	{"name with a backslash", func(t testing.TB, b []byte, l layoutOf) {
		b[findEntry(t, b, "INNER   TXT")+2] = '\\'
	}, `character '\\'`},
	{"empty name", func(t testing.TB, b []byte, l layoutOf) {
		copy(b[findEntry(t, b, "INNER   TXT"):], "           ")
	}, "empty name"},
	{"duplicate names", func(t testing.TB, b []byte, l layoutOf) {
		copy(b[findEntry(t, b, "OTHER   BIN"):], "DATA    BIN")
	}, `two entries named "DATA.BIN"`},
}

func TestCorrupt(t *testing.T) {
	vols := []struct {
		name   string
		size   int64
		opt    Options
		typ    Type
		shapes [][]corruption
	}{
		{"FAT12", 2 << 20, Options{}, FAT12, [][]corruption{bootCorruptions, fat16Corruptions, fat12Corruptions, chainCorruptions}},
		{"FAT16", 8 << 20, Options{}, FAT16, [][]corruption{bootCorruptions, fat16Corruptions, chainCorruptions}},
		{"FAT32", 40 << 20, Options{Type: FAT32}, FAT32, [][]corruption{bootCorruptions, fat32Corruptions, chainCorruptions}},
	}
	for _, vol := range vols {
		base := memVolume(t, vol.size, vol.opt, corruptFiles)
		if err := readEverything(base, vol.size); err != nil {
			t.Fatalf("%s: the intact volume: %v", vol.name, err)
		}
		for _, shapes := range vol.shapes {
			for _, c := range shapes {
				t.Run(vol.name+"/"+c.name, func(t *testing.T) {
					b := bytes.Clone(base)
					c.corrupt(t, b, where(b, vol.typ))
					err := readEverything(image(b), vol.size)
					if err == nil || !strings.Contains(err.Error(), c.want) {
						t.Errorf("err = %v, want %q", err, c.want)
					}
				})
			}
		}
	}
}

// Long-name entries that do not belong to their short entry are dropped, as Windows does: the
// 8.3 name is the name.
func TestOrphanLongNames(t *testing.T) {
	files := []file{{`\Long File Name.txt`, []byte("x")}}
	tests := []struct {
		name    string
		corrupt func(b []byte, lfn int)
		want    string
	}{
		{"intact", func(b []byte, lfn int) {}, `\Long File Name.txt`},
		{"checksum", func(b []byte, lfn int) { b[lfn+13]++ }, `\LONGFI~1.TXT`},
		{"sequence", func(b []byte, lfn int) { b[lfn] = 0x40 | 3 }, `\LONGFI~1.TXT`},
		{"deleted part", func(b []byte, lfn int) { b[lfn] = 0xE5 }, `\LONGFI~1.TXT`},
		{"NT case bits", func(b []byte, lfn int) {
			b[lfn] = 0xE5
			b[lfn+32] = 0xE5
			b[lfn+64+12] = 0x18
		}, `\longfi~1.txt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := memVolume(t, 2<<20, Options{}, files)
			short := findEntry(t, b, "LONGFI~1TXT")
			tt.corrupt(b, short-64) // two long-name entries before the short one
			v, err := Open(image(b), 0, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			err = v.Walk(func(f File, r io.Reader) error { got = append(got, f.Path); return nil })
			if err != nil || len(got) != 1 || got[0] != tt.want {
				t.Errorf("Walk: %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCP437(t *testing.T) {
	if len(cp437) != 128 {
		t.Fatalf("%d runes for the 128 upper code points", len(cp437))
	}
	e := make([]byte, 32)
	copy(e, "\x80T\x9A     TXT")
	if got := shortString(e); got != "ÇTÜ.TXT" {
		t.Errorf("shortString = %q", got)
	}
}

// The FAT cache is bounded: on a FAT larger than it, a chain that hops between two FAT blocks
// sharing a cache slot evicts on every step and must still read right.
func TestFATCache(t *testing.T) {
	const size = 2200 << 20 // FAT32 of 512-byte clusters: 17 MiB of FAT, more than the cache
	path, _ := build(t, size, Options{Type: FAT32, ClusterSize: 512}, []file{{`\HOP.BIN`, []byte("x")}})
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 512)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	l := where(head, FAT32)
	const perBlock = fatBlockBytes / 4
	if l.fatBytes <= fatBlockBytes*fatCacheBlocks {
		t.Fatalf("a FAT of %d bytes fits the cache", l.fatBytes)
	}
	// Clusters 1000, 1001+256 blocks, 1002, 1003+256 blocks, ...: each step changes block.
	const n = 600
	chain := make([]uint32, n)
	for i := range chain {
		chain[i] = uint32(1000 + i + i%2*fatCacheBlocks*perBlock)
	}
	want := make([]byte, n*l.cb)
	rand.New(rand.NewSource(3)).Read(want)
	put := func(b []byte, off int64) {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range chain {
		next := uint32(0x0FFFFFFF)
		if i+1 < n {
			next = chain[i+1]
		}
		for k := 0; k < l.fats; k++ {
			put(le.AppendUint32(nil, next), int64(l.fatStart+k*l.fatBytes)+4*int64(c))
		}
		put(want[i*l.cb:(i+1)*l.cb], int64(l.data)+int64(c-2)*int64(l.cb))
	}
	root := make([]byte, l.cb) // the root's first cluster is 2
	if _, err := f.ReadAt(root, int64(l.data)); err != nil {
		t.Fatal(err)
	}
	e := findEntry(t, root, "HOP     BIN") + l.data
	entry := make([]byte, 32)
	f.ReadAt(entry, int64(e))
	le.PutUint16(entry[20:], uint16(chain[0]>>16))
	le.PutUint16(entry[26:], uint16(chain[0]))
	le.PutUint32(entry[28:], uint32(len(want)))
	put(entry, int64(e))
	got, _, _ := readBack(t, path)
	if !bytes.Equal(got[`\HOP.BIN`], want) {
		t.Errorf("the hopping file reads back %d bytes, not the %d written", len(got[`\HOP.BIN`]), len(want))
	}
}
