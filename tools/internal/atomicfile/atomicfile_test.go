package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	return n
}

func TestCommitRenamesAll(t *testing.T) {
	dir := t.TempDir()
	var s Set
	defer s.Abort()
	if err := s.WriteFile(filepath.Join(dir, "a"), []byte("A")); err != nil {
		t.Fatal(err)
	}
	f, err := s.Create(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "B")
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Fatalf("a exists before Commit: %v", err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "A", "b": "B"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if n := names(t, dir); len(n) != 2 {
		t.Errorf("directory holds %v, want only a and b", n)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	os.WriteFile(old, []byte("previous"), 0o644)
	var s Set
	s.WriteFile(filepath.Join(dir, "new"), []byte("x"))
	s.WriteFile(old, []byte("replacement"))
	s.Abort()
	if n := names(t, dir); len(n) != 1 || n[0] != "old" {
		t.Errorf("after Abort the directory holds %v, want only old", n)
	}
	if got, _ := os.ReadFile(old); string(got) != "previous" {
		t.Errorf("old = %q, want it untouched", got)
	}
}

func TestWriteFailureRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	want := errors.New("boom")
	err := Write(filepath.Join(dir, "out"), func(w io.Writer) error {
		io.WriteString(w, "partial")
		return want
	})
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Errorf("failed Write left %v", n)
	}
}

func TestTwiceRefused(t *testing.T) {
	dir := t.TempDir()
	var s Set
	defer s.Abort()
	s.WriteFile(filepath.Join(dir, "a"), nil)
	if err := s.WriteFile(filepath.Join(dir, "a"), nil); err == nil {
		t.Fatal("the same output staged twice was accepted")
	}
}
