// Package fat writes FAT12, FAT16 and FAT32 file systems into a region of a disk image,
// streaming: each file's data is written once, straight to its clusters, as it arrives, and the
// directories, FATs and boot sectors follow at Close. Long names get VFAT entries. It reads
// them too (reader.go), checking every field of volumes it did not write.
//
// go-diskfs (the project's library for GPT and FAT) was measured first: writing 500 files of
// 400 KiB into a FAT32 partition took 24.8 s (8 MB/s) because it rewrites the whole FAT on
// every allocation, so its cost grows with files x FAT size. Images of several GiB need a
// writer whose work grows with the data only; hence this package (docs/formats.md).
package fat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// Type is the FAT variant.
type Type int

const (
	FAT12 Type = 12
	FAT16 Type = 16
	FAT32 Type = 32
)

func (t Type) String() string { return fmt.Sprintf("FAT%d", int(t)) }

// Limits on the number of clusters of each variant (Microsoft's FAT specification).
const (
	maxFAT12Clusters = 4084
	maxFAT16Clusters = 65524
	maxFAT32Clusters = 0x0FFFFFF5
	dirEntrySize     = 32
	fat16RootEntries = 512
	reservedFAT32    = 32
	reservedFAT1216  = 1
)

// Options describe the file system to create.
type Options struct {
	// Type: FAT32, or 0 to choose FAT12 or FAT16 by size ("FAT" in a device layout).
	Type        Type
	SectorSize  int // bytes per sector; 512 unless given
	ClusterSize int // bytes per cluster; 0 chooses by size
	Label       string
	VolumeID    uint32
	ModTime     time.Time // timestamp of every entry; zero means 2015-07-29
}

// Attribute bits of directory entries.
const (
	AttrReadOnly  = 0x01
	AttrHidden    = 0x02
	AttrSystem    = 0x04
	attrVolumeID  = 0x08
	attrDirectory = 0x10
	AttrArchive   = 0x20
	attrLFN       = 0x0F
)

type node struct {
	name     string // long name as given
	short    [11]byte
	lfn      bool
	dir      bool
	attr     byte
	size     int64
	first    uint32 // first cluster, 0 for empty files
	clusters uint32
	more     uint32 // FAT32 root: where its clusters after the first (cluster 2) continue
	children []*node
	index    map[string]*node // folded name -> child
	shorts   map[string]bool  // short names used in this directory
	tails    map[string]int   // last numeric tail given per 8.3 basis
}

// Writer builds one file system in the region [offset, offset+size) of w.
type Writer struct {
	w        io.WriterAt
	offset   int64
	size     int64
	opt      Options
	typ      Type
	spc      int // sectors per cluster
	reserved int
	fatSecs  int
	rootSecs int // FAT12/16 fixed root directory
	clusters uint32
	next     uint32   // next free cluster
	fat      []uint32 // the table, entries 0..clusters+1
	root     *node
	closed   bool
	modTime  time.Time
	buf      []byte // copy buffer of AddFile
}

// DefaultModTime is the timestamp of entries when none is given: fixed, for reproducible images.
var DefaultModTime = time.Date(2015, 7, 29, 0, 0, 0, 0, time.UTC)

