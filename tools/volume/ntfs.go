package volume

import (
	"bytes"
	"fmt"
	"io"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/ntfs"
)

// Reader is what the image tools read from a partition, whatever its file system.
type Reader interface {
	// ReadFile reads a small file whole: metadata such as DeviceLayout.xml or
	// UpdateHistory.xml. The NTFS reader refuses a file larger than MaxReadFile.
	ReadFile(devicePath string) ([]byte, error)
	// Walk streams every file; contents of any size are read through it.
	Walk(fn func(e Entry, r io.Reader) error) error
	// Usage is the file system's own count of its space: clusterBytes each, clusters in all,
	// free of them (the FAT's free entries, NTFS's $Bitmap).
	Usage() (clusterBytes, clusters, free int64, err error)
}

// MaxReadFile is the largest file ReadFile reads into memory: the metadata files read that way
// are kilobytes (an UpdateHistory.xml of thousands of packages is a few MiB), and a size
// claimed by a corrupt volume must not become an allocation.
const MaxReadFile = 64 << 20

// NTFS is a read-only NTFS volume (tools/ntfs).
type NTFS struct{ v *ntfs.Volume }

// OpenNTFS reads the NTFS volume of size bytes at offset in disk.
func OpenNTFS(disk io.ReaderAt, offset, size int64) (*NTFS, error) {
	v, err := ntfs.Open(disk, offset, size)
	if err != nil {
		return nil, fmt.Errorf("NTFS volume at byte %d: %v", offset, err)
	}
	return &NTFS{v}, nil
}

// ReadFile returns the content of a file of at most MaxReadFile bytes.
func (n *NTFS) ReadFile(devicePath string) ([]byte, error) {
	f, err := n.v.OpenFile(devicePath)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", devicePath, err)
	}
	if f.Size() > MaxReadFile {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d MiB read whole (a metadata file is expected here)", devicePath, f.Size(), MaxReadFile>>20)
	}
	b := make([]byte, f.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %v", devicePath, err)
	}
	return b, nil
}

// Walk calls fn for every entry, parents before children.
func (n *NTFS) Walk(fn func(e Entry, r io.Reader) error) error {
	return n.v.Walk(func(path string, fi ntfs.FileInfo, f *ntfs.File) error {
		e := Entry{Path: path, Dir: fi.IsDir(), Size: fi.Size}
		if e.Dir {
			return fn(e, nil)
		}
		return fn(e, f)
	})
}

// Usage counts the clear bits of $Bitmap.
func (n *NTFS) Usage() (clusterBytes, clusters, free int64, err error) { return n.v.Usage() }

// IsNTFS reports whether a partition starts with an NTFS boot sector.
func (im *Image) IsNTFS(e *disk.Partition) bool {
	off, _ := im.Extent(e)
	b := make([]byte, 11)
	if _, err := im.view.ReadAt(b, off); err != nil {
		return false
	}
	return bytes.Equal(b[3:11], []byte("NTFS    "))
}

// Volume opens a partition's file system, NTFS or FAT (12, 16 or 32).
func (im *Image) Volume(e *disk.Partition) (Reader, error) {
	off, size := im.Extent(e)
	if im.IsNTFS(e) {
		return OpenNTFS(im.view, off, size)
	}
	return im.FAT(e)
}
