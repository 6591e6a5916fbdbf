package ntfs

import "unicode/utf16"

// Contents of the system files whose data does not depend on the tree.

// attrDefs is $AttrDef: the attribute types of NTFS 3.1 with their flags and size limits,
// 160 bytes each, ending in a zeroed entry; 0xA00 bytes as Windows writes it.
var attrDefs = []struct {
	name     string
	typ      uint32
	collate  uint32
	flags    uint32
	min, max int64
}{
	{"$STANDARD_INFORMATION", 0x10, 0, 0x40, 0x30, 0x48},
	{"$ATTRIBUTE_LIST", 0x20, 0, 0x80, 0, -1},
	{"$FILE_NAME", 0x30, 1, 0x42, 0x44, 0x242},
	{"$OBJECT_ID", 0x40, 0, 0x40, 0, 0x100},
	{"$SECURITY_DESCRIPTOR", 0x50, 0, 0x80, 0, -1},
	{"$VOLUME_NAME", 0x60, 0, 0x40, 2, 0x100},
	{"$VOLUME_INFORMATION", 0x70, 0, 0x40, 0xC, 0xC},
	{"$DATA", 0x80, 0, 0, 0, -1},
	{"$INDEX_ROOT", 0x90, 0, 0x40, 0, -1},
	{"$INDEX_ALLOCATION", 0xA0, 0, 0x80, 0, -1},
	{"$BITMAP", 0xB0, 0, 0x80, 0, -1},
	{"$REPARSE_POINT", 0xC0, 0, 0x80, 0, 0x4000},
	{"$EA_INFORMATION", 0xD0, 0, 0x40, 8, 8},
	{"$EA", 0xE0, 0, 0, 0, 0x10000},
	{"$LOGGED_UTILITY_STREAM", 0x100, 0, 0x80, 0, 0x10000},
}

func attrDefData() []byte {
	b := make([]byte, 0xA00)
	for i, d := range attrDefs {
		e := b[160*i:]
		putUTF16(e, utf16.Encode([]rune(d.name)))
		le.PutUint32(e[128:], d.typ)
		le.PutUint32(e[136:], d.collate)
		le.PutUint32(e[140:], d.flags)
		le.PutUint64(e[144:], uint64(d.min))
		le.PutUint64(e[152:], uint64(d.max))
	}
	return b
}

// secureID is the security ID every file and directory refers to in $STANDARD_INFORMATION:
// the first ID Windows hands out (0x100), the one descriptor in $Secure.
const secureID = 0x100

// Well-known SIDs.
var (
	sidSystem = sid(5, 18)      // NT AUTHORITY\SYSTEM
	sidAdmins = sid(5, 32, 544) // BUILTIN\Administrators
	sidUsers  = sid(5, 32, 545) // BUILTIN\Users
)

func sid(authority byte, sub ...uint32) []byte {
	b := make([]byte, 8+4*len(sub))
	b[0], b[1], b[7] = 1, byte(len(sub)), authority
	for i, s := range sub {
		le.PutUint32(b[8+4*i:], s)
	}
	return b
}

// defaultDescriptor is the self-relative security descriptor of every file: owner
// Administrators, group SYSTEM, and a DACL inherited by files and subdirectories (OI|CI) that
// gives SYSTEM and Administrators full control and Users read and execute.
func defaultDescriptor() []byte {
	type ace struct {
		mask uint32
		sid  []byte
	}
	aces := []ace{{0x1F01FF, sidSystem}, {0x1F01FF, sidAdmins}, {0x1200A9, sidUsers}}
	acl := make([]byte, 8)
	for _, a := range aces {
		e := make([]byte, 8+len(a.sid))
		e[0], e[1] = 0, 0x03 // ACCESS_ALLOWED, OBJECT_INHERIT|CONTAINER_INHERIT
		le.PutUint16(e[2:], uint16(len(e)))
		le.PutUint32(e[4:], a.mask)
		copy(e[8:], a.sid)
		acl = append(acl, e...)
	}
	acl[0] = 2
	le.PutUint16(acl[2:], uint16(len(acl)))
	le.PutUint16(acl[4:], uint16(len(aces)))
	sd := make([]byte, 20)
	sd[0] = 1
	le.PutUint16(sd[2:], 0x8004) // SELF_RELATIVE | DACL_PRESENT
	le.PutUint32(sd[16:], 20)    // DACL
	sd = append(sd, acl...)
	le.PutUint32(sd[4:], uint32(len(sd))) // owner
	sd = append(sd, sidAdmins...)
	le.PutUint32(sd[8:], uint32(len(sd))) // group
	sd = append(sd, sidSystem...)
	return sd
}

func securityHash(sd []byte) uint32 {
	var h uint32
	for i := 0; i+4 <= len(sd); i += 4 {
		h = (h>>29 | h<<3) + le.Uint32(sd[i:])
	}
	return h
}

// sdsMirror is where $SDS repeats each 256 KiB block.
const sdsMirror = 0x40000

