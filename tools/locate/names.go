package locate

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Names finds package files by file name, case-insensitively. Under Bazel the tool gets every
// package it may use as --package=PATH, and a PackageFile's Path/Name (with whatever $(var),
// %ENV% or drive letter it holds) is matched by its last element only.
type Names struct {
	byName map[string][]string // fold(name) -> distinct paths, in the order given
	// suggest is how many more failed look-ups get a did-you-mean: each scans every name, so
	// a run with thousands of missing packages stays linear.
	suggest int
}

// maxSuggestions bounds the did-you-mean scans of one index.
const maxSuggestions = 32

// fold is the key of a file name: Windows compares names by upper-casing them.
func fold(name string) string { return strings.ToUpper(name) }

// NewNames indexes paths by their file name. The same path given twice counts once.
func NewNames(paths []string) *Names {
	ix := &Names{byName: make(map[string][]string, len(paths)), suggest: maxSuggestions}
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
	Near       string   // when missing: the nearest name among the inputs, if one is near
}

func (e *IndexError) Error() string {
	if len(e.Candidates) == 0 {
		if e.Near != "" {
			return fmt.Sprintf("no input file is named %s (case-insensitively); did you mean %s?", e.Name, e.Near)
		}
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
		return "", &IndexError{Name: name, Near: ix.near(name)}
	}
	return "", &IndexError{Name: name, Candidates: append([]string(nil), c...)}
}

// near is the input file name closest to name by edit distance, if a typo away (at most 3
// edits; package names of one kit differ by whole words, which this keeps out), while the
// index's suggestion budget lasts.
func (ix *Names) near(name string) string {
	if ix.suggest <= 0 {
		return ""
	}
	ix.suggest--
	key := fold(name)
	limit := min(3, max(1, len(key)/6))
	best, bestD := "", limit+1
	for k, paths := range ix.byName {
		if d := len(k) - len(key); d > limit || -d > limit {
			continue
		}
		d := manifest.Distance(key, k)
		cand := filepath.Base(paths[0])
		if d < bestD || d == bestD && cand < best {
			best, bestD = cand, d
		}
	}
	return best
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
