// Package ntfs writes NTFS 3.1 volumes into a region of a disk image, streaming, with the same
// shape as package fat so that imggen can use either:
//
//	w, err := ntfs.New(img, offset, size, ntfs.Options{Label: "MainOS", Serial: 0x1234})
//	err = w.Mkdir(`\Windows\System32`)
//	err = w.AddFile(`\Windows\System32\a.dll`, size, r, disk.ReadOnly)
//	extents, err := w.Close() // the byte ranges of the image that hold data
//
// Both writers are a disk.FileSystem: the attributes, extents and file-name rules are
// tools/disk's.
//
// Each file's data is copied once from its io.Reader straight to contiguous clusters as it
// arrives (files of up to ~600 bytes stay resident in their MFT record); the MFT, directory
// indexes, $Bitmap and boot sectors follow at Close, so memory grows with the number of files,
// not their size. Clusters are allocated from the start of the volume without gaps, so the
// extents are the clusters in use and the backup boot sector: the FFU stays sparse.
//
// Output is deterministic: timestamps are Options.ModTime (2015-07-29 unless given), the
// volume serial is Options.Serial or a hash of the tree, MFT records are numbered in a
// depth-first walk of the tree sorted by name, and short names are given in that order.
//
// The volume: 512-byte sectors unless given, 4 KiB clusters unless given, 1 KiB MFT records
// (the sector size if larger), 4 KiB index blocks. $LogFile is filled with 0xFF, the state
// mkntfs leaves it in and Windows and ntfs-3g read as clean. Every file and directory refers to
// one security descriptor in $Secure (ID 0x100): owner Administrators, group SYSTEM, DACL
// SYSTEM and Administrators full control, Users read and execute, inherited by files and
// subdirectories. Short (8.3) names are made as Windows makes them on a volume with 8.3
// generation on: none for names that are legal 8.3 names, BASIS~n.EXT otherwise (n counts up,
// without Windows' hashed tails after ~4). $Extend holds $ObjId, $Quota and $Reparse as
// mkntfs makes them, quota tracking off.
//
// Open reads such a volume back (tests, and imgtowim capturing an NTFS MainOS).
package ntfs

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// Options describe the volume to create.
type Options struct {
	SectorSize   int // bytes per sector: 512 (default), 1024, 2048 or 4096
	ClusterSize  int // bytes per cluster: a power of two from the sector size to 64 KiB; 4096 unless given
	Label        string
	Serial       uint64    // volume serial number; 0 derives one from the tree
	ModTime      time.Time // timestamp of every file; zero means 2015-07-29
	NoShortNames bool      // make no 8.3 names (as Windows with 8.3 generation off)
}

// DefaultModTime is the timestamp of files when none is given: fixed, for reproducible images.
var DefaultModTime = time.Date(2015, 7, 29, 0, 0, 0, 0, time.UTC)

// File attribute bits (FILE_ATTRIBUTE_*).
const (
	AttrReadOnly         = 0x01
	AttrHidden           = 0x02
	AttrSystem           = 0x04
	AttrDirectory        = 0x10
	AttrArchive          = 0x20
	attrIndexPresent     = 0x10000000 // FILE_NAME of directories
	attrViewIndexPresent = 0x20000000 // files with other indexes than $I30
)

// ErrExists is returned by AddFile and Mkdir for a path already in the volume, or one that
// differs from an existing path only in case.
type ErrExists struct{ Path string }

func (e *ErrExists) Error() string { return e.Path + " already exists" }

// System file records; user files start at 24, after the records Windows keeps for $MFT's
// own extension records.
const (
	recMFT, recMFTMirr, recLogFile, recVolume, recAttrDef, recRoot  = 0, 1, 2, 3, 4, 5
	recBitmap, recBoot, recBadClus, recSecure, recUpCase, recExtend = 6, 7, 8, 9, 10, 11
	recQuota, recObjID, recReparse                                  = 24, 25, 26 // in $Extend, as mkntfs and Windows number them
)

const (
	firstUserRecord = 27
	indexBlock      = 4096
	bootBytes       = 8192
	copyBuffer      = 1 << 20
	// Index bitmaps of more blocks (512, some 15,000 names) are non-resident, so that no
	// directory is too large for its MFT record.
	maxResidentIndexBitmap = 64
)

type node struct {
	name     string
	u16      []uint16
	dir      bool
	attr     uint32
	size     int64
	data     []byte // resident contents
	runs     []run  // non-resident contents
	alloc    int64  // allocated bytes of non-resident data
	parent   *node
	children map[string]*node // by upper-cased name
	sorted   []*node
	rec      uint64
	seq      uint16
	sys      bool     // a system file (records 0-11): not the caller's
	ns       byte     // namespace of the long name
	short    []uint16 // separate DOS name, if any
	// directory index, set at Close
	root    []byte // INDEX_ROOT value
	idxRuns []run
	idxSize int64
	idxBmp  []byte
	// clusters of idxBmp when it is too large for the record
	idxBmpRuns []run
}

