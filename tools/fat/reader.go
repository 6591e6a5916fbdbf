package fat

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"unicode/utf16"
)

// The reader: FAT12, FAT16 and FAT32 volumes that someone else may have written, so every
// field is checked against what contains it before it is used, every chain is followed with a
// visited set, and file contents are streamed (docs/reliability.md).

// Limits of the reader.
const (
	// MaxDirBytes is the largest directory: the FAT specification allows 65,536 entries.
	MaxDirBytes = 65536 * dirEntrySize
	// MaxHeldDirBytes bounds the directories Walk holds at once, those of one path from the
	// root: a deep tree of huge directories cannot make it hold the whole volume.
	MaxHeldDirBytes = 16 << 20
	// MaxPathUnits is the longest path, in UTF-16 units, as on Windows.
	MaxPathUnits = 32767

	fatBlockBytes  = 64 << 10 // the FAT is read in blocks of this size...
	fatCacheBlocks = 256      // ... and at most this many are kept (16 MiB)
)

// Volume is a FAT file system opened for reading.
type Volume struct {
	r           io.ReaderAt
	typ         Type
	ss          int64
	cb          int64  // bytes per cluster
	clusters    uint32 // data clusters; their numbers are 2..clusters+1
	fatOff      int64  // the FAT in use, in r
	fatBytes    int64
	rootOff     int64 // FAT12/16: the fixed root directory, in r
	rootBytes   int64
	rootCluster uint32 // FAT32
	dataOff     int64  // cluster 2, in r
	eoc         uint32 // the least end-of-chain mark
	cache       [fatCacheBlocks]fatBlock
	volumeID    uint32
	label       string
}

type fatBlock struct {
	index int64
	data  []byte // nil until read
}

// Open reads and checks the boot sector of the FAT file system of size bytes at offset in r.
func Open(r io.ReaderAt, offset, size int64) (*Volume, error) {
	if size < 512 {
		return nil, fmt.Errorf("%d bytes is too small for a FAT boot sector", size)
	}
	b := make([]byte, 512)
	if _, err := r.ReadAt(b, offset); err != nil {
		return nil, fmt.Errorf("reading the boot sector: %v", err)
	}
	g, err := parseBoot(b, size)
	if err != nil {
		return nil, fmt.Errorf("boot sector: %v", err)
	}
	v := &Volume{r: r, typ: g.typ, ss: g.ss, cb: g.ss * g.spc, clusters: g.clusters, rootCluster: g.rootCluster}
	v.fatOff = offset + (g.reserved+g.activeFAT*g.fatSecs)*g.ss
	v.fatBytes = g.fatSecs * g.ss
	v.rootOff = offset + (g.reserved+g.fats*g.fatSecs)*g.ss
	v.rootBytes = g.rootEntries * dirEntrySize
	v.dataOff = v.rootOff + g.rootSecs*g.ss
	v.eoc = map[Type]uint32{FAT12: 0xFF8, FAT16: 0xFFF8, FAT32: 0x0FFFFFF8}[v.typ]
	// The extended boot record: at 36 for FAT12/16, at 64 for FAT32; its signature 0x29
	// says the volume ID and label follow.
	ebr := 36
	if v.typ == FAT32 {
		ebr = 64
	}
	if b[ebr+2] == 0x29 {
		v.volumeID = binary.LittleEndian.Uint32(b[ebr+3:])
		v.label = strings.TrimRight(string(b[ebr+7:ebr+18]), " ")
	}
	return v, nil
}

// VolumeID and Label are the boot sector's volume serial number and label (zero and "" when
// its extended boot record signature is missing); ClusterSize is the bytes per cluster. A
// writer rebuilding the volume gives them back (fat.Options).
func (v *Volume) VolumeID() uint32 { return v.volumeID }
func (v *Volume) Label() string    { return v.label }
func (v *Volume) ClusterSize() int { return int(v.cb) }

// boot is what the boot sector says, checked.
type boot struct {
	typ                                                   Type
	ss, spc, reserved, fats, activeFAT, fatSecs, rootSecs int64
	rootEntries, totalSecs                                int64
	clusters, rootCluster                                 uint32
}

