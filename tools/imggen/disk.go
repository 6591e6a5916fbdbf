package imggen

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/fat"
	"github.com/oemimage/rules_oemimage/tools/layout"
	"github.com/oemimage/rules_oemimage/tools/ntfs"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// writeTables writes plan's partition tables: an MBR (with its extended boot records and
// MBR_META) for an MBR layout, else the protective MBR and both GPTs.
func writeTables(f io.WriterAt, plan *layout.Plan) error {
	if !plan.MBR {
		return writeGPT(f, plan)
	}
	tables, err := plan.MBRTables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := f.WriteAt(t.Data, int64(t.LBA)*int64(plan.SectorSize)); err != nil {
			return fmt.Errorf("writing the partition table: %v", err)
		}
	}
	return nil
}

// writeGPT writes the protective MBR and both GPTs of plan to f.
func writeGPT(f io.WriterAt, plan *layout.Plan) error {
	entries := make([]disk.Partition, len(plan.Partitions))
	for i, p := range plan.Partitions {
		entries[i] = p.Partition
	}
	if err := disk.WriteGPT(f, plan.SectorSize, plan.DiskSectors, plan.DiskGUID, entries); err != nil {
		return fmt.Errorf("writing the partition table: %v", err)
	}
	return nil
}

// keptAttrs are the attribute bits a rebuilt volume carries over (the writers set Archive
// themselves).
const keptAttrs = disk.ReadOnly | disk.Hidden | disk.System

// volume is a partition being filled.
type volume struct {
	placed *layout.Placed
	fs     disk.FileSystem // nil for a raw partition
	raw    string          // the binary partition package written into it, if any
}

// diskImage builds the raw disk image: partitions, file systems, package files.
type diskImage struct {
	w    io.WriterAt
	plan *layout.Plan
	// dry lays the disk out without its content: packages are read from their file lists,
	// decompressing nothing, so that the file systems allocate what they will when written
	// (Build plans the FFU from that; the content then goes straight into it).
	dry     bool
	volumes map[string]*volume // lower-case partition name
	owners  map[string]string  // partition + "|" + upper-case device path -> package
	extents []disk.Extent      // raw data written outside file systems
}

// newDisk writes plan's partition tables and opens the file systems of its partitions on w,
// the disk (zeros where nothing is written: a new sparse file, or an FFU's Layout); with dry,
// what is written is not kept (diskImage.dry).
func newDisk(w io.WriterAt, plan *layout.Plan, seed string, formatDPP bool, modTime time.Time, dry bool) (*diskImage, error) {
	if err := writeTables(w, plan); err != nil {
		return nil, err
	}
	d := &diskImage{w: w, plan: plan, dry: dry, volumes: map[string]*volume{}, owners: map[string]string{}}
	f := w
	for _, p := range plan.Partitions {
		v := &volume{placed: p}
		d.volumes[strings.ToLower(p.Name)] = v
		isDPP := strings.EqualFold(p.Name, "DPP")
		if p.Layout.FileSystem == "" {
			continue
		}
		if isDPP && !formatDPP {
			continue // the device keeps its DPP: only FormatDPP formats it
		}
		offset, size := int64(p.FirstLBA)*int64(plan.SectorSize), int64(p.Sectors())*int64(plan.SectorSize)
		if p.Layout.FileSystem == "NTFS" {
			w, err := ntfs.New(f, offset, size, ntfs.Options{
				SectorSize:  int(plan.SectorSize),
				ClusterSize: int(p.Layout.ClusterSize),
				Label:       p.Name,
				Serial:      uint64(volumeID(seed, p.Name))<<32 | uint64(volumeID(seed, p.Name+"/high")),
				ModTime:     modTime,
			})
			if err != nil {
				return nil, fmt.Errorf("partition %s: %v", p.Name, err)
			}
			v.fs = w
			continue
		}
		opt := fat.Options{
			SectorSize:  int(plan.SectorSize),
			ClusterSize: int(p.Layout.ClusterSize),
			Label:       p.Name,
			VolumeID:    volumeID(seed, p.Name),
			ModTime:     modTime,
		}
		if p.Layout.FileSystem == "FAT32" {
			opt.Type = fat.FAT32
		}
		w, err := fat.New(f, offset, size, opt)
		if err != nil {
			return nil, fmt.Errorf("partition %s: %v", p.Name, err)
		}
		v.fs = w
	}
	return d, nil
}

