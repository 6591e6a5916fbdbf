package wim

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// node is an entry of the image being written.
type node struct {
	name     []uint16 // UTF-16 name; empty for the root
	attrs    uint32
	dir      bool
	explicit bool // added by AddDir/AddFile, not only implied by a deeper path
	size     int64
	hash     [20]byte         // SHA-1 of the content; zero for directories and empty files
	children map[string]*node // by foldName
	sorted   []*node          // children in on-disk order, set by layout
	subdir   uint64           // offset of the children list in the metadata resource
}

// upcase maps a UTF-16 code unit to upper case as Windows compares names: by code unit,
// with the simple Unicode upper-case mapping (NTFS's $UpCase table, which wimlib also
// uses, agrees for practically all names). Surrogates are left alone.
func upcase(u uint16) uint16 {
	if u < 0x80 {
		if 'a' <= u && u <= 'z' {
			return u - ('a' - 'A')
		}
		return u
	}
	if utf16.IsSurrogate(rune(u)) {
		return u
	}
	if r := unicode.ToUpper(rune(u)); r <= 0xFFFF {
		return uint16(r)
	}
	return u
}

// foldName is the case-insensitive identity of a name: two names with the same fold
// cannot be siblings, as on the NTFS and FAT volumes images come from and go to.
func foldName(name []uint16) string {
	b := make([]byte, 2*len(name))
	for i, u := range name {
		binary.LittleEndian.PutUint16(b[2*i:], upcase(u))
	}
	return string(b)
}

// compareNames orders siblings as wimlib does: by upper-cased code units, then by code
// units (the second never decides here, since folded names are unique).
func compareNames(a, b []uint16) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ua, ub := upcase(a[i]), upcase(b[i]); ua != ub {
			return int(ua) - int(ub)
		}
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return slices.Compare(a, b)
}

// splitPath splits a path in the image ('/' or '\' between names, leading separators
// ignored) into UTF-16 names, rejecting what no Windows volume could hold.
func splitPath(p string) ([][]uint16, error) {
	p = strings.TrimLeft(p, `/\`)
	if p == "" {
		return nil, nil
	}
	var names [][]uint16
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' && p[i] != '\\' {
			continue
		}
		name := p[start:i]
		start = i + 1
		switch {
		case name == "":
			if i == len(p) {
				continue // trailing separator
			}
			return nil, fmt.Errorf("path %q: empty name between separators", p)
		case name == "." || name == "..":
			return nil, fmt.Errorf("path %q: %q is not a file name", p, name)
		case !utf8.ValidString(name):
			return nil, fmt.Errorf("path %q: name is not valid UTF-8", p)
		case strings.ContainsRune(name, 0):
			return nil, fmt.Errorf("path %q: name contains NUL", p)
		}
		u := utf16.Encode([]rune(name))
		if len(u) > 32767 {
			return nil, fmt.Errorf("path %q: name of %d UTF-16 units; a WIM name holds at most 32767", p, len(u))
		}
		names = append(names, u)
	}
	return names, nil
}

// dentryLen is the on-disk size of a directory entry: the fixed part, the name and its
// NUL terminator (none for the empty root name), padded to 8 bytes.
func dentryLen(n *node) uint64 {
	l := uint64(dentryFixedSize)
	if len(n.name) > 0 {
		l += uint64(2*len(n.name)) + 2
	}
	return (l + 7) &^ 7
}

// buildMetadata builds the metadata resource: security data, then the root entry and an
// end-of-list mark, then each directory's children list (children in compareNames order,
// ended by 8 zero bytes) in depth-first pre-order of the directories, which is wimlib's
// layout. Every directory, even an empty one, has a list, as wimlib writes.
func buildMetadata(root *node, sd []byte, ft uint64) []byte {
	secLen := 8
	if sd != nil {
		secLen = 8 + 8 + len(sd)
	}
	secLen = (secLen + 7) &^ 7
	off := uint64(secLen) + dentryLen(root) + 8
	var lay func(d *node)
	lay = func(d *node) {
		if !d.dir {
			return
		}
		d.sorted = d.sorted[:0]
		for _, c := range d.children {
			d.sorted = append(d.sorted, c)
		}
		slices.SortFunc(d.sorted, func(a, b *node) int { return compareNames(a.name, b.name) })
		d.subdir = off
		for _, c := range d.sorted {
			off += dentryLen(c)
		}
		off += 8
		for _, c := range d.sorted {
			lay(c)
		}
	}
	lay(root)

	buf := make([]byte, 0, off)
	var sec [16]byte
	if sd == nil {
		binary.LittleEndian.PutUint32(sec[0:], 8)
		buf = append(buf, sec[:8]...)
	} else {
		binary.LittleEndian.PutUint32(sec[0:], uint32(secLen))
		binary.LittleEndian.PutUint32(sec[4:], 1)
		binary.LittleEndian.PutUint64(sec[8:], uint64(len(sd)))
		buf = append(buf, sec[:]...)
		buf = append(buf, sd...)
		buf = append(buf, make([]byte, secLen-len(buf))...)
	}
	secID := uint32(0xFFFFFFFF)
	if sd != nil {
		secID = 0
	}
	put := func(n *node) {
		l := dentryLen(n)
		e := make([]byte, l)
		binary.LittleEndian.PutUint64(e[0:], l)
		binary.LittleEndian.PutUint32(e[8:], n.attrs)
		binary.LittleEndian.PutUint32(e[12:], secID)
		if n.dir {
			binary.LittleEndian.PutUint64(e[16:], n.subdir)
		}
		// 24: two unused u64s
		binary.LittleEndian.PutUint64(e[40:], ft) // creation
		binary.LittleEndian.PutUint64(e[48:], ft) // last access
		binary.LittleEndian.PutUint64(e[56:], ft) // last write
		copy(e[64:84], n.hash[:])
		// 84: unknown u32; 88: reparse tag / hard link group id (0: not hard-linked);
		// 96: number of extra streams; 98: short name length (no short names)
		binary.LittleEndian.PutUint16(e[100:], uint16(2*len(n.name)))
		for i, u := range n.name {
			binary.LittleEndian.PutUint16(e[102+2*i:], u)
		}
		buf = append(buf, e...)
	}
	var end [8]byte
	put(root)
	buf = append(buf, end[:]...)
	var write func(d *node)
	write = func(d *node) {
		for _, c := range d.sorted {
			put(c)
		}
		buf = append(buf, end[:]...)
		for _, c := range d.sorted {
			if c.dir {
				write(c)
			}
		}
	}
	write(root)
	return buf
}
