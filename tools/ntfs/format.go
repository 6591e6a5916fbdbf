package ntfs

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode"
	"unicode/utf16"
)

// On-disk structures of NTFS 3.1 (layout as documented by the Linux-NTFS project and ntfs-3g's
// layout.h): MFT records, attributes, runlists, file names, index entries and the $UpCase table.

var le = binary.LittleEndian

// Attribute types.
const (
	atStandardInfo = 0x10
	atFileName     = 0x30
	atVolumeName   = 0x60
	atVolumeInfo   = 0x70
	atData         = 0x80
	atIndexRoot    = 0x90
	atIndexAlloc   = 0xA0
	atBitmap       = 0xB0
	atEnd          = 0xFFFFFFFF
)

// File name namespaces.
const (
	nsPOSIX    = 0
	nsWin32    = 1
	nsDOS      = 2
	nsWin32DOS = 3
)

// MFT record flags.
const (
	recInUse     = 0x01
	recDirectory = 0x02
	recInExtend  = 0x04 // "IS_4" in ntfs-3g: set on $Extend's files
	recViewIndex = 0x08
)

// Collation rules of view indexes.
const (
	collationULong        = 0x10
	collationSID          = 0x11
	collationSecurityHash = 0x12
	collationULongs       = 0x13
)

// Index entry flags.
const (
	ieNode = 0x01
	ieEnd  = 0x02
)

const blockSize = 512 // update sequence stride, whatever the sector size

func align8(n int) int { return (n + 7) &^ 7 }

type run struct{ lcn, n int64 } // lcn < 0: sparse

func runClusters(runs []run) int64 {
	var n int64
	for _, r := range runs {
		n += r.n
	}
	return n
}

// signedBytes is the fewest bytes that hold v as a two's complement number.
func signedBytes(v int64) int {
	n := 1
	for n < 8 && (v < -(int64(1)<<(8*n-1)) || v >= int64(1)<<(8*n-1)) {
		n++
	}
	return n
}

// encodeRuns writes a mapping pairs array: per run a header byte (offset size << 4 | length
// size), the length, and the LCN as a signed delta from the previous run's.
func encodeRuns(runs []run) []byte {
	var out []byte
	var prev int64
	put := func(v int64, n int) {
		for i := 0; i < n; i++ {
			out = append(out, byte(v>>(8*i)))
		}
	}
	for _, r := range runs {
		lb := signedBytes(r.n)
		if r.lcn < 0 {
			out = append(out, byte(lb))
			put(r.n, lb)
			continue
		}
		d := r.lcn - prev
		ob := signedBytes(d)
		out = append(out, byte(ob<<4|lb))
		put(r.n, lb)
		put(d, ob)
		prev = r.lcn
	}
	return append(out, 0)
}

// decodeRuns reads a mapping pairs array of a volume of clusters clusters: every run has a
// positive length, allocated runs lie within the volume, and the runs together cover at most
// the volume (a sparse run as much as the allocated ones: this reader refuses sparse files, and
// $BadClus:$Bad covers exactly the volume). The number of runs is bounded by len(b)/2.
func decodeRuns(b []byte, clusters int64) ([]run, error) {
	var runs []run
	var lcn, total int64
	for i := 0; i < len(b) && b[i] != 0; {
		at := i
		lb, ob := int(b[i]&0xF), int(b[i]>>4)
		i++
		if lb == 0 || lb > 8 || ob > 8 || i+lb+ob > len(b) {
			return nil, fmt.Errorf("runlist: bad header 0x%02X at byte %d", b[at], at)
		}
		n := signedAt(b[i:], lb)
		i += lb
		if n <= 0 || n > clusters-total {
			return nil, fmt.Errorf("runlist: run at byte %d has length %d clusters, expected 1..%d (the volume's %d clusters less the %d before it)", at, n, clusters-total, clusters, total)
		}
		total += n
		if ob == 0 {
			runs = append(runs, run{-1, n})
			continue
		}
		// lcn is within [0, clusters), so the comparisons cannot overflow.
		d := signedAt(b[i:], ob)
		i += ob
		if d < -lcn || d >= clusters-lcn || n > clusters-(lcn+d) {
			return nil, fmt.Errorf("runlist: run at byte %d (LCN %d%+d, %d clusters) lies outside the volume's %d clusters", at, lcn, d, n, clusters)
		}
		lcn += d
		runs = append(runs, run{lcn, n})
	}
	return runs, nil
}