func volumeID(seed, name string) uint32 {
	g := layout.GUID("volume", seed, name)
	var v uint32
	fmt.Sscanf(g[:8], "%08X", &v)
	return v
}

// install writes the files of one package into its partition.
func (d *diskImage) install(file string, p *spkg.Package) error {
	m := p.Manifest
	v := d.volumes[strings.ToLower(m.Partition)]
	if v == nil {
		return fmt.Errorf("%s installs into partition %s, which the device layout does not define (it has %s)", file, m.Partition, d.partitionNames())
	}
	if m.IsBinaryPartition {
		return d.installBinary(file, p, v)
	}
	if v.fs == nil {
		return fmt.Errorf("%s installs files into partition %s, which has no file system in the device layout", file, v.placed.Name)
	}
	return d.walkChecked(file, p, v, nil)
}

// walk calls fn for each file of p, in cabinet order, with its content; a dry disk gives
// each file's entry with a reader of unspecified bytes, decompressing nothing.
func (d *diskImage) walk(p *spkg.Package, fn func(fe spkg.FileEntry, r io.Reader) error) error {
	if !d.dry {
		return p.Walk(fn)
	}
	return p.Entries(func(fe spkg.FileEntry) error { return fn(fe, anyBytes{}) })
}

// anyBytes reads as much as asked, of bytes it leaves as they are: the content of a dry
// disk's files, which nothing keeps.
type anyBytes struct{}

func (anyBytes) Read(p []byte) (int, error) { return len(p), nil }

// walkChecked installs the files of p into v; with check (a Production image's trusted root),
// each file's content is hashed as it is written and compared with p's catalog, so that the
// package is decompressed once.
func (d *diskImage) walkChecked(file string, p *spkg.Package, v *volume, check *spkg.CatalogCheck) error {
	return d.walk(p, func(fe spkg.FileEntry, r io.Reader) error {
		if check == nil || fe.FileType == "Catalog" {
			return d.addPackageFile(file, v, fe, r)
		}
		h := check.Hash(fe)
		if err := d.addPackageFile(file, v, fe, io.TeeReader(r, h)); err != nil {
			return err
		}
		if err := check.Check(fe, h); err != nil {
			return fmt.Errorf("Production image: %v", err)
		}
		return nil
	})
}

// installDecoded is install of a package the prefetcher has decoded (or left to stream); check
// as in walkChecked (the prefetcher has hashed the decoded files).
func (d *diskImage) installDecoded(file string, p *spkg.Package, dec *decoded, check *spkg.CatalogCheck) error {
	m := p.Manifest
	v := d.volumes[strings.ToLower(m.Partition)]
	if m.IsBinaryPartition || v == nil || v.fs == nil {
		return d.install(file, p)
	}
	if dec.streamed {
		return d.walkChecked(file, p, v, check)
	}
	for i := range dec.files {
		f := &dec.files[i]
		if err := d.addPackageFile(file, v, f.entry, f.reader()); err != nil {
			return err
		}
		if f.sum != nil {
			if err := check.Check(f.entry, f.sum); err != nil {
				return fmt.Errorf("Production image: %v", err)
			}
		}
	}
	return dec.err
}