// New lays out a file system of size bytes at offset in w. Nothing is written until files are
// added or Close is called.
func New(w io.WriterAt, offset, size int64, opt Options) (*Writer, error) {
	if opt.SectorSize == 0 {
		opt.SectorSize = 512
	}
	if opt.ModTime.IsZero() {
		opt.ModTime = DefaultModTime
	}
	ss := opt.SectorSize
	if ss != 512 && ss != 1024 && ss != 2048 && ss != 4096 {
		return nil, fmt.Errorf("sector size %d: expected 512, 1024, 2048 or 4096", ss)
	}
	f := &Writer{w: w, offset: offset, size: size, opt: opt, modTime: opt.ModTime}
	totalSecs := size / int64(ss)
	if totalSecs > 0xFFFFFFFF {
		return nil, fmt.Errorf("%d bytes is too large for FAT (at most 2^32 sectors)", size)
	}
	types := []Type{opt.Type}
	if opt.Type == 0 {
		types = []Type{FAT16, FAT12} // as mkfs.fat: FAT16 unless the size is too small for it
	} else if opt.Type != FAT32 && opt.Type != FAT16 && opt.Type != FAT12 {
		return nil, fmt.Errorf("FAT type %d: expected 12, 16 or 32", opt.Type)
	}
	var lastErr, err error
	for _, t := range types {
		if err := f.layout(t, totalSecs); err != nil {
			lastErr = err
			continue
		}
		f.fat = make([]uint32, f.clusters+2)
		f.fat[0] = 0x0FFFFF00 | 0xF8 // media descriptor: fixed disk
		f.fat[1] = 0x0FFFFFFF
		f.next = 2
		f.root = &node{dir: true, index: map[string]*node{}, shorts: map[string]bool{}, tails: map[string]int{}}
		if t == FAT32 {
			// The root directory starts at cluster 2, where readers that ignore the boot
			// sector's root cluster (go-diskfs, some firmware) look for it; it grows later.
			if f.root.first, err = f.allocate(1); err != nil {
				return nil, err
			}
			f.root.clusters = 1
		}
		return f, nil
	}
	return nil, lastErr
}

// layout chooses cluster size, reserved sectors and FAT size for type t.
func (f *Writer) layout(t Type, totalSecs int64) error {
	ss := f.opt.SectorSize
	f.typ = t
	f.reserved = reservedFAT1216
	f.rootSecs = fat16RootEntries * dirEntrySize / ss
	if t == FAT32 {
		f.reserved, f.rootSecs = reservedFAT32, 0
	}
	var sizes []int
	if f.opt.ClusterSize != 0 {
		if f.opt.ClusterSize < ss || f.opt.ClusterSize%ss != 0 || f.opt.ClusterSize/ss > 128 || f.opt.ClusterSize&(f.opt.ClusterSize-1) != 0 {
			return fmt.Errorf("cluster size %d: expected a power of two, a multiple of the %d-byte sector, at most 128 sectors", f.opt.ClusterSize, ss)
		}
		sizes = []int{f.opt.ClusterSize}
	} else {
		sizes = defaultClusterSizes(t, totalSecs*int64(ss), ss)
	}
	max := map[Type]int64{FAT12: maxFAT12Clusters, FAT16: maxFAT16Clusters, FAT32: maxFAT32Clusters}[t]
	min := map[Type]int64{FAT12: 1, FAT16: maxFAT12Clusters + 1, FAT32: maxFAT16Clusters + 1}[t]
	for _, cs := range sizes {
		spc := cs / ss
		avail := totalSecs - int64(f.reserved) - int64(f.rootSecs) // for the FATs and the data
		if avail <= 0 {
			continue
		}
		fatSecs, clusters := fatSize(t, ss, spc, avail)
		if clusters >= min && clusters <= max {
			f.spc, f.fatSecs, f.clusters = spc, int(fatSecs), uint32(clusters)
			return nil
		}
	}
	return fmt.Errorf("%d bytes cannot hold a %v file system with %v clusters (it needs %d to %d clusters)",
		totalSecs*int64(ss), t, sizes, min, max)
}