func signedAt(b []byte, n int) int64 {
	var v int64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | int64(b[i])
	}
	shift := uint(64 - 8*n)
	return v << shift >> shift
}

// applyFixups protects a multi-sector record: the last two bytes of every 512-byte block move
// to the update sequence array and are replaced by the update sequence number.
func applyFixups(b []byte, usaOff int) {
	count := len(b)/blockSize + 1
	const usn = 1
	le.PutUint16(b[usaOff:], usn)
	for i := 1; i < count; i++ {
		end := i*blockSize - 2
		copy(b[usaOff+2*i:usaOff+2*i+2], b[end:end+2])
		le.PutUint16(b[end:], usn)
	}
}

// undoFixups checks and reverses applyFixups on a record or index block of a multiple of 512
// bytes whose header is hdr bytes: the update sequence array lies after the header, within the
// record, and has one entry per 512-byte stride plus the update sequence number.
func undoFixups(b []byte, hdr int) error {
	usaOff, count := int(le.Uint16(b[4:])), int(le.Uint16(b[6:]))
	if want := len(b)/blockSize + 1; count != want || usaOff < hdr || usaOff%2 != 0 || usaOff+2*count > len(b) {
		return fmt.Errorf("update sequence array of %d entries at %d, expected %d entries at an even offset from %d within the %d-byte record", count, usaOff, want, hdr, len(b))
	}
	usn := le.Uint16(b[usaOff:])
	for i := 1; i < count; i++ {
		end := i*blockSize - 2
		if le.Uint16(b[end:]) != usn {
			return fmt.Errorf("torn record: block %d does not end in the update sequence number", i)
		}
		copy(b[end:end+2], b[usaOff+2*i:usaOff+2*i+2])
	}
	return nil
}

// record builds one MFT record.
type record struct {
	b    []byte
	off  int
	inst uint16
	num  uint64
}

func newRecord(size int, num uint64, seq, flags, links uint16) *record {
	b := make([]byte, size)
	copy(b, "FILE")
	count := size/blockSize + 1
	le.PutUint16(b[4:], 0x30)
	le.PutUint16(b[6:], uint16(count))
	le.PutUint16(b[16:], seq)
	le.PutUint16(b[18:], links)
	off := align8(0x30 + 2*count)
	le.PutUint16(b[20:], uint16(off))
	le.PutUint16(b[22:], flags)
	le.PutUint32(b[28:], uint32(size))
	le.PutUint32(b[44:], uint32(num))
	return &record{b: b, off: off, num: num}
}

func recordAttrsOffset(size int) int { return align8(0x30 + 2*(size/blockSize+1)) }

func (r *record) room(n int, typ uint32) error {
	if r.off+n+8 > len(r.b) {
		return fmt.Errorf("MFT record %d: attribute 0x%X needs %d bytes, %d left", r.num, typ, n, len(r.b)-r.off-8)
	}
	return nil
}

func residentSize(nameLen, valueLen int) int { return align8(align8(24+2*nameLen) + valueLen) }

func (r *record) resident(typ uint32, name string, value []byte, indexed bool) error {
	nm := utf16.Encode([]rune(name))
	valOff := align8(24 + 2*len(nm))
	total := align8(valOff + len(value))
	if err := r.room(total, typ); err != nil {
		return err
	}
	a := r.b[r.off : r.off+total]
	le.PutUint32(a[0:], typ)
	le.PutUint32(a[4:], uint32(total))
	a[9] = byte(len(nm))
	le.PutUint16(a[10:], 24)
	le.PutUint16(a[14:], r.inst)
	le.PutUint32(a[16:], uint32(len(value)))
	le.PutUint16(a[20:], uint16(valOff))
	if indexed {
		a[22] = 1
	}
	putUTF16(a[24:], nm)
	copy(a[valOff:], value)
	r.inst++
	r.off += total
	return nil
}

func nonResidentSize(nameLen int, runs []run) int {
	return align8(align8(64+2*nameLen) + len(encodeRuns(runs)))
}

