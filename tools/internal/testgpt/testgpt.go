// Package testgpt writes a protective MBR and a primary and backup GPT (128 entries of 128
// bytes) by hand from the UEFI layout, independently of the project's GPT reader and writer,
// so that tests of those readers do not check them against themselves.
package testgpt

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// Partition is one entry.
type Partition struct {
	Name        string
	Type        [16]byte // as stored (see GUID)
	First, Last uint64   // LBAs, inclusive
	Attributes  uint64
}

// Well-known partition types, as stored.
var (
	BasicData = GUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")
	ESP       = GUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
)

// GUID encodes a GUID's text form as GPT stores it (the first three fields little-endian). It
// panics on text that is not a GUID: the callers are tests with constant GUIDs.
func GUID(s string) [16]byte {
	var b [16]byte
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		panic(fmt.Sprintf("testgpt: %q is not a GUID", s))
	}
	copy(b[:], h)
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	return b
}

// Write writes the MBR and both GPTs of a disk of the given number of sectors. Each entry gets
// a unique GUID derived from its index, so that the same call gives the same bytes.
func Write(w io.WriterAt, sectors uint64, sectorSize int, parts []Partition) error {
	const count, esize = 128, 128
	if len(parts) > count {
		return fmt.Errorf("testgpt: %d partitions, at most %d", len(parts), count)
	}
	ss := uint64(sectorSize)
	arraySecs := (count*esize + ss - 1) / ss
	last := sectors - 1
	le := binary.LittleEndian
	entries := make([]byte, arraySecs*ss)
	for i, p := range parts {
		e := entries[i*esize:]
		copy(e[0:], p.Type[:])
		uniq := GUID(fmt.Sprintf("%08X-0000-4000-8000-00000000FA7E", i+1))
		copy(e[16:], uniq[:])
		le.PutUint64(e[32:], p.First)
		le.PutUint64(e[40:], p.Last)
		le.PutUint64(e[48:], p.Attributes)
		for k, u := range utf16.Encode([]rune(p.Name)) {
			if k < 36 {
				le.PutUint16(e[56+2*k:], u)
			}
		}
	}
	array := entries[:count*esize]
	header := func(my, alt, entriesLBA uint64) []byte {
		h := make([]byte, ss)
		copy(h, "EFI PART")
		le.PutUint32(h[8:], 0x00010000)
		le.PutUint32(h[12:], 92)
		le.PutUint64(h[24:], my)
		le.PutUint64(h[32:], alt)
		le.PutUint64(h[40:], 2+arraySecs)
		le.PutUint64(h[48:], last-1-arraySecs)
		disk := GUID("0FA7D15C-0000-4000-8000-000000000001")
		copy(h[56:], disk[:])
		le.PutUint64(h[72:], entriesLBA)
		le.PutUint32(h[80:], count)
		le.PutUint32(h[84:], esize)
		le.PutUint32(h[88:], crc32.ChecksumIEEE(array))
		le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		return h
	}
	mbr := make([]byte, ss)
	mbr[446+4] = 0xEE
	le.PutUint32(mbr[446+8:], 1)
	le.PutUint32(mbr[446+12:], uint32(min(last, 0xFFFFFFFF)))
	mbr[510], mbr[511] = 0x55, 0xAA
	for _, s := range []struct {
		b   []byte
		lba uint64
	}{{mbr, 0}, {header(1, last, 2), 1}, {entries, 2}, {entries, last - arraySecs}, {header(last, 1, last-arraySecs), last}} {
		if _, err := w.WriteAt(s.b, int64(s.lba*ss)); err != nil {
			return err
		}
	}
	return nil
}