// fatSize returns the smallest FAT, in sectors, that has an entry for every cluster the rest
// of avail sectors holds (two FATs, then the data), plus the two reserved entries; and that
// cluster count. A larger FAT leaves fewer clusters, so "the FAT holds the clusters it leaves"
// is false and then true as the FAT grows: a binary search finds where it turns. (Iterating
// size -> clusters -> size can cycle between two sizes, the smaller one too small: issue 17.)
func fatSize(t Type, ss, spc int, avail int64) (fatSecs, clusters int64) {
	clustersLeft := func(f int64) int64 { return max(avail-2*f, 0) / int64(spc) }
	holds := func(f int64) bool { return f*int64(ss)*8/int64(t) >= clustersLeft(f)+2 }
	lo, hi := int64(1), (clustersLeft(0)+2)*int64(t)/(int64(ss)*8)+1 // holds(hi)
	for lo < hi {
		if mid := lo + (hi-lo)/2; holds(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, clustersLeft(lo)
}

// defaultClusterSizes lists cluster sizes to try, smallest first. FAT32 follows Microsoft's
// format table; FAT12/16 take the smallest size that fits.
func defaultClusterSizes(t Type, bytes int64, ss int) []int {
	const mb, gb = 1 << 20, 1 << 30
	if t == FAT32 {
		cs := 32 << 10
		switch {
		case bytes <= 260*mb:
			cs = 512
		case bytes <= 8*gb:
			cs = 4 << 10
		case bytes <= 16*gb:
			cs = 8 << 10
		case bytes <= 32*gb:
			cs = 16 << 10
		}
		if cs < ss {
			cs = ss
		}
		return []int{cs}
	}
	var out []int
	for cs := ss; cs <= 64<<10 && cs/ss <= 128; cs *= 2 {
		out = append(out, cs)
	}
	return out
}

// Type reports the variant chosen.
func (f *Writer) Type() Type { return f.typ }

// Name is the FAT type's name (FAT12, FAT16, FAT32), for disk.FileSystem.
func (f *Writer) Name() string { return f.typ.String() }

// The writer is a partition's file system for imggen.
var _ disk.FileSystem = (*Writer)(nil)

// fileAttrs are the attribute bits AddFile keeps; AttrArchive it sets itself.
const fileAttrs = disk.ReadOnly | disk.Hidden | disk.System | disk.Archive

func (f *Writer) clusterBytes() int64 { return int64(f.spc * f.opt.SectorSize) }

func (f *Writer) dataStart() int64 {
	return int64(f.reserved+2*f.fatSecs+f.rootSecs) * int64(f.opt.SectorSize)
}

func (f *Writer) clusterOffset(c uint32) int64 {
	return f.offset + f.dataStart() + int64(c-2)*f.clusterBytes()
}

// allocate takes n contiguous clusters and chains them in the FAT.
func (f *Writer) allocate(n uint32) (uint32, error) {
	if n == 0 {
		return 0, nil
	}
	if uint64(f.next)+uint64(n) > uint64(f.clusters)+2 {
		free := int64(f.clusters+2-f.next) * f.clusterBytes()
		return 0, fmt.Errorf("%w: %d bytes needed, %d free", ErrFull, int64(n)*f.clusterBytes(), free)
	}
	first := f.next
	for c := first; c < first+n-1; c++ {
		f.fat[c] = c + 1
	}
	f.fat[first+n-1] = 0x0FFFFFFF
	f.next += n
	return first, nil
}

// Mkdir creates a directory and its parents (path with '\' or '/' separators).
func (f *Writer) Mkdir(path string) error {
	_, err := f.dir(splitPath(path), true)
	return err
}

func splitPath(p string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '\\' || r == '/' }) {
		out = append(out, part)
	}
	return out
}