func (r *record) nonResident(typ uint32, name string, runs []run, alloc, size, init int64) error {
	nm := utf16.Encode([]rune(name))
	mp := encodeRuns(runs)
	mpOff := align8(64 + 2*len(nm))
	total := align8(mpOff + len(mp))
	if err := r.room(total, typ); err != nil {
		return err
	}
	a := r.b[r.off : r.off+total]
	le.PutUint32(a[0:], typ)
	le.PutUint32(a[4:], uint32(total))
	a[8] = 1
	a[9] = byte(len(nm))
	le.PutUint16(a[10:], 64)
	le.PutUint16(a[14:], r.inst)
	le.PutUint64(a[24:], uint64(runClusters(runs)-1))
	le.PutUint16(a[32:], uint16(mpOff))
	le.PutUint64(a[40:], uint64(alloc))
	le.PutUint64(a[48:], uint64(size))
	le.PutUint64(a[56:], uint64(init))
	putUTF16(a[64:], nm)
	copy(a[mpOff:], mp)
	r.inst++
	r.off += total
	return nil
}

// finish ends the attribute list and protects the record; the bytes are final.
func (r *record) finish() []byte {
	le.PutUint32(r.b[r.off:], atEnd)
	le.PutUint32(r.b[24:], uint32(r.off+8))
	le.PutUint16(r.b[40:], r.inst)
	applyFixups(r.b, 0x30)
	return r.b
}

func putUTF16(b []byte, s []uint16) {
	for i, c := range s {
		le.PutUint16(b[2*i:], c)
	}
}

func getUTF16(b []byte, n int) []uint16 {
	s := make([]uint16, n)
	for i := range s {
		s[i] = le.Uint16(b[2*i:])
	}
	return s
}

// ntTime is t in 100 ns units since 1601-01-01 UTC.
func ntTime(t time.Time) uint64 {
	return uint64(t.Unix())*10000000 + uint64(t.Nanosecond()/100) + 116444736000000000
}

func standardInfo(t uint64, attr uint32) []byte {
	b := make([]byte, 72)
	for i := 0; i < 4; i++ {
		le.PutUint64(b[8*i:], t)
	}
	le.PutUint32(b[32:], attr)
	le.PutUint32(b[52:], secureID)
	return b
}

func fileNameValue(parent, t uint64, alloc, size int64, attr uint32, ns byte, name []uint16) []byte {
	b := make([]byte, 66+2*len(name))
	le.PutUint64(b[0:], parent)
	for i := 0; i < 4; i++ {
		le.PutUint64(b[8+8*i:], t)
	}
	le.PutUint64(b[40:], uint64(alloc))
	le.PutUint64(b[48:], uint64(size))
	le.PutUint32(b[56:], attr)
	b[64] = byte(len(name))
	b[65] = ns
	putUTF16(b[66:], name)
	return b
}

func fileRef(rec uint64, seq uint16) uint64 { return rec | uint64(seq)<<48 }

// Index entries of file name indexes: the file reference, sizes, flags, the FILE_NAME value as
// key, and for entries of non-leaf nodes the VCN of the child node in the last 8 bytes.
func indexEntrySize(keyLen int, node bool) int {
	n := align8(16 + keyLen)
	if node {
		n += 8
	}
	return n
}

func putIndexEntry(b []byte, ref uint64, key []byte, child int64, last bool) int {
	n := indexEntrySize(len(key), child >= 0)
	le.PutUint64(b[0:], ref)
	le.PutUint16(b[8:], uint16(n))
	le.PutUint16(b[10:], uint16(len(key)))
	var flags uint16
	if child >= 0 {
		flags |= ieNode
		le.PutUint64(b[n-8:], uint64(child))
	}
	if last {
		flags |= ieEnd
	}
	le.PutUint16(b[12:], flags)
	copy(b[16:], key)
	return n
}

// upcase is the $UpCase table: Unicode simple upper-case mappings of the BMP, except mappings
// from non-ASCII to ASCII letters (U+0131, U+017F), which Windows' table does not make.
var upcase = func() []uint16 {
	t := make([]uint16, 65536)
	for i := range t {
		t[i] = uint16(i)
		if i >= 0xD800 && i < 0xE000 {
			continue
		}
		u := unicode.ToUpper(rune(i))
		if u != rune(i) && u < 0x10000 && !(i >= 0x80 && u < 0x80) {
			t[i] = uint16(u)
		}
	}
	return t
}()

// collate orders names as COLLATION_FILE_NAME: upper-cased through $UpCase, then, for names
// equal but for case, by code unit.
func collate(a, b []uint16) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if x, y := upcase[a[i]], upcase[b[i]]; x != y {
			return int(x) - int(y)
		}
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

func upperKey(s []uint16) string {
	u := make([]uint16, len(s))
	for i, c := range s {
		u[i] = upcase[c]
	}
	return string(utf16.Decode(u))
}
