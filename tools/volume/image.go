package volume

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/ffu"
)

// Image is an FFU opened for reading its partitions. They are read from the FFU's blocks in
// place (ffu.Reader.DiskReader): nothing is extracted, unless a caller asks for the raw disk as
// a file (Disk), or the disk size is not a whole number of blocks; then the disk is extracted
// (sparse, only the stored blocks) into a temporary file that Close removes.
type Image struct {
	Path string
	FFU  *ffu.Reader
	// GPT holds the partitions. On an MBR disk (MBR non-nil) it has only Entries, read from the
	// MBR: names from its MBR_META partition (see disk.MBR).
	GPT        *disk.GPT
	MBR        *disk.MBR
	SectorSize int64
	file, disk *os.File
	view       io.ReaderAt // the disk: the FFU's blocks, or disk once extracted
}

// OpenImage opens the FFU at path; with verify, its hashes must check out first.
func OpenImage(path string, verify bool) (_ *Image, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// im is not the named result: an error return sets that to nil, and the cleanup must
	// still close what was opened.
	im := &Image{Path: path, file: f}
	defer func() {
		if err != nil {
			im.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if im.FFU, err = ffu.Open(f, st.Size()); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if verify {
		if err := im.FFU.Verify(); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	if len(im.FFU.Stores) != 1 {
		return nil, fmt.Errorf("%s: the image has %d stores; expected one", path, len(im.FFU.Stores))
	}
	if im.view, err = im.FFU.DiskReader(0); err != nil {
		if _, err := im.Disk(); err != nil {
			return nil, err
		}
	}
	s := im.FFU.Stores[0]
	im.SectorSize = int64(s.SectorSize)
	if im.GPT, im.MBR, err = disk.ReadTable(im.view, s.DiskSize, s.SectorSize); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return im, nil
}

// Close closes the FFU and removes the extracted disk.
func (im *Image) Close() {
	if im.disk != nil {
		im.disk.Close()
		os.Remove(im.disk.Name())
	}
	im.file.Close()
}

// Disk is the raw disk as a file (for tools that read files: sfdisk, dd), extracted on the
// first call; Close removes it.
func (im *Image) Disk() (*os.File, error) {
	if im.disk != nil {
		return im.disk, nil
	}
	return im.extract(im.FFU.Extract, "extracting the disk: ")
}

// VerifiedDisk is Verify and Disk in one read of the FFU (ffu.Reader.VerifyExtract), for a
// caller that opened the image without verifying it and needs its disk as a file: every
// chunk's hash is checked as its blocks are written.
func (im *Image) VerifiedDisk() (*os.File, error) {
	if im.disk != nil { // extracted, unverified, by OpenImage or Disk
		if err := im.FFU.Verify(); err != nil {
			return nil, fmt.Errorf("%s: %v", im.Path, err)
		}
		return im.disk, nil
	}
	return im.extract(im.FFU.VerifyExtract, "")
}

// extract writes the disk with write into a temporary file that Close removes.
func (im *Image) extract(write func(*os.File) error, what string) (*os.File, error) {
	f, err := os.CreateTemp("", "oemimage-disk-*.img")
	if err != nil {
		return nil, err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("%s: %s%v", im.Path, what, err)
	}
	im.disk, im.view = f, f
	return f, nil
}

// ReaderAt reads the raw disk without extracting it.
func (im *Image) ReaderAt() io.ReaderAt { return im.view }

// Table describes the partition table, for messages: "GPT, disk <GUID>" or "MBR, signature
// 0x...".
func (im *Image) Table() string {
	if im.MBR != nil {
		return fmt.Sprintf("MBR, signature %#08x", im.MBR.DiskSignature)
	}
	return "GPT, disk " + im.GPT.DiskGUID
}

// Partition finds a partition entry by name, case-insensitively; nil if there is none.
func (im *Image) Partition(name string) *disk.Partition {
	for i, e := range im.GPT.Entries {
		if strings.EqualFold(e.Name, name) {
			return &im.GPT.Entries[i]
		}
	}
	return nil
}

// Extent is where a partition lies on the disk, in bytes.
func (im *Image) Extent(e *disk.Partition) (offset, size int64) {
	return int64(e.FirstLBA) * im.SectorSize, int64(e.LastLBA-e.FirstLBA+1) * im.SectorSize
}

// IsFAT reports whether a partition starts with a FAT boot sector.
func (im *Image) IsFAT(e *disk.Partition) bool {
	off, _ := im.Extent(e)
	b := make([]byte, 512)
	if _, err := im.view.ReadAt(b, off); err != nil {
		return false
	}
	return b[510] == 0x55 && b[511] == 0xAA && (bytes.HasPrefix(b[54:], []byte("FAT1")) || bytes.HasPrefix(b[82:], []byte("FAT32")))
}

// IsFAT32 reports whether a partition starts with a FAT32 boot sector (not FAT12/16).
func (im *Image) IsFAT32(e *disk.Partition) bool {
	off, _ := im.Extent(e)
	b := make([]byte, 90)
	if _, err := im.view.ReadAt(b, off); err != nil {
		return false
	}
	return im.IsFAT(e) && bytes.HasPrefix(b[82:], []byte("FAT32"))
}

// FAT opens a partition's FAT12, FAT16 or FAT32 file system.
func (im *Image) FAT(e *disk.Partition) (*FAT, error) {
	off, size := im.Extent(e)
	return OpenFAT(im.view, off, size, im.SectorSize)
}

// Names lists the partitions, for messages.
func (im *Image) Names() string {
	var n []string
	for _, e := range im.GPT.Entries {
		n = append(n, e.Name)
	}
	return strings.Join(n, ", ")
}