// parseBoot checks the BIOS parameter block of the first 512 bytes of a volume of size bytes,
// as Microsoft's FAT specification defines it.
func parseBoot(b []byte, size int64) (*boot, error) {
	le := binary.LittleEndian
	if b[510] != 0x55 || b[511] != 0xAA {
		return nil, fmt.Errorf("no 55 AA signature at byte 510 (%02X %02X)", b[510], b[511])
	}
	g := &boot{ss: int64(le.Uint16(b[11:])), spc: int64(b[13]), reserved: int64(le.Uint16(b[14:])), fats: int64(b[16])}
	if g.ss != 512 && g.ss != 1024 && g.ss != 2048 && g.ss != 4096 {
		return nil, fmt.Errorf("bytes per sector %d: expected 512, 1024, 2048 or 4096", g.ss)
	}
	if g.spc == 0 || g.spc&(g.spc-1) != 0 {
		return nil, fmt.Errorf("sectors per cluster %d: expected a power of two, 1 to 128", g.spc)
	}
	if g.reserved == 0 {
		return nil, fmt.Errorf("0 reserved sectors: the boot sector itself is one")
	}
	if g.fats != 1 && g.fats != 2 {
		return nil, fmt.Errorf("%d FATs: expected 1 or 2", g.fats)
	}
	g.rootEntries = int64(le.Uint16(b[17:]))
	g.rootSecs = (g.rootEntries*dirEntrySize + g.ss - 1) / g.ss
	g.totalSecs = int64(le.Uint16(b[19:]))
	if g.totalSecs == 0 {
		g.totalSecs = int64(le.Uint32(b[32:]))
	}
	fat16Secs, fat32Secs := int64(le.Uint16(b[22:])), int64(le.Uint32(b[36:]))
	g.fatSecs = fat16Secs
	if g.fatSecs == 0 {
		g.fatSecs = fat32Secs // the FAT32 layout
	}
	if g.totalSecs == 0 {
		return nil, fmt.Errorf("total sectors is 0")
	}
	if g.totalSecs > size/g.ss {
		return nil, fmt.Errorf("%d sectors of %d bytes: beyond the partition's %d bytes", g.totalSecs, g.ss, size)
	}
	if g.fatSecs == 0 {
		return nil, fmt.Errorf("sectors per FAT is 0")
	}
	meta := g.reserved + g.fats*g.fatSecs + g.rootSecs
	if meta >= g.totalSecs {
		return nil, fmt.Errorf("%d reserved sectors, %d FATs of %d sectors and %d root directory sectors: beyond the volume's %d sectors",
			g.reserved, g.fats, g.fatSecs, g.rootSecs, g.totalSecs)
	}
	clusters := (g.totalSecs - meta) / g.spc
	// The variant follows from the cluster count alone (the specification's rule).
	switch {
	case clusters == 0:
		return nil, fmt.Errorf("no room for a data cluster after %d sectors of metadata", meta)
	case clusters <= maxFAT12Clusters:
		g.typ = FAT12
	case clusters <= maxFAT16Clusters:
		g.typ = FAT16
	case clusters <= maxFAT32Clusters:
		g.typ = FAT32
	default:
		return nil, fmt.Errorf("%d clusters: FAT32 holds at most %d", clusters, maxFAT32Clusters)
	}
	g.clusters = uint32(clusters)
	fat32Layout := fat16Secs == 0
	switch {
	case g.typ == FAT32 && !fat32Layout:
		return nil, fmt.Errorf("%d clusters make it FAT32, but sectors per FAT is in the FAT12/16 field", clusters)
	case g.typ != FAT32 && fat32Layout:
		return nil, fmt.Errorf("a FAT32 boot sector, but %d clusters make it %v (FAT32 needs at least %d)", clusters, g.typ, maxFAT16Clusters+1)
	case g.typ == FAT32 && g.rootEntries != 0:
		return nil, fmt.Errorf("FAT32 with %d fixed root directory entries: expected 0", g.rootEntries)
	case g.typ != FAT32 && g.rootEntries == 0:
		return nil, fmt.Errorf("%v without root directory entries", g.typ)
	}
	if have, need := g.fatSecs*g.ss*8/int64(g.typ), clusters+2; have < need {
		return nil, fmt.Errorf("sectors per FAT %d: room for %d entries, but %d clusters need %d", g.fatSecs, have, clusters, need)
	}
	if g.typ == FAT32 {
		if flags := le.Uint16(b[40:]); flags&0x80 != 0 {
			g.activeFAT = int64(flags & 0x0F) // mirroring off: one FAT is the live one
			if g.activeFAT >= g.fats {
				return nil, fmt.Errorf("active FAT %d of %d", g.activeFAT, g.fats)
			}
		}
		if ver := le.Uint16(b[42:]); ver != 0 {
			return nil, fmt.Errorf("FAT32 version %d.%d: expected 0.0", ver>>8, ver&0xFF)
		}
		g.rootCluster = le.Uint32(b[44:])
		if g.rootCluster < 2 || g.rootCluster > g.clusters+1 {
			return nil, fmt.Errorf("root directory cluster %d: expected 2 to %d", g.rootCluster, g.clusters+1)
		}
	}
	return g, nil
}

