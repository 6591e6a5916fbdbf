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
	if manyInWindows(b, limit) {
		return false
	}
	return few(b, t, limit)
}

// few is Few's whole scan.
func few(b []byte, t *Table, limit int) bool {
	clear(t[:])
	return countRepeats(b, 0, len(b)-3, t[:], TableBits, 0, limit) <= limit
}

// countRepeats adds to n the 4-byte sequences starting in [from, to) that repeat the nearest
// earlier one in [from, i) with the same hash (the leading bits of the product) and stops
// once n passes limit. t must be clear, with 1<<bits entries.
func countRepeats(b []byte, from, to int, t []uint16, bits uint, n, limit int) int {
	for i := from; i < to; i++ {
		v := binary.LittleEndian.Uint32(b[i:])
		h := (v * 0x1E35A7BD) >> (32 - bits)
		if p := int(t[h]); p != 0 && binary.LittleEndian.Uint32(b[p-1:]) == v {
			if n++; n > limit {
				return n
			}
		}
		t[h] = uint16(i + 1)
	}
	return n
}

// Most chunks the encoders see are not random: manyInWindows tells most of those from a few
// short windows before Few clears its 64 KiB table and scans the chunk. A repeat counted in
// a window is one the whole scan counts too, so more than limit of them in the windows gives
// Few's answer: the window's table is indexed by the leading bits of the same hash as Table,
// so the nearest earlier position in the window with the window's hash and the same 4 bytes
// is also the nearest one anywhere before it with Table's hash (any nearer one would share
// the window's hash). Windows do not overlap, so their counts add up.
const (
	windowLen  = 256
	windows    = 4
	windowBits = 8
)

func manyInWindows(b []byte, limit int) bool {
	if len(b) < 2*windows*windowLen {
		return false
	}
	var t [1 << windowBits]uint16
	n := 0
	step := len(b) / windows
	for w := 0; w < windows && n <= limit; w++ {
		clear(t[:])
		n = countRepeats(b, w*step, w*step+windowLen, t[:], windowBits, n, limit)
	}
	return n > limit
}