// addPackageFile writes one file of package file into v's file system at its device path.
func (d *diskImage) addPackageFile(file string, v *volume, fe spkg.FileEntry, r io.Reader) error {
	if fe.FileType == "BinaryPartition" {
		return fmt.Errorf("%s holds the partition image %s but its DSM does not say IsBinaryPartition; a partition image is not a file to install", file, fe.DevicePath)
	}
	key := strings.ToLower(v.placed.Name) + "|" + strings.ToUpper(fe.DevicePath)
	if other, ok := d.owners[key]; ok {
		return fmt.Errorf("%s\\%s is in two packages: %s and %s", v.placed.Name, strings.TrimPrefix(fe.DevicePath, `\`), other, file)
	}
	d.owners[key] = file
	if err := v.fs.AddFile(fe.DevicePath, fe.FileSize, r, disk.ParseAttributes(fe.Attributes)); err != nil {
		return fmt.Errorf("%s: %s\\%s: %w", file, v.placed.Name, strings.TrimPrefix(fe.DevicePath, `\`), err)
	}
	return nil
}

// addFile writes a file the imaging run itself makes (UpdateHistory.xml, ...).
func (d *diskImage) addFile(partition, path string, data []byte) error {
	v := d.volumes[strings.ToLower(partition)]
	if v == nil || v.fs == nil {
		return fmt.Errorf("partition %s with a file system is needed for %s", partition, path)
	}
	return v.fs.AddFile(path, int64(len(data)), strings.NewReader(string(data)), 0)
}

// installBinary writes the image of binary partition package p at the start of its
// partition, which must be raw (no FileSystem in the device layout) and large enough; the rest
// of the partition stays as it is (zeros, not stored in the FFU). The package's DSM and
// catalog go to MainOS at their device paths: a raw partition has nowhere to keep them, and
// MainOS's DsmFiles is where the original's image reader (ImgCommon's FindBinaryPartitions)
// finds the binary partition packages of an image.
func (d *diskImage) installBinary(file string, p *spkg.Package, v *volume) error {
	name := v.placed.Name
	if fs := v.placed.Layout.FileSystem; fs != "" {
		return fmt.Errorf("%s is a binary partition package for partition %s, which has file system %s in the device layout; a partition image needs a partition without FileSystem", file, name, fs)
	}
	if v.raw != "" {
		return fmt.Errorf("%s and %s are both binary partition packages for partition %s; a partition takes one image", v.raw, file, name)
	}
	v.raw = file
	capacity := int64(v.placed.Sectors()) * int64(d.plan.SectorSize)
	offset := int64(v.placed.FirstLBA) * int64(d.plan.SectorSize)
	wrote := false
	err := d.walk(p, func(fe spkg.FileEntry, r io.Reader) error {
		switch fe.FileType {
		case "Manifest", "Catalog":
			mainOS := d.volumes["mainos"]
			if mainOS == nil || mainOS.fs == nil {
				return fmt.Errorf("%s: the DSM of a binary partition package goes to MainOS, which the device layout does not give a file system", file)
			}
			return d.addPackageFile(file, mainOS, fe, r)
		case "BinaryPartition":
		default:
			return fmt.Errorf("%s is a binary partition package but holds %s of FileType %s; it may hold only its partition image", file, fe.DevicePath, fe.FileType)
		}
		if wrote {
			return fmt.Errorf("%s holds more than one binary partition image", file)
		}
		wrote = true
		if fe.FileSize > capacity {
			return fmt.Errorf("%s: the %d-byte image %s does not fit partition %s (%d bytes)", file, fe.FileSize, fe.DevicePath, name, capacity)
		}
		if _, err := io.CopyN(io.NewOffsetWriter(d.w, offset), r, fe.FileSize); err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
		d.extents = append(d.extents, disk.Extent{Offset: offset, Length: fe.FileSize})
		return nil
	})
	if err == nil && !wrote {
		err = fmt.Errorf("%s is marked IsBinaryPartition but holds no BinaryPartition file for partition %s", file, name)
	}
	return err
}

func (d *diskImage) partitionNames() string {
	var names []string
	for _, p := range d.plan.Partitions {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// close finishes every file system and returns the extents that hold data, sorted.
func (d *diskImage) close() ([]disk.Extent, error) {
	ext := append([]disk.Extent(nil), d.extents...)
	for _, p := range d.plan.Partitions {
		v := d.volumes[strings.ToLower(p.Name)]
		if v.fs == nil {
			continue
		}
		e, err := v.fs.Close()
		if err != nil {
			return nil, fmt.Errorf("partition %s: %v", p.Name, err)
		}
		ext = append(ext, e...)
	}
	sort.Slice(ext, func(i, j int) bool { return ext[i].Offset < ext[j].Offset })
	return ext, nil
}

// tableDisk is a disk in memory that keeps what is written to it: the partition tables
// alone, which the FFU is laid out from before the disk is written.
type tableDisk struct {
	writes []tableWrite
}

type tableWrite struct {
	off  int64
	data []byte
}

func (t *tableDisk) WriteAt(p []byte, off int64) (int, error) {
	t.writes = append(t.writes, tableWrite{off, bytes.Clone(p)})
	return len(p), nil
}

// ReadAt reads zeros where nothing was written, the later of two writes where they overlap.
func (t *tableDisk) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	for _, w := range t.writes {
		lo, hi := max(off, w.off), min(off+int64(len(p)), w.off+int64(len(w.data)))
		if lo < hi {
			copy(p[lo-off:hi-off], w.data[lo-w.off:hi-w.off])
		}
	}
	return len(p), nil
}
