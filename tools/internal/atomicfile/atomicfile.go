// Package atomicfile writes a verb's outputs all or nothing: each output is staged under a
// temporary name beside its final path (same directory, so the rename is atomic), and only
// when every output is complete are they renamed into place. On any failure the temporary
// files are removed and no final path is touched, so a failed run leaves nothing behind.
//
// Every verb of oemimage writes through this package; it is the one implementation of the
// temporary-name-then-rename chore.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Set is a group of outputs committed together. The zero value is ready to use. A Set is not
// safe for concurrent use.
type Set struct {
	staged []*staged
	done   bool
}

type staged struct {
	f     *os.File
	tmp   string
	final string
	mode  os.FileMode
}

// Create stages a new output for path and returns the file to write it through. The file is
// closed by Commit or Abort; the caller must not close it.
func (s *Set) Create(path string) (*os.File, error) {
	if s.done {
		return nil, errors.New("atomicfile: Create after Commit or Abort")
	}
	for _, st := range s.staged {
		if filepath.Clean(st.final) == filepath.Clean(path) {
			return nil, fmt.Errorf("%s: written twice in one run", path)
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	s.staged = append(s.staged, &staged{f: f, tmp: f.Name(), final: path, mode: 0o644})
	return f, nil
}

// WriteFile stages path with data.
func (s *Set) WriteFile(path string, data []byte) error {
	f, err := s.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// Commit closes every staged file and renames each into place, in the order staged. If a
// close fails, nothing is renamed and everything is removed. A rename can still fail part
// way (a full disk does not, renames need no space): the outputs not yet renamed are removed.
func (s *Set) Commit() error {
	if s.done {
		return errors.New("atomicfile: Commit after Commit or Abort")
	}
	s.done = true
	var err error
	for _, st := range s.staged {
		if cerr := st.f.Chmod(st.mode); cerr != nil && err == nil {
			err = fmt.Errorf("%s: %v", st.final, cerr)
		}
		if cerr := st.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%s: %v", st.final, cerr)
		}
		st.f = nil
	}
	if err != nil {
		s.removeFrom(0)
		return err
	}
	for i, st := range s.staged {
		if rerr := os.Rename(st.tmp, st.final); rerr != nil {
			s.removeFrom(i)
			return rerr
		}
	}
	return nil
}

// Abort removes every staged file. It is safe to call after Commit (then it does nothing), so
// `defer s.Abort()` right after the first Create covers every error path.
func (s *Set) Abort() {
	if s.done {
		return
	}
	s.done = true
	s.removeFrom(0)
}

func (s *Set) removeFrom(i int) {
	for _, st := range s.staged[i:] {
		if st.f != nil {
			st.f.Close()
			st.f = nil
		}
		os.Remove(st.tmp)
	}
}

// Write writes one output through fn, all or nothing.
func Write(path string, fn func(w io.Writer) error) error {
	var s Set
	defer s.Abort()
	f, err := s.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	return s.Commit()
}

// WriteFile writes one output with data, all or nothing.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
