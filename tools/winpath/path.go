package winpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// isSep reports a Windows path separator; '/' is one too, as Windows accepts both.
func isSep(c byte) bool { return c == '\\' || c == '/' }

// Base returns the last element of a Windows or host path ("" for a path ending in a separator).
func Base(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if isSep(p[i]) {
			return p[i+1:]
		}
	}
	if len(p) >= 2 && p[1] == ':' && isLetter(p[0]) {
		return p[2:]
	}
	return p
}

// Join is .NET's Path.Combine(dir, name) for the FM's Path and Name attributes: name wins when
// it is rooted; otherwise one backslash separates the two.
func Join(dir, name string) string {
	switch {
	case dir == "":
		return name
	case name == "":
		return dir
	case isSep(name[0]) || hasDrive(name):
		return name
	case isSep(dir[len(dir)-1]):
		return dir + name
	}
	return dir + `\` + name
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func hasDrive(p string) bool { return len(p) >= 2 && p[1] == ':' && isLetter(p[0]) }

// Mapper maps Windows paths to host paths.
type Mapper struct {
	// Drives maps a drive letter ("C", any case) to the host directory standing for its root.
	// A drive path with no entry is an error: guessing where C:\ lives would find the wrong files.
	Drives map[string]string
}

// ToHost maps a Windows path to a host path: backslashes become '/', a drive letter becomes its
// Drives entry. Relative paths stay relative (to the working directory, as on Windows). UNC
// paths (\\server\share) and drive-relative paths (C:dir) have no host meaning and are errors.
func (m Mapper) ToHost(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if len(p) >= 2 && isSep(p[0]) && isSep(p[1]) {
		return "", fmt.Errorf("UNC path %q has no host equivalent; expected a local path", p)
	}
	rest := p
	root := ""
	if hasDrive(p) {
		if len(p) > 2 && !isSep(p[2]) {
			return "", fmt.Errorf("drive-relative path %q has no host equivalent; expected %c:\\...", p, p[0])
		}
		dir, ok := m.Drives[strings.ToUpper(p[:1])]
		if !ok {
			dir, ok = m.Drives[strings.ToLower(p[:1])]
		}
		if !ok {
			return "", fmt.Errorf("path %q is on drive %s, which has no host directory; expected a path relative to the package root, or the file among the inputs given by name", p, strings.ToUpper(p[:2]))
		}
		root = dir
		rest = p[2:]
	}
	h := strings.ReplaceAll(rest, `\`, "/")
	if root != "" {
		h = path.Join(root, h)
	}
	return filepath.FromSlash(h), nil
}

// Finder looks files up case-insensitively, as Windows does, caching directory listings. A
// directory holding two names that differ only in case makes a look-up through it ambiguous;
// that is an error naming both, unless one matches exactly.
type Finder struct {
	mu   sync.Mutex
	dirs map[string][]string // host directory -> entry names
}

// NewFinder returns an empty Finder.
func NewFinder() *Finder { return &Finder{dirs: map[string][]string{}} }

// NotFoundError says which part of a path is missing.
type NotFoundError struct {
	Path    string // the path looked up
	Missing string // the first directory or file that does not exist (any case)
}

func (e *NotFoundError) Error() string {
	if e.Missing == e.Path {
		return fmt.Sprintf("%s does not exist (in any letter case)", e.Path)
	}
	return fmt.Sprintf("%s does not exist: no %s (in any letter case)", e.Path, e.Missing)
}

func (e *NotFoundError) Is(target error) bool { return target == fs.ErrNotExist }

// Find returns the existing host path that matches hostPath case-insensitively.
func (f *Finder) Find(hostPath string) (string, error) {
	clean := filepath.Clean(hostPath)
	if _, err := os.Lstat(clean); err == nil {
		return clean, nil
	}
	cur := "."
	parts := strings.Split(clean, string(filepath.Separator))
	if filepath.IsAbs(clean) {
		cur = string(filepath.Separator)
		parts = parts[1:]
	}
	for _, part := range parts {
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			cur = filepath.Join(cur, part)
			continue
		}
		names, err := f.list(cur)
		if err != nil {
			return "", &NotFoundError{Path: hostPath, Missing: cur}
		}
		var matches []string
		exact := ""
		for _, n := range names {
			if n == part {
				exact = n
			}
			if strings.EqualFold(n, part) {
				matches = append(matches, n)
			}
		}
		switch {
		case exact != "":
			cur = filepath.Join(cur, exact)
		case len(matches) == 1:
			cur = filepath.Join(cur, matches[0])
		case len(matches) == 0:
			return "", &NotFoundError{Path: hostPath, Missing: filepath.Join(cur, part)}
		default:
			for j := range matches {
				matches[j] = filepath.Join(cur, matches[j])
			}
			return "", fmt.Errorf("%s is ambiguous: %s differ only in letter case; expected one of them", hostPath, strings.Join(matches, " and "))
		}
	}
	return cur, nil
}

func (f *Finder) list(dir string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if names, ok := f.dirs[dir]; ok {
		return names, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	sort.Strings(names)
	f.dirs[dir] = names
	return names, nil
}
