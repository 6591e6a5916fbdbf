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

// Find returns the existing host path that matches hostPath case-insensitively. An exact name
// wins; otherwise, where a directory holds several case variants of a name, each is tried: one
// complete match is the answer, two are ambiguous.
func (f *Finder) Find(hostPath string) (string, error) {
	clean := filepath.Clean(hostPath)
	if _, err := os.Lstat(clean); err == nil {
		return clean, nil
	}
	start := "."
	parts := strings.Split(clean, string(filepath.Separator))
	if filepath.IsAbs(clean) {
		start = string(filepath.Separator)
		parts = parts[1:]
	}
	var found []string
	missing := ""
	var walk func(cur string, parts []string)
	walk = func(cur string, parts []string) {
		for len(parts) > 0 && (parts[0] == "" || parts[0] == "." || parts[0] == "..") {
			if parts[0] == ".." {
				cur = filepath.Join(cur, "..")
			}
			parts = parts[1:]
		}
		if len(parts) == 0 {
			found = append(found, cur)
			return
		}
		names, err := f.list(cur)
		var matches []string
		if err == nil {
			for _, n := range names {
				if n == parts[0] {
					matches = append([]string{n}, matches...) // the exact name first
				} else if strings.EqualFold(n, parts[0]) {
					matches = append(matches, n)
				}
			}
		}
		if len(matches) == 0 && missing == "" {
			missing = filepath.Join(cur, parts[0])
		}
		for i, m := range matches {
			before := len(found)
			walk(filepath.Join(cur, m), parts[1:])
			// A branch through the exact name that reaches the file settles it, as the
			// file system would; only failing exact branches fall back to case variants.
			if len(found) > 1 || i == 0 && m == parts[0] && len(found) > before {
				return
			}
		}
	}
	walk(start, parts)
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", &NotFoundError{Path: hostPath, Missing: missing}
	}
	return "", fmt.Errorf("%s is ambiguous: %s differ only in letter case; expected one of them", hostPath, strings.Join(found, " and "))
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

// ExpandDirs replaces each directory among paths by the files directly in it, sorted (Bazel
// hands tree artifacts, such as merged packages, over as directories); hidden files are left
// out. Other paths are kept as they are.
func ExpandDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out, nil
}