// Type is the variant, decided by the cluster count.
func (v *Volume) Type() Type { return v.typ }

// SectorSize is the boot sector's bytes per sector.
func (v *Volume) SectorSize() int { return int(v.ss) }

// fatAt returns the FAT in use from byte i to the end of its block, through the cache.
func (v *Volume) fatAt(i int64) ([]byte, error) {
	index := i / fatBlockBytes
	blk := &v.cache[index%fatCacheBlocks]
	if blk.data == nil || blk.index != index {
		n := min(fatBlockBytes, v.fatBytes-index*fatBlockBytes)
		if cap(blk.data) < int(n) {
			blk.data = make([]byte, n)
		}
		blk.data = blk.data[:n]
		if _, err := v.r.ReadAt(blk.data, v.fatOff+index*fatBlockBytes); err != nil {
			blk.data = nil
			return nil, fmt.Errorf("reading the FAT at byte %d: %v", index*fatBlockBytes, err)
		}
		blk.index = index
	}
	return blk.data[i%fatBlockBytes:], nil
}

// entry reads the FAT entry of cluster c (2..clusters+1, which the FAT has room for).
func (v *Volume) entry(c uint32) (uint32, error) {
	switch v.typ {
	case FAT32:
		b, err := v.fatAt(int64(c) * 4)
		if err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint32(b) & 0x0FFFFFFF, nil
	case FAT16:
		b, err := v.fatAt(int64(c) * 2)
		if err != nil {
			return 0, err
		}
		return uint32(binary.LittleEndian.Uint16(b)), nil
	}
	// FAT12: 12 bits at byte c*3/2, which may straddle two blocks.
	o := int64(c) + int64(c)/2
	lo, err := v.fatAt(o)
	if err != nil {
		return 0, err
	}
	hi, err := v.fatAt(o + 1)
	if err != nil {
		return 0, err
	}
	x := uint32(lo[0]) | uint32(hi[0])<<8
	if c%2 == 1 {
		return x >> 4, nil
	}
	return x & 0xFFF, nil
}

// next returns the cluster after c in its chain, or 0 at the chain's end.
func (v *Volume) next(c uint32) (uint32, error) {
	e, err := v.entry(c)
	if err != nil {
		return 0, err
	}
	eoc := v.eoc
	switch {
	case e >= eoc:
		return 0, nil
	case e == eoc-1:
		return 0, fmt.Errorf("cluster %d is marked bad", c)
	case e == 0:
		return 0, fmt.Errorf("cluster %d of the chain is marked free", c)
	case e < 2 || e > v.clusters+1:
		return 0, fmt.Errorf("cluster %d points to cluster %d, outside 2..%d", c, e, v.clusters+1)
	}
	return e, nil
}

// visited marks the clusters a walk has followed: a cluster met twice is a loop, a
// directory cycle or chains that cross, and none of them is a file system.
type visited []uint64

func newVisited(clusters uint32) visited { return make(visited, (uint64(clusters)+2+63)/64) }

func (s visited) has(c uint32) bool { return s[c/64]&(uint64(1)<<(c%64)) != 0 }

// mark records c and reports whether it was marked already.
func (s visited) mark(c uint32) bool {
	w, bit := c/64, uint64(1)<<(c%64)
	seen := s[w]&bit != 0
	s[w] |= bit
	return seen
}

// run is a stretch of contiguous clusters.
type run struct{ first, n uint32 }

