package ntfs

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
)

// Volume reads an NTFS volume: enough for tests and for capturing a MainOS (list directories,
// read files, attributes). It does not read compressed, encrypted or sparse files, attribute
// lists or alternate data streams.
//
// The volume is untrusted input: every size, offset and reference read from it is checked
// against what contains it (the volume's clusters, the MFT's records, the record, the index
// block) before it is used, every walk keeps a visited set or a bound, and a malformed volume
// is an error naming the record or path at fault.
type Volume struct {
	r        io.ReaderAt
	offset   int64
	cs       int64
	recSize  int64
	idxSize  int64
	vcnUnit  int64 // bytes per index VCN
	mft      attr
	records  int64 // MFT records, from $MFT's data size
	upcase   []uint16
	serial   uint64
	label    string
	clusters int64
}

// Limits of the reader besides those the volume's geometry sets.
const (
	maxIndexDepth = 32    // B-tree levels of a directory index: 10,000 entries take 3
	maxPathChars  = 32767 // UTF-16 units of a path, Windows' limit
	maxCluster    = 2 << 20
)

// FileInfo describes a directory entry.
type FileInfo struct {
	Name      string // long name
	ShortName string // DOS name, if the file has a separate one
	Size      int64
	Attr      uint32 // FILE_ATTRIBUTE_* bits of $STANDARD_INFORMATION (AttrDirectory added for directories)
	ModTime   time.Time
	Record    uint64 // MFT record number
}

// IsDir reports whether the entry is a directory.
func (fi FileInfo) IsDir() bool { return fi.Attr&AttrDirectory != 0 }

type attr struct {
	typ      uint32
	name     string
	resident bool
	value    []byte
	runs     []run
	vcns     []int64 // first VCN of each run, for finding a run by binary search
	size     int64
	init     int64
}

// Open reads the boot sector, $MFT, $UpCase and $Volume of the volume at [offset, offset+size)
// of r.
func Open(r io.ReaderAt, offset, size int64) (*Volume, error) {
	v, mftLCN, err := readBoot(r, offset, size)
	if err != nil {
		return nil, err
	}
	// Record 0 describes the MFT itself.
	rec := make([]byte, v.recSize)
	if _, err := r.ReadAt(rec, offset+mftLCN*v.cs); err != nil {
		return nil, fmt.Errorf("ntfs: reading $MFT at cluster %d: %v", mftLCN, err)
	}
	attrs, err := v.parseRecord(rec, 0)
	if err != nil {
		return nil, fmt.Errorf("ntfs: %v", err)
	}
	mft := find(attrs, atData, "")
	if mft == nil || mft.resident {
		return nil, errors.New("ntfs: MFT record 0 ($MFT) has no non-resident $DATA")
	}
	v.mft, v.records = *mft, mft.size/v.recSize
	if v.records <= recExtend {
		return nil, fmt.Errorf("ntfs: MFT record 0 ($MFT): %d bytes of data hold %d records, fewer than the %d system files", mft.size, v.records, recExtend+1)
	}
	if attrs, err = v.record(recUpCase); err != nil {
		return nil, fmt.Errorf("ntfs: %v", err)
	}
	if a := find(attrs, atData, ""); a != nil {
		data, err := v.readAll(a, 1<<17)
		if err != nil {
			return nil, fmt.Errorf("ntfs: MFT record %d ($UpCase): %v", recUpCase, err)
		}
		v.upcase = getUTF16(data, len(data)/2)
	}
	if len(v.upcase) != 65536 {
		return nil, fmt.Errorf("ntfs: MFT record %d ($UpCase) holds %d entries, want 65536", recUpCase, len(v.upcase))
	}
	if attrs, err = v.record(recVolume); err != nil {
		return nil, fmt.Errorf("ntfs: %v", err)
	}
	if a := find(attrs, atVolumeName, ""); a != nil {
		v.label = string(utf16.Decode(getUTF16(a.value, len(a.value)/2)))
	}
	return v, nil
}

