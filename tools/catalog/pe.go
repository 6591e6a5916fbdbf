package catalog

import (
	"crypto"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash"
)

// The Authenticode PE image hash, what MakeCat's PE SIP ({C689AAB8-8E78-11D0-8C47-00C04FC295EE})
// puts in a catalog member for a PE file (.dll, .exe, .sys, .efi, .mui... any file whose bytes
// are a PE image, whatever its name), and what code integrity looks up on a device.
//
// The hash runs over the file from its first byte to the start of its certificate table (the
// end of the file when there is none) in file order, leaving out three ranges: the optional
// header's CheckSum (4 bytes), the certificate table's data-directory entry (8 bytes) and the
// certificate table itself, which must be the last thing in the file. A file without a
// certificate table whose size is not a multiple of 8 is hashed as if padded with zeros to
// one: signing appends the table at the next multiple of 8, so an image keeps its hash when it
// is signed (osslsigncode and relic's DigestPE do the same). For an image whose sections follow
// the headers and each other, as linkers write them, this is the Authenticode specification's
// hash of the headers, then the sections in file order, then the data after them.
//
// What is a PE image is decided from the bytes, not the name: "MZ" at 0 and "PE\0\0" at the
// offset the DOS header's e_lfanew gives, within the first peHeadLimit bytes (the signatures a
// PE loader checks; osslsigncode picks its PE handler by the same two). Anything else is a
// flat file (hashed whole). A file that has both signatures but whose headers lie (truncated,
// an unknown optional header magic, no certificate directory entry, more than 96 sections, a
// section table or section data past the end of the file, a certificate table that is not
// 8-aligned or not exactly at the end of the file) is refused with an error naming the file
// and the field rather than hashed flat: a flat member for a file the device treats as a PE
// image would never match there, and MakeCat too fails a member its SIP cannot hash (we have
// not seen which malformations Windows' PE SIP tolerates, so this errs on refusing). Memory is
// bounded by peHeadLimit per file, whatever the header fields say. The hash was checked
// against MakeCat's own: the SHA-256 member of osslsigncode's tests/files/unsigned.exe in its
// MakeCat catalog tests/files/unsigned.cat (a file 6 bytes past a multiple of 8, so the
// padding is MakeCat's too).

const (
	peSIP = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}" // the SIP MakeCat names for PE images
	// peHeadLimit bounds where the PE headers, through the section table, may lie: the bytes
	// a Hasher buffers before it knows the file's layout.
	peHeadLimit = 64 << 10
	// peMaxSections is the loader's limit on NumberOfSections (PE format specification).
	peMaxSections = 96
)

// peLayout is what the PE hash needs from the headers: the ranges it leaves out and the bounds
// checked once the file's size is known.
type peLayout struct {
	checksum    int64 // offset of the optional header's CheckSum (4 bytes)
	certDir     int64 // offset of the certificate table's data-directory entry (8 bytes)
	certOff     int64 // certificate table offset; 0 when there is none
	certSize    int64
	headerSize  int64 // SizeOfHeaders
	sectionsEnd int64 // the largest PointerToRawData+SizeOfRawData of a section with data
}