// Writer builds one NTFS volume in the region [offset, offset+size) of w.
type Writer struct {
	w          io.WriterAt
	offset     int64
	size       int64
	opt        Options
	cs         int64 // cluster bytes
	recSize    int
	clusters   int64 // clusters of the volume
	next       int64 // next free cluster: clusters below are in use
	t          uint64
	root       *node
	extend     *node
	sys        [firstUserRecord]*node
	bootRuns   []run
	logRuns    []run
	logSize    int64
	upRuns     []run
	adRuns     []run
	bmpRuns    []run
	bmpBytes   int64
	sdsRuns    []run
	sdsSize    int64
	sdh, sii   []byte
	mirrRuns   []run
	mftRuns    []run
	mftBmpRuns []run
	nrec       int64
	closed     bool
	err        error // first write error: the volume is unusable after it
	buf        []byte
}

// New lays out an NTFS volume of size bytes at offset in w and writes the system files whose
// contents are fixed ($Boot's area, $LogFile, $AttrDef, $UpCase, $Secure's $SDS).
func New(w io.WriterAt, offset, size int64, opt Options) (*Writer, error) {
	if opt.SectorSize == 0 {
		opt.SectorSize = 512
	}
	if opt.ClusterSize == 0 {
		opt.ClusterSize = 4096
	}
	if opt.ModTime.IsZero() {
		opt.ModTime = DefaultModTime
	}
	ss, cs := opt.SectorSize, opt.ClusterSize
	if ss != 512 && ss != 1024 && ss != 2048 && ss != 4096 {
		return nil, fmt.Errorf("ntfs: sector size %d: expected 512, 1024, 2048 or 4096", ss)
	}
	if cs < ss || cs > 64<<10 || cs&(cs-1) != 0 {
		return nil, fmt.Errorf("ntfs: cluster size %d: expected a power of two from the %d-byte sector size to 64 KiB", cs, ss)
	}
	if len(utf16.Encode([]rune(opt.Label))) > 32 {
		return nil, fmt.Errorf("ntfs: label %q is longer than 32 characters", opt.Label)
	}
	f := &Writer{w: w, offset: offset, size: size, opt: opt, cs: int64(cs), recSize: 1024, t: ntTime(opt.ModTime)}
	if ss > f.recSize {
		f.recSize = ss
	}
	sectors := size / int64(ss)
	// The last sector holds the backup boot sector, outside the clusters.
	f.clusters = (sectors - 1) / int64(cs/ss)
	if size < 1<<20 || f.clusters < 16 {
		return nil, fmt.Errorf("ntfs: %d bytes is too small for an NTFS volume (at least 1 MiB)", size)
	}
	f.root = &node{name: ".", u16: []uint16{'.'}, dir: true, attr: AttrHidden | AttrSystem, children: map[string]*node{},
		rec: recRoot, seq: recRoot, ns: nsWin32DOS, sys: true}
	f.root.parent = f.root
	f.root.children["."] = f.root // the root lists itself, as Windows' does
	var err error
	alloc := func(bytes int64) []run {
		if err != nil {
			return nil
		}
		var r []run
		r, err = f.allocate((bytes + f.cs - 1) / f.cs)
		return r
	}
	f.bootRuns = alloc(bootBytes)
	up := make([]byte, 2*len(upcase))
	putUTF16(up, upcase)
	f.upRuns = alloc(int64(len(up)))
	ad := attrDefData()
	f.adRuns = alloc(int64(len(ad)))
	f.logSize = logFileSize(size, f.cs)
	f.logRuns = alloc(f.logSize)
	f.bmpBytes = int64(align8(int((f.clusters + 7) / 8)))
	f.bmpRuns = alloc(f.bmpBytes)
	f.mirrRuns = alloc(f.mirrorBytes())
	var sds []byte
	sds, f.sdh, f.sii = secureData()
	f.sdsSize = int64(len(sds))
	f.sdsRuns = alloc(f.sdsSize)
	if err != nil {
		return nil, fmt.Errorf("ntfs: system files: %v", err)
	}
	for _, d := range []struct {
		runs []run
		data []byte
	}{{f.upRuns, up}, {f.adRuns, ad}, {f.sdsRuns, sds}} {
		if err := f.writeRuns(d.runs, d.data); err != nil {
			return nil, err
		}
	}
	if err := f.fillLog(); err != nil {
		return nil, err
	}
	sys := []struct {
		rec  uint64
		name string
		dir  bool
		size int64
	}{
		{recMFT, "$MFT", false, 0}, {recMFTMirr, "$MFTMirr", false, f.mirrorBytes()},
		{recLogFile, "$LogFile", false, f.logSize}, {recVolume, "$Volume", false, 0},
		{recAttrDef, "$AttrDef", false, int64(len(ad))}, {recBitmap, "$Bitmap", false, f.bmpBytes},
		{recBoot, "$Boot", false, bootBytes}, {recBadClus, "$BadClus", false, 0},
		{recSecure, "$Secure", false, 0}, {recUpCase, "$UpCase", false, int64(len(up))},
		{recExtend, "$Extend", true, 0},
		{recQuota, "$Quota", false, 0}, {recObjID, "$ObjId", false, 0}, {recReparse, "$Reparse", false, 0},
	}
	f.sys[recRoot] = f.root
	for _, s := range sys {
		n := &node{name: s.name, u16: utf16.Encode([]rune(s.name)), dir: s.dir, attr: AttrHidden | AttrSystem,
			size: s.size, parent: f.root, rec: s.rec, seq: uint16(s.rec), ns: nsWin32DOS, sys: true}
		if s.rec == recMFT || s.rec >= 16 {
			n.seq = 1
		}
		if s.rec == recSecure || s.rec >= 16 {
			n.attr |= attrViewIndexPresent // their other indexes ($SDH, $SII, $O, $Q, $R), as Windows marks them
		}
		if s.dir {
			n.children = map[string]*node{}
		}
		f.sys[s.rec] = n
		if s.rec >= 16 {
			n.parent = f.sys[recExtend]
		}
		n.parent.children[upperKey(n.u16)] = n
	}
	f.extend = f.sys[recExtend]
	return f, nil
}

