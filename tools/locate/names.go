package locate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Names finds package files by file name, case-insensitively. Under Bazel the tool gets every
// package it may use as --package=PATH, and a PackageFile's Path/Name (with whatever $(var),
// %ENV% or drive letter it holds) is matched by its last element only.
type Names struct {
	byName map[string][]string // fold(name) -> distinct paths, in the order given
}

// fold is the key of a file name: Windows compares names by upper-casing them.
func fold(name string) string { return strings.ToUpper(name) }

// NewNames indexes paths by their file name. The same path given twice counts once.
func NewNames(paths []string) *Names {
	ix := &Names{byName: make(map[string][]string, len(paths))}
	for _, p := range paths {
		k := fold(filepath.Base(p))
		clean := filepath.Clean(p)
		dup := false
		for _, q := range ix.byName[k] {
			if q == clean {
				dup = true
				break
			}
		}
		if !dup {
			ix.byName[k] = append(ix.byName[k], clean)
		}
	}
	return ix
}

// Len is the number of distinct file names.
func (ix *Names) Len() int { return len(ix.byName) }

// IndexError is a failed look-up: no file of that name, or more than one.
type IndexError struct {
	Name       string
	Candidates []string // two or more when ambiguous; none when missing
}

func (e *IndexError) Error() string {
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("no input file is named %s (case-insensitively)", e.Name)
	}
	return fmt.Sprintf("%d input files are named %s (case-insensitively): %s; expected exactly one", len(e.Candidates), e.Name, strings.Join(e.Candidates, " and "))
}

// Lookup returns the one indexed path whose file name is name (or the last element of name,
// if name is a path), ignoring case.
func (ix *Names) Lookup(name string) (string, error) {
	name = winpath.Base(name)
	c := ix.byName[fold(name)]
	switch len(c) {
	case 1:
		return c[0], nil
	case 0:
		return "", &IndexError{Name: name}
	}
	return "", &IndexError{Name: name, Candidates: append([]string(nil), c...)}
}

// Ambiguous lists every file name given by more than one path, sorted, for eager checks.
func (ix *Names) Ambiguous() []*IndexError {
	var out []*IndexError
	for _, c := range ix.byName {
		if len(c) > 1 {
			out = append(out, &IndexError{Name: filepath.Base(c[0]), Candidates: append([]string(nil), c...)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return fold(out[i].Name) < fold(out[j].Name) })
	return out
}
