package ntfs

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
)

// Volume reads an NTFS volume: enough for tests and for capturing a MainOS (list directories,
// read files, attributes). It does not read compressed or encrypted files, attribute lists or
// alternate data streams.
type Volume struct {
	r        io.ReaderAt
	offset   int64
	cs       int64
	recSize  int64
	idxSize  int64
	vcnUnit  int64 // bytes per index VCN
	mft      attr
	upcase   []uint16
	serial   uint64
	label    string
	clusters int64
}

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
	size     int64
	init     int64
}

// Open reads the boot sector, $MFT and $UpCase of the volume at [offset, offset+size) of r.
func Open(r io.ReaderAt, offset, size int64) (*Volume, error) {
	b := make([]byte, 512)
	if _, err := r.ReadAt(b, offset); err != nil {
		return nil, fmt.Errorf("ntfs: reading the boot sector: %v", err)
	}
	if string(b[3:11]) != "NTFS    " || b[510] != 0x55 || b[511] != 0xAA {
		return nil, errors.New("ntfs: no NTFS boot sector")
	}
	ss, spc := int64(le.Uint16(b[11:])), int64(b[13])
	v := &Volume{r: r, offset: offset, cs: ss * spc, serial: le.Uint64(b[72:])}
	if ss < 512 || ss > 4096 || spc == 0 || v.cs&(v.cs-1) != 0 {
		return nil, fmt.Errorf("ntfs: boot sector: %d-byte sectors, %d per cluster", ss, spc)
	}
	v.clusters = int64(le.Uint64(b[40:])) / spc
	code := func(c byte) int64 {
		if int8(c) > 0 {
			return int64(c) * v.cs
		}
		return 1 << uint(-int8(c))
	}
	v.recSize, v.idxSize = code(b[64]), code(b[68])
	if v.recSize < 512 || v.recSize > 65536 || v.idxSize < 512 || v.idxSize > 65536 {
		return nil, fmt.Errorf("ntfs: boot sector: %d-byte MFT records, %d-byte index blocks", v.recSize, v.idxSize)
	}
	v.vcnUnit = v.cs
	if v.cs > v.idxSize {
		v.vcnUnit = blockSize
	}
	// Record 0 describes the MFT itself.
	rec := make([]byte, v.recSize)
	if _, err := r.ReadAt(rec, offset+int64(le.Uint64(b[48:]))*v.cs); err != nil {
		return nil, fmt.Errorf("ntfs: reading $MFT: %v", err)
	}
	attrs, err := v.parseRecord(rec, 0)
	if err != nil {
		return nil, err
	}
	mft := find(attrs, atData, "")
	if mft == nil || mft.resident {
		return nil, errors.New("ntfs: $MFT has no non-resident $DATA")
	}
	v.mft = *mft
	if attrs, err = v.record(recUpCase); err != nil {
		return nil, err
	}
	if a := find(attrs, atData, ""); a != nil {
		data, err := v.readAll(a, 1<<17)
		if err != nil {
			return nil, fmt.Errorf("ntfs: $UpCase: %v", err)
		}
		v.upcase = getUTF16(data, len(data)/2)
	}
	if len(v.upcase) != 65536 {
		return nil, fmt.Errorf("ntfs: $UpCase holds %d entries, want 65536", len(v.upcase))
	}
	if attrs, err = v.record(recVolume); err != nil {
		return nil, err
	}
	if a := find(attrs, atVolumeName, ""); a != nil {
		v.label = string(utf16.Decode(getUTF16(a.value, len(a.value)/2)))
	}
	return v, nil
}

// Serial is the volume serial number; Label its name.
func (v *Volume) Serial() uint64 { return v.serial }
func (v *Volume) Label() string  { return v.label }

func find(attrs []attr, typ uint32, name string) *attr {
	for i := range attrs {
		if attrs[i].typ == typ && attrs[i].name == name {
			return &attrs[i]
		}
	}
	return nil
}

// record reads and parses MFT record n.
func (v *Volume) record(n uint64) ([]attr, error) {
	b := make([]byte, v.recSize)
	if _, err := v.readAt(&v.mft, b, int64(n)*v.recSize); err != nil {
		return nil, fmt.Errorf("ntfs: reading MFT record %d: %v", n, err)
	}
	return v.parseRecord(b, n)
}

