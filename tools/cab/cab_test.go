package cab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// memFile is the package's in-memory io.WriteSeeker.
type memFile = MemFile

type entry struct {
	name string
	data []byte
}

func sources(entries []entry) []FileSource {
	var out []FileSource
	for _, e := range entries {
		data := e.data
		out = append(out, FileSource{Name: e.name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}})
	}
	return out
}

func write(t testing.TB, entries []entry, opt Options) []byte {
	t.Helper()
	var m memFile
	n, err := Write(&m, sources(entries), opt)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(m.buf)) {
		t.Fatalf("Write returned %d, wrote %d bytes", n, len(m.buf))
	}
	return m.buf
}

func readAll(t testing.TB, cabBytes []byte) map[string][]byte {
	t.Helper()
	r, err := NewReader(bytes.NewReader(cabBytes), int64(len(cabBytes)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err = r.Walk(func(f *File, rd io.Reader) error {
		b, err := io.ReadAll(rd)
		got[f.Name] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// text is compressible content of n bytes.
func text(n int) []byte {
	line := []byte("Windows 10 Mobile package payload, synthetic and compressible.\r\n")
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

var roundTripCases = []struct {
	name    string
	entries []entry
}{
	{"one small file", []entry{{"man.dsm.xml", []byte("<Package/>")}}},
	{"empty file", []entry{{"empty.txt", nil}, {"b.txt", []byte("b")}}},
	{"exactly one block", []entry{{"block.bin", text(blockSize)}}},
	{"block boundary inside a file", []entry{{"a", text(blockSize - 10)}, {"b", text(100)}, {"c", text(3*blockSize + 7)}}},
	{"incompressible", []entry{{"random.bin", randomBytes(1, 5*blockSize+123)}}},
	{"directories and UTF-8 name", []entry{{`Windows\System32\ntoskrnl.exe`, text(1000)}, {`Programs\Caméra\app.txt`, text(10)}}},
}

func TestRoundTrip(t *testing.T) {
	for _, comp := range []Compression{None, MSZIP, LZX} {
		for _, tc := range roundTripCases {
			t.Run(comp.String()+"/"+tc.name, func(t *testing.T) {
				got := readAll(t, write(t, tc.entries, Options{Compression: comp}))
				if len(got) != len(tc.entries) {
					t.Fatalf("read %d files, wrote %d", len(got), len(tc.entries))
				}
				for _, e := range tc.entries {
					if !bytes.Equal(got[e.name], e.data) {
						t.Errorf("%s: content differs (%d bytes read, %d written)", e.name, len(got[e.name]), len(e.data))
					}
				}
			})
		}
	}
}

func TestDeterministic(t *testing.T) {
	entries := []entry{{"a.txt", text(200000)}, {"b.bin", randomBytes(2, 70000)}}
	for _, comp := range []Compression{None, MSZIP, LZX} {
		first := write(t, entries, Options{Compression: comp, Workers: 1})
		for _, workers := range []int{2, 8} {
			if again := write(t, entries, Options{Compression: comp, Workers: workers}); !bytes.Equal(first, again) {
				t.Errorf("%v: output with %d workers differs from 1 worker", comp, workers)
			}
		}
	}
}

func TestModTime(t *testing.T) {
	when := time.Date(2016, 8, 2, 13, 14, 16, 0, time.UTC)
	b := write(t, []entry{{"a", []byte("x")}}, Options{ModTime: when})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Files[0].ModTime; !got.Equal(when) {
		t.Errorf("ModTime = %v, want %v", got, when)
	}
	b = write(t, []entry{{"a", []byte("x")}}, Options{})
	r, _ = NewReader(bytes.NewReader(b), int64(len(b)))
	if got := r.Files[0].ModTime; !got.Equal(DefaultModTime) {
		t.Errorf("default ModTime = %v, want %v", got, DefaultModTime)
	}
}

func TestReadFileCaseInsensitive(t *testing.T) {
	b := write(t, []entry{{"a", text(40000)}, {"Man.Dsm.Xml", []byte("<Package/>")}}, Options{Compression: MSZIP})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadFile("man.dsm.xml")
	if err != nil || string(got) != "<Package/>" {
		t.Errorf("ReadFile = %q, %v", got, err)
	}
	if _, err := r.ReadFile("missing"); err == nil {
		t.Error("ReadFile of a missing name: no error")
	}
}

// Whole-file reads of one cabinet decode a bounded total: reading members back to front
// from the end of a big folder would decode it again for each one.
func TestReadFileDecodeBudget(t *testing.T) {
	defer func(old int64) { maxReadFileDecode = old }(maxReadFileDecode)
	maxReadFileDecode = 1 << 20
	b := write(t, []entry{{"a", text(400 << 10)}, {"b", text(400 << 10)}, {"c", text(400 << 10)}}, Options{Compression: LZX})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFile("b"); err != nil { // 800 KiB decoded
		t.Fatal(err)
	}
	if _, err := r.ReadFile("a"); err == nil || !strings.Contains(err.Error(), "a: reading it would take this cabinet's whole-file reads past 1048576") {
		t.Errorf("err = %v, want the budget named", err)
	}
}

func TestPlanFolders(t *testing.T) {
	big := int64(MaxFolderBytes / 2)
	files := []FileSource{{Name: "a", Size: big}, {Name: "b", Size: big}, {Name: "c", Size: big}, {Name: "d", Size: 1}}
	folders, err := plan(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(folders) != 2 || len(folders[0].files) != 2 || len(folders[1].files) != 2 {
		t.Errorf("plan = %+v, want folders [a b] [c d]", folders)
	}
	for _, f := range folders {
		if f.blocks > maxBlocks {
			t.Errorf("folder of %d blocks", f.blocks)
		}
	}
	if _, err := plan([]FileSource{{Name: "huge", Size: MaxFolderBytes + 1}}); err == nil {
		t.Error("a file over the format's limit: no error")
	}
}

func TestWriteErrors(t *testing.T) {
	open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("abc")), nil }
	tests := []struct {
		name  string
		files []FileSource
		opt   Options
		want  string
	}{
		{"duplicate name", []FileSource{{Name: "a.txt", Size: 3, Open: open}, {Name: "A.TXT", Size: 3, Open: open}}, Options{}, "given twice"},
		{"escaping name", []FileSource{{Name: `..\evil`, Size: 3, Open: open}}, Options{}, "'..'"},
		{"drive letter", []FileSource{{Name: `C:\x`, Size: 3, Open: open}}, Options{}, "drive letter"},
		{"file shorter than its size", []FileSource{{Name: "a", Size: 5, Open: open}}, Options{}, "2 bytes short"},
		{"file longer than its size", []FileSource{{Name: "a", Size: 2, Open: open}}, Options{Compression: MSZIP}, "longer than the size"},
		{"Quantum", []FileSource{{Name: "a", Size: 3, Open: open}}, Options{Compression: Quantum}, "not supported"},
		{"LZX window 2^22", []FileSource{{Name: "a", Size: 3, Open: open}}, Options{Compression: LZXWindow(22)}, "expected 2^15 to 2^21"},
		{"MSZIP with a window", []FileSource{{Name: "a", Size: 3, Open: open}}, Options{Compression: MSZIP | 0x1500}, "only LZX takes a window"},
		{"bad level", []FileSource{{Name: "a", Size: 3, Open: open}}, Options{Compression: MSZIP, Level: 12}, "expected 1 to 9"},
		{"open error", []FileSource{{Name: "a", Size: 3, Open: func() (io.ReadCloser, error) { return nil, fmt.Errorf("boom") }}}, Options{Compression: MSZIP}, "a: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Write(&memFile{}, tt.files, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, good := range []string{"man.dsm.xml", `Windows\System32\a.dll`, "0_ntoskrn.exe", "a b"} {
		if err := CheckName(good); err != nil {
			t.Errorf("CheckName(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", `\abs`, `a\\b`, `a\..\b`, ".", "a/b", "C:x", "nul\x00", strings.Repeat("x", 256)} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q): no error", bad)
		}
	}
}

func TestCorruptCabinets(t *testing.T) {
	good := write(t, []entry{{"a.txt", text(100000)}}, Options{Compression: MSZIP})
	folderAt := headerSize
	dataAt := int(binary.LittleEndian.Uint32(good[folderAt:]))
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	// Two files of one folder whose CFFILE entries claim the same bytes.
	two := write(t, []entry{{"a.txt", text(1000)}, {"b.txt", text(1000)}}, Options{})
	coff := int(binary.LittleEndian.Uint32(two[16:]))
	binary.LittleEndian.PutUint32(two[coff+fileFixedSize+len("a.txt")+1+4:], 500) // b.txt's offset
	twice := write(t, []entry{{"a.txt", text(10)}, {"b.txt", text(10)}}, Options{})
	copy(twice[bytes.Index(twice, []byte("b.txt")):], "A.TXT")
	// Two folders (a new one and a copied one) pointed at the same blocks.
	var m memFile
	src := write(t, []entry{{"c.txt", text(70000)}}, Options{})
	sr, _ := NewReader(bytes.NewReader(src), int64(len(src)))
	if _, err := WriteWithRaw(&m, sources([]entry{{"a.txt", text(70000)}}), []RawFolder{{From: sr, Files: []RawFile{{Name: "c.txt", Size: 70000}}}}, Options{}); err != nil {
		t.Fatal(err)
	}
	shared := m.Bytes()
	copy(shared[folderAt+folderSize:folderAt+folderSize+4], shared[folderAt:folderAt+4])
	// A reserve of 60,001 header bytes in a cabinet long enough to hold them.
	big := write(t, []entry{{"r.bin", randomBytes(5, 70000)}}, Options{})
	reserve := append([]byte(nil), big[:headerSize]...)
	binary.LittleEndian.PutUint16(reserve[30:], flagReserve)
	reserve = append(reserve, 0x61, 0xEA, 0, 0) // cbCFHeader 60001
	reserve = append(reserve, big[headerSize:]...)
	// The last name runs to the end of the file without its NUL.
	nameToEnd := write(t, []entry{{"a.txt", nil}}, Options{})
	nameToEnd = append(nameToEnd[:len(nameToEnd)-1], 'x')
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-10], "truncated"},
		{"short", good[:20], "shorter than"},
		{"bad signature", mutate(func(b []byte) []byte { b[0] = 'X'; return b }), "signature"},
		{"flipped data byte", mutate(func(b []byte) []byte { b[dataAt+20] ^= 0xFF; return b }), "checksum"},
		{"LZX folder", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[folderAt+6:], 0x1503); return b }), "LZX frame 0"},
		{"LZX window 2^14", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[folderAt+6:], 0x0E03); return b }), "LZX window of 2^14 bytes"},
		{"Quantum folder", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[folderAt+6:], 0x0702); return b }), "Quantum compression not supported yet"},
		{"huge file count", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[28:], 65535); return b }), "do not fit"},
		{"multi-cabinet set", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[30:], flagNextCab); return b }), "multi-cabinet"},
		{"file beyond folder", mutate(func(b []byte) []byte {
			coff := binary.LittleEndian.Uint32(b[16:])
			binary.LittleEndian.PutUint32(b[coff:], 1<<30)
			return b
		}), "beyond"},
		{"overlapping files", two, "overlap in folder 0"},
		{"one name twice", twice, `"A.TXT" given twice (as "a.txt")`},
		{"folders sharing blocks", shared, "folders 0 and 1 both start at offset"},
		{"folder data inside the headers", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[folderAt:], 40); return b }), "inside the headers"},
		{"header reserve over the limit", reserve, "60001 reserved header bytes, over the format's 60000"},
		{"MSZIP block over its cbData limit", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[dataAt:], 0)
			binary.LittleEndian.PutUint16(b[dataAt+4:], maxMSZIPData+1)
			return b
		}), "over the format's limits"},
		{"MSZIP block decoding to more than it says", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[dataAt:], 0)
			binary.LittleEndian.PutUint16(b[dataAt+6:], blockSize-1)
			return b
		}), "decodes to 32768 bytes or more, header says 32767"},
		{"file entry past the end", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[16:], uint32(len(b)-17))
			return b
		}), "do not fit"},
		{"name running past the end", nameToEnd, "name without terminating NUL within 6 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := walkAll(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func walkAll(data []byte) error {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	return r.Walk(func(f *File, rd io.Reader) error {
		_, err := io.Copy(io.Discard, rd)
		return err
	})
}