// readBoot checks the boot sector's geometry against the region the volume is in, and returns
// the cluster of $MFT.
func readBoot(r io.ReaderAt, offset, size int64) (*Volume, int64, error) {
	var b [512]byte
	if size < 512 {
		return nil, 0, fmt.Errorf("ntfs: a volume of %d bytes has no room for a boot sector", size)
	}
	if _, err := r.ReadAt(b[:], offset); err != nil {
		return nil, 0, fmt.Errorf("ntfs: reading the boot sector: %v", err)
	}
	if string(b[3:11]) != "NTFS    " || b[510] != 0x55 || b[511] != 0xAA {
		return nil, 0, errors.New("ntfs: no NTFS boot sector")
	}
	ss := int64(le.Uint16(b[11:]))
	if ss < 512 || ss > 4096 || ss&(ss-1) != 0 {
		return nil, 0, fmt.Errorf("ntfs: boot sector: %d-byte sectors, expected 512, 1024, 2048 or 4096", ss)
	}
	// Sectors per cluster: 1..128, or 2^(256-n) for the larger clusters of newer Windows.
	spc := int64(b[13])
	if spc > 0x80 {
		if 256-spc > 12 {
			return nil, 0, fmt.Errorf("ntfs: boot sector: sectors per cluster code 0x%02X, expected at most 2 MiB clusters", b[13])
		}
		spc = 1 << (256 - spc)
	}
	v := &Volume{r: r, offset: offset, cs: ss * spc, serial: le.Uint64(b[72:])}
	if spc == 0 || spc&(spc-1) != 0 || v.cs > maxCluster {
		return nil, 0, fmt.Errorf("ntfs: boot sector: %d sectors per cluster, expected a power of two up to 2 MiB clusters", spc)
	}
	sectors := le.Uint64(b[40:])
	if sectors == 0 || sectors > uint64(size/ss) {
		return nil, 0, fmt.Errorf("ntfs: boot sector: %d sectors of %d bytes, expected 1..%d (the %d-byte region of the volume)", sectors, ss, size/ss, size)
	}
	v.clusters = int64(sectors) / spc
	code := func(c byte) int64 {
		if int8(c) > 0 {
			return int64(c) * v.cs
		}
		if -int8(c) > 30 {
			return 0
		}
		return 1 << uint(-int8(c))
	}
	v.recSize, v.idxSize = code(b[64]), code(b[68])
	if v.recSize < 1024 || v.recSize > 4096 || v.recSize&(v.recSize-1) != 0 {
		return nil, 0, fmt.Errorf("ntfs: boot sector: %d-byte MFT records, expected 1024, 2048 or 4096", v.recSize)
	}
	if v.idxSize < 512 || v.idxSize > 65536 || v.idxSize&(v.idxSize-1) != 0 {
		return nil, 0, fmt.Errorf("ntfs: boot sector: %d-byte index blocks, expected a power of two from 512 to 65536", v.idxSize)
	}
	for _, f := range []struct {
		name string
		at   int
	}{{"$MFT", 48}, {"$MFTMirr", 56}} {
		if lcn := le.Uint64(b[f.at:]); lcn >= uint64(v.clusters) || int64(lcn)*v.cs+v.recSize > v.clusters*v.cs {
			return nil, 0, fmt.Errorf("ntfs: boot sector: %s at cluster %d, outside the volume's %d clusters", f.name, lcn, v.clusters)
		}
	}
	v.vcnUnit = v.cs
	if v.cs > v.idxSize {
		v.vcnUnit = blockSize
	}
	return v, int64(le.Uint64(b[48:])), nil
}

// Serial is the volume serial number; Label its name.
func (v *Volume) Serial() uint64 { return v.serial }
func (v *Volume) Label() string  { return v.label }

// ClusterSize is the bytes per cluster.
func (v *Volume) ClusterSize() int { return int(v.cs) }

func find(attrs []attr, typ uint32, name string) *attr {
	for i := range attrs {
		if attrs[i].typ == typ && attrs[i].name == name {
			return &attrs[i]
		}
	}
	return nil
}

// record reads and parses MFT record n. Its errors (and parseRecord's) start with the record.
func (v *Volume) record(n uint64) ([]attr, error) {
	if n >= uint64(v.records) {
		return nil, fmt.Errorf("MFT record %d is beyond the MFT's %d records", n, v.records)
	}
	b := make([]byte, v.recSize)
	if _, err := v.readAt(&v.mft, b, int64(n)*v.recSize); err != nil {
		return nil, fmt.Errorf("reading MFT record %d: %v", n, err)
	}
	return v.parseRecord(b, n)
}

// FILE record header fields.
const (
	fileHeader = 0x2A // through the next attribute instance; the update sequence array follows
	resHeader  = 24   // a resident attribute's header
	nonResHdr  = 64   // a non-resident (uncompressed) attribute's header
)

