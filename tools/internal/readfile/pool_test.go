package readfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPool(t *testing.T) {
	dir := t.TempDir()
	p := &Pool{Limit: 4}
	var files []*File
	for i := range 40 {
		path := filepath.Join(dir, fmt.Sprintf("f%02d", i))
		if err := os.WriteFile(path, []byte(fmt.Sprintf("content of file %02d", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		f, st, err := p.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != 18 {
			t.Fatalf("size %d", st.Size())
		}
		files = append(files, f)
		if h := p.Held(); h > 4 {
			t.Fatalf("after %d opens the pool holds %d descriptors, limit 4", i+1, h)
		}
	}
	// Read every file from 8 goroutines, three rounds: each read may reopen an evicted file.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for i := range files {
					f := files[(i+g*5+round)%len(files)]
					b := make([]byte, 2)
					if _, err := f.ReadAt(b, 16); err != nil {
						errs <- err
						return
					}
					if want := f.path[len(f.path)-2:]; string(b) != want {
						errs <- fmt.Errorf("%s: read %q, want %q", f.path, b, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if h := p.Held(); h > 4 {
		t.Fatalf("the pool holds %d descriptors when idle, limit 4", h)
	}

	// A file evicted, then replaced (another file renamed over it) or changed in place, is
	// an error naming it at the next read, never other bytes.
	replaced, changed := files[0], files[1]
	for _, f := range files[2:8] {
		f.ReadAt(make([]byte, 1), 0) // evict files 0 and 1
	}
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("other content, 18b"), 0o644)
	if err := os.Rename(other, replaced.path); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(changed.path, []byte("changed content!!!"), 0o644)
	later := time.Now().Add(time.Hour)
	os.Chtimes(changed.path, later, later)
	for _, f := range []*File{replaced, changed} {
		_, err := f.ReadAt(make([]byte, 1), 0)
		if err == nil || !strings.Contains(err.Error(), f.path+": changed since it was opened") {
			t.Errorf("read of %s after it changed: %v", f.path, err)
		}
	}

	// Closed files release their descriptors and refuse reads.
	for _, f := range files {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if h := p.Held(); h != 0 {
		t.Errorf("the pool holds %d descriptors after every file was closed", h)
	}
	if _, err := files[5].ReadAt(make([]byte, 1), 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if err := files[5].Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPoolRefusesSpecialFiles: the pool opens as Open does.
func TestPoolRefusesSpecialFiles(t *testing.T) {
	p := &Pool{Limit: 2}
	if _, _, err := p.Open(t.TempDir()); err == nil {
		t.Error("a directory was opened")
	}
	if p.Held() != 0 {
		t.Error("a failed open holds a descriptor")
	}
}