func FuzzReader(f *testing.F) {
	f.Add(write(f, []entry{{"a.txt", text(3000)}, {"b", nil}}, Options{Compression: MSZIP}))
	f.Add(write(f, []entry{{"a.txt", text(40000)}}, Options{}))
	f.Add(write(f, []entry{{"a.txt", text(3000)}, {"c.dll", x86ish(2, 5000)}}, Options{Compression: LZXWindow(15)}))
	for _, seed := range hostileSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = walkAll(data) // must not panic or hang; errors are expected
		if r, err := NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			for _, file := range r.Files {
				_, _ = r.ReadFile(file.Name)
			}
		}
	})
}

// hostileSeeds are the shapes TestCorruptCabinets refuses, for the fuzz targets.
func hostileSeeds(f *testing.F) [][]byte {
	two := write(f, []entry{{"a.txt", text(1000)}, {"b.txt", text(1000)}}, Options{Compression: MSZIP})
	coff := int(binary.LittleEndian.Uint32(two[16:]))
	binary.LittleEndian.PutUint32(two[coff+fileFixedSize+len("a.txt")+1+4:], 500)
	long := write(f, []entry{{"a.txt", text(100)}, {"b.dll", text(40000)}}, Options{Compression: LZXWindow(15)})
	coff = int(binary.LittleEndian.Uint32(long[16:]))
	binary.LittleEndian.PutUint32(long[coff+fileFixedSize+len("a.txt")+1:], 50000) // b.dll's size
	var m memFile
	src := write(f, []entry{{"c.txt", text(40000)}}, Options{Compression: MSZIP})
	sr, _ := NewReader(bytes.NewReader(src), int64(len(src)))
	if _, err := WriteWithRaw(&m, sources([]entry{{"a.txt", text(40000)}}), []RawFolder{{From: sr, Files: []RawFile{{Name: "c.txt", Size: 40000}}}}, Options{Compression: MSZIP}); err != nil {
		f.Fatal(err)
	}
	shared := append([]byte(nil), m.Bytes()...)
	copy(shared[headerSize+folderSize:headerSize+folderSize+4], shared[headerSize:headerSize+4])
	return [][]byte{two, long, m.Bytes(), shared}
}

