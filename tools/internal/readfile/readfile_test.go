package readfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.txt")
	if err := os.WriteFile(small, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		max        int64
		want       string // error substring; "" reads "abc"
	}{
		{"regular", small, 3, ""},
		{"symlink to regular", link, 3, ""},
		{"over the limit", small, 2, "small.txt: 3 bytes, over the limit of 2 bytes"},
		{"named pipe", fifo, 1 << 20, "fifo: a named pipe; expected a regular file"},
		{"directory", dir, 1 << 20, "a directory; expected a regular file"},
		{"character device", "/dev/zero", 1 << 20, "/dev/zero: a character device; expected a regular file"},
		{"missing", filepath.Join(dir, "none"), 1, "open " + filepath.Join(dir, "none") + ": no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var data []byte
			var err error
			go func() {
				data, err = ReadRegular(tt.path, tt.max)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadRegular did not return")
			}
			if tt.want == "" {
				if err != nil || string(data) != "abc" {
					t.Fatalf("got %q, %v; want abc", data, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheckRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("12345"), 0o644)
	if st, err := CheckRegular(p, 5); err != nil || st.Size() != 5 {
		t.Fatalf("CheckRegular: %v, %v", st, err)
	}
	if _, err := CheckRegular(p, 4); err == nil || !strings.Contains(err.Error(), "5 bytes, over the limit of 4 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := Regular(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Fatalf("directory: %v", err)
	}
}