// mirrorBytes is the size of $MFTMirr: the first four records, or a cluster of them.
func (f *Writer) mirrorBytes() int64 {
	if n := 4 * int64(f.recSize); n > f.cs {
		return n
	}
	return f.cs
}

func (f *Writer) clusterOffset(lcn int64) int64 { return f.offset + lcn*f.cs }

// allocate takes n contiguous clusters.
func (f *Writer) allocate(n int64) ([]run, error) {
	if n == 0 {
		return nil, nil
	}
	if f.next+n > f.clusters {
		return nil, fmt.Errorf("%w: %d clusters needed, %d of %d free", ErrFull, n, f.clusters-f.next, f.clusters)
	}
	r := []run{{f.next, n}}
	f.next += n
	return r, nil
}

// writeRuns writes data to the clusters of runs, zeroing the rest of the last cluster.
func (f *Writer) writeRuns(runs []run, data []byte) error {
	for _, r := range runs {
		n := r.n * f.cs
		chunk := make([]byte, n)
		copy(chunk, data)
		if _, err := f.w.WriteAt(chunk, f.clusterOffset(r.lcn)); err != nil {
			f.err = err
			return fmt.Errorf("ntfs: writing clusters %d-%d: %v", r.lcn, r.lcn+r.n-1, err)
		}
		if int64(len(data)) < n {
			n = int64(len(data))
		}
		data = data[n:]
	}
	return nil
}

func (f *Writer) fillLog() error {
	buf := make([]byte, copyBuffer)
	for i := range buf {
		buf[i] = 0xFF
	}
	off := f.clusterOffset(f.logRuns[0].lcn)
	for left := f.logSize; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		if _, err := f.w.WriteAt(buf[:n], off); err != nil {
			f.err = err
			return fmt.Errorf("ntfs: writing $LogFile: %v", err)
		}
		off += n
		left -= n
	}
	return nil
}

func splitPath(p string) []string {
	var parts []string
	for _, s := range strings.FieldsFunc(p, func(r rune) bool { return r == '\\' || r == '/' }) {
		parts = append(parts, s)
	}
	return parts
}