// FuzzWriteWithRaw copies every folder of a hostile cabinet into a new one: the checks of what
// is copied must not panic, hang or allocate by a claimed size.
func FuzzWriteWithRaw(f *testing.F) {
	f.Add(write(f, []entry{{"man.dsm.xml", []byte("<a/>")}, {"0_k.exe", text(70000)}}, Options{Compression: MSZIP}))
	f.Add(write(f, []entry{{"man.dsm.xml", []byte("<a/>")}, {"0_k.exe", x86ish(3, 70000)}}, Options{Compression: LZXWindow(15)}))
	f.Add(write(f, []entry{{"0_k.exe", text(70000)}}, Options{}))
	for _, seed := range hostileSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		raws := make([]RawFolder, len(r.Folders))
		for i := range raws {
			raws[i] = RawFolder{From: r, Source: "fuzz.cab", Index: i}
		}
		for _, file := range r.Files {
			raws[file.Folder].Files = append(raws[file.Folder].Files, RawFile{Name: file.Name, Offset: file.Offset(), Size: file.Size})
		}
		var m memFile
		if _, err := WriteWithRaw(&m, nil, raws, Options{}); err == nil {
			_ = walkAll(m.Bytes())
		}
	})
}

// TestIndependentCheckers has cabextract and gcab, which nobody here wrote, read our cabinets.
func TestIndependentCheckers(t *testing.T) {
	cabextract := checker.Find(t, "cabextract")
	gcab := checker.Find(t, "gcab")
	entries := []entry{
		{"man.dsm.xml", []byte("<Package/>")},
		{"0_ntoskrn.exe", text(3*blockSize + 5)},
		{"1_random.bin", randomBytes(3, 2*blockSize+9)},
		{"2_empty.txt", nil},
	}
	for _, comp := range []Compression{None, MSZIP, LZX} {
		t.Run(comp.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "test.cab")
			if err := os.WriteFile(path, write(t, entries, Options{Compression: comp}), 0o644); err != nil {
				t.Fatal(err)
			}
			out := checker.Run(t, dir, cabextract, "-t", path)
			if !strings.Contains(out, "All done, no errors") {
				t.Errorf("cabextract -t:\n%s", out)
			}
			list := checker.Run(t, dir, gcab, "-l", path)
			for _, e := range entries {
				if !strings.Contains(list, e.name) {
					t.Errorf("gcab -l does not list %s:\n%s", e.name, list)
				}
			}
			// Content as cabextract sees it.
			out = filepath.Join(dir, "x")
			checker.Run(t, dir, cabextract, "-q", "-d", out, path)
			for _, e := range entries {
				got, err := os.ReadFile(filepath.Join(out, e.name))
				if err != nil || !bytes.Equal(got, e.data) {
					t.Errorf("cabextract's %s differs (%v)", e.name, err)
				}
			}
		})
	}
}