func (v *Volume) parseRecord(b []byte, n uint64) ([]attr, error) {
	if string(b[:4]) != "FILE" {
		return nil, fmt.Errorf("ntfs: MFT record %d: no FILE signature", n)
	}
	if err := undoFixups(b); err != nil {
		return nil, fmt.Errorf("ntfs: MFT record %d: %v", n, err)
	}
	if le.Uint16(b[22:])&recInUse == 0 {
		return nil, fmt.Errorf("ntfs: MFT record %d is not in use", n)
	}
	var attrs []attr
	for off := int(le.Uint16(b[20:])); ; {
		if off+8 > len(b) {
			return nil, fmt.Errorf("ntfs: MFT record %d: attributes run past the record", n)
		}
		typ := le.Uint32(b[off:])
		if typ == atEnd {
			return attrs, nil
		}
		length := int(le.Uint32(b[off+4:]))
		if length < 24 || off+length > len(b) {
			return nil, fmt.Errorf("ntfs: MFT record %d: attribute 0x%X at %d has length %d", n, typ, off, length)
		}
		a := b[off : off+length]
		nameLen, nameOff := int(a[9]), int(le.Uint16(a[10:]))
		if nameOff+2*nameLen > length {
			return nil, fmt.Errorf("ntfs: MFT record %d: attribute 0x%X: name past its end", n, typ)
		}
		at := attr{typ: typ, name: string(utf16.Decode(getUTF16(a[nameOff:], nameLen)))}
		if typ == 0x20 {
			return nil, fmt.Errorf("ntfs: MFT record %d has an attribute list, which this reader does not follow", n)
		}
		if a[8] == 0 {
			vl, vo := int(le.Uint32(a[16:])), int(le.Uint16(a[20:]))
			if vo+vl > length {
				return nil, fmt.Errorf("ntfs: MFT record %d: attribute 0x%X: value past its end", n, typ)
			}
			at.resident, at.value = true, a[vo:vo+vl]
			at.size, at.init = int64(vl), int64(vl)
		} else {
			if length < 64 {
				return nil, fmt.Errorf("ntfs: MFT record %d: non-resident attribute 0x%X of %d bytes", n, typ, length)
			}
			if le.Uint16(a[12:])&0xC001 != 0 {
				return nil, fmt.Errorf("ntfs: MFT record %d: attribute 0x%X is compressed, encrypted or sparse-flagged", n, typ)
			}
			mp := int(le.Uint16(a[32:]))
			if mp > length {
				return nil, fmt.Errorf("ntfs: MFT record %d: attribute 0x%X: runlist at %d of %d bytes", n, typ, mp, length)
			}
			runs, err := decodeRuns(a[mp:])
			if err != nil {
				return nil, fmt.Errorf("ntfs: MFT record %d: attribute 0x%X: %v", n, typ, err)
			}
			at.runs, at.size, at.init = runs, int64(le.Uint64(a[48:])), int64(le.Uint64(a[56:]))
		}
		attrs = append(attrs, at)
		off += length
	}
}

