package cab_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/cab/cabtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

func source(name string, data []byte) cab.FileSource {
	return cab.FileSource{Name: name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

func open(t *testing.T, b []byte) *cab.Reader {
	t.Helper()
	r, err := cab.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A metadata member that decodes to 2 GiB from a few MB is refused by its declared size,
// before anything is decoded or allocated, with either compression.
func TestReadFileBomb(t *testing.T) {
	for _, comp := range []cab.Compression{cab.MSZIP, cab.LZX} {
		t.Run(comp.String(), func(t *testing.T) {
			b, err := cabtest.Bomb([]cab.FileSource{source("content.cat", nil)}, "man.dsm.xml", cab.MaxFolderBytes, comp)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d-byte cabinet, member of %d bytes", len(b), int64(cab.MaxFolderBytes))
			r := open(t, b)
			start := time.Now()
			_, err = r.ReadFile("man.dsm.xml")
			if err == nil || !strings.Contains(err.Error(), "man.dsm.xml") || !strings.Contains(err.Error(), "at most 16777216") {
				t.Fatalf("err = %v, want the member and the limit named", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing took %v: it decoded", d)
			}
		})
	}
}

// Just over the limit is refused, at the limit is read.
func TestReadFileLimit(t *testing.T) {
	for _, tt := range []struct {
		size int64
		ok   bool
	}{{cab.MaxMetadataSize, true}, {cab.MaxMetadataSize + 32768, false}} {
		b, err := cabtest.Bomb(nil, "big.xml", tt.size, cab.LZX)
		if err != nil {
			t.Fatal(err)
		}
		data, err := open(t, b).ReadFile("big.xml")
		if tt.ok != (err == nil) || tt.ok && int64(len(data)) != tt.size {
			t.Errorf("%d bytes: %d read, err %v", tt.size, len(data), err)
		}
	}
}

// A member declaring more bytes than its folder's blocks hold is an error of the read that
// reaches the shortfall, naming the member, not a quiet end of file.
func TestMemberLongerThanFolder(t *testing.T) {
	for _, comp := range []cab.Compression{cab.None, cab.MSZIP, cab.LZX} {
		t.Run(comp.String(), func(t *testing.T) {
			var m cab.MemFile
			if _, err := cab.Write(&m, []cab.FileSource{source("a.txt", []byte("aaaa")), source("b.dll", bytes.Repeat([]byte("b"), 40000))}, cab.Options{Compression: comp}); err != nil {
				t.Fatal(err)
			}
			// 2 blocks hold 65,536 bytes; the folder's blocks decode to 40,004, b.dll claims up to 50,004.
			b, err := cabtest.SetFileSize(m.Bytes(), "b.dll", 50000)
			if err != nil {
				t.Fatal(err)
			}
			r := open(t, b)
			var readErr error
			err = r.Walk(func(f *cab.File, rd io.Reader) error {
				if f.Name == "b.dll" {
					_, readErr = io.ReadAll(rd)
				}
				return nil
			})
			for _, e := range []error{readErr, err} {
				if e == nil || !strings.Contains(e.Error(), "b.dll") || !strings.Contains(e.Error(), "10000 bytes short") {
					t.Errorf("err = %v, want b.dll's shortfall named", e)
				}
			}
			if _, err := r.ReadFile("b.dll"); err == nil || !strings.Contains(err.Error(), "b.dll") {
				t.Errorf("ReadFile: err = %v", err)
			}
		})
	}
}

// Reads of a member that cannot be decoded name the member.
func TestCorruptMemberNamed(t *testing.T) {
	var m cab.MemFile
	if _, err := cab.Write(&m, []cab.FileSource{source("a.txt", []byte("a")), source("b.dll", bytes.Repeat([]byte("0123456789"), 20000))}, cab.Options{Compression: cab.LZX}); err != nil {
		t.Fatal(err)
	}
	b, err := cabtest.CorruptBlock(m.Bytes(), 0, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	var readErr error
	open(t, b).Walk(func(f *cab.File, rd io.Reader) error {
		if f.Name == "b.dll" {
			_, readErr = io.ReadAll(rd)
		}
		return nil
	})
	if readErr == nil || !strings.HasPrefix(readErr.Error(), "b.dll: ") || !strings.Contains(readErr.Error(), "checksum") {
		t.Errorf("err = %v, want b.dll's checksum error", readErr)
	}
}

// Folders copied into a new cabinet are checked first: a checksum error, or with the checksums
// cleared a decoding error, fails the write naming the source and the file the block holds.
func TestWriteWithRawChecksSource(t *testing.T) {
	payload := bytes.Repeat([]byte("kernel code and data "), 10000)
	for _, comp := range []cab.Compression{cab.None, cab.MSZIP, cab.LZX} {
		var m cab.MemFile
		if _, err := cab.Write(&m, []cab.FileSource{source("man.dsm.xml", []byte("<a/>")), source("0_kernel.exe", payload)}, cab.Options{Compression: comp}); err != nil {
			t.Fatal(err)
		}
		good := m.Bytes()
		sumErr, _ := cabtest.CorruptBlock(good, 0, 3, false)
		decodeErr, _ := cabtest.CorruptBlock(good, 0, 3, true)
		short, _ := cabtest.SetFileSize(good, "0_kernel.exe", uint32(len(payload)+5000))
		tests := []struct {
			name string
			src  []byte
			size int64
			want []string // "" means success
		}{
			{"good", good, int64(len(payload)), nil},
			{"checksum", sumErr, int64(len(payload)), []string{"Source.spkg (0_kernel.exe)", "checksum"}},
			{"decode", decodeErr, int64(len(payload)), []string{"Source.spkg (0_kernel.exe)", "not a valid cabinet: folder 0, block"}},
			{"file beyond the folder's output", short, int64(len(payload) + 5000), []string{"Source.spkg: 0_kernel.exe", "outside the"}},
		}
		for _, tt := range tests {
			if comp == cab.None && tt.name == "decode" {
				continue // a stored folder without checksums decodes whatever its bytes are
			}
			t.Run(comp.String()+"/"+tt.name, func(t *testing.T) {
				r := open(t, tt.src)
				raw := cab.RawFolder{From: r, Source: "Source.spkg", Index: 0, Files: []cab.RawFile{{Name: "0_kernel.exe", Offset: 4, Size: tt.size}}}
				var out cab.MemFile
				_, err := cab.WriteWithRaw(&out, []cab.FileSource{source("man.dsm.xml", []byte("<merged/>"))}, []cab.RawFolder{raw}, cab.Options{})
				if tt.want == nil {
					if err != nil {
						t.Fatal(err)
					}
					cabextractOK(t, out.Bytes())
					return
				}
				for _, w := range tt.want {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want %q", err, w)
					}
				}
			})
		}
	}
}

func cabextractOK(t *testing.T, b []byte) {
	t.Helper()
	cabextract := checker.Find(t, "cabextract")
	path := filepath.Join(t.TempDir(), "out.cab")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := checker.Run(t, "", cabextract, "-t", path); !strings.Contains(out, "All done, no errors") {
		t.Errorf("cabextract -t:\n%s", out)
	}
}

// The bombs this package's tests and the hostile-input suite use are valid cabinets that
// cabextract reads, and decode to filler (a 64 MiB one, to keep the test short).
func TestBombIsValid(t *testing.T) {
	for _, comp := range []cab.Compression{cab.MSZIP, cab.LZX} {
		b, err := cabtest.Bomb([]cab.FileSource{source("a.txt", []byte("a"))}, "big.xml", 64<<20, comp)
		if err != nil {
			t.Fatal(err)
		}
		cabextractOK(t, b)
		err = open(t, b).Walk(func(f *cab.File, rd io.Reader) error {
			if f.Name != "big.xml" {
				return nil
			}
			buf := make([]byte, len(cabtest.Filler))
			for {
				n, err := io.ReadFull(rd, buf)
				if !bytes.Equal(buf[:n], cabtest.Filler[:n]) {
					return errors.New("content is not the filler")
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return nil
				}
				if err != nil {
					return err
				}
			}
		})
		if err != nil {
			t.Errorf("%v: %v", comp, err)
		}
	}
}

// Verify checks a whole cabinet as WriteWithRaw checks its folders, naming the file at fault.
func TestVerify(t *testing.T) {
	var m cab.MemFile
	if _, err := cab.Write(&m, []cab.FileSource{source("a.txt", []byte("a")), source("modem.bin", bytes.Repeat([]byte("modem "), 30000))}, cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	sum, _ := cabtest.CorruptBlock(m.Bytes(), 0, 4, false)
	decode, _ := cabtest.CorruptBlock(m.Bytes(), 0, 4, true)
	short, _ := cabtest.SetFileSize(m.Bytes(), "modem.bin", 190000)
	for _, tt := range []struct {
		name string
		data []byte
		want string // "" means valid
	}{
		{"good", m.Bytes(), ""},
		{"checksum", sum, "modem.bin: not a valid cabinet: folder 0, block 4"},
		{"decode", decode, "modem.bin: not a valid cabinet: folder 0, block 4"},
		{"file beyond the output", short, "modem.bin: bytes 1-190001 are outside the 180001"},
	} {
		err := open(t, tt.data).Verify()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
