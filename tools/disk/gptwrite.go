package disk

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// The GPT imggen writes (UEFI 2.x section 5.3): 128 entries of 128 bytes, the primary header at
// LBA 1 and its entries from LBA 2, the backup entries just before the backup header in the
// last sector, and a protective MBR. These are the bytes go-diskfs wrote before this writer
// replaced it (gptwrite_test.go compares the two).

const (
	gptEntryCount = 128
	gptEntrySize  = 128
	gptNameUnits  = gptNameBytes / 2
)

// GPTArraySectors is the sectors of one copy of the entry array imggen writes.
func GPTArraySectors(sectorSize uint32) uint64 {
	return (gptEntryCount*gptEntrySize + uint64(sectorSize) - 1) / uint64(sectorSize)
}

// WriteGPT writes the protective MBR (its partition entries and signature; the boot code area is
// left as it is) and both GPTs of a disk of diskSectors sectors to w. Each partition goes to
// entry p.Index of the array; its Type and GUID are GUIDs in text form.
func WriteGPT(w io.WriterAt, sectorSize uint32, diskSectors uint64, diskGUID string, parts []Partition) error {
	ss := uint64(sectorSize)
	arraySecs := GPTArraySectors(sectorSize)
	if ss < 512 || diskSectors < 3+2*arraySecs {
		return fmt.Errorf("GPT: a disk of %d sectors of %d bytes has no room for two tables", diskSectors, ss)
	}
	array := make([]byte, gptEntryCount*gptEntrySize)
	used := map[int]string{}
	for _, p := range parts {
		if p.Index < 0 || p.Index >= gptEntryCount {
			return fmt.Errorf("GPT: partition %s: entry %d is outside the %d entries", p.Name, p.Index, gptEntryCount)
		}
		if other, ok := used[p.Index]; ok {
			return fmt.Errorf("GPT: partitions %s and %s both at entry %d", other, p.Name, p.Index)
		}
		used[p.Index] = p.Name
		if err := putEntry(array[p.Index*gptEntrySize:(p.Index+1)*gptEntrySize], p); err != nil {
			return fmt.Errorf("GPT: partition %s: %v", p.Name, err)
		}
	}
	guid, err := ParseGUID(diskGUID)
	if err != nil {
		return fmt.Errorf("GPT: disk GUID: %v", err)
	}
	last := diskSectors - 1
	header := func(my, alt, entries uint64) []byte {
		le := binary.LittleEndian
		h := make([]byte, ss)
		copy(h, gptSignature)
		le.PutUint32(h[8:], 0x00010000) // revision 1.0
		le.PutUint32(h[12:], gptMinHeaderSize)
		le.PutUint64(h[24:], my)
		le.PutUint64(h[32:], alt)
		le.PutUint64(h[40:], 2+arraySecs)      // first usable LBA
		le.PutUint64(h[48:], last-arraySecs-1) // last usable LBA
		copy(h[56:72], guid[:])
		le.PutUint64(h[72:], entries)
		le.PutUint32(h[80:], gptEntryCount)
		le.PutUint32(h[84:], gptEntrySize)
		le.PutUint32(h[88:], crc32.ChecksumIEEE(array))
		le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:gptMinHeaderSize]))
		return h
	}
	writes := []struct {
		b   []byte
		lba uint64
	}{
		{protectiveMBR(last), 0},
		{array, last - arraySecs},
		{header(last, 1, last-arraySecs), last},
		{array, 2},
		{header(1, last, 2), 1},
	}
	for i, wr := range writes {
		off := int64(wr.lba * ss)
		if i == 0 {
			off = mbrEntriesOffset // the protective MBR's entries and signature only
		}
		if _, err := w.WriteAt(wr.b, off); err != nil {
			return fmt.Errorf("writing the GPT: %v", err)
		}
	}
	return nil
}

// mbrEntriesOffset is where an MBR's four partition entries start, after the boot code.
const mbrEntriesOffset = 446

// protectiveMBR is bytes 446..511 of the protective MBR: one entry of type 0xEE from LBA 1 to
// the last LBA (at most 0xFFFFFFFF sectors, as UEFI says for larger disks), and the signature.
func protectiveMBR(last uint64) []byte {
	b := make([]byte, 512-mbrEntriesOffset)
	b[4] = 0xEE
	binary.LittleEndian.PutUint32(b[8:], 1)
	binary.LittleEndian.PutUint32(b[12:], uint32(min(last, 0xFFFFFFFF)))
	b[64], b[65] = 0x55, 0xAA
	return b
}

// putEntry encodes p as a 128-byte GPT entry.
func putEntry(e []byte, p Partition) error {
	typ, err := ParseGUID(p.Type)
	if err != nil {
		return fmt.Errorf("type: %v", err)
	}
	id, err := ParseGUID(p.GUID)
	if err != nil {
		return fmt.Errorf("GUID: %v", err)
	}
	name := utf16.Encode([]rune(p.Name))
	if len(name) > gptNameUnits {
		return fmt.Errorf("name %q is longer than %d UTF-16 units", p.Name, gptNameUnits)
	}
	le := binary.LittleEndian
	copy(e[0:16], typ[:])
	copy(e[16:32], id[:])
	le.PutUint64(e[32:], p.FirstLBA)
	le.PutUint64(e[40:], p.LastLBA)
	le.PutUint64(e[48:], p.Attributes)
	for i, u := range name {
		le.PutUint16(e[56+2*i:], u)
	}
	return nil
}

// ParseGUID encodes a GUID's text form (with or without braces, any case) as GPT stores it:
// the first three fields little-endian.
func ParseGUID(s string) ([16]byte, error) {
	var g [16]byte
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' || len(t)+2 != len(s) && len(t) != len(s) {
		return g, fmt.Errorf("%q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", s)
	}
	h, err := hex.DecodeString(strings.ReplaceAll(t, "-", ""))
	if err != nil {
		return g, fmt.Errorf("%q is not a GUID: %v", s, err)
	}
	copy(g[:], h)
	g[0], g[1], g[2], g[3] = g[3], g[2], g[1], g[0]
	g[4], g[5] = g[5], g[4]
	g[6], g[7] = g[7], g[6]
	return g, nil
}