// dir walks to the directory of parts, creating missing ones if create.
func (f *Writer) dir(parts []string, create bool) (*node, error) {
	d := f.root
	for i, p := range parts {
		if err := disk.CheckName(p); err != nil {
			return nil, err
		}
		u := utf16.Encode([]rune(p))
		c := d.children[upperKey(u)]
		if c == nil {
			if !create {
				return nil, fmt.Errorf(`\%s not found`, strings.Join(parts[:i+1], `\`))
			}
			c = &node{name: p, u16: u, dir: true, parent: d, children: map[string]*node{}}
			d.children[upperKey(u)] = c
		}
		if !c.dir || c.sys {
			return nil, fmt.Errorf(`\%s is not a directory`, strings.Join(parts[:i+1], `\`))
		}
		d = c
	}
	return d, nil
}

func (f *Writer) usable() error {
	switch {
	case f.closed:
		return errors.New("ntfs: volume already closed")
	case f.err != nil:
		return fmt.Errorf("ntfs: an earlier write failed: %v", f.err)
	}
	return nil
}

// Mkdir creates a directory and its parents (path with '\' or '/' separators).
func (f *Writer) Mkdir(path string) error {
	if err := f.usable(); err != nil {
		return err
	}
	_, err := f.dir(splitPath(path), true)
	if err != nil {
		return fmt.Errorf("ntfs: mkdir %s: %w", path, err)
	}
	return nil
}

// residentMax is the largest file kept in its MFT record: what is left of it after the
// standard information, the long name, room for a short name and the $DATA header.
func (f *Writer) residentMax(nameLen int) int64 {
	n := f.recSize - recordAttrsOffset(f.recSize) - residentSize(0, 72) - residentSize(0, 66+2*nameLen) -
		residentSize(0, 66+2*12) - 24 - 8
	return int64(n)
}

// AddFile writes a file of size bytes read from r at path (e.g. \Windows\System32\a.dll),
// creating its directories. attrs holds the FILE_ATTRIBUTE_* bits ReadOnly, Hidden, System
// and Archive; none means Archive, which Windows gives new files. The data is copied to
// contiguous clusters at once.
func (f *Writer) AddFile(path string, size int64, r io.Reader, attrs disk.Attributes) error {
	if err := f.usable(); err != nil {
		return err
	}
	parts := splitPath(path)
	if len(parts) == 0 {
		return fmt.Errorf("ntfs: add %q: no file name", path)
	}
	if size < 0 {
		return fmt.Errorf("ntfs: add %s: negative size %d", path, size)
	}
	d, err := f.dir(parts[:len(parts)-1], true)
	if err != nil {
		return fmt.Errorf("ntfs: add %s: %w", path, err)
	}
	name := parts[len(parts)-1]
	if err := disk.CheckName(name); err != nil {
		return fmt.Errorf("ntfs: add %s: %v", path, err)
	}
	u := utf16.Encode([]rune(name))
	key := upperKey(u)
	if d.children[key] != nil {
		return &ErrExists{Path: path}
	}
	attr := uint32(attrs & (disk.ReadOnly | disk.Hidden | disk.System | disk.Archive))
	if attr == 0 {
		attr = AttrArchive
	}
	n := &node{name: name, u16: u, attr: attr &^ AttrDirectory, size: size, parent: d}
	if size <= f.residentMax(len(u)) {
		n.data = make([]byte, size)
		if _, err := io.ReadFull(r, n.data); err != nil {
			return fmt.Errorf("ntfs: add %s: reading %d bytes: %v", path, size, err)
		}
	} else if err := f.copyData(n, path, r); err != nil {
		return err
	}
	d.children[key] = n
	return nil
}

func (f *Writer) copyData(n *node, path string, r io.Reader) error {
	clusters := (n.size + f.cs - 1) / f.cs
	runs, err := f.allocate(clusters)
	if err != nil {
		return fmt.Errorf("ntfs: add %s (%d bytes): %w", path, n.size, err)
	}
	if f.buf == nil {
		f.buf = make([]byte, copyBuffer)
	}
	off := f.clusterOffset(runs[0].lcn)
	for left := n.size; left > 0; {
		k := int64(len(f.buf))
		if left < k {
			k = left
		}
		if _, err := io.ReadFull(r, f.buf[:k]); err != nil {
			return fmt.Errorf("ntfs: add %s: reading bytes %d-%d of %d: %v", path, n.size-left, n.size-left+k, n.size, err)
		}
		w := k
		if k == left { // last chunk: zero the rest of the cluster
			w = (k + f.cs - 1) / f.cs * f.cs
			clear(f.buf[k:w])
		}
		if _, err := f.w.WriteAt(f.buf[:w], off); err != nil {
			f.err = err
			return fmt.Errorf("ntfs: add %s: writing: %v", path, err)
		}
		off += w
		left -= k
	}
	n.runs, n.alloc = runs, clusters*f.cs
	return nil
}

// Used reports the bytes of the clusters allocated so far.
func (f *Writer) Used() int64 { return f.next * f.cs }

// Free reports the bytes of clusters not yet allocated; ClusterSize the bytes of one.
func (f *Writer) Free() int64        { return (f.clusters - f.next) * f.cs }
func (f *Writer) ClusterSize() int64 { return f.cs }

// Name is "NTFS", for disk.FileSystem.
func (f *Writer) Name() string { return "NTFS" }

// The writer is a partition's file system for imggen.
var _ disk.FileSystem = (*Writer)(nil)

// ErrFull is the error (wrapped) of data that does not fit the clusters left.
var ErrFull = errors.New("volume full")

// Close writes the directory indexes, the MFT and its mirror, $Bitmap and the boot sectors, and
// returns the extents that hold data.
func (f *Writer) Close() ([]disk.Extent, error) {
	if err := f.usable(); err != nil {
		return nil, err
	}
	f.closed = true
	// Names, short names and record numbers, in a walk sorted by name.
	var order []*node
	next := uint64(firstUserRecord)
	var walk func(d *node)
	walk = func(d *node) {
		d.sorted = d.sorted[:0]
		for _, c := range d.children {
			d.sorted = append(d.sorted, c)
		}
		sort.Slice(d.sorted, func(i, j int) bool { return collate(d.sorted[i].u16, d.sorted[j].u16) < 0 })
		f.shortNames(d)
		for _, c := range d.sorted {
			if !c.sys {
				c.rec, c.seq = next, 1
				next++
				order = append(order, c)
			}
			if c.dir && c != d {
				walk(c)
			}
		}
	}
	walk(f.root)
	// ntfs-3g reads the MFT and its mirror a cluster at a time: both hold whole clusters.
	perCluster := (f.cs + int64(f.recSize) - 1) / int64(f.recSize)
	f.nrec = (int64(next) + perCluster - 1) / perCluster * perCluster
	f.sys[recMFT].size = f.nrec * int64(f.recSize)
	if f.opt.Serial == 0 {
		f.opt.Serial = f.serial(order)
	}
	// Directory indexes, then the MFT and its bitmap.
	dirs := []*node{f.root, f.extend}
	for _, n := range order {
		if n.dir {
			dirs = append(dirs, n)
		}
	}
	for _, d := range dirs {
		if err := f.index(d); err != nil {
			return nil, err
		}
	}
	var err error
	mftBytes := f.nrec * int64(f.recSize)
	if f.mftRuns, err = f.allocate((mftBytes + f.cs - 1) / f.cs); err != nil {
		return nil, fmt.Errorf("ntfs: $MFT: %v", err)
	}
	mftBmp := int64(align8(int((f.nrec + 7) / 8)))
	if f.mftBmpRuns, err = f.allocate((mftBmp + f.cs - 1) / f.cs); err != nil {
		return nil, fmt.Errorf("ntfs: $MFT bitmap: %v", err)
	}
	if err := f.writeMFT(order); err != nil {
		return nil, err
	}
	bmp := make([]byte, mftBmp)
	for i := int64(0); i < f.nrec; i++ {
		if i < 16 || f.sys[min(i, firstUserRecord-1)] != nil || i >= firstUserRecord && i < firstUserRecord+int64(len(order)) {
			bmp[i/8] |= 1 << (i % 8)
		}
	}
	if err := f.writeRuns(f.mftBmpRuns, bmp); err != nil {
		return nil, err
	}
	// Every cluster below next is in use; the bits past the last cluster are set, as mkntfs
	// and Windows leave them.
	vb := make([]byte, f.bmpBytes)
	for i := int64(0); i < int64(len(vb))*8; i++ {
		if i < f.next || i >= f.clusters {
			vb[i/8] |= 1 << (i % 8)
		}
	}
	if err := f.writeRuns(f.bmpRuns, vb); err != nil {
		return nil, err
	}
	if err := f.writeBoot(); err != nil {
		return nil, err
	}
	ss := int64(f.opt.SectorSize)
	backup := (f.size/ss - 1) * ss
	ext := []disk.Extent{{Offset: f.offset, Length: f.next * f.cs}}
	if backup == f.next*f.cs {
		ext[0].Length += ss
	} else {
		ext = append(ext, disk.Extent{Offset: f.offset + backup, Length: ss})
	}
	return ext, nil
}

// shortNames sets the namespace of the children of d and gives those that need one a DOS
// name, unique in d.
func (f *Writer) shortNames(d *node) {
	used := map[string]bool{}
	for _, c := range d.sorted {
		used[upperKey(c.u16)] = true
	}
	tails := map[string]int{}
	for _, c := range d.sorted {
		if c.sys {
			continue
		}
		c.ns = nsWin32
		if is83(c.name) {
			if c.name == strings.ToUpper(c.name) {
				c.ns = nsWin32DOS
			}
			continue
		}
		if f.opt.NoShortNames {
			continue
		}
		base, ext := shortBasis(c.name)
		// Names sharing the first six characters compete for the same tails: count per prefix,
		// so that a large directory does not search from ~1 every time.
		k := base[:min(len(base), 6)] + "." + ext
		for n := tails[k] + 1; ; n++ {
			s := shortName(base, ext, n)
			if !used[s] {
				used[s], tails[k] = true, n
				c.short = utf16.Encode([]rune(s))
				break
			}
		}
	}
}

// serial derives a volume serial number from the geometry and the tree.
func (f *Writer) serial(order []*node) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %d %q %d|", f.size, f.cs, f.opt.Label, f.t)
	for _, n := range order {
		fmt.Fprintf(h, "%d %q %d %d %d|", n.parent.rec, n.name, n.size, n.attr, n.runs)
	}
	return h.Sum64()
}

// names returns the FILE_NAME values of n: the long name, and the DOS name if separate.
func (f *Writer) names(n *node) [][]byte {
	alloc, size := n.alloc, n.size
	attr := n.attr
	if n.dir {
		alloc, size = 0, 0
		attr |= attrIndexPresent
	} else if n.sys {
		alloc = (n.size + f.cs - 1) / f.cs * f.cs
	} else if n.runs == nil {
		alloc = int64(align8(len(n.data)))
	}
	parent := fileRef(n.parent.rec, n.parent.seq)
	out := [][]byte{fileNameValue(parent, f.t, alloc, size, attr, n.ns, n.u16)}
	if n.short != nil {
		out = append(out, fileNameValue(parent, f.t, alloc, size, attr, nsDOS, n.short))
	}
	return out
}

type ientry struct {
	ref  uint64
	name []uint16
	key  []byte
}

// index builds the $I30 index of directory d: in its INDEX_ROOT if the entries fit the MFT
// record, else as a B-tree of index blocks written now, with an INDEX_ROOT that points to the
// top block.
func (f *Writer) index(d *node) error {
	var ents []ientry
	for _, c := range d.sorted {
		for _, k := range f.names(c) {
			ents = append(ents, ientry{fileRef(c.rec, c.seq), getUTF16(k[66:], int(k[64])), k})
		}
	}
	sort.Slice(ents, func(i, j int) bool { return collate(ents[i].name, ents[j].name) < 0 })
	for i := 1; i < len(ents); i++ {
		if collate(ents[i-1].name, ents[i].name) == 0 {
			return fmt.Errorf("ntfs: directory %s: name %q twice", f.path(d), string(utf16.Decode(ents[i].name)))
		}
	}
	cpb := f.clustersPerIndexBlock()
	// Room in the record: header, $STANDARD_INFORMATION, names, INDEX_ROOT header, end entry.
	room := f.recSize - recordAttrsOffset(f.recSize) - residentSize(0, 72) - 8 - residentSize(4, 32+16)
	for _, k := range f.names(d) {
		room -= residentSize(0, len(k))
	}
	var flat []byte
	for _, e := range ents {
		b := make([]byte, indexEntrySize(len(e.key), false))
		putIndexEntry(b, e.ref, e.key, -1, false)
		flat = append(flat, b...)
	}
	if len(flat) <= room {
		d.root = indexRoot(atFileName, 1, indexBlock, cpb, false, endEntries(flat, -1))
		return nil
	}
	blocks, top, err := buildTree(ents, indexBlock-indexEntriesStart())
	if err != nil {
		return fmt.Errorf("ntfs: directory %s: %v", f.path(d), err)
	}
	vcnPerBlock := int64(1)
	if f.cs <= indexBlock {
		vcnPerBlock = indexBlock / f.cs
	} else {
		vcnPerBlock = indexBlock / blockSize
	}
	d.idxSize = int64(len(blocks)) * indexBlock
	if d.idxRuns, err = f.allocate((d.idxSize + f.cs - 1) / f.cs); err != nil {
		return fmt.Errorf("ntfs: directory %s index: %v", f.path(d), err)
	}
	buf := make([]byte, 0, (d.idxSize+f.cs-1)/f.cs*f.cs)
	for i, b := range blocks {
		buf = append(buf, indexBlockBytes(b, int64(i)*vcnPerBlock, vcnPerBlock)...)
	}
	if err := f.writeRuns(d.idxRuns, buf); err != nil {
		return err
	}
	d.idxBmp = make([]byte, align8((len(blocks)+7)/8))
	for i := range blocks {
		d.idxBmp[i/8] |= 1 << (i % 8)
	}
	// A large bitmap moves out of the record, which would otherwise limit the directory's size.
	if len(d.idxBmp) > maxResidentIndexBitmap {
		if d.idxBmpRuns, err = f.allocate((int64(len(d.idxBmp)) + f.cs - 1) / f.cs); err != nil {
			return fmt.Errorf("ntfs: directory %s index bitmap: %v", f.path(d), err)
		}
		if err := f.writeRuns(d.idxBmpRuns, d.idxBmp); err != nil {
			return err
		}
	}
	d.root = indexRoot(atFileName, 1, indexBlock, cpb, true, endEntries(nil, int64(top)*vcnPerBlock))
	return nil
}

func (f *Writer) path(d *node) string {
	if d == f.root {
		return `\`
	}
	var parts []string
	for ; d != f.root; d = d.parent {
		parts = append([]string{d.name}, parts...)
	}
	return `\` + strings.Join(parts, `\`)
}

type iblock struct {
	ents []ientry
	kids []int // child block of each entry; nil in leaves
	end  int   // child block of the end entry; -1 in leaves
}

func indexEntriesStart() int { return align8(0x28 + 2*(indexBlock/blockSize+1)) }

// buildTree packs sorted entries into a B-tree bottom up: leaves are filled in order, the entry
// after a full leaf moves up as the separator between it and the next, and the separators are
// packed the same way until one block remains. It returns the blocks and the top one.
func buildTree(ents []ientry, capacity int) ([]iblock, int, error) {
	var blocks []iblock
	var kids []int // len(ents)+1 children at upper levels
	for {
		node := kids != nil
		endSize := indexEntrySize(0, node)
		size := func(e ientry) int { return indexEntrySize(len(e.key), node) }
		type group struct{ a, b int }
		var groups []group
		var seps []int
		for i := 0; ; {
			start, used := i, endSize
			for i < len(ents) && used+size(ents[i]) <= capacity {
				used += size(ents[i])
				i++
			}
			if i == start && i < len(ents) {
				return nil, 0, fmt.Errorf("index entry of %d bytes does not fit an index block", size(ents[i]))
			}
			if i >= len(ents) {
				groups = append(groups, group{start, i})
				break
			}
			if i == len(ents)-1 { // the separator would leave the last block empty
				if i-1 <= start {
					return nil, 0, errors.New("index entries too large to split")
				}
				groups = append(groups, group{start, i - 1}, group{i, i + 1})
				seps = append(seps, i-1)
				break
			}
			groups = append(groups, group{start, i})
			seps = append(seps, i)
			i++
		}
		first := len(blocks)
		for _, g := range groups {
			b := iblock{ents: ents[g.a:g.b], end: -1}
			if node {
				b.kids, b.end = kids[g.a:g.b], kids[g.b]
			}
			blocks = append(blocks, b)
		}
		if len(groups) == 1 {
			return blocks, first, nil
		}
		var up []ientry
		for _, s := range seps {
			up = append(up, ents[s])
		}
		kids = make([]int, len(groups))
		for i := range groups {
			kids[i] = first + i
		}
		ents = up
	}
}

// indexBlockBytes lays out one INDX block.
func indexBlockBytes(b iblock, vcn, vcnPerBlock int64) []byte {
	buf := make([]byte, indexBlock)
	copy(buf, "INDX")
	le.PutUint16(buf[4:], 0x28)
	le.PutUint16(buf[6:], uint16(indexBlock/blockSize+1))
	le.PutUint64(buf[16:], uint64(vcn))
	start := indexEntriesStart()
	off := start
	for i, e := range b.ents {
		child := int64(-1)
		if b.kids != nil {
			child = int64(b.kids[i]) * vcnPerBlock
		}
		off += putIndexEntry(buf[off:], e.ref, e.key, child, false)
	}
	child := int64(-1)
	if b.end >= 0 {
		child = int64(b.end) * vcnPerBlock
	}
	off += putIndexEntry(buf[off:], 0, nil, child, true)
	le.PutUint32(buf[24:], uint32(start-24))
	le.PutUint32(buf[28:], uint32(off-24))
	le.PutUint32(buf[32:], uint32(indexBlock-24))
	if b.kids != nil {
		buf[36] = 1
	}
	applyFixups(buf, 0x28)
	return buf
}

// clustersPerIndexBlock is the INDEX_ROOT field: clusters, or 512-byte blocks when a cluster
// is larger than an index block.
func (f *Writer) clustersPerIndexBlock() int {
	if f.cs > indexBlock {
		return indexBlock / blockSize
	}
	return indexBlock / int(f.cs)
}

// writeMFT builds every MFT record and writes them in order, then the mirror of the first four.
func (f *Writer) writeMFT(order []*node) error {
	chunk := make([]byte, 0, copyBuffer)
	off := f.clusterOffset(f.mftRuns[0].lcn)
	var mirror []byte
	flush := func() error {
		if _, err := f.w.WriteAt(chunk, off); err != nil {
			f.err = err
			return fmt.Errorf("ntfs: writing $MFT: %v", err)
		}
		off += int64(len(chunk))
		chunk = chunk[:0]
		return nil
	}
	for i := int64(0); i < f.nrec; i++ {
		var rec []byte
		var err error
		switch {
		case i < firstUserRecord && f.sys[i] != nil:
			rec, err = f.record(f.sys[i])
		case i < firstUserRecord || i >= firstUserRecord+int64(len(order)):
			seq := uint16(0)
			if i < 16 {
				seq = uint16(i)
			}
			rec = newRecord(f.recSize, uint64(i), seq, 0, 0).finish()
		default:
			rec, err = f.record(order[i-firstUserRecord])
		}
		if err != nil {
			return err
		}
		if int64(len(mirror)) < f.mirrorBytes() {
			mirror = append(mirror, rec...)
		}
		chunk = append(chunk, rec...)
		if len(chunk)+f.recSize > cap(chunk) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	// Zero the rest of the last cluster.
	end := f.clusterOffset(f.mftRuns[0].lcn) + runClusters(f.mftRuns)*f.cs
	chunk = append(chunk, make([]byte, end-off-int64(len(chunk)))...)
	if err := flush(); err != nil {
		return err
	}
	return f.writeRuns(f.mirrRuns, mirror)
}

// record builds the MFT record of n.
func (f *Writer) record(n *node) ([]byte, error) {
	flags := uint16(recInUse)
	if n.dir {
		flags |= recDirectory
	}
	if n.rec == recSecure {
		flags |= recViewIndex
	}
	if n.rec >= 16 && n.sys {
		flags |= recViewIndex | recInExtend
	}
	names := f.names(n)
	r := newRecord(f.recSize, n.rec, n.seq, flags, uint16(len(names)))
	if err := r.resident(atStandardInfo, "", standardInfo(f.t, n.attr), false); err != nil {
		return nil, err
	}
	for _, v := range names {
		if err := r.resident(atFileName, "", v, true); err != nil {
			return nil, fmt.Errorf("ntfs: %s: %v", n.name, err)
		}
	}
	var err error
	nonres := func(typ uint32, name string, runs []run, size int64) {
		if err == nil {
			err = r.nonResident(typ, name, runs, runClusters(runs)*f.cs, size, size)
		}
	}
	switch n.rec {
	case recMFT:
		nonres(atData, "", f.mftRuns, f.nrec*int64(f.recSize))
		nonres(atBitmap, "", f.mftBmpRuns, int64(align8(int((f.nrec+7)/8))))
	case recMFTMirr:
		nonres(atData, "", f.mirrRuns, f.mirrorBytes())
	case recLogFile:
		nonres(atData, "", f.logRuns, f.logSize)
	case recVolume:
		if f.opt.Label != "" {
			lb := utf16.Encode([]rune(f.opt.Label))
			v := make([]byte, 2*len(lb))
			putUTF16(v, lb)
			err = r.resident(atVolumeName, "", v, false)
		}
		info := make([]byte, 12)
		info[8], info[9] = 3, 1 // NTFS 3.1, clean
		if err == nil {
			err = r.resident(atVolumeInfo, "", info, false)
		}
		if err == nil {
			err = r.resident(atData, "", nil, false)
		}
	case recAttrDef:
		nonres(atData, "", f.adRuns, 0xA00)
	case recBitmap:
		nonres(atData, "", f.bmpRuns, f.bmpBytes)
	case recBoot:
		nonres(atData, "", f.bootRuns, bootBytes)
	case recBadClus:
		err = r.resident(atData, "", nil, false)
		if err == nil {
			size := f.clusters * f.cs
			err = r.nonResident(atData, "$Bad", []run{{-1, f.clusters}}, size, size, size)
		}
	case recSecure:
		nonres(atData, "$SDS", f.sdsRuns, f.sdsSize)
		if err == nil {
			err = r.resident(atIndexRoot, "$SDH", indexRoot(0, collationSecurityHash, indexBlock, f.clustersPerIndexBlock(), false, endEntries(f.sdh, -1)), false)
		}
		if err == nil {
			err = r.resident(atIndexRoot, "$SII", indexRoot(0, collationULong, indexBlock, f.clustersPerIndexBlock(), false, endEntries(f.sii, -1)), false)
		}
	case recUpCase:
		nonres(atData, "", f.upRuns, 2*int64(len(upcase)))
	case recQuota:
		o, q := f.quotaEntries()
		err = r.resident(atIndexRoot, "$O", indexRoot(0, collationSID, indexBlock, f.clustersPerIndexBlock(), false, endEntries(o, -1)), false)
		if err == nil {
			err = r.resident(atIndexRoot, "$Q", indexRoot(0, collationULong, indexBlock, f.clustersPerIndexBlock(), false, endEntries(q, -1)), false)
		}
	case recObjID:
		err = r.resident(atIndexRoot, "$O", indexRoot(0, collationULongs, indexBlock, f.clustersPerIndexBlock(), false, endEntries(nil, -1)), false)
	case recReparse:
		err = r.resident(atIndexRoot, "$R", indexRoot(0, collationULongs, indexBlock, f.clustersPerIndexBlock(), false, endEntries(nil, -1)), false)
	default:
		switch {
		case n.dir:
			err = r.resident(atIndexRoot, "$I30", n.root, false)
			if err == nil && n.idxRuns != nil {
				nonres(atIndexAlloc, "$I30", n.idxRuns, n.idxSize)
				if n.idxBmpRuns != nil {
					nonres(atBitmap, "$I30", n.idxBmpRuns, int64(len(n.idxBmp)))
				} else if err == nil {
					err = r.resident(atBitmap, "$I30", n.idxBmp, false)
				}
			}
		case n.runs != nil:
			nonres(atData, "", n.runs, n.size)
		default:
			err = r.resident(atData, "", n.data, false)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ntfs: %s: %v", n.name, err)
	}
	return r.finish(), nil
}

// writeBoot writes the boot sector at the start of the volume and its backup in the last sector.
func (f *Writer) writeBoot() error {
	ss := f.opt.SectorSize
	b := make([]byte, ss)
	copy(b, []byte{0xEB, 0x52, 0x90})
	copy(b[3:], "NTFS    ")
	le.PutUint16(b[11:], uint16(ss))
	b[13] = byte(f.cs / int64(ss))
	b[21] = 0xF8
	le.PutUint16(b[24:], 63)
	le.PutUint16(b[26:], 255)
	le.PutUint32(b[28:], uint32(f.offset/int64(ss)))
	le.PutUint32(b[36:], 0x00800080)
	le.PutUint64(b[40:], uint64(f.size/int64(ss)-1))
	le.PutUint64(b[48:], uint64(f.mftRuns[0].lcn))
	le.PutUint64(b[56:], uint64(f.mirrRuns[0].lcn))
	b[64] = sizeCode(f.recSize, f.cs)
	b[68] = sizeCode(indexBlock, f.cs)
	le.PutUint64(b[72:], f.opt.Serial)
	b[510], b[511] = 0x55, 0xAA
	if _, err := f.w.WriteAt(b, f.offset); err != nil {
		f.err = err
		return fmt.Errorf("ntfs: writing the boot sector: %v", err)
	}
	if _, err := f.w.WriteAt(b, f.offset+(f.size/int64(ss)-1)*int64(ss)); err != nil {
		f.err = err
		return fmt.Errorf("ntfs: writing the backup boot sector: %v", err)
	}
	return nil
}

// sizeCode encodes a record size in the boot sector: clusters if at least one, else -log2(bytes).
func sizeCode(bytes int, cs int64) byte {
	if int64(bytes) >= cs {
		return byte(int64(bytes) / cs)
	}
	n := 0
	for 1<<n < bytes {
		n++
	}
	return byte(-n)
}
