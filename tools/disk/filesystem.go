package disk

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// FileSystem is a partition's file system being written, as imggen drives it: tools/fat's and
// tools/ntfs's Writer both are one, so that an image's partitions are filled, measured and
// closed alike whatever their file system.
type FileSystem interface {
	// Mkdir makes a directory and its parents (a path like \Windows\System32).
	Mkdir(path string) error
	// AddFile writes a file of size bytes read from r at path, creating its directories.
	AddFile(path string, size int64, r io.Reader, attr Attributes) error
	// Used and Free are the bytes of clusters allocated so far and still free; ClusterSize
	// the bytes of one: the room an image or update is missing.
	Used() int64
	Free() int64
	ClusterSize() int64
	// Close finishes the file system and returns the extents that hold its data.
	Close() ([]Extent, error)
	// Name is the file system's name as a log says it: FAT12, FAT16, FAT32 or NTFS.
	Name() string
}

// Attributes are a file's attribute bits. FAT's directory-entry bits and NTFS's
// FILE_ATTRIBUTE_* bits have the same values for these, so one type serves both writers.
type Attributes uint8

const (
	ReadOnly Attributes = 0x01
	Hidden   Attributes = 0x02
	System   Attributes = 0x04
	// Archive is the writers' own: FAT sets it on every file, NTFS on a file given no other
	// bit, as Windows does for a new file. ParseAttributes never returns it.
	Archive Attributes = 0x20
)

// ParseAttributes reads a package's attribute names (a DSM's "ReadOnly Hidden"): ReadOnly,
// Hidden and System are bits a volume keeps; the others (Normal, Archive, Offline, ...) set
// none. The names were checked when the package was read (spkg.CheckAttributes).
func ParseAttributes(names string) Attributes {
	var a Attributes
	for _, s := range strings.Fields(names) {
		switch s {
		case "ReadOnly":
			a |= ReadOnly
		case "Hidden":
			a |= Hidden
		case "System":
			a |= System
		}
	}
	return a
}

// CheckName validates one long file name (a path element) as Windows accepts it on FAT and
// NTFS alike.
func CheckName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("invalid file name %q", name)
	case len(utf16.Encode([]rune(name))) > 255:
		return fmt.Errorf("file name %q is longer than 255 characters", name)
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return fmt.Errorf("file name %q ends in '.' or ' ', which Windows drops", name)
	}
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`*?<>|":/\`, r) {
			return fmt.Errorf("file name %q: character %q is not allowed", name, r)
		}
	}
	return nil
}