// chain follows the chain from first for at most limit clusters.
func (v *Volume) chain(first uint32, limit int64, seen visited) ([]run, int64, error) {
	var runs []run
	var n int64
	for c := first; c != 0; {
		if c < 2 || c > v.clusters+1 {
			return nil, n, fmt.Errorf("cluster %d is outside 2..%d", c, v.clusters+1)
		}
		if seen.mark(c) {
			return nil, n, fmt.Errorf("cluster %d is met twice: the chain loops, or crosses another file's", c)
		}
		if n == limit {
			return nil, n, fmt.Errorf("the cluster chain is longer than %d clusters", limit)
		}
		n++
		if k := len(runs) - 1; k >= 0 && runs[k].first+runs[k].n == c {
			runs[k].n++
		} else {
			runs = append(runs, run{c, 1})
		}
		next, err := v.next(c)
		if err != nil {
			return nil, n, err
		}
		c = next
	}
	return runs, n, nil
}

// File is a file or directory of the volume.
type File struct {
	Path  string // \Windows\System32\a.dll
	Name  string // the long name, else the 8.3 name
	Dir   bool
	Size  int64 // 0 for directories
	Attr  byte
	short string
	first uint32
}

// readRuns reads the clusters of runs into buf, which has room for them.
func (v *Volume) readRuns(buf []byte, runs []run) error {
	pos := int64(0)
	for _, r := range runs {
		n := int64(r.n) * v.cb
		if _, err := v.r.ReadAt(buf[pos:pos+n], v.dataOff+int64(r.first-2)*v.cb); err != nil {
			return fmt.Errorf("reading clusters %d-%d: %v", r.first, r.first+r.n-1, err)
		}
		pos += n
	}
	return nil
}

// readDir reads and parses directory d (nil: the root) in one pass.
func (v *Volume) readDir(d *File, seen visited) ([]File, int64, error) {
	var buf []byte
	if d == nil && v.typ != FAT32 {
		buf = make([]byte, v.rootBytes)
		if _, err := v.r.ReadAt(buf, v.rootOff); err != nil {
			return nil, 0, fmt.Errorf(`\: reading the root directory: %v`, err)
		}
	} else {
		first, name := v.rootCluster, `\`
		if d != nil {
			first, name = d.first, d.Path
		}
		if first == 0 {
			return nil, 0, fmt.Errorf("%s: a directory without clusters", name)
		}
		if first >= 2 && first <= v.clusters+1 && seen.has(first) {
			return nil, 0, fmt.Errorf("%s: directory at cluster %d, which is in the tree already: a directory cycle or a cross-link", name, first)
		}
		runs, n, err := v.chain(first, max(1, MaxDirBytes/v.cb), seen)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: directory: %v", name, err)
		}
		buf = make([]byte, n*v.cb)
		if err := v.readRuns(buf, runs); err != nil {
			return nil, 0, fmt.Errorf("%s: directory: %v", name, err)
		}
	}
	files, err := v.parseDir(buf, d)
	return files, int64(len(buf)), err
}

// lfn collects the long-name entries before a short entry.
type lfn struct {
	units [20 * 13]uint16
	n     int  // entries expected in all
	next  int  // sequence number of the next entry, 0 when complete
	sum   byte // the short name's checksum they carry
	ok    bool
}

var lfnSlots = [13]int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30}

func (l *lfn) add(e []byte) {
	seq := int(e[0] & 0x1F)
	if e[0]&0x40 != 0 { // the last part of the name, which comes first
		*l = lfn{n: seq, next: seq, sum: e[13], ok: seq >= 1 && seq <= 20}
	}
	if !l.ok || seq == 0 || seq != l.next || e[13] != l.sum {
		l.ok = false
		return
	}
	for j, off := range lfnSlots {
		l.units[(seq-1)*13+j] = binary.LittleEndian.Uint16(e[off:])
	}
	l.next--
}

// name returns the long name if the entries are whole and belong to short.
func (l *lfn) name(short []byte) (string, bool) {
	if !l.ok || l.next != 0 || l.sum != lfnChecksum([11]byte(short)) {
		return "", false
	}
	u := l.units[:l.n*13]
	if i := slices.Index(u, 0); i >= 0 {
		u = u[:i]
	}
	if len(u) == 0 || len(u) > 255 {
		return "", false
	}
	return string(utf16.Decode(u)), true
}

// parseDir parses a directory's entries up to the end marker.
func (v *Volume) parseDir(buf []byte, d *File) ([]File, error) {
	dirPath := ""
	if d != nil {
		dirPath = d.Path
	}
	var out []File
	var long lfn
	for pos := 0; pos+dirEntrySize <= len(buf); pos += dirEntrySize {
		e := buf[pos : pos+dirEntrySize]
		attr := e[11]
		switch {
		case e[0] == 0:
			return out, nil
		case e[0] == 0xE5:
			long = lfn{}
			continue
		case attr&0x3F == attrLFN:
			long.add(e)
			continue
		case attr&attrVolumeID != 0:
			long = lfn{}
			continue
		}
		short := shortString(e)
		name, ok := long.name(e[:11])
		long = lfn{}
		if !ok {
			name = short
		}
		if name == "." || name == ".." {
			continue
		}
		if name == "" {
			return nil, fmt.Errorf(`%s\: entry %d has an empty name`, dirPath, pos/dirEntrySize)
		}
		if err := checkReadName(name); err != nil {
			return nil, fmt.Errorf(`%s\: entry %d: %v`, dirPath, pos/dirEntrySize, err)
		}
		f := File{Path: dirPath + `\` + name, Name: name, Dir: attr&attrDirectory != 0, Attr: attr, short: short}
		f.first = uint32(binary.LittleEndian.Uint16(e[26:]))
		if v.typ == FAT32 {
			f.first |= uint32(binary.LittleEndian.Uint16(e[20:])) << 16
		}
		if !f.Dir {
			f.Size = int64(binary.LittleEndian.Uint32(e[28:]))
		}
		out = append(out, f)
	}
	return out, nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// checkReadName refuses names that would change the meaning of a path.
func checkReadName(name string) error {
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`\/:*?"<>|`, r) {
			return fmt.Errorf("name %q: character %q is not allowed in a file name", name, r)
		}
	}
	return nil
}