// secureData returns $SDS (the descriptor at 0 and again at 256 KiB) and the $SDH and $SII
// index entries that find it.
func secureData() (sds, sdh, sii []byte) {
	sd := defaultDescriptor()
	hdr := make([]byte, 20)
	le.PutUint32(hdr[0:], securityHash(sd))
	le.PutUint32(hdr[4:], secureID)
	le.PutUint64(hdr[8:], 0)
	le.PutUint32(hdr[16:], uint32(20+len(sd)))
	entry := append(hdr, sd...)
	sds = make([]byte, sdsMirror+len(entry))
	copy(sds, entry)
	copy(sds[sdsMirror:], entry)

	// $SII: key security ID, data the $SDS header.
	sii = make([]byte, 40)
	le.PutUint16(sii[0:], 20) // data offset
	le.PutUint16(sii[2:], 20) // data length
	le.PutUint16(sii[8:], 40)
	le.PutUint16(sii[10:], 4)
	le.PutUint32(sii[16:], secureID)
	copy(sii[20:], hdr)
	// $SDH: key hash and ID, data the header and "II" padding as Windows writes it.
	sdh = make([]byte, 48)
	le.PutUint16(sdh[0:], 24)
	le.PutUint16(sdh[2:], 20)
	le.PutUint16(sdh[8:], 48)
	le.PutUint16(sdh[10:], 8)
	le.PutUint32(sdh[16:], securityHash(sd))
	le.PutUint32(sdh[20:], secureID)
	copy(sdh[24:], hdr)
	copy(sdh[44:], []byte{'I', 0, 'I', 0})
	return sds, sdh, sii
}

// indexRoot is an INDEX_ROOT value: the indexed attribute type, collation rule, index block
// size, then an index header and the entries (ending with an end entry).
func indexRoot(typ, collation uint32, blockBytes, clustersPerBlock int, large bool, entries []byte) []byte {
	b := make([]byte, 32+len(entries))
	le.PutUint32(b[0:], typ)
	le.PutUint32(b[4:], collation)
	le.PutUint32(b[8:], uint32(blockBytes))
	b[12] = byte(clustersPerBlock)
	le.PutUint32(b[16:], 16)
	le.PutUint32(b[20:], uint32(16+len(entries)))
	le.PutUint32(b[24:], uint32(16+len(entries)))
	if large {
		b[28] = 1
	}
	copy(b[32:], entries)
	return b
}

// endEntries returns entries followed by an end entry pointing to child (< 0: none).
func endEntries(entries []byte, child int64) []byte {
	e := make([]byte, indexEntrySize(0, child >= 0))
	putIndexEntry(e, 0, nil, child, true)
	return append(entries, e...)
}

// logFileSize follows mkntfs: small logs for small volumes, 1% of larger ones, at most 64 MiB.
func logFileSize(volume, cluster int64) int64 {
	var n int64
	switch {
	case volume < 2<<20:
		n = 256 << 10
	case volume < 4000000:
		n = 512 << 10
	case volume <= 200<<20:
		n = 2 << 20
	default:
		n = volume / 100
		if n > 64<<20 {
			n = 64 << 20
		}
	}
	return (n + cluster - 1) / cluster * cluster
}

// Quota owner IDs: 1 holds the volume's default limits, 0x100 is the first owner, here
// Administrators, who own every file (quota tracking is off: no file is charged).
const (
	quotaDefaultOwner = 1
	quotaAdminsOwner  = 0x100
)

// quotaEntries returns $Quota's index entries: $O maps owner SIDs to owner IDs, $Q holds a
// quota control entry per owner ID (version 2, default limits, no threshold or limit).
func (f *Writer) quotaEntries() (o, q []byte) {
	control := func(owner uint32, sid []byte) []byte {
		data := make([]byte, 48+len(sid))
		le.PutUint32(data[0:], 2)
		le.PutUint32(data[4:], 1) // QUOTA_FLAG_DEFAULT_LIMITS
		le.PutUint64(data[16:], f.t)
		le.PutUint64(data[24:], ^uint64(0)) // threshold: none
		le.PutUint64(data[32:], ^uint64(0)) // limit: none
		copy(data[48:], sid)
		e := make([]byte, align8(20+len(data)))
		le.PutUint16(e[0:], 20) // data offset
		le.PutUint16(e[2:], uint16(len(data)))
		le.PutUint16(e[8:], uint16(len(e)))
		le.PutUint16(e[10:], 4)
		le.PutUint32(e[16:], owner)
		copy(e[20:], data)
		return e
	}
	q = append(control(quotaDefaultOwner, nil), control(quotaAdminsOwner, sidAdmins)...)
	o = make([]byte, align8(16+len(sidAdmins)+8))
	le.PutUint16(o[0:], uint16(16+len(sidAdmins))) // data offset
	le.PutUint16(o[2:], 4)                         // data length: the owner ID
	le.PutUint16(o[8:], uint16(len(o)))
	le.PutUint16(o[10:], uint16(len(sidAdmins)))
	copy(o[16:], sidAdmins)
	le.PutUint32(o[16+len(sidAdmins):], quotaAdminsOwner)
	return o, q
}
