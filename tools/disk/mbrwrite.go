package disk

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// MBRExtendedType is the type of the extended partition that holds an MBR disk's logical
// partitions (the fourth entry on, when there are more than four): the type the Microsoft
// reader takes for a container.
const MBRExtendedType = 0x05

// MBRTables encodes the partition tables of an MBR disk whose partitions are parts, in table
// order: the MBR at sector 0 with the disk signature, when there are more than four
// partitions one extended boot record per logical partition (the fourth on) at its EBR
// sector, and the header and entries of the MBR_META partition (type 0x70) that names them
// all. Each entry's Type is its type byte ("0x0c"); Attributes' MBRBootable bit is the boot
// flag. Entries carry no CHS addresses (zeros, as ImageApp writes them): LBA only.
func MBRTables(sectorSize, signature uint32, parts []Partition) ([]Record, error) {
	ss := int(sectorSize)
	types := make([]byte, len(parts))
	meta := -1
	for i, p := range parts {
		t, err := strconv.ParseUint(strings.TrimPrefix(p.Type, "0x"), 16, 8)
		if !IsMBRType(p.Type) || err != nil {
			return nil, fmt.Errorf("MBR: partition %s: type %q is not an MBR type byte", p.Name, p.Type)
		}
		types[i] = byte(t)
		if t == MBRTypeMeta {
			meta = i
		}
	}
	if meta < 0 {
		return nil, fmt.Errorf("MBR: no MBR_META partition (type 0x%02x)", MBRTypeMeta)
	}
	mbr := make([]byte, ss)
	binary.LittleEndian.PutUint32(mbr[440:], signature)
	mbr[510], mbr[511] = 0x55, 0xAA
	out := []Record{{0, mbr}}
	primary, logical := parts, []Partition(nil)
	if len(parts) > 4 {
		primary, logical = parts[:3], parts[3:]
	}
	put := func(b []byte, i int, start, n uint64) {
		putMBREntry(b, parts[i].Attributes&MBRBootable != 0, types[i], start, n)
	}
	for i, p := range primary {
		put(mbr[mbrEntriesOffset+16*i:], i, p.FirstLBA, p.Sectors())
	}
	if len(logical) > 0 {
		ext := logical[0].EBR
		putMBREntry(mbr[mbrEntriesOffset+16*3:], false, MBRExtendedType, ext, logical[len(logical)-1].LastLBA-ext+1)
		for k, p := range logical {
			ebr := make([]byte, ss)
			ebr[510], ebr[511] = 0x55, 0xAA
			// The logical partition, relative to its EBR; the next EBR, relative to the
			// extended partition's start.
			put(ebr[mbrEntriesOffset:], 3+k, p.FirstLBA-p.EBR, p.Sectors())
			if k+1 < len(logical) {
				next := logical[k+1]
				putMBREntry(ebr[mbrEntriesOffset+16:], false, MBRExtendedType, next.EBR-ext, next.LastLBA-next.EBR+1)
			}
			out = append(out, Record{p.EBR, ebr})
		}
	}
	m, err := mbrMeta(sectorSize, parts, meta)
	if err != nil {
		return nil, err
	}
	return append(out, m), nil
}

func putMBREntry(b []byte, bootable bool, typ byte, start, n uint64) {
	if bootable {
		b[0] = 0x80
	}
	b[4] = typ
	binary.LittleEndian.PutUint32(b[8:], uint32(start))
	binary.LittleEndian.PutUint32(b[12:], uint32(n))
}

// mbrMeta encodes MBR_META (parts[meta]), as the Microsoft reader and the device's storage
// helper read it: u32 signature 0x00080001, u32 maximum entry count, u32 entry count, then per
// partition (MBR_META included, in table order) u64 byte offset on the disk, its name in 36
// UTF-16LE characters (NUL-padded) and its partition GUID (16 bytes).
func mbrMeta(sectorSize uint32, parts []Partition, meta int) (Record, error) {
	ss := uint64(sectorSize)
	n := mbrMetaHeaderSize + mbrMetaEntrySize*len(parts)
	b := make([]byte, (uint64(n)+ss-1)/ss*ss)
	le := binary.LittleEndian
	le.PutUint32(b[0:], mbrMetaSignature)
	le.PutUint32(b[4:], uint32((parts[meta].Sectors()*ss-mbrMetaHeaderSize)/mbrMetaEntrySize))
	le.PutUint32(b[8:], uint32(len(parts)))
	for i, p := range parts {
		e := b[mbrMetaHeaderSize+mbrMetaEntrySize*i:]
		le.PutUint64(e, p.FirstLBA*ss)
		for j, u := range utf16.Encode([]rune(p.Name)) {
			if j < mbrMetaNameChars {
				le.PutUint16(e[8+2*j:], u)
			}
		}
		g, err := ParseGUID(p.GUID)
		if err != nil {
			return Record{}, fmt.Errorf("MBR_META: partition %s: GUID %v", p.Name, err)
		}
		copy(e[8+2*mbrMetaNameChars:], g[:])
	}
	return Record{parts[meta].FirstLBA, b}, nil
}