// shortString is an 8.3 entry's name as Windows shows it: the NT case bits (byte 12) lower the
// base name (0x08) and the extension (0x10); other bytes are code page 437.
func shortString(e []byte) string {
	part := func(b []byte, lower bool) string {
		var s strings.Builder
		for i, c := range b {
			if i == 0 && c == 0x05 {
				c = 0xE5 // a name starting with E5 (a deleted entry's mark) is stored as 05
			}
			switch {
			case lower && c >= 'A' && c <= 'Z':
				s.WriteByte(c + 'a' - 'A')
			case c < 0x80:
				s.WriteByte(c)
			default:
				s.WriteRune(cp437[c-0x80])
			}
		}
		return s.String()
	}
	base := part([]byte(strings.TrimRight(string(e[0:8]), " ")), e[12]&0x08 != 0)
	ext := part([]byte(strings.TrimRight(string(e[8:11]), " ")), e[12]&0x10 != 0)
	if ext != "" {
		return base + "." + ext
	}
	return base
}

var cp437 = []rune("ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0")

// sortDir orders a directory's entries by lower-cased name and refuses duplicates.
func sortDir(files []File, dirPath string) error {
	keys := make([]string, len(files))
	idx := make([]int, len(files))
	for i := range files {
		keys[i], idx[i] = strings.ToLower(files[i].Name), i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sorted := make([]File, len(files))
	for i, j := range idx {
		sorted[i] = files[j]
		if i > 0 && keys[j] == keys[idx[i-1]] {
			return fmt.Errorf(`%s\: two entries named %q`, dirPath, files[j].Name)
		}
	}
	copy(files, sorted)
	return nil
}

// fileRuns follows a file's chain: exactly the clusters its size needs.
func (v *Volume) fileRuns(f *File, seen visited) ([]run, error) {
	need := (f.Size + v.cb - 1) / v.cb
	if f.Size == 0 {
		return nil, nil // an empty file has no clusters (its first cluster is 0, or ignored)
	}
	if f.first == 0 {
		return nil, fmt.Errorf("%s: %d bytes, but no clusters", f.Path, f.Size)
	}
	if need > int64(v.clusters) {
		return nil, fmt.Errorf("%s: %d bytes, more than the volume's %d clusters of %d bytes hold", f.Path, f.Size, v.clusters, v.cb)
	}
	runs, n, err := v.chain(f.first, need, seen)
	if err != nil {
		return nil, fmt.Errorf("%s (%d bytes, %d clusters): %v", f.Path, f.Size, need, err)
	}
	if n < need {
		return nil, fmt.Errorf("%s: %d bytes, but its cluster chain ends after %d clusters (%d bytes)", f.Path, f.Size, n, n*v.cb)
	}
	return runs, nil
}

// fileReader streams a file's clusters, up to its size.
type fileReader struct {
	v    *Volume
	path string
	runs []run
	off  int64 // in runs[0]
	left int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	run := r.runs[0]
	n := min(int64(len(p)), r.left, int64(run.n)*r.v.cb-r.off)
	m, err := r.v.r.ReadAt(p[:n], r.v.dataOff+int64(run.first-2)*r.v.cb+r.off)
	if int64(m) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return m, fmt.Errorf("%s: reading cluster %d: %v", r.path, run.first+uint32(r.off/r.v.cb), err)
	}
	r.off += n
	r.left -= n
	if r.off == int64(run.n)*r.v.cb {
		r.runs, r.off = r.runs[1:], 0
	}
	return int(n), nil
}

