package readfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// files makes, in a new directory, a 3-byte regular file, a symbolic link to it, a named
// pipe and a directory.
func files(t *testing.T) (dir, small, link, fifo, sub string) {
	t.Helper()
	dir = t.TempDir()
	small = filepath.Join(dir, "small.txt")
	if err := os.WriteFile(small, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	link = filepath.Join(dir, "link.txt")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	fifo = filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sub = filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	return
}

// bounded runs f with a time bound: a named pipe that is opened blocks for ever.
func bounded(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("did not return within 10 s (a named pipe opened?)")
	}
}

func TestReadRegular(t *testing.T) {
	dir, small, link, fifo, sub := files(t)
	missing := filepath.Join(dir, "none")
	tests := []struct {
		name, path string
		max        int64
		want       string // the whole error; "" reads "abc"
	}{
		{"regular", small, 3, ""},
		{"symlink to regular", link, 3, ""},
		{"over the limit", small, 2, small + ": 3 bytes; expected at most 2, the limit on a file read whole"},
		{"named pipe", fifo, 1 << 20, fifo + ": a named pipe; expected a regular file"},
		{"directory", sub, 1 << 20, sub + ": a directory; expected a regular file"},
		{"character device", "/dev/zero", 1 << 20, "/dev/zero: a character device; expected a regular file"},
		{"missing", missing, 1, missing + ": does not exist; expected a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			var err error
			bounded(t, func() { data, err = ReadRegular(tt.path, tt.max) })
			if tt.want == "" {
				if err != nil || string(data) != "abc" {
					t.Fatalf("got %q, %v; want abc", data, err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	dir, small, link, fifo, sub := files(t)
	missing := filepath.Join(dir, "none")
	tests := []struct {
		path  string
		dirOK bool
		want  string // the whole error; "" for none
	}{
		{small, false, ""},
		{link, false, ""},
		{sub, true, ""},
		{small, true, ""},
		{sub, false, sub + ": a directory; expected a regular file"},
		{fifo, false, fifo + ": a named pipe; expected a regular file"},
		{fifo, true, fifo + ": a named pipe; expected a regular file or a directory"},
		{"/dev/zero", true, "/dev/zero: a character device; expected a regular file or a directory"},
		{missing, true, missing + ": does not exist; expected a regular file or a directory"},
		{filepath.Join(small, "x"), false, filepath.Join(small, "x") + ": not a directory"},
	}
	for _, tt := range tests {
		st, err := Check(tt.path, tt.dirOK)
		switch {
		case tt.want == "" && (err != nil || st == nil):
			t.Errorf("Check(%s, %v) = %v", tt.path, tt.dirOK, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("Check(%s, %v) = %v, want %q", tt.path, tt.dirOK, err, tt.want)
		}
	}
	if _, err := Check(missing, false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v is not fs.ErrNotExist", err)
	}
}

func TestCheckRegular(t *testing.T) {
	_, small, _, fifo, _ := files(t)
	if st, err := CheckRegular(small, 3); err != nil || st.Size() != 3 {
		t.Fatalf("CheckRegular: %v, %v", st, err)
	}
	if _, err := CheckRegular(small, 2); err == nil || err.Error() != small+": 3 bytes; expected at most 2, the limit on a file read whole" {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := CheckRegular(fifo, 3); err == nil || err.Error() != fifo+": a named pipe; expected a regular file" {
		t.Fatalf("named pipe: %v", err)
	}
}

// A file swapped after Open's check by name is refused through the descriptor: a named pipe
// (opened without blocking) by what it is, another regular file as a replacement.
func TestOpenRechecks(t *testing.T) {
	dir, small, _, fifo, _ := files(t)
	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(other, []byte("xyz"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		swap string // renamed over the path between the check and the open
		want string
	}{
		{"unchanged", "", ""},
		{"now a named pipe", fifo, ": a named pipe; expected a regular file"},
		{"replaced", other, ": replaced while it was opened; expected a file that stays in place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.Link(small, p); err != nil {
				t.Fatal(err)
			}
			if tt.swap != "" {
				swap := filepath.Join(filepath.Dir(p), "swap")
				if err := os.Link(tt.swap, swap); err != nil {
					t.Fatal(err)
				}
				testHookOpen = func(string) { os.Rename(swap, p) }
				defer func() { testHookOpen = nil }()
			}
			var f *os.File
			var err error
			bounded(t, func() { f, _, err = Open(p) })
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if b, err := io.ReadAll(f); err != nil || string(b) != "abc" {
					t.Fatalf("read %q, %v", b, err)
				}
				return
			}
			if f != nil {
				f.Close()
			}
			if err == nil || err.Error() != p+tt.want {
				t.Fatalf("err = %v, want %q", err, p+tt.want)
			}
		})
	}
}

// The limit applies to the file that is read: one that grows past it after the check by name
// is refused through the descriptor.
func TestReadRegularGrows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	testHookOpen = func(path string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			f.WriteString("def")
			f.Close()
		}
	}
	defer func() { testHookOpen = nil }()
	_, err := ReadRegular(p, 5)
	if err == nil || err.Error() != p+": 6 bytes; expected at most 5, the limit on a file read whole" {
		t.Fatalf("err = %v", err)
	}
}

func TestKind(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0o644:                             "a regular file",
		fs.ModeDir | 0o755:                "a directory",
		fs.ModeNamedPipe:                  "a named pipe",
		fs.ModeSocket:                     "a socket",
		fs.ModeDevice | fs.ModeCharDevice: "a character device",
		fs.ModeDevice:                     "a block device",
		fs.ModeSymlink:                    "a symbolic link",
		fs.ModeIrregular:                  "not a regular file (mode ?---------)",
	} {
		if got := Kind(m); got != want {
			t.Errorf("Kind(%v) = %q, want %q", m, got, want)
		}
	}
}

func TestOpenSized(t *testing.T) {
	_, small, _, fifo, _ := files(t)
	tests := []struct {
		path string
		size int64
		want string // the whole error; "" opens
	}{
		{small, 3, ""},
		{small, 5, small + ": 3 bytes, changed from 5 since it was checked; expected it to stay as it was"},
		{fifo, 0, fifo + ": a named pipe; expected a regular file"},
	}
	for _, tt := range tests {
		var f *os.File
		var err error
		bounded(t, func() { f, err = OpenSized(tt.path, tt.size) })
		if f != nil {
			f.Close()
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("OpenSized(%s, %d) = %v", tt.path, tt.size, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("OpenSized(%s, %d) = %v, want %q", tt.path, tt.size, err, tt.want)
		}
	}
}