func (f *Writer) dir(parts []string, create bool) (*node, error) {
	cur := f.root
	for i, part := range parts {
		key := strings.ToUpper(part)
		child := cur.index[key]
		switch {
		case child == nil && !create:
			return nil, fmt.Errorf("no directory %s", strings.Join(parts[:i+1], `\`))
		case child == nil:
			n, err := cur.add(part, true)
			if err != nil {
				return nil, fmt.Errorf(`\%s: %v`, strings.Join(parts[:i+1], `\`), err)
			}
			child = n
		case !child.dir:
			return nil, fmt.Errorf(`\%s is a file, not a directory`, strings.Join(parts[:i+1], `\`))
		}
		cur = child
	}
	return cur, nil
}

// add creates a child entry with a unique short name.
func (d *node) add(name string, dir bool) (*node, error) {
	if err := disk.CheckName(name); err != nil {
		return nil, err
	}
	n := &node{name: name, dir: dir}
	if dir {
		n.index, n.shorts, n.tails = map[string]*node{}, map[string]bool{}, map[string]int{}
	}
	n.short, n.lfn = shortName(name, d.shorts, d.tails)
	d.shorts[string(n.short[:])] = true
	d.children = append(d.children, n)
	d.index[strings.ToUpper(name)] = n
	return n, nil
}

// ErrExists is returned by AddFile for a path that is already in the file system.
type ErrExists struct{ Path string }

func (e *ErrExists) Error() string { return e.Path + " already exists" }

// AddFile writes a file of size bytes read from r at path (e.g. \Windows\System32\a.dll),
// creating its directories. Its clusters are allocated contiguously and written at once.
func (f *Writer) AddFile(path string, size int64, r io.Reader, attr disk.Attributes) error {
	if f.closed {
		return fmt.Errorf("file system already closed")
	}
	parts := splitPath(path)
	if len(parts) == 0 {
		return fmt.Errorf("empty path")
	}
	parent, err := f.dir(parts[:len(parts)-1], true)
	if err != nil {
		return err
	}
	if parent.index[strings.ToUpper(parts[len(parts)-1])] != nil {
		return &ErrExists{Path: path}
	}
	if size < 0 || size > 0xFFFFFFFF {
		return fmt.Errorf("%s: %d bytes; a FAT file holds at most 4 GiB - 1", path, size)
	}
	cb := f.clusterBytes()
	n := uint32((size + cb - 1) / cb)
	first, err := f.allocate(n)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if size > 0 {
		// Stream the content to its clusters; the slack of the last cluster stays as it is.
		sw := io.NewOffsetWriter(f.w, f.clusterOffset(first))
		if f.buf == nil {
			f.buf = make([]byte, 1<<20) // large writes: a syscall per MiB, not per 32 KiB
		}
		written, err := io.CopyBuffer(sw, io.LimitReader(r, size), f.buf)
		if err == nil && written < size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return fmt.Errorf("%s: %d of %d bytes: %v", path, written, size, err)
		}
	}
	node, err := parent.add(parts[len(parts)-1], false)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	node.size, node.first, node.clusters, node.attr = size, first, n, byte(attr&fileAttrs)|AttrArchive
	return nil
}

// Used reports the bytes allocated to files so far.
func (f *Writer) Used() int64 { return int64(f.next-2) * f.clusterBytes() }

// Free reports the bytes of clusters not yet allocated; ClusterSize the bytes of one.
func (f *Writer) Free() int64        { return int64(f.clusters+2-f.next) * f.clusterBytes() }
func (f *Writer) ClusterSize() int64 { return f.clusterBytes() }

// ErrFull is the error (wrapped) of a file that does not fit the clusters left.
var ErrFull = errors.New("file system full")

// Close writes the directories, the FATs and the boot sectors, and returns the extents that
// hold data: the reserved sectors, FATs, root directory and every allocated cluster.
func (f *Writer) Close() ([]disk.Extent, error) {
	if f.closed {
		return nil, fmt.Errorf("file system already closed")
	}
	f.closed = true
	// Directories get their clusters after all file data, parents before children (the FAT32
	// root's first cluster excepted).
	if err := f.placeDirs(f.root, true); err != nil {
		return nil, err
	}
	if err := f.writeDirs(f.root, nil); err != nil {
		return nil, err
	}
	if err := f.writeFATs(); err != nil {
		return nil, err
	}
	if err := f.writeBoot(); err != nil {
		return nil, err
	}
	ext := []disk.Extent{{Offset: f.offset, Length: f.dataStart()}}
	if f.next > 2 {
		ext = append(ext, disk.Extent{Offset: f.clusterOffset(2), Length: int64(f.next-2) * f.clusterBytes()})
	}
	return ext, nil
}

func (f *Writer) dirEntries(d *node, isRoot bool) int {
	n := 0
	if !isRoot {
		n = 2 // "." and ".."
	} else if f.opt.Label != "" {
		n = 1
	}
	for _, c := range d.children {
		n++
		if c.lfn {
			n += (len(utf16Of(c.name)) + 12) / 13
		}
	}
	return n
}

func (f *Writer) placeDirs(d *node, isRoot bool) error {
	bytes := int64(f.dirEntries(d, isRoot)) * dirEntrySize
	switch {
	case isRoot && f.typ != FAT32:
		if bytes > int64(f.rootSecs*f.opt.SectorSize) {
			return fmt.Errorf("the root directory holds %d entries, more than the %d of %v", bytes/dirEntrySize, fat16RootEntries, f.typ)
		}
	case isRoot:
		// Cluster 2 is the root's already; chain more clusters after the data if needed.
		n := uint32((bytes + f.clusterBytes() - 1) / f.clusterBytes())
		if n > 1 {
			more, err := f.allocate(n - 1)
			if err != nil {
				return fmt.Errorf("directories: %v", err)
			}
			f.fat[d.first] = more
			d.more, d.clusters = more, n
		}
	default:
		n := uint32((bytes + f.clusterBytes() - 1) / f.clusterBytes())
		if n == 0 {
			n = 1
		}
		first, err := f.allocate(n)
		if err != nil {
			return fmt.Errorf("directories: %v", err)
		}
		d.first, d.clusters = first, n
	}
	// Sorted for a stable layout whatever order packages arrive in.
	sort.SliceStable(d.children, func(i, j int) bool { return d.children[i].dir && !d.children[j].dir })
	for _, c := range d.children {
		if c.dir {
			if err := f.placeDirs(c, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *Writer) dosTime() (date, tm uint16) {
	t := f.modTime.UTC()
	if t.Year() < 1980 {
		return 1<<5 | 1, 0
	}
	return uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day()),
		uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
}

func (f *Writer) entry(buf []byte, short [11]byte, attr byte, first uint32, size uint32) {
	copy(buf[0:11], short[:])
	buf[11] = attr
	date, tm := f.dosTime()
	binary.LittleEndian.PutUint16(buf[14:], tm)
	binary.LittleEndian.PutUint16(buf[16:], date)
	binary.LittleEndian.PutUint16(buf[18:], date)
	binary.LittleEndian.PutUint16(buf[20:], uint16(first>>16))
	binary.LittleEndian.PutUint16(buf[22:], tm)
	binary.LittleEndian.PutUint16(buf[24:], date)
	binary.LittleEndian.PutUint16(buf[26:], uint16(first))
	binary.LittleEndian.PutUint32(buf[28:], size)
}

func (f *Writer) writeDirs(d *node, parent *node) error {
	isRoot := parent == nil
	buf := make([]byte, f.dirEntries(d, isRoot)*dirEntrySize)
	pos := 0
	put := func(short [11]byte, attr byte, first uint32, size uint32) {
		f.entry(buf[pos:pos+dirEntrySize], short, attr, first, size)
		pos += dirEntrySize
	}
	if isRoot && f.opt.Label != "" {
		put(labelName(f.opt.Label), attrVolumeID, 0, 0)
	}
	if !isRoot {
		var dot, dotdot [11]byte
		copy(dot[:], ".          ")
		copy(dotdot[:], "..         ")
		put(dot, attrDirectory, d.first, 0)
		up := parent.first
		if parent == f.root {
			up = 0 // ".." of a top-level directory names the root as cluster 0
		}
		put(dotdot, attrDirectory, up, 0)
	}
	for _, c := range d.children {
		if c.lfn {
			pos += writeLFN(buf[pos:], c.name, c.short)
		}
		if c.dir {
			put(c.short, attrDirectory, c.first, 0)
		} else {
			put(c.short, c.attr, c.first, uint32(c.size))
		}
	}
	var off int64
	if isRoot && f.typ != FAT32 {
		off = f.offset + int64(f.reserved+2*f.fatSecs)*int64(f.opt.SectorSize)
		// Zero the whole fixed root directory: stale bytes would read as entries.
		full := make([]byte, f.rootSecs*f.opt.SectorSize)
		copy(full, buf)
		buf = full
	} else {
		off = f.clusterOffset(d.first)
		full := make([]byte, int64(d.clusters)*f.clusterBytes())
		copy(full, buf)
		buf = full
	}
	if d.more != 0 {
		// A FAT32 root that outgrew cluster 2: the rest of it is further on.
		cb := f.clusterBytes()
		if _, err := f.w.WriteAt(buf[cb:], f.clusterOffset(d.more)); err != nil {
			return err
		}
		buf = buf[:cb]
	}
	if _, err := f.w.WriteAt(buf, off); err != nil {
		return err
	}
	for _, c := range d.children {
		if c.dir {
			if err := f.writeDirs(c, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *Writer) writeFATs() error {
	ss := f.opt.SectorSize
	buf := make([]byte, f.fatSecs*ss)
	switch f.typ {
	case FAT32:
		for i, v := range f.fat {
			binary.LittleEndian.PutUint32(buf[4*i:], v&0x0FFFFFFF)
		}
	case FAT16:
		for i, v := range f.fat {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(v))
		}
	case FAT12:
		for i, v := range f.fat {
			v &= 0xFFF
			o := i * 3 / 2
			if i%2 == 0 {
				buf[o] = byte(v)
				buf[o+1] = buf[o+1]&0xF0 | byte(v>>8)
			} else {
				buf[o] = buf[o]&0x0F | byte(v<<4)
				buf[o+1] = byte(v >> 4)
			}
		}
	}
	if f.typ == FAT16 {
		binary.LittleEndian.PutUint16(buf[0:], 0xFFF8)
		binary.LittleEndian.PutUint16(buf[2:], 0xFFFF)
	}
	for i := 0; i < 2; i++ {
		off := f.offset + int64(f.reserved+i*f.fatSecs)*int64(ss)
		if _, err := f.w.WriteAt(buf, off); err != nil {
			return err
		}
	}
	return nil
}

func (f *Writer) writeBoot() error {
	ss := f.opt.SectorSize
	res := make([]byte, f.reserved*ss)
	b := res[:ss]
	copy(b[0:3], []byte{0xEB, 0x58, 0x90})
	copy(b[3:11], "MSDOS5.0")
	le := binary.LittleEndian
	le.PutUint16(b[11:], uint16(ss))
	b[13] = byte(f.spc)
	le.PutUint16(b[14:], uint16(f.reserved))
	b[16] = 2 // FATs
	totalSecs := f.size / int64(ss)
	if f.typ != FAT32 {
		le.PutUint16(b[17:], fat16RootEntries)
	}
	if totalSecs < 0x10000 && f.typ != FAT32 {
		le.PutUint16(b[19:], uint16(totalSecs))
	} else {
		le.PutUint32(b[32:], uint32(totalSecs))
	}
	b[21] = 0xF8 // fixed disk
	le.PutUint16(b[24:], 63)
	le.PutUint16(b[26:], 255)
	le.PutUint32(b[28:], uint32(f.offset/int64(ss))) // hidden sectors: the partition's first LBA
	label := labelName(f.opt.Label)
	if f.opt.Label == "" {
		copy(label[:], "NO NAME    ")
	}
	ext := 36
	if f.typ == FAT32 {
		le.PutUint32(b[36:], uint32(f.fatSecs))
		le.PutUint16(b[48:], 1) // FSInfo sector
		le.PutUint16(b[50:], 6) // backup boot sector
		ext = 64
		copy(b[82:90], "FAT32   ")
	} else {
		le.PutUint16(b[22:], uint16(f.fatSecs))
		copy(b[54:62], fmt.Sprintf("%-8s", f.typ.String()))
	}
	b[ext] = 0x80   // drive number
	b[ext+2] = 0x29 // extended boot signature
	le.PutUint32(b[ext+3:], f.opt.VolumeID)
	copy(b[ext+7:ext+18], label[:])
	b[510], b[511] = 0x55, 0xAA
	if f.typ == FAT32 {
		// The root directory's clusters follow the file data (directories are laid out last).
		le.PutUint32(b[44:], f.root.first)
		fsi := res[ss : 2*ss]
		le.PutUint32(fsi[0:], 0x41615252)
		le.PutUint32(fsi[484:], 0x61417272)
		le.PutUint32(fsi[488:], f.clusters+2-f.next) // free clusters
		le.PutUint32(fsi[492:], f.next)              // next free
		le.PutUint32(fsi[508:], 0xAA550000)
		copy(res[6*ss:7*ss], b)   // backup boot sector
		copy(res[7*ss:8*ss], fsi) // backup FSInfo
	}
	_, err := f.w.WriteAt(res, f.offset)
	return err
}