func (v *Volume) open(f *File, seen visited) (io.Reader, error) {
	runs, err := v.fileRuns(f, seen)
	if err != nil {
		return nil, err
	}
	return &fileReader{v: v, path: f.Path, runs: runs, left: f.Size}, nil
}

// Walk calls fn for every file and directory, parents before children, each directory's
// entries sorted by lower-cased name; r streams a file's content (nil for directories). Every
// cluster may belong to one chain only: loops, directory cycles and cross-linked files are
// errors that name the path.
func (v *Volume) Walk(fn func(f File, r io.Reader) error) error {
	seen := newVisited(v.clusters)
	files, n, err := v.readDir(nil, seen)
	if err != nil {
		return err
	}
	return v.walk(files, "", 1, n, seen, fn)
}

func (v *Volume) walk(files []File, dirPath string, pathUnits int, held int64, seen visited, fn func(File, io.Reader) error) error {
	if err := sortDir(files, dirPath); err != nil {
		return err
	}
	for i := range files {
		f := &files[i]
		units := pathUnits + utf16Len(f.Name)
		if units > MaxPathUnits {
			return fmt.Errorf("%s: a path of more than %d UTF-16 units", f.Path, MaxPathUnits)
		}
		if !f.Dir {
			r, err := v.open(f, seen)
			if err != nil {
				return err
			}
			if err := fn(*f, r); err != nil {
				return err
			}
			continue
		}
		if err := fn(*f, nil); err != nil {
			return err
		}
		children, n, err := v.readDir(f, seen)
		if err != nil {
			return err
		}
		if held+n > MaxHeldDirBytes {
			return fmt.Errorf("%s: the directories of this path hold more than %d bytes", f.Path, MaxHeldDirBytes)
		}
		if err := v.walk(children, f.Path, units+1, held+n, seen, fn); err != nil {
			return err
		}
	}
	return nil
}

// Open finds a file or directory by path (\ or / separated), comparing names as Windows does:
// case-insensitively, long or 8.3. r streams a file's content; it is nil for a directory. A
// path that is not there is an error wrapping fs.ErrNotExist.
func (v *Volume) Open(path string) (File, io.Reader, error) {
	seen := newVisited(v.clusters)
	var dir *File
	parts := splitPath(path)
	for i, part := range parts {
		files, _, err := v.readDir(dir, seen)
		if err != nil {
			return File{}, nil, err
		}
		var found *File
		for j := range files {
			if strings.EqualFold(files[j].Name, part) || strings.EqualFold(files[j].short, part) {
				found = &files[j]
				break
			}
		}
		if found == nil {
			return File{}, nil, fmt.Errorf(`\%s: %w`, strings.Join(parts[:i+1], `\`), fs.ErrNotExist)
		}
		if i < len(parts)-1 && !found.Dir {
			return File{}, nil, fmt.Errorf(`%s is a file, not a directory`, found.Path)
		}
		dir = found
	}
	if dir == nil {
		return File{Path: `\`, Dir: true, Attr: attrDirectory}, nil, nil
	}
	if dir.Dir {
		return *dir, nil, nil
	}
	r, err := v.open(dir, seen)
	return *dir, r, err
}

// Usage is how the volume's data clusters are spent: clusterBytes each, clusters in all, free
// of them marked free (0) in the FAT in use. The FAT is read in its cached blocks, so this
// takes a pass over the FAT, not over the data.
func (v *Volume) Usage() (clusterBytes, clusters, free int64, err error) {
	for c := uint32(2); c < v.clusters+2; c++ {
		e, err := v.entry(c)
		if err != nil {
			return 0, 0, 0, err
		}
		if e == 0 {
			free++
		}
	}
	return v.cb, int64(v.clusters), free, nil
}