func (v *Volume) parseRecord(b []byte, n uint64) ([]attr, error) {
	if string(b[:4]) != "FILE" {
		return nil, fmt.Errorf("MFT record %d: no FILE signature", n)
	}
	if err := undoFixups(b, fileHeader); err != nil {
		return nil, fmt.Errorf("MFT record %d: %v", n, err)
	}
	if le.Uint16(b[22:])&recInUse == 0 {
		return nil, fmt.Errorf("MFT record %d is not in use", n)
	}
	if base := le.Uint64(b[32:]) & (1<<48 - 1); base != 0 {
		return nil, fmt.Errorf("MFT record %d is an extension of record %d, not a file's own record", n, base)
	}
	used := int(le.Uint32(b[24:]))
	first := int(le.Uint16(b[20:]))
	usaEnd := int(le.Uint16(b[4:])) + 2*int(le.Uint16(b[6:]))
	if used > len(b) || first < usaEnd || first%8 != 0 || first+4 > used {
		return nil, fmt.Errorf("MFT record %d: attributes at %d, %d bytes in use, expected an 8-byte aligned offset past the update sequence array (%d) and at most %d bytes", n, first, used, usaEnd, len(b))
	}
	var attrs []attr
	// Each attribute is at least 24 bytes: the loop ends within used/24 steps.
	for off := first; ; {
		if off+4 > used {
			return nil, fmt.Errorf("MFT record %d: attributes run past the %d bytes in use, without an end marker", n, used)
		}
		typ := le.Uint32(b[off:])
		if typ == atEnd {
			return attrs, nil
		}
		if off+resHeader > used {
			return nil, fmt.Errorf("MFT record %d: attribute 0x%X at %d: header past the %d bytes in use", n, typ, off, used)
		}
		length := int(le.Uint32(b[off+4:]))
		if length < resHeader || length > used-off {
			return nil, fmt.Errorf("MFT record %d: attribute 0x%X at %d has length %d, expected %d..%d", n, typ, off, length, resHeader, used-off)
		}
		at, err := v.parseAttr(b[off:off+length], typ)
		if err != nil {
			return nil, fmt.Errorf("MFT record %d: attribute 0x%X at %d: %v", n, typ, off, err)
		}
		attrs = append(attrs, at)
		off += length
	}
}

// parseAttr checks one attribute of a record: its name, value or runs and sizes lie within it
// and the volume.
func (v *Volume) parseAttr(a []byte, typ uint32) (attr, error) {
	if typ == 0x20 {
		return attr{}, errors.New("an attribute list, which this reader does not follow")
	}
	hdr := resHeader
	if a[8] != 0 {
		hdr = nonResHdr
		if len(a) < nonResHdr {
			return attr{}, fmt.Errorf("non-resident attribute of %d bytes, expected at least %d", len(a), nonResHdr)
		}
	}
	nameLen, nameOff := int(a[9]), int(le.Uint16(a[10:]))
	if nameLen > 0 && (nameOff < hdr || nameOff+2*nameLen > len(a)) {
		return attr{}, fmt.Errorf("name of %d characters at %d, expected within bytes %d..%d", nameLen, nameOff, hdr, len(a))
	}
	at := attr{typ: typ}
	if nameLen > 0 {
		at.name = string(utf16.Decode(getUTF16(a[nameOff:], nameLen)))
	}
	if a[8] == 0 {
		vl, vo := int64(le.Uint32(a[16:])), int64(le.Uint16(a[20:]))
		if vo < resHeader || vo+vl > int64(len(a)) {
			return attr{}, fmt.Errorf("value of %d bytes at %d, expected within bytes %d..%d", vl, vo, resHeader, len(a))
		}
		at.resident, at.value = true, a[vo:vo+vl]
		at.size, at.init = vl, vl
		return at, nil
	}
	if le.Uint16(a[12:])&0xC001 != 0 {
		return attr{}, errors.New("compressed, encrypted or sparse-flagged, which this reader does not read")
	}
	if first := le.Uint64(a[16:]); first != 0 {
		return attr{}, fmt.Errorf("runs start at VCN %d, expected 0 (the rest would be in an attribute list)", first)
	}
	mp := int(le.Uint16(a[32:]))
	if mp < nonResHdr || mp > len(a) {
		return attr{}, fmt.Errorf("runlist at %d, expected within bytes %d..%d", mp, nonResHdr, len(a))
	}
	runs, err := decodeRuns(a[mp:], v.clusters)
	if err != nil {
		return attr{}, err
	}
	total := runClusters(runs)
	if last := int64(le.Uint64(a[24:])); last != total-1 {
		return attr{}, fmt.Errorf("last VCN %d, but the runs hold %d clusters", last, total)
	}
	alloc, size, init := le.Uint64(a[40:]), le.Uint64(a[48:]), le.Uint64(a[56:])
	if alloc > uint64(total*v.cs) || size > alloc || init > size {
		return attr{}, fmt.Errorf("%d bytes of data, %d initialized, %d allocated, runs of %d clusters (%d bytes): expected initialized <= data <= allocated <= runs", size, init, alloc, total, total*v.cs)
	}
	at.runs, at.size, at.init = runs, int64(size), int64(init)
	at.vcns = make([]int64, len(runs))
	var vcn int64
	for i, r := range runs {
		at.vcns[i] = vcn
		vcn += r.n
	}
	return at, nil
}