// TestReadGcabOutput reads cabinets that gcab wrote, stored and MSZIP.
func TestReadGcabOutput(t *testing.T) {
	gcab := checker.Find(t, "gcab")
	dir := t.TempDir()
	files := map[string][]byte{"a.txt": text(100000), "b.bin": randomBytes(4, 70000), "c.txt": []byte("c")}
	var names []string
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	for _, flags := range [][]string{{"-c"}, {"-c", "-z"}} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			args := append(append([]string{}, flags...), "out.cab")
			checker.Run(t, dir, gcab, append(args, names...)...)
			data, err := os.ReadFile(filepath.Join(dir, "out.cab"))
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, data)
			for name, want := range files {
				if !bytes.Equal(got[name], want) {
					t.Errorf("%s: content differs (%d bytes read)", name, len(got[name]))
				}
			}
		})
	}
}

func benchmarkWrite(b *testing.B, comp Compression) {
	data := append(text(8<<20), randomBytes(5, 8<<20)...)
	entries := []entry{{"a.bin", data}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var m memFile
		m.buf = make([]byte, 0, len(data)+len(data)/8)
		if _, err := Write(&m, sources(entries), Options{Compression: comp}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteStored(b *testing.B) { benchmarkWrite(b, None) }
func BenchmarkWriteMSZIP(b *testing.B)  { benchmarkWrite(b, MSZIP) }

func BenchmarkWriteLZX(b *testing.B)   { benchmarkWrite(b, LZX) }
func BenchmarkWriteLZX15(b *testing.B) { benchmarkWrite(b, LZXWindow(15)) }
func BenchmarkReadMSZIP(b *testing.B)  { benchmarkRead(b, MSZIP) }
func BenchmarkReadLZX(b *testing.B)    { benchmarkRead(b, LZX) }

func benchmarkRead(b *testing.B, comp Compression) {
	data := append(text(8<<20), randomBytes(5, 8<<20)...)
	c := write(b, []entry{{"a.bin", data}}, Options{Compression: comp})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := walkAll(c); err != nil {
			b.Fatal(err)
		}
	}
}

// Folders of other cabinets are copied byte for byte, under new names, next to new files;
// cabextract reads the result.
func TestWriteWithRaw(t *testing.T) {
	srcA := write(t, []entry{{"man.dsm.xml", []byte("<a/>")}, {"0_kernel.exe", text(100000)}, {"1_random.bin", randomBytes(7, 40000)}}, Options{Compression: MSZIP})
	srcB := write(t, []entry{{"man.dsm.xml", []byte("<b/>")}, {"0_app.exe", text(5000)}}, Options{})
	ra, _ := NewReader(bytes.NewReader(srcA), int64(len(srcA)))
	rb, _ := NewReader(bytes.NewReader(srcB), int64(len(srcB)))
	raw := func(r *Reader, rename map[string]string) RawFolder {
		rf := RawFolder{From: r, Index: 0}
		for _, f := range r.Files {
			if n, ok := rename[f.Name]; ok {
				rf.Files = append(rf.Files, RawFile{Name: n, Offset: f.Offset(), Size: f.Size})
			}
		}
		return rf
	}
	var m memFile
	_, err := WriteWithRaw(&m, sources([]entry{{"man.dsm.xml", []byte("<merged/>")}}), []RawFolder{
		raw(ra, map[string]string{"0_kernel.exe": "0_kernel.exe", "1_random.bin": "1_random.bin"}),
		raw(rb, map[string]string{"0_app.exe": "2_app.exe"}),
	}, Options{Compression: MSZIP})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, m.buf)
	want := map[string][]byte{"man.dsm.xml": []byte("<merged/>"), "0_kernel.exe": text(100000), "1_random.bin": randomBytes(7, 40000), "2_app.exe": text(5000)}
	if len(got) != len(want) {
		t.Errorf("files %d, want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s differs", name)
		}
	}
	// Each gives Walk's order (folder by folder) without decoding, over three folders.
	mr, err := NewReader(bytes.NewReader(m.buf), int64(len(m.buf)))
	if err != nil {
		t.Fatal(err)
	}
	var walked, listed []string
	if err := mr.Walk(func(f *File, _ io.Reader) error { walked = append(walked, f.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := mr.Each(func(f *File) error { listed = append(listed, f.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(mr.Folders) != 3 || !slices.Equal(walked, listed) {
		t.Errorf("%d folders; Each gives %q, Walk %q", len(mr.Folders), listed, walked)
	}
	cabextract := checker.Find(t, "cabextract")
	path := filepath.Join(t.TempDir(), "merged.cab")
	os.WriteFile(path, m.buf, 0o644)
	if out := checker.Run(t, filepath.Dir(path), cabextract, "-t", path); !strings.Contains(out, "All done, no errors") {
		t.Errorf("cabextract -t:\n%s", out)
	}
	// Two copies of one name are refused.
	_, err = WriteWithRaw(&memFile{}, sources([]entry{{"2_app.exe", nil}}), []RawFolder{raw(rb, map[string]string{"0_app.exe": "2_app.exe"})}, Options{})
	if err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate name: err = %v", err)
	}
}

// The 8-bytes-at-a-time checksum equals the format's definition, 4 bytes at a time.
func TestChecksumWide(t *testing.T) {
	slow := func(b []byte, seed uint32) uint32 {
		csum := seed
		n := len(b) / 4
		for i := 0; i < n; i++ {
			csum ^= binary.LittleEndian.Uint32(b[4*i:])
		}
		var ul uint32
		rest := b[4*n:]
		switch len(rest) {
		case 3:
			ul = uint32(rest[0])<<16 | uint32(rest[1])<<8 | uint32(rest[2])
		case 2:
			ul = uint32(rest[0])<<8 | uint32(rest[1])
		case 1:
			ul = uint32(rest[0])
		}
		return csum ^ ul
	}
	data := randomBytes(9, 100)
	for n := 0; n <= len(data); n++ {
		if got, want := checksum(data[:n], 0x12345678), slow(data[:n], 0x12345678); got != want {
			t.Fatalf("checksum of %d bytes = %#x, want %#x", n, got, want)
		}
	}
}

// Every level writes blocks whose Huffman codes are complete, which libmspack (cabextract)
// requires; level 1 on this data made incomplete distance codes before completeCodes.
func TestMSZIPBlocksCompleteAtEveryLevel(t *testing.T) {
	entries := []entry{{"mixed.bin", append(text(300000), randomBytes(11, 200000)...)}, {"short.txt", []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")}}
	cabextract := checker.Find(t, "cabextract")
	for level := 1; level <= 9; level++ {
		data := write(t, entries, Options{Compression: MSZIP, Level: level})
		path := filepath.Join(t.TempDir(), "l.cab")
		os.WriteFile(path, data, 0o644)
		if out := checker.Run(t, "", cabextract, "-t", path); !strings.Contains(out, "All done, no errors") {
			t.Errorf("level %d: cabextract -t:\n%s", level, out)
		}
	}
}

func TestCompleteCodes(t *testing.T) {
	var b bytes.Buffer
	appendStoredDeflate(&b, []byte("stored"))
	if err := completeCodes(b.Bytes()); err != nil {
		t.Errorf("stored block: %v", err)
	}
	// A fixed-Huffman final block holding only end-of-block: 3 header bits 1,01 then 7 zero bits.
	if err := completeCodes([]byte{0x03, 0x00}); err != nil {
		t.Errorf("fixed block: %v", err)
	}
	if err := completeCodes([]byte{0x07}); err == nil {
		t.Error("block type 3: no error")
	}
}

// BenchmarkReadGcabMSZIP reads a cabinet gcab wrote (-z, MSZIP through zlib) of 64 MiB of
// text-like, code-like and random files, as imggen reads packages.
func BenchmarkReadGcabMSZIP(b *testing.B) {
	gcab := checker.Find(b, "gcab")
	dir := b.TempDir()
	files := map[string][]byte{"a.txt": text(24 << 20), "b.dll": x86ish(3, 32<<20), "c.bin": randomBytes(6, 8<<20)}
	var names []string
	total := 0
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
		names = append(names, name)
		total += len(data)
	}
	sort.Strings(names)
	checker.Run(b, dir, gcab, append([]string{"-c", "-z", "out.cab"}, names...)...)
	data, err := os.ReadFile(filepath.Join(dir, "out.cab"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for range b.N {
		if err := walkAll(data); err != nil {
			b.Fatal(err)
		}
	}
}
