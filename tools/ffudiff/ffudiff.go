// Package ffudiff compares two FFU images at each level a user cares about, in order: the
// headers and manifest, the partitions, the packages, the files of each partition, and the disk
// blocks that differ where nothing above explains them (oemimage ffu diff, docs/cli.md). It is
// the tool for a reproducibility failure: two builds of one image whose digests differ.
//
// Images are read through tools/volume: each disk is extracted to a sparse temporary file, and
// file contents are streamed through SHA-256, so memory grows with the number of files and of
// stored blocks, not with their size. Every list of the Report is in a fixed order.
package ffudiff

import (
	"fmt"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// Report is what differs between image A and image B. Each section lists only differences.
type Report struct {
	A         string `json:"a"`
	B         string `json:"b"`
	Identical bool   `json:"identical"`
	// Headers: the FFU's security, image and store headers, catalog and hash table, the
	// partition table's identity and the manifest, key by key.
	Headers    []Field     `json:"headers"`
	Partitions []Partition `json:"partitions"`
	Packages   []Package   `json:"packages"`
	Files      []File      `json:"files"`
	Blocks     []Region    `json:"blocks"`
	// Notes say what could not be compared, and why (a partition without a readable file
	// system, an image without package records).
	Notes []string `json:"notes"`
}

// Field is one value that differs: "store 1 platform IDs", "manifest [Store 1 Partition
// MainOS] TotalSectors". A value one image lacks is "(none)".
type Field struct {
	Name string `json:"name"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// Partition is a partition added, removed, resized or otherwise changed (matched by name,
// case-insensitively).
type Partition struct {
	Name   string         `json:"name"`
	Change string         `json:"change"` // added, removed, resized, changed
	A      *PartitionInfo `json:"a,omitempty"`
	B      *PartitionInfo `json:"b,omitempty"`
	Fields []Field        `json:"fields,omitempty"` // what changed, for resized and changed
}

// PartitionInfo is a partition's table entry and file system.
type PartitionInfo struct {
	FirstLBA   uint64 `json:"firstLBA"`
	LastLBA    uint64 `json:"lastLBA"`
	Bytes      int64  `json:"bytes"`
	Type       string `json:"type"`
	GUID       string `json:"guid"`
	Attributes uint64 `json:"attributes"`
	FileSystem string `json:"fileSystem"` // FAT12, FAT16, FAT32, NTFS, or raw
}

// Package is a package added, removed, or whose version or partition changed, by the update
// records of the images (MainOS \Windows\ImageUpdate\UpdateHistory.xml, or else Data
// \SharedData\DuShared\UpdateOutput.xml, as imggen writes them).
type Package struct {
	Name   string       `json:"name"`
	Change string       `json:"change"` // added, removed, version, changed
	A      *PackageInfo `json:"a,omitempty"`
	B      *PackageInfo `json:"b,omitempty"`
}

// PackageInfo is a package's record.
type PackageInfo struct {
	Version   string `json:"version"`
	Partition string `json:"partition"`
}

// File is a file or directory added, removed or changed in a partition both images have.
type File struct {
	Partition string `json:"partition"`
	Path      string `json:"path"`
	Change    string `json:"change"` // added, removed, content, attributes, type (file and directory)
	Dir       bool   `json:"dir,omitempty"`
	SizeA     int64  `json:"sizeA"` // -1 where the image has no such file
	SizeB     int64  `json:"sizeB"`
	// Package is the package whose DSM (\Windows\Packages\DsmFiles) lists the file, in B, or in
	// A for a removed file; "" if none does.
	Package string `json:"package,omitempty"`
}

// Region is the disk blocks that differ within one partition, or outside every partition
// (the partition tables, gaps): compared block by block over the blocks either image stores.
type Region struct {
	Region string `json:"region"` // a partition's name, or OutsidePartitions
	// Explained: the partition's entry or files differ too (the sections above), which may
	// account for the blocks; false means nothing above explains them.
	Explained bool `json:"explained"`
	// BootSector: a differing block holds the partition's first sector, its boot sector (a
	// FAT or NTFS volume's serial number is there).
	BootSector bool         `json:"bootSector,omitempty"`
	BlockSize  int64        `json:"blockSize"`
	Blocks     int64        `json:"blocks"` // how many differ
	Ranges     []BlockRange `json:"ranges"`
}

// OutsidePartitions names the region of the disk no partition holds (GPT, MBR, gaps).
const OutsidePartitions = "outside partitions"

// BlockRange is consecutive differing blocks: First counts blocks from the start of the disk.
type BlockRange struct {
	First  int64 `json:"first"`
	Count  int64 `json:"count"`
	Offset int64 `json:"offset"`
	Bytes  int64 `json:"bytes"`
}

// Compare reads the FFUs at a and b and reports what differs. An error (a file missing, not an
// FFU, a file system that cannot be walked) names the file.
func Compare(a, b string) (*Report, error) {
	for _, p := range []string{a, b} {
		if _, err := readfile.Regular(p); err != nil {
			return nil, err
		}
	}
	ia, err := volume.OpenImage(a, false)
	if err != nil {
		return nil, err
	}
	defer ia.Close()
	ib, err := volume.OpenImage(b, false)
	if err != nil {
		return nil, err
	}
	defer ib.Close()
	r := &Report{A: a, B: b, Headers: []Field{}, Partitions: []Partition{}, Packages: []Package{}, Files: []File{}, Blocks: []Region{}, Notes: []string{}}
	c := &comparison{r: r, a: side{im: ia}, b: side{im: ib}}
	c.headers()
	c.partitions()
	c.openVolumes()
	if err := c.packages(); err != nil {
		return nil, err
	}
	if err := c.files(); err != nil {
		return nil, err
	}
	if err := c.blocks(); err != nil {
		return nil, err
	}
	r.Identical = len(r.Headers)+len(r.Partitions)+len(r.Packages)+len(r.Files)+len(r.Blocks) == 0
	return r, nil
}

// comparison is one Compare run.
type comparison struct {
	r    *Report
	a, b side
}

// side is what is read of one image.
type side struct {
	im   *volume.Image
	vols map[string]volume.Reader // by upper-case partition name; absent: no readable file system
	fs   map[string]string        // file system by upper-case partition name
}

func (c *comparison) field(name, a, b string) {
	if a != b {
		c.r.Headers = append(c.r.Headers, Field{name, a, b})
	}
}

func (c *comparison) note(format string, args ...any) {
	c.r.Notes = append(c.r.Notes, fmt.Sprintf(format, args...))
}