// readAt reads attribute data at off; bytes past the initialized size and in sparse runs are
// zero. The runs were checked when the record was parsed: they lie within the volume and
// cover the data.
func (v *Volume) readAt(a *attr, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= a.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > a.size-off {
		n = int(a.size - off)
	}
	if a.resident {
		copy(p, a.value[off:off+int64(n)])
	} else {
		clear(p[:n])
		end := min(off+int64(n), a.init)
		// The first run holding off, then on until the range is read: linear in the range.
		i := sort.Search(len(a.vcns), func(i int) bool { return (a.vcns[i]+a.runs[i].n)*v.cs > off })
		for ; i < len(a.runs) && a.vcns[i]*v.cs < end; i++ {
			r, start := a.runs[i], a.vcns[i]*v.cs
			lo, hi := max(start, off), min(start+r.n*v.cs, end)
			if lo >= hi || r.lcn < 0 {
				continue
			}
			if _, err := v.r.ReadAt(p[lo-off:hi-off], v.offset+r.lcn*v.cs+lo-start); err != nil {
				return 0, fmt.Errorf("reading clusters %d..%d: %v", r.lcn, r.lcn+r.n-1, err)
			}
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// physical is the volume byte offset of byte off of a non-resident attribute, -1 in a
// sparse run.
func (v *Volume) physical(a *attr, off int64) int64 {
	i := sort.Search(len(a.vcns), func(i int) bool { return (a.vcns[i]+a.runs[i].n)*v.cs > off })
	if i == len(a.runs) || a.runs[i].lcn < 0 {
		return -1
	}
	return a.runs[i].lcn*v.cs + off - a.vcns[i]*v.cs
}

func (v *Volume) readAll(a *attr, limit int64) ([]byte, error) {
	if a.size > limit {
		return nil, fmt.Errorf("%d bytes, more than %d", a.size, limit)
	}
	b := make([]byte, a.size)
	if _, err := v.readAt(a, b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// dirEntry is one $I30 entry.
type dirEntry struct {
	ref   uint64
	name  []uint16 // nil for the end entry
	ns    byte
	key   []byte
	node  bool  // child is the VCN of the sub-node of entries before this one
	child int64 // as read: block checks it
}

func (e dirEntry) rec() uint64 { return e.ref & (1<<48 - 1) }

// parseEntries parses the index entries of a node (after the index header at hdr). Entries are at least 16 bytes and lie within the node, so
// there are at most len(b)/16 of them.
func parseEntries(b []byte, hdr int) (ents []dirEntry, err error) {
	if hdr+16 > len(b) {
		return nil, fmt.Errorf("index header at %d past the node's %d bytes", hdr, len(b))
	}
	first, length := le.Uint32(b[hdr:]), le.Uint32(b[hdr+4:])
	if first < 16 || uint64(first) > uint64(length) || uint64(hdr)+uint64(length) > uint64(len(b)) {
		return nil, fmt.Errorf("index header: entries at %d..%d, expected within bytes 16..%d", first, length, len(b)-hdr)
	}
	end := hdr + int(length)
	for off := hdr + int(first); ; {
		if off+16 > end {
			return nil, fmt.Errorf("index entry at %d: past the node's end at %d, without an end entry", off, end)
		}
		size, keyLen, flags := int(le.Uint16(b[off+8:])), int(le.Uint16(b[off+10:])), le.Uint16(b[off+12:])
		minLen := 16
		if flags&ieNode != 0 {
			minLen += 8
		}
		if size < minLen || size%8 != 0 || size > end-off {
			return nil, fmt.Errorf("index entry at %d: length %d, expected a multiple of 8 from %d to %d", off, size, minLen, end-off)
		}
		e := dirEntry{ref: le.Uint64(b[off:])}
		if flags&ieNode != 0 {
			e.node, e.child = true, int64(le.Uint64(b[off+size-8:]))
		}
		if flags&ieEnd == 0 {
			if keyLen < 66 || minLen+keyLen > size {
				return nil, fmt.Errorf("index entry at %d: key of %d bytes, expected 66..%d", off, keyLen, size-minLen)
			}
			k := b[off+16 : off+16+keyLen]
			if 66+2*int(k[64]) > keyLen {
				return nil, fmt.Errorf("index entry at %d: name of %d characters in a %d-byte key", off, k[64], keyLen)
			}
			e.name, e.ns, e.key = getUTF16(k[66:], int(k[64])), k[65], k
		}
		ents = append(ents, e)
		if flags&ieEnd != 0 {
			return ents, nil
		}
		off += size
	}
}

type dir struct {
	v     *Volume
	rec   uint64
	path  string
	root  []byte
	alloc *attr
	// seen holds the index blocks read, by volume offset, with the directory that read them:
	// a block is read once per walk, whichever directory's entries point to it.
	seen map[int64]string
}

func (v *Volume) openDir(rec uint64, path string) (*dir, error) {
	attrs, err := v.record(rec)
	if err != nil {
		return nil, fmt.Errorf("ntfs: %s: %v", path, err)
	}
	ir := find(attrs, atIndexRoot, "$I30")
	if ir == nil || len(ir.value) < 32 {
		return nil, fmt.Errorf("ntfs: %s: MFT record %d is not a directory", path, rec)
	}
	return &dir{v: v, rec: rec, path: path, root: ir.value, alloc: find(attrs, atIndexAlloc, "$I30")}, nil
}

func (d *dir) errorf(format string, args ...any) error {
	return fmt.Errorf("ntfs: %s (MFT record %d): %s", d.path, d.rec, fmt.Sprintf(format, args...))
}

// block reads the index block at vcn: within the allocation, at a block boundary, read once.
func (d *dir) block(vcn int64) ([]byte, error) {
	v := d.v
	if d.alloc == nil {
		return nil, d.errorf("an entry points to the index block at VCN %d, but there is no $INDEX_ALLOCATION", vcn)
	}
	if vcn < 0 || d.alloc.size < v.idxSize || vcn > (d.alloc.size-v.idxSize)/v.vcnUnit || vcn*v.vcnUnit%v.idxSize != 0 {
		return nil, d.errorf("an entry points to the index block at VCN %d, outside the %d-byte $INDEX_ALLOCATION of %d-byte blocks", vcn, d.alloc.size, v.idxSize)
	}
	if d.seen != nil {
		if p := v.physical(d.alloc, vcn*v.vcnUnit); p >= 0 {
			if other, ok := d.seen[p]; ok {
				return nil, d.errorf("the index block at VCN %d (volume byte %d) is reached twice, the first time from %s: a cycle", vcn, p, other)
			}
			d.seen[p] = d.path
		}
	}
	b := make([]byte, v.idxSize)
	if _, err := v.readAt(d.alloc, b, vcn*v.vcnUnit); err != nil {
		return nil, d.errorf("index block at VCN %d: %v", vcn, err)
	}
	if string(b[:4]) != "INDX" {
		return nil, d.errorf("index block at VCN %d has no INDX signature", vcn)
	}
	if err := undoFixups(b, 0x28); err != nil {
		return nil, d.errorf("index block at VCN %d: %v", vcn, err)
	}
	if own := int64(le.Uint64(b[16:])); own != vcn {
		return nil, d.errorf("the index block at VCN %d says it is at VCN %d", vcn, own)
	}
	return b, nil
}

// walk visits the entries of the directory in tree (collation) order. Blocks are read once
// (the dir's seen set, or one of its own), so the walk is linear in the index's size.
func (d *dir) walk(fn func(dirEntry) error) error {
	if d.seen == nil {
		d.seen = map[int64]string{}
	}
	var visit func(b []byte, hdr, depth int) error
	visit = func(b []byte, hdr, depth int) error {
		if depth > maxIndexDepth {
			return d.errorf("index deeper than %d levels", maxIndexDepth)
		}
		ents, err := parseEntries(b, hdr)
		if err != nil {
			return d.errorf("%v", err)
		}
		for _, e := range ents {
			if e.node {
				blk, err := d.block(e.child)
				if err != nil {
					return err
				}
				if err := visit(blk, 24, depth+1); err != nil {
					return err
				}
			}
			if e.name != nil {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(d.root, 16, 0)
}

// lookup descends the index for name, comparing as COLLATION_FILE_NAME does with the
// volume's $UpCase: the tree order is what finds it. It reads at most maxIndexDepth blocks.
func (d *dir) lookup(name []uint16) (dirEntry, bool, error) {
	up := d.v.upcase
	cmp := func(a, b []uint16) int {
		for i := 0; i < len(a) && i < len(b); i++ {
			if x, y := up[a[i]], up[b[i]]; x != y {
				return int(x) - int(y)
			}
		}
		return len(a) - len(b)
	}
	b, hdr := d.root, 16
	seen := map[int64]bool{}
	for depth := 0; depth <= maxIndexDepth; depth++ {
		ents, err := parseEntries(b, hdr)
		if err != nil {
			return dirEntry{}, false, d.errorf("%v", err)
		}
		var next *dirEntry
		for i, e := range ents {
			if e.name != nil {
				c := cmp(name, e.name)
				if c == 0 {
					return e, true, nil
				}
				if c > 0 {
					continue
				}
			}
			next = &ents[i]
			break
		}
		if next == nil || !next.node {
			return dirEntry{}, false, nil
		}
		if seen[next.child] {
			return dirEntry{}, false, d.errorf("the index block at VCN %d is reached twice on the way down: a cycle", next.child)
		}
		seen[next.child] = true
		if b, err = d.block(next.child); err != nil {
			return dirEntry{}, false, err
		}
		hdr = 24
	}
	return dirEntry{}, false, d.errorf("index deeper than %d levels", maxIndexDepth)
}

func fromNT(t uint64) time.Time {
	const epochDiff = 116444736000000000
	return time.Unix(0, 0).Add(time.Duration(t-epochDiff) * 100).UTC()
}

// checkEntryName refuses a name that would not be one path element: empty, "." or "..", or with
// a separator or NUL in it.
func checkEntryName(name []uint16) error {
	if len(name) == 0 {
		return errors.New("an empty file name")
	}
	s := string(utf16.Decode(name))
	if s == "." || s == ".." || strings.ContainsAny(s, "\\/\x00") {
		return fmt.Errorf("the file name %q, which is not one path element", s)
	}
	return nil
}

// info builds the FileInfo of an index entry of directory parent from its MFT record, and
// returns the record's attributes and how many long names ($FILE_NAME attributes outside the
// DOS namespace) it has.
func (v *Volume) info(e dirEntry, parent uint64, path string) (FileInfo, []attr, int, error) {
	rec := e.rec()
	attrs, err := v.record(rec)
	if err != nil {
		return FileInfo{}, nil, 0, fmt.Errorf("ntfs: %s: %v", path, err)
	}
	fi := FileInfo{Name: string(utf16.Decode(e.name)), Record: rec}
	if si := find(attrs, atStandardInfo, ""); si != nil && len(si.value) >= 48 {
		fi.Attr = le.Uint32(si.value[32:])
		fi.ModTime = fromNT(le.Uint64(si.value[8:]))
	}
	links := 0
	for _, a := range attrs {
		if a.typ != atFileName {
			continue
		}
		if len(a.value) < 66 || len(a.value) < 66+2*int(a.value[64]) {
			n := -1
			if len(a.value) > 64 {
				n = int(a.value[64])
			}
			return FileInfo{}, nil, 0, fmt.Errorf("ntfs: %s: MFT record %d: a $FILE_NAME of %d bytes names %d characters, expected 66 bytes and 2 per character", path, rec, len(a.value), n)
		}
		name := getUTF16(a.value[66:], int(a.value[64]))
		if a.value[65] != nsDOS {
			links++
		}
		if le.Uint64(a.value)&(1<<48-1) != parent {
			continue // a hard link's name in another directory
		}
		switch a.value[65] {
		case nsDOS:
			fi.ShortName = string(utf16.Decode(name))
		case nsWin32, nsPOSIX, nsWin32DOS:
			if e.ns == nsDOS { // found by its short name: the long one is the name
				if err := checkEntryName(name); err != nil {
					return FileInfo{}, nil, 0, fmt.Errorf("ntfs: %s: MFT record %d: a $FILE_NAME has %v", path, rec, err)
				}
				fi.Name = string(utf16.Decode(name))
			}
		}
	}
	if find(attrs, atIndexRoot, "$I30") != nil {
		fi.Attr |= AttrDirectory
	} else if d := find(attrs, atData, ""); d != nil {
		fi.Size = d.size
	}
	return fi, attrs, links, nil
}

// readDir lists a directory in index order, without DOS names and, in the root, without "."
// and the system files ($MFT...), with each entry's long-name count.
func (v *Volume) readDir(rec uint64, path string, seen map[int64]string) ([]listed, error) {
	d, err := v.openDir(rec, path)
	if err != nil {
		return nil, err
	}
	d.seen = seen
	var out []listed
	err = d.walk(func(e dirEntry) error {
		if e.ns == nsDOS || e.rec() < 16 && rec == recRoot {
			return nil
		}
		if err := checkEntryName(e.name); err != nil {
			return d.errorf("an index entry has %v", err)
		}
		p := join(path, string(utf16.Decode(e.name)))
		fi, _, links, err := v.info(e, rec, p)
		if err != nil {
			return err
		}
		out = append(out, listed{fi, links, len(e.name)})
		return nil
	})
	return out, err
}

// listed is a directory entry as Walk needs it: not the record's attributes, which would
// hold a record buffer per entry of the directory while its subdirectories are walked.
type listed struct {
	fi    FileInfo
	links int
	units int // UTF-16 units of the name
}

func join(dir, name string) string { return strings.TrimSuffix(dir, `\`) + `\` + name }

// ReadDir lists a directory in index order, without "." and the system files ($MFT...).
func (v *Volume) ReadDir(path string) ([]FileInfo, error) {
	rec, err := v.resolve(path)
	if err != nil {
		return nil, err
	}
	list, err := v.readDir(rec, canonical(path), nil)
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, len(list))
	for i, l := range list {
		out[i] = l.fi
	}
	return out, nil
}

func canonical(path string) string { return `\` + strings.Join(splitPath(path), `\`) }

// resolve finds the MFT record of a path by descending the indexes; a directory met twice on
// the way is a cycle.
func (v *Volume) resolve(path string) (uint64, error) {
	rec := uint64(recRoot)
	seen := map[uint64]bool{rec: true}
	at := ""
	for _, p := range splitPath(path) {
		d, err := v.openDir(rec, canonical(at))
		if err != nil {
			return 0, err
		}
		e, ok, err := d.lookup(utf16.Encode([]rune(p)))
		if err != nil {
			return 0, err
		}
		at += `\` + p
		if !ok {
			return 0, fmt.Errorf("ntfs: %s: %s not found", path, canonical(at))
		}
		rec = e.rec()
		if seen[rec] {
			return 0, fmt.Errorf("ntfs: %s: %s is MFT record %d, a directory already on the path: a cycle", path, at, rec)
		}
		seen[rec] = true
	}
	return rec, nil
}

// Stat describes the file or directory at path.
func (v *Volume) Stat(path string) (FileInfo, error) {
	fi, _, err := v.stat(path)
	return fi, err
}

func (v *Volume) stat(path string) (FileInfo, []attr, error) {
	parts := splitPath(path)
	if len(parts) == 0 {
		fi, attrs, _, err := v.info(dirEntry{ref: recRoot, name: []uint16{'.'}}, recRoot, `\`)
		return fi, attrs, err
	}
	parentPath := `\` + strings.Join(parts[:len(parts)-1], `\`)
	parent, err := v.resolve(parentPath)
	if err != nil {
		return FileInfo{}, nil, err
	}
	d, err := v.openDir(parent, parentPath)
	if err != nil {
		return FileInfo{}, nil, err
	}
	e, ok, err := d.lookup(utf16.Encode([]rune(parts[len(parts)-1])))
	if err != nil {
		return FileInfo{}, nil, err
	}
	if !ok {
		return FileInfo{}, nil, fmt.Errorf("ntfs: %s not found", path)
	}
	fi, attrs, _, err := v.info(e, parent, canonical(path))
	return fi, attrs, err
}

// File is an open file's unnamed data stream.
type File struct {
	v    *Volume
	data attr
	off  int64
}

// OpenFile opens the file at path for reading.
func (v *Volume) OpenFile(path string) (*File, error) {
	fi, attrs, err := v.stat(path)
	if err != nil {
		return nil, err
	}
	return v.open(fi, attrs, canonical(path))
}

func (v *Volume) open(fi FileInfo, attrs []attr, path string) (*File, error) {
	d := find(attrs, atData, "")
	if d == nil || fi.IsDir() {
		return nil, fmt.Errorf("ntfs: %s (MFT record %d) has no data (a directory?)", path, fi.Record)
	}
	return &File{v: v, data: *d}, nil
}

// Size is the file's length in bytes.
func (f *File) Size() int64 { return f.data.size }

// ReadAt reads the file's data at off.
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.v.readAt(&f.data, p, off) }

// Read reads the file's data sequentially.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.v.readAt(&f.data, p, f.off)
	f.off += int64(n)
	return n, err
}

// Walk visits every file and directory below the root, parents first, in index order; paths
// use '\' and start with it. f streams a file's data (nil for a directory).
//
// Every directory is listed once (a directory met again is a cycle), every index block is
// read once, a file is visited at most as often as it has long names, and the files' data
// together may not take more clusters than the volume has: the walk, and reading every file
// it hands on, is linear in the volume's size (a file with several names is read once per name).
func (v *Volume) Walk(fn func(path string, fi FileInfo, f *File) error) error {
	w := walker{v: v, fn: fn, dirs: map[uint64]string{recRoot: `\`}, links: map[uint64]int{}, blocks: map[int64]string{}}
	return w.walk(recRoot, `\`, 0)
}

type walker struct {
	v      *Volume
	fn     func(string, FileInfo, *File) error
	dirs   map[uint64]string // directory records listed, with their paths
	links  map[uint64]int    // times a file record was met
	blocks map[int64]string  // index blocks read
	// clusters counts the clusters of the files' data (each record once): a volume whose files
	// share clusters could otherwise make the walk read the volume once per file.
	clusters int64
}

func (w *walker) walk(rec uint64, path string, units int) error {
	list, err := w.v.readDir(rec, path, w.blocks)
	if err != nil {
		return err
	}
	for _, l := range list {
		p := join(path, l.fi.Name)
		u := units + 1 + l.units
		if u > maxPathChars {
			return fmt.Errorf("ntfs: %s...: a path longer than %d characters", p[:200], maxPathChars)
		}
		if l.fi.IsDir() {
			if other, ok := w.dirs[l.fi.Record]; ok {
				return fmt.Errorf("ntfs: %s is MFT record %d, the directory %s again: a directory cycle", p, l.fi.Record, other)
			}
			w.dirs[l.fi.Record] = p
			if err := w.fn(p, l.fi, nil); err != nil {
				return err
			}
			if err := w.walk(l.fi.Record, p, u); err != nil {
				return err
			}
			continue
		}
		w.links[l.fi.Record]++
		if n := w.links[l.fi.Record]; n > max(l.links, 1) {
			return fmt.Errorf("ntfs: %s is MFT record %d, met %d times, but the record has %d long names", p, l.fi.Record, n, l.links)
		}
		attrs, err := w.v.record(l.fi.Record)
		if err != nil {
			return fmt.Errorf("ntfs: %s: %v", p, err)
		}
		f, err := w.v.open(l.fi, attrs, p)
		if err != nil {
			return err
		}
		if w.links[l.fi.Record] == 1 {
			// Files do not share clusters: together they hold at most the volume's.
			if w.clusters += runClusters(f.data.runs); w.clusters > w.v.clusters {
				return fmt.Errorf("ntfs: %s (MFT record %d): the files so far hold %d clusters of data, more than the volume's %d: clusters are claimed twice", p, l.fi.Record, w.clusters, w.v.clusters)
			}
		}
		if err := w.fn(p, l.fi, f); err != nil {
			return err
		}
	}
	return nil
}

// bitmapChunk is how much of $Bitmap Usage reads at a time.
const bitmapChunk = 64 << 10

// Usage is how the volume's clusters are spent by $Bitmap (MFT record 6): clusterBytes each,
// clusters in all, free of them clear in the bitmap. The bitmap is streamed; one that is
// shorter than the volume's clusters is an error naming the record.
func (v *Volume) Usage() (clusterBytes, clusters, free int64, err error) {
	attrs, err := v.record(recBitmap)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("ntfs: %v", err)
	}
	a := find(attrs, atData, "")
	if a == nil {
		return 0, 0, 0, fmt.Errorf("ntfs: MFT record %d ($Bitmap) has no $DATA", recBitmap)
	}
	need := (v.clusters + 7) / 8
	if a.size < need {
		return 0, 0, 0, fmt.Errorf("ntfs: MFT record %d ($Bitmap): %d bytes of data, but the volume's %d clusters need %d", recBitmap, a.size, v.clusters, need)
	}
	buf := make([]byte, min(need, bitmapChunk))
	var used int64
	for off := int64(0); off < need; off += int64(len(buf)) {
		p := buf[:min(int64(len(buf)), need-off)]
		if _, err := v.readAt(a, p, off); err != nil && err != io.EOF {
			return 0, 0, 0, fmt.Errorf("ntfs: MFT record %d ($Bitmap) at byte %d: %v", recBitmap, off, err)
		}
		for i, b := range p {
			if bit := (off + int64(i)) * 8; bit+8 > v.clusters {
				b &= byte(1)<<(v.clusters-bit) - 1 // bits past the last cluster do not count
			}
			used += int64(bits.OnesCount8(b))
		}
	}
	return v.cs, v.clusters, v.clusters - used, nil
}