// parsePE reads the headers of a file from head, its first bytes (all of it when complete,
// else peHeadLimit bytes). It returns isPE false for a flat file; for a PE image, its layout or
// the error saying which header field is inconsistent.
func parsePE(head []byte, complete bool) (l peLayout, isPE bool, err error) {
	if len(head) < 64 || head[0] != 'M' || head[1] != 'Z' {
		return l, false, nil
	}
	pe := int64(binary.LittleEndian.Uint32(head[0x3c:]))
	if pe+4 > int64(len(head)) || string(head[pe:pe+4]) != "PE\x00\x00" {
		return l, false, nil // a DOS program, or MZ by chance
	}
	where := "the end of the file"
	if !complete {
		where = fmt.Sprintf("the first %d bytes, where its headers must be", peHeadLimit)
	}
	u16 := func(off int64) int64 { return int64(binary.LittleEndian.Uint16(head[off:])) }
	u32 := func(off int64) int64 { return int64(binary.LittleEndian.Uint32(head[off:])) }
	coff := pe + 4
	if coff+20 > int64(len(head)) {
		return l, true, fmt.Errorf("PE image: the COFF header at 0x%x runs past %s", coff, where)
	}
	sections, optSize := u16(coff+2), u16(coff+16)
	opt := coff + 20
	if opt+2 > int64(len(head)) {
		return l, true, fmt.Errorf("PE image: the optional header at 0x%x runs past %s", opt, where)
	}
	var dirs int64 // offset of the data directories in the optional header
	switch magic := u16(opt); magic {
	case 0x10b:
		dirs = 96
	case 0x20b:
		dirs = 112
	default:
		return l, true, fmt.Errorf("PE image: optional header magic 0x%x at 0x%x, expected 0x10b (PE32) or 0x20b (PE32+)", magic, opt)
	}
	if optSize < dirs+5*8 {
		return l, true, fmt.Errorf("PE image: SizeOfOptionalHeader %d has no certificate table entry (at least %d expected)", optSize, dirs+5*8)
	}
	if opt+optSize > int64(len(head)) {
		return l, true, fmt.Errorf("PE image: the optional header (0x%x, %d bytes) runs past %s", opt, optSize, where)
	}
	if n := u32(opt + dirs - 4); n < 5 {
		return l, true, fmt.Errorf("PE image: NumberOfRvaAndSizes %d has no certificate table entry (5 expected)", n)
	}
	l.checksum, l.certDir = opt+64, opt+dirs+4*8
	l.headerSize = u32(opt + 60)
	l.certOff, l.certSize = u32(l.certDir), u32(l.certDir+4)
	if sections > peMaxSections {
		return l, true, fmt.Errorf("PE image: NumberOfSections %d, at most %d expected", sections, peMaxSections)
	}
	table := opt + optSize
	if end := table + 40*sections; end > int64(len(head)) {
		return l, true, fmt.Errorf("PE image: the section table (0x%x, %d sections) runs past %s", table, sections, where)
	} else if end > l.headerSize {
		return l, true, fmt.Errorf("PE image: the section table ends at 0x%x, past SizeOfHeaders 0x%x", end, l.headerSize)
	}
	for i := int64(0); i < sections; i++ {
		s := table + 40*i
		if size := u32(s + 16); size != 0 {
			l.sectionsEnd = max(l.sectionsEnd, u32(s+20)+size)
		}
	}
	switch {
	case l.certOff == 0 && l.certSize == 0:
	case l.certOff == 0 || l.certSize == 0:
		return l, true, fmt.Errorf("PE image: certificate table entry (offset 0x%x, size %d) has one field zero", l.certOff, l.certSize)
	case l.certOff%8 != 0:
		return l, true, fmt.Errorf("PE image: certificate table offset 0x%x is not 8-aligned", l.certOff)
	case l.certOff < l.headerSize || l.certOff < l.sectionsEnd:
		return l, true, fmt.Errorf("PE image: certificate table at 0x%x overlaps the headers (to 0x%x) or the sections (to 0x%x)", l.certOff, l.headerSize, l.sectionsEnd)
	}
	return l, true, nil
}

// check checks the layout against the file's size.
func (l *peLayout) check(size int64) error {
	switch {
	case l.headerSize > size:
		return fmt.Errorf("PE image: SizeOfHeaders 0x%x is past the end of the file (%d bytes)", l.headerSize, size)
	case l.sectionsEnd > size:
		return fmt.Errorf("PE image: section data runs to 0x%x, past the end of the file (%d bytes)", l.sectionsEnd, size)
	case l.certOff != 0 && l.certOff+l.certSize != size:
		return fmt.Errorf("PE image: certificate table 0x%x..0x%x is not the end of the file (%d bytes)", l.certOff, l.certOff+l.certSize, size)
	}
	return nil
}

