// Package inflate decodes raw deflate streams (RFC 1951) whole, into one caller-owned slice
// that already holds the dictionary: the MSZIP blocks of cabinets (tools/cab), each at most
// 32 KiB of output with the previous block's output as history.
//
// It accepts and rejects exactly what compress/flate's reader does (the differential fuzz
// target FuzzInflate checks this), including where a stream that ends early stops: the output
// before io.ErrUnexpectedEOF is the bytes compress/flate returns before that error. It never
// writes outside buf[start:] and never reads outside src, whatever the input.
package inflate

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrTooLong is returned when the stream decodes to more bytes than buf has room for.
var ErrTooLong = errors.New("inflate: output over its limit")

// CorruptError is a stream that is not valid deflate; Offset is the byte of src at which
// decoding stopped.
type CorruptError struct {
	Offset int
	What   string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("inflate: %s (input byte %d)", e.What, e.Offset)
}

// Table entries (uint32): bits 0-3 the code length to consume, 4-7 the extra bits that follow
// (or a subtable's index bits), 8-11 the kind, 16-31 the value (literal byte, length or
// distance base, subtable offset).
const (
	kindInvalid = 0 << 8 // no code: corrupt input
	kindLiteral = 1 << 8
	kindLength  = 2 << 8 // a length, or in a distance table a distance
	kindEnd     = 3 << 8
	kindSub     = 4 << 8
	kindBad     = 5 << 8 // a code for a symbol deflate does not define (286, 287, 30, 31)
	kindMask    = 15 << 8

	litBits  = 10
	distBits = 8
	// Subtables hold codes longer than the primary table's bits: at most one per code of
	// such a length, each at most 2^(15-bits) entries.
	litTableSize  = 1<<litBits + 286<<(15-litBits)
	distTableSize = 1<<distBits + 30<<(15-distBits)
)

// Decoder holds the decoding tables; the zero value is ready to use. It is not safe for
// concurrent use.
type Decoder struct {
	lit     [litTableSize]uint32
	dist    [distTableSize]uint32
	cl      [128]uint32
	lengths [286 + 30]uint8
}

var fixedLit [litTableSize]uint32
var fixedDist [distTableSize]uint32
var fixedLitMin, fixedDistMin uint

var (
	lengthBase  [29]uint16
	lengthExtra [29]uint8
	distBase    [30]uint16
	distExtra   [30]uint8
	clOrder     = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func init() {
	for s := 0; s < 29; s++ {
		switch {
		case s < 8:
			lengthBase[s] = uint16(s + 3)
		case s == 28:
			lengthBase[s] = 258
		default:
			e := uint(s-4) / 4
			lengthExtra[s] = uint8(e)
			lengthBase[s] = uint16(3 + (4+s%4)<<e)
		}
	}
	for d := 0; d < 30; d++ {
		if d < 4 {
			distBase[d] = uint16(d + 1)
			continue
		}
		e := uint(d-2) >> 1
		distExtra[d] = uint8(e)
		distBase[d] = uint16(1<<(e+1) + 1 + (d&1)<<e)
	}
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var ok bool
	if fixedLitMin, ok = build(fixedLit[:], l[:], litBits, modeLit); !ok {
		panic("inflate: fixed literal/length code")
	}
	for i := 0; i < 32; i++ {
		l[i] = 5
	}
	if fixedDistMin, ok = build(fixedDist[:], l[:32], distBits, modeDist); !ok {
		panic("inflate: fixed distance code")
	}
}

// build fills t with the decoding table of the canonical code of lengths and returns the
// shortest code length. It accepts what compress/flate does: complete codes, a single code
// of one bit, and no codes at all (every lookup then is invalid). mode gives the
// symbols' meaning: literal/length, distance or code length.
func build(t []uint32, lengths []uint8, rootBits uint, mode int) (minLen uint, ok bool) {
	var count [16]int
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	maxLen := uint(0)
	for n := uint(15); n >= 1; n-- {
		if count[n] != 0 {
			maxLen = n
			break
		}
	}
	root := 1 << rootBits
	if maxLen == 0 {
		clear(t[:root])
		return 0, true
	}
	for n := uint(1); n <= 15; n++ {
		if count[n] != 0 {
			minLen = n
			break
		}
	}
	sum := 0
	for n := uint(1); n <= maxLen; n++ {
		sum += count[n] << (maxLen - n)
	}
	if sum != 1<<maxLen && !(sum == 1 && maxLen == 1) {
		return 0, false
	}
	if sum != 1<<maxLen {
		clear(t[:root])
	}
	// Symbols in canonical order: by length, then by symbol.
	var offs [17]int
	for n := 1; n <= 15; n++ {
		offs[n+1] = offs[n] + count[n]
	}
	var sorted [288]uint16
	for s, n := range lengths {
		if n != 0 {
			sorted[offs[n]] = uint16(s)
			offs[n]++
		}
	}
	nsym := offs[16]
	left := count // codes not yet placed, by length
	code := 0     // the next code, MSB-first, of length n
	prevLen := uint(0)
	next := root    // where the next subtable goes
	subPrefix := -1 // the root index of the current subtable
	subStart, subBits := 0, uint(0)
	for i := 0; i < nsym; i++ {
		s := int(sorted[i])
		n := uint(lengths[s])
		if prevLen != 0 {
			code = (code + 1) << (n - prevLen)
		}
		prevLen = n
		left[n]--
		e := entry(s, n, mode)
		rev := int(bits.Reverse16(uint16(code)) >> (16 - n))
		if n <= rootBits {
			for j := rev; j < root; j += 1 << n {
				t[j] = e
			}
			continue
		}
		prefix := rev & (root - 1)
		if prefix != subPrefix {
			// A new subtable: wide enough for the codes that share this prefix.
			k := subWidth(left, n, rootBits, maxLen)
			if next+1<<k > len(t) {
				return 0, false
			}
			subPrefix, subStart, subBits = prefix, next, k
			next += 1 << k
			t[prefix] = uint32(subStart)<<16 | kindSub | uint32(k)<<4 | uint32(rootBits)
		}
		for j := rev >> rootBits; j < 1<<subBits; j += 1 << (n - rootBits) {
			t[subStart+j] = e
		}
	}
	return minLen, true
}

// subWidth returns the index bits of a subtable whose first code has length n: the smallest
// k such that the codes still to place (the current one included, counted in left as
// already taken) of lengths up to rootBits+k fill 2^k slots, or maxLen-rootBits.
func subWidth(left [16]int, n, rootBits, maxLen uint) uint {
	k := n - rootBits
	room := 1<<k - 1 // the current code takes one slot of width k
	for rootBits+k < maxLen {
		room -= left[rootBits+k]
		if room <= 0 {
			break
		}
		k++
		room <<= 1
	}
	return k
}

const (
	modeLit = iota
	modeDist
	modeCodeLen
)

func entry(s int, n uint, mode int) uint32 {
	if mode == modeCodeLen {
		return uint32(s)<<16 | kindLiteral | uint32(n)
	}
	if mode == modeLit {
		switch {
		case s < 256:
			return uint32(s)<<16 | kindLiteral | uint32(n)
		case s == 256:
			return kindEnd | uint32(n)
		case s < 286:
			i := s - 257
			return uint32(lengthBase[i])<<16 | kindLength | uint32(lengthExtra[i])<<4 | uint32(n)
		}
		return kindBad | uint32(n)
	}
	if s < 30 {
		return uint32(distBase[s])<<16 | kindLength | uint32(distExtra[s])<<4 | uint32(n)
	}
	return kindBad | uint32(n)
}
