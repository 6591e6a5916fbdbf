// Package repeats tells chunks of random-looking bytes (compressed files, media, keys) from
// data an LZ77 coder can shorten, before the coder's parse spends its time on them: the
// LZX and XPRESS encoders store such chunks without parsing them.
package repeats

import "encoding/binary"

// TableBits is the size of a Table: 2^15 positions, enough for a 32 KiB chunk's 4-byte
// sequences to rarely share an entry.
const TableBits = 15

// Table holds the last position (plus one) of each 4-byte hash; Few clears it.
type Table [1 << TableBits]uint16

// Few reports whether at most limit 4-byte sequences of b repeat an earlier one that the
// table still holds (one position per hash). Random data has about 0.1 such repeats per
// 32 KiB; text and code have one for every byte of each repeated run, so Few stops early
// on them. b must be at most 65536 bytes.
func Few(b []byte, t *Table, limit int) bool {
	clear(t[:])
	n := 0
	for i := 0; i+4 <= len(b); i++ {
		v := binary.LittleEndian.Uint32(b[i:])
		h := (v * 0x1E35A7BD) >> (32 - TableBits)
		if p := int(t[h]); p != 0 && binary.LittleEndian.Uint32(b[p-1:]) == v {
			if n++; n > limit {
				return false
			}
		}
		t[h] = uint16(i + 1)
	}
	return true
}
