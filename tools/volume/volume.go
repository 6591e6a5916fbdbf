// Package volume reads the file systems of a disk image, FAT (tools/fat) and NTFS
// (tools/ntfs): what the FFU inspection and the WIM capture need of an image's partitions.
package volume

import (
	"fmt"
	"io"

	"github.com/oemimage/rules_oemimage/tools/fat"
)

// FAT is a read-only FAT12, FAT16 or FAT32 volume at an offset of a disk image.
type FAT struct {
	v      *fat.Volume
	offset int64
}

// OpenFAT reads the FAT file system of size bytes at offset in disk, whose sectors are
// sectorSize bytes; the boot sector must agree.
func OpenFAT(disk io.ReaderAt, offset, size int64, sectorSize int64) (*FAT, error) {
	v, err := fat.Open(disk, offset, size)
	if err != nil {
		return nil, fmt.Errorf("FAT volume at byte %d: %v", offset, err)
	}
	if int64(v.SectorSize()) != sectorSize {
		return nil, fmt.Errorf("FAT volume at byte %d: %d-byte sectors on a disk of %d-byte sectors", offset, v.SectorSize(), sectorSize)
	}
	return &FAT{v: v, offset: offset}, nil
}

// Type is the volume's variant: FAT12, FAT16 or FAT32.
func (v *FAT) Type() fat.Type { return v.v.Type() }

// Usage counts the free entries of the FAT in use.
func (v *FAT) Usage() (clusterBytes, clusters, free int64, err error) { return v.v.Usage() }

// ReadFile returns a file's content; the path compares case-insensitively, as on Windows.
func (v *FAT) ReadFile(devicePath string) ([]byte, error) {
	f, r, err := v.v.Open(devicePath)
	if err != nil {
		return nil, err
	}
	switch {
	case f.Dir:
		return nil, fmt.Errorf("%s is a directory", f.Path)
	case f.Size > MaxReadFile:
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reads whole", f.Path, f.Size, MaxReadFile)
	}
	b := make([]byte, f.Size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
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
	return v.v.Walk(func(f fat.File, r io.Reader) error {
		return fn(Entry{Path: f.Path, Dir: f.Dir, Size: f.Size, Attrs: f.Attr}, r)
	})
}