// readAt reads attribute data at off; bytes past the initialized size and in sparse runs are zero.
func (v *Volume) readAt(a *attr, p []byte, off int64) (int, error) {
	if off >= a.size {
		return 0, io.EOF
	}
	n := len(p)
	if off+int64(n) > a.size {
		n = int(a.size - off)
	}
	if a.resident {
		copy(p, a.value[off:off+int64(n)])
	} else {
		clear(p[:n])
		var vcnOff int64
		for _, r := range a.runs {
			start, end := vcnOff, vcnOff+r.n*v.cs
			vcnOff = end
			lo, hi := max(start, off), min(end, off+int64(n), a.init)
			if lo >= hi || r.lcn < 0 {
				continue
			}
			if r.lcn+r.n > v.clusters {
				return 0, fmt.Errorf("run at cluster %d of %d clusters lies outside the volume", r.lcn, r.n)
			}
			if _, err := v.r.ReadAt(p[lo-off:hi-off], v.offset+r.lcn*v.cs+lo-start); err != nil {
				return 0, err
			}
		}
		if vcnOff < off+int64(n) {
			return 0, fmt.Errorf("runs cover %d bytes of %d", vcnOff, a.size)
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
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
	ref  uint64
	name []uint16
	ns   byte
	key  []byte
}

// entries parses the index entries of a node (after the index header at hdr); child < 0 for
// entries without a sub-node.
func parseEntries(b []byte, hdr int) (ents []dirEntry, children []int64, err error) {
	if hdr+8 > len(b) {
		return nil, nil, errors.New("index header past the end")
	}
	start, end := hdr+int(le.Uint32(b[hdr:])), hdr+int(le.Uint32(b[hdr+4:]))
	if start < hdr || end > len(b) || start > end {
		return nil, nil, fmt.Errorf("index header: entries end at %d of %d bytes", end, len(b))
	}
	for off := start; off+16 <= end; {
		length, keyLen, flags := int(le.Uint16(b[off+8:])), int(le.Uint16(b[off+10:])), le.Uint16(b[off+12:])
		if length < 16 || off+length > end {
			return nil, nil, fmt.Errorf("index entry at %d: length %d", off, length)
		}
		child := int64(-1)
		if flags&ieNode != 0 {
			child = int64(le.Uint64(b[off+length-8:]))
		}
		e := dirEntry{ref: le.Uint64(b[off:])}
		if flags&ieEnd == 0 {
			if keyLen < 66 || 16+keyLen > length {
				return nil, nil, fmt.Errorf("index entry at %d: key of %d bytes", off, keyLen)
			}
			k := b[off+16 : off+16+keyLen]
			if 66+2*int(k[64]) > keyLen {
				return nil, nil, fmt.Errorf("index entry at %d: name of %d characters in a %d-byte key", off, k[64], keyLen)
			}
			e.name, e.ns, e.key = getUTF16(k[66:], int(k[64])), k[65], k
		}
		ents, children = append(ents, e), append(children, child)
		if flags&ieEnd != 0 {
			return ents, children, nil
		}
		off += length
	}
	return nil, nil, errors.New("index node without an end entry")
}

type dir struct {
	v     *Volume
	rec   uint64
	root  []byte
	alloc *attr
}

func (v *Volume) openDir(rec uint64) (*dir, []attr, error) {
	attrs, err := v.record(rec)
	if err != nil {
		return nil, nil, err
	}
	ir := find(attrs, atIndexRoot, "$I30")
	if ir == nil || len(ir.value) < 32 {
		return nil, nil, fmt.Errorf("ntfs: MFT record %d is not a directory", rec)
	}
	return &dir{v: v, rec: rec, root: ir.value, alloc: find(attrs, atIndexAlloc, "$I30")}, attrs, nil
}

func (d *dir) block(vcn int64) ([]byte, error) {
	if d.alloc == nil {
		return nil, fmt.Errorf("ntfs: directory %d: entry points to index block %d, but there is no $INDEX_ALLOCATION", d.rec, vcn)
	}
	b := make([]byte, d.v.idxSize)
	if _, err := d.v.readAt(d.alloc, b, vcn*d.v.vcnUnit); err != nil {
		return nil, fmt.Errorf("ntfs: directory %d: index block %d: %v", d.rec, vcn, err)
	}
	if string(b[:4]) != "INDX" {
		return nil, fmt.Errorf("ntfs: directory %d: index block %d has no INDX signature", d.rec, vcn)
	}
	if err := undoFixups(b); err != nil {
		return nil, fmt.Errorf("ntfs: directory %d: index block %d: %v", d.rec, vcn, err)
	}
	return b, nil
}

// walk visits the entries of the directory in tree (collation) order.
func (d *dir) walk(fn func(dirEntry) error) error {
	var visit func(b []byte, hdr, depth int) error
	visit = func(b []byte, hdr, depth int) error {
		if depth > 32 {
			return fmt.Errorf("ntfs: directory %d: index deeper than 32 levels", d.rec)
		}
		ents, kids, err := parseEntries(b, hdr)
		if err != nil {
			return fmt.Errorf("ntfs: directory %d: %v", d.rec, err)
		}
		for i, e := range ents {
			if kids[i] >= 0 {
				blk, err := d.block(kids[i])
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
// volume's $UpCase: the tree order is what finds it.
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
	for depth := 0; depth <= 32; depth++ {
		ents, kids, err := parseEntries(b, hdr)
		if err != nil {
			return dirEntry{}, false, fmt.Errorf("ntfs: directory %d: %v", d.rec, err)
		}
		next := int64(-1)
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
			next = kids[i]
			break
		}
		if next < 0 {
			return dirEntry{}, false, nil
		}
		if b, err = d.block(next); err != nil {
			return dirEntry{}, false, err
		}
		hdr = 24
	}
	return dirEntry{}, false, fmt.Errorf("ntfs: directory %d: index deeper than 32 levels", d.rec)
}

func fromNT(t uint64) time.Time {
	const epochDiff = 116444736000000000
	return time.Unix(0, 0).Add(time.Duration(t-epochDiff) * 100).UTC()
}

// info builds the FileInfo of an index entry from its MFT record.
func (v *Volume) info(e dirEntry) (FileInfo, error) {
	rec := e.ref & (1<<48 - 1)
	attrs, err := v.record(rec)
	if err != nil {
		return FileInfo{}, err
	}
	fi := FileInfo{Name: string(utf16.Decode(e.name)), Record: rec}
	if si := find(attrs, atStandardInfo, ""); si != nil && len(si.value) >= 48 {
		fi.Attr = le.Uint32(si.value[32:])
		fi.ModTime = fromNT(le.Uint64(si.value[8:]))
	}
	for _, a := range attrs {
		if a.typ == atFileName && len(a.value) >= 66 && len(a.value) >= 66+2*int(a.value[64]) {
			name := string(utf16.Decode(getUTF16(a.value[66:], int(a.value[64]))))
			switch a.value[65] {
			case nsDOS:
				fi.ShortName = name
			case nsWin32, nsPOSIX, nsWin32DOS:
				fi.Name = name
			}
		}
	}
	if find(attrs, atIndexRoot, "$I30") != nil {
		fi.Attr |= AttrDirectory
	} else if d := find(attrs, atData, ""); d != nil {
		fi.Size = d.size
	}
	return fi, nil
}

// ReadDir lists a directory in index order, without "." and the system files ($MFT...).
func (v *Volume) ReadDir(path string) ([]FileInfo, error) {
	rec, err := v.resolve(path)
	if err != nil {
		return nil, err
	}
	d, _, err := v.openDir(rec)
	if err != nil {
		return nil, fmt.Errorf("ntfs: %s: %v", path, err)
	}
	var out []FileInfo
	err = d.walk(func(e dirEntry) error {
		if e.ns == nsDOS || e.ref&(1<<48-1) < 16 && rec == recRoot {
			return nil
		}
		fi, err := v.info(e)
		if err != nil {
			return err
		}
		out = append(out, fi)
		return nil
	})
	return out, err
}

// resolve finds the MFT record of a path by descending the indexes.
func (v *Volume) resolve(path string) (uint64, error) {
	rec := uint64(recRoot)
	for _, p := range splitPath(path) {
		d, _, err := v.openDir(rec)
		if err != nil {
			return 0, fmt.Errorf("ntfs: %s: %v", path, err)
		}
		e, ok, err := d.lookup(utf16.Encode([]rune(p)))
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, fmt.Errorf("ntfs: %s: %s not found", path, p)
		}
		rec = e.ref & (1<<48 - 1)
	}
	return rec, nil
}

// Stat describes the file or directory at path.
func (v *Volume) Stat(path string) (FileInfo, error) {
	parts := splitPath(path)
	if len(parts) == 0 {
		return v.info(dirEntry{ref: recRoot, name: []uint16{'.'}})
	}
	parent, err := v.resolve(strings.Join(parts[:len(parts)-1], `\`))
	if err != nil {
		return FileInfo{}, err
	}
	d, _, err := v.openDir(parent)
	if err != nil {
		return FileInfo{}, err
	}
	e, ok, err := d.lookup(utf16.Encode([]rune(parts[len(parts)-1])))
	if err != nil {
		return FileInfo{}, err
	}
	if !ok {
		return FileInfo{}, fmt.Errorf("ntfs: %s not found", path)
	}
	return v.info(e)
}

// File is an open file's unnamed data stream.
type File struct {
	v    *Volume
	data attr
	off  int64
}

// OpenFile opens the file at path for reading.
func (v *Volume) OpenFile(path string) (*File, error) {
	rec, err := v.resolve(path)
	if err != nil {
		return nil, err
	}
	attrs, err := v.record(rec)
	if err != nil {
		return nil, err
	}
	d := find(attrs, atData, "")
	if d == nil {
		return nil, fmt.Errorf("ntfs: %s has no data (a directory?)", path)
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
// use '\' and start with it.
func (v *Volume) Walk(fn func(path string, fi FileInfo) error) error {
	var walk func(path string) error
	walk = func(path string) error {
		list, err := v.ReadDir(path)
		if err != nil {
			return err
		}
		for _, fi := range list {
			p := strings.TrimSuffix(path, `\`) + `\` + fi.Name
			if err := fn(p, fi); err != nil {
				return err
			}
			if fi.IsDir() {
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(`\`)
}