// Digest is a file's catalog digest, as a Hasher computed it.
type Digest struct {
	Flat []byte // the hash of the whole file
	PE   []byte // the Authenticode PE image hash; nil when the file is not a PE image
}

// Hasher computes a file's catalog digests from its content, written to it in order (it is an
// io.Writer for io.Copy and io.TeeReader): the flat hash always, and the PE image hash when the
// content is a PE image. It buffers at most peHeadLimit bytes.
type Hasher struct {
	alg      crypto.Hash
	flat, pe hash.Hash
	newHash  func() hash.Hash
	head     []byte // the first bytes, while undecided
	n        int64  // bytes written
	decided  bool
	layout   peLayout
	err      error   // the PE image's headers are inconsistent
	done     *Digest // Sum's result
}

// NewHasher returns a Hasher of algorithm alg (SHA-1 or SHA-256; anything else is SHA-1).
func NewHasher(alg crypto.Hash) *Hasher {
	h := &Hasher{alg: crypto.SHA1, newHash: sha1.New}
	if alg == crypto.SHA256 {
		h.alg, h.newHash = crypto.SHA256, crypto.SHA256.New
	}
	h.flat = h.newHash()
	return h
}

// Hash is h's algorithm.
func (h *Hasher) Hash() crypto.Hash { return h.alg }

// Write hashes p; it never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	n, at := len(p), h.n
	h.n += int64(len(p))
	h.flat.Write(p)
	if !h.decided {
		take := min(len(p), peHeadLimit-len(h.head))
		h.head = append(h.head, p[:take]...)
		if len(h.head) < peHeadLimit {
			return n, nil
		}
		h.decide(false)
		at, p = int64(peHeadLimit), p[take:]
	}
	if h.pe != nil {
		h.writePE(at, p)
	}
	return n, nil
}

func (h *Hasher) decide(complete bool) {
	h.decided = true
	l, isPE, err := parsePE(h.head, complete)
	switch {
	case err != nil:
		h.err = err
	case isPE:
		h.layout, h.pe = l, h.newHash()
		h.writePE(0, h.head)
	}
	h.head = nil
}

// writePE hashes b, the bytes at offset at of the file, but for the ranges the PE hash leaves
// out.
func (h *Hasher) writePE(at int64, b []byte) {
	l := &h.layout
	skips := [3][2]int64{{l.checksum, l.checksum + 4}, {l.certDir, l.certDir + 8}, {l.certOff, 1<<63 - 1}}
	n := 2
	if l.certOff != 0 {
		n = 3
	}
	for _, s := range skips[:n] {
		end := at + int64(len(b))
		if end <= s[0] {
			break
		}
		if at < s[0] {
			h.pe.Write(b[:s[0]-at])
		}
		if end <= s[1] {
			return
		}
		if at < s[1] {
			b, at = b[s[1]-at:], s[1]
		}
	}
	h.pe.Write(b)
}

// Sum returns the digests of what was written; write nothing after it. The error (Flat is set
// all the same) says why content that begins as a PE image cannot have a PE image hash.
func (h *Hasher) Sum() (Digest, error) {
	if h.done != nil {
		return *h.done, h.err
	}
	if !h.decided {
		h.decide(true)
	}
	d := Digest{Flat: h.flat.Sum(nil)}
	if h.err == nil && h.pe != nil {
		if h.err = h.layout.check(h.n); h.err == nil {
			if h.layout.certOff == 0 && h.n%8 != 0 {
				h.pe.Write(make([]byte, 8-h.n%8))
			}
			d.PE = h.pe.Sum(nil)
		}
	}
	h.done = &d
	return d, h.err
}

// Entry returns the catalog entry of the file called name whose content was written to h: a
// PE member with the PE image hash for a PE image, else a flat one. The error names the file.
func (h *Hasher) Entry(name string) (Entry, error) {
	d, err := h.Sum()
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %v", name, err)
	}
	if d.PE != nil {
		return Entry{File: name, Digest: d.PE, PE: true}, nil
	}
	return Entry{File: name, Digest: d.Flat}, nil
}
