// Package volume reads the FAT file systems of a disk image through go-diskfs: what the FFU
// inspection and the WIM capture need of an image's partitions.
package volume

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
)

// FAT is a read-only FAT32 volume at an offset of a disk image.
type FAT struct{ fs *fat32.FileSystem }

// OpenFAT32 reads the FAT32 file system of size bytes at offset in disk.
func OpenFAT32(disk *os.File, offset, size int64, sectorSize int64) (*FAT, error) {
	f, err := fat32.Read(file.New(disk, true), size, offset, sectorSize)
	if err != nil {
		return nil, fmt.Errorf("FAT32 volume at byte %d: %v", offset, err)
	}
	return &FAT{fs: f}, nil
}

// slash turns a device path (\Windows\a.txt) into the library's io/fs form (Windows/a.txt).
func slash(p string) string {
	if p = strings.Trim(strings.ReplaceAll(p, `\`, "/"), "/"); p == "" {
		return "."
	}
	return p
}

// ReadFile returns a file's content; the path compares case-insensitively, as on Windows.
func (v *FAT) ReadFile(devicePath string) ([]byte, error) {
	st, err := v.fs.Stat(slash(devicePath))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", devicePath, err)
	}
	if st.Size() == 0 && !st.IsDir() {
		return []byte{}, nil // go-diskfs cannot open a file whose first cluster is 0
	}
	b, err := v.fs.ReadFile(slash(devicePath))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", devicePath, err)
	}
	// go-diskfs 1.9.4 can return the rest of the last cluster too: keep the file's bytes.
	if int64(len(b)) > st.Size() {
		b = b[:st.Size()]
	}
	return b, nil
}

// Entry is a file or directory of a volume.
type Entry struct {
	Path  string // device path, \Windows\System32\a.dll
	Dir   bool
	Size  int64
	Attrs byte
}

// Walk calls fn for every entry below the root, parents before children, names sorted
// case-insensitively; r is the content of a file (nil for directories).
func (v *FAT) Walk(fn func(e Entry, r io.Reader) error) error {
	return v.walk(".", fn)
}

func (v *FAT) walk(dir string, fn func(e Entry, r io.Reader) error) error {
	entries, err := v.fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %v", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return strings.ToLower(entries[i].Name()) < strings.ToLower(entries[j].Name()) })
	for _, de := range entries {
		name := de.Name()
		if name == "." || name == ".." {
			continue
		}
		p := path.Join(dir, name)
		info, err := de.Info()
		if err != nil {
			return err
		}
		e := Entry{Path: `\` + strings.ReplaceAll(p, "/", `\`), Dir: de.IsDir(), Size: info.Size()}
		if e.Dir {
			if err := fn(e, nil); err != nil {
				return err
			}
			if err := v.walk(p, fn); err != nil {
				return err
			}
			continue
		}
		if e.Size == 0 {
			// go-diskfs cannot open a file whose first cluster is 0.
			if err := fn(e, strings.NewReader("")); err != nil {
				return err
			}
			continue
		}
		f, err := v.fs.OpenFile(p, os.O_RDONLY)
		if err != nil {
			return fmt.Errorf("%s: %v", e.Path, err)
		}
		err = fn(e, io.LimitReader(f, e.Size))
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
