package inflate

import (
	"encoding/binary"
	"io"
)

// bitReader reads src LSB-first through a 64-bit buffer. Past the end of src it shifts in
// zero bits, counted in pad, so that table lookups near the end need no special case; a
// caller consumes only bits it has checked are real (nb-pad of them are).
type bitReader struct {
	src []byte
	in  int    // next byte of src to load
	b   uint64 // bits not yet consumed, the next one lowest
	nb  uint   // bits in b, pad of them zero bits past the end of src
	pad uint
}

func (r *bitReader) refill() {
	if r.in+8 <= len(r.src) {
		r.b |= binary.LittleEndian.Uint64(r.src[r.in:]) << r.nb
		r.in += int(63-r.nb) >> 3
		r.nb |= 56
		return
	}
	for r.nb <= 56 {
		if r.in < len(r.src) {
			r.b |= uint64(r.src[r.in]) << r.nb
			r.in++
		} else {
			r.pad += 8
		}
		r.nb += 8
	}
}

// need reports whether n (<= 32) more real bits are there.
func (r *bitReader) need(n uint) bool {
	if r.nb < n {
		r.refill()
	}
	return n <= r.nb-r.pad
}

func (r *bitReader) take(n uint) uint32 {
	v := uint32(r.b & (1<<n - 1))
	r.b >>= n
	r.nb -= n
	return v
}

// offset is the input byte being decoded, for error messages.
func (r *bitReader) offset() int {
	return r.in - int((r.nb-r.pad)/8)
}

func (r *bitReader) corrupt(what string) error {
	return &CorruptError{Offset: r.offset(), What: what}
}

// sym decodes a symbol of a table without subtables (the code length code). Like
// compress/flate it needs min bits before it looks, then the code's own length.
func (r *bitReader) sym(t []uint32, rootBits, min uint) (uint32, error) {
	if !r.need(min) {
		return 0, io.ErrUnexpectedEOF
	}
	r.refill()
	e := t[r.b&(1<<rootBits-1)]
	if e&kindMask == kindInvalid {
		return 0, r.corrupt("invalid code length code")
	}
	n := uint(e & 15)
	if n > r.nb-r.pad {
		return 0, io.ErrUnexpectedEOF
	}
	r.b >>= n
	r.nb -= n
	return e >> 16, nil
}

// Decode inflates the raw deflate stream src into buf[start:]; buf[:start] is the history
// (preset dictionary) that back-references may reach. It returns the end of the output,
// which is buf[start:end]. Errors: ErrTooLong when the stream decodes to more than
// len(buf)-start bytes; io.ErrUnexpectedEOF when src ends before the final block does
// (buf[start:end] holds the bytes decoded before that); *CorruptError otherwise. Bytes after
// the final block are ignored.
func (d *Decoder) Decode(buf []byte, start int, src []byte) (end int, err error) {
	if start < 0 || start > len(buf) {
		return 0, &CorruptError{What: "output start outside the buffer"}
	}
	r := bitReader{src: src}
	out := start
	for {
		if !r.need(3) {
			return out, io.ErrUnexpectedEOF
		}
		final := r.take(1)
		switch r.take(2) {
		case 0:
			out, err = r.stored(buf, out)
		case 1:
			out, err = d.block(&r, buf, out, &fixedLit, &fixedDist, fixedLitMin, fixedDistMin)
		case 2:
			var litMin, distMin uint
			if litMin, distMin, err = d.dynamic(&r); err == nil {
				out, err = d.block(&r, buf, out, &d.lit, &d.dist, litMin, distMin)
			}
		default:
			err = r.corrupt("reserved block type 3")
		}
		if err != nil {
			return out, err
		}
		if final == 1 {
			return out, nil
		}
	}
}

// stored copies a stored block: the bits up to the next byte boundary are dropped, then
// LEN, NLEN and LEN bytes. Of a block cut short, the bytes there are are output.
func (r *bitReader) stored(buf []byte, out int) (int, error) {
	p := r.offset()
	r.b, r.nb, r.pad = 0, 0, 0
	if p+4 > len(r.src) {
		r.in = len(r.src)
		return out, io.ErrUnexpectedEOF
	}
	n := int(binary.LittleEndian.Uint16(r.src[p:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(r.src[p+2:]) {
		r.in = p
		return out, r.corrupt("stored block length and its complement differ")
	}
	p += 4
	c := min(n, len(r.src)-p)
	if c > len(buf)-out {
		return out, ErrTooLong
	}
	copy(buf[out:out+c], r.src[p:p+c])
	r.in = p + c
	if c < n {
		return out + c, io.ErrUnexpectedEOF
	}
	return out + c, nil
}

// dynamic reads a dynamic block's code lengths and builds its tables; it returns the bits
// compress/flate reads before it looks a symbol up (for literal/length codes at least the
// end-of-block code's length).
func (d *Decoder) dynamic(r *bitReader) (litMin, distMin uint, err error) {
	if !r.need(14) {
		return 0, 0, io.ErrUnexpectedEOF
	}
	nlit := int(r.take(5)) + 257
	ndist := int(r.take(5)) + 1
	nclen := int(r.take(4)) + 4
	if nlit > 286 {
		return 0, 0, r.corrupt("more than 286 literal/length codes")
	}
	if ndist > 30 {
		return 0, 0, r.corrupt("more than 30 distance codes")
	}
	var cl [19]uint8
	for i := 0; i < nclen; i++ {
		if !r.need(3) {
			return 0, 0, io.ErrUnexpectedEOF
		}
		cl[clOrder[i]] = uint8(r.take(3))
	}
	clMin, ok := build(d.cl[:], cl[:], 7, modeCodeLen)
	if !ok {
		return 0, 0, r.corrupt("code length code neither complete nor a single code")
	}
	n := nlit + ndist
	lengths := d.lengths[:n]
	for i := 0; i < n; {
		x, err := r.sym(d.cl[:], 7, clMin)
		if err != nil {
			return 0, 0, err
		}
		if x < 16 {
			lengths[i] = uint8(x)
			i++
			continue
		}
		var rep int
		var nb uint
		var v uint8
		switch x {
		case 16:
			if i == 0 {
				return 0, 0, r.corrupt("code length repeat with no previous length")
			}
			rep, nb, v = 3, 2, lengths[i-1]
		case 17:
			rep, nb = 3, 3
		default:
			rep, nb = 11, 7
		}
		if !r.need(nb) {
			return 0, 0, io.ErrUnexpectedEOF
		}
		rep += int(r.take(nb))
		if i+rep > n {
			return 0, 0, r.corrupt("code length repeat past the last code")
		}
		for j := 0; j < rep; j++ {
			lengths[i+j] = v
		}
		i += rep
	}
	litMin, ok1 := build(d.lit[:], lengths[:nlit], litBits, modeLit)
	distMin, ok2 := build(d.dist[:], lengths[nlit:], distBits, modeDist)
	if !ok1 || !ok2 {
		return 0, 0, r.corrupt("literal/length or distance code neither complete nor a single code")
	}
	if eob := uint(lengths[256]); litMin < eob {
		litMin = eob
	}
	return litMin, distMin, nil
}

// block decodes a compressed block's symbols up to its end-of-block code: fast while it can,
// then with every check of input and output bounds.
func (d *Decoder) block(r *bitReader, buf []byte, out int, lt *[litTableSize]uint32, dt *[distTableSize]uint32, litMin, distMin uint) (int, error) {
	src := r.src
	b, nb, pad, in := r.b, r.nb, r.pad, r.in
	if pad == 0 {
		var done bool
		in, b, nb, out, done = fast(src, in, b, nb, buf, out, lt, dt)
		if done {
			r.b, r.nb, r.in = b, nb, in
			return out, nil
		}
	}
	var err error
	// Invariant at the top of the loop: e is the entry of the next symbol, looked up from
	// at least 15 bits, and nb >= 56 (counting pad).
	if in+8 <= len(src) {
		b |= binary.LittleEndian.Uint64(src[in:]) << nb
		in += int(63-nb) >> 3
		nb |= 56
	} else {
		for nb <= 56 {
			if in < len(src) {
				b |= uint64(src[in]) << nb
				in++
			} else {
				pad += 8
			}
			nb += 8
		}
	}
	var e uint32
	e = lt[b&(1<<litBits-1)]
	if e&kindMask == kindSub {
		e = lt[uint(e>>16)+uint(b>>litBits)&(1<<(e>>4&15)-1)]
	}
	for {
		n := uint(e & 15)
		if pad != 0 && (nb-pad < litMin || e&kindMask != kindInvalid && n > nb-pad) {
			err = io.ErrUnexpectedEOF
			break
		}
		if e&kindMask == kindLiteral {
			if out >= len(buf) {
				err = ErrTooLong
				break
			}
			buf[out] = byte(e >> 16)
			out++
			b >>= n
			nb -= n
			// At least 41 bits are left: look the next symbol up before the refill, which
			// only adds bits above them.
			e = lt[b&(1<<litBits-1)]
			if e&kindMask == kindSub {
				e = lt[uint(e>>16)+uint(b>>litBits)&(1<<(e>>4&15)-1)]
			}
			if in+8 <= len(src) {
				b |= binary.LittleEndian.Uint64(src[in:]) << nb
				in += int(63-nb) >> 3
				nb |= 56
			} else {
				for nb <= 56 {
					if in < len(src) {
						b |= uint64(src[in]) << nb
						in++
					} else {
						pad += 8
					}
					nb += 8
				}
			}
			continue
		}
		if e&kindMask != kindLength {
			if e&kindMask == kindEnd {
				b >>= n
				nb -= n
				break
			}
			r.b, r.nb, r.pad, r.in = b, nb, pad, in
			if e&kindMask == kindInvalid {
				err = r.corrupt("invalid literal/length code")
			} else {
				err = r.corrupt("undefined length symbol")
			}
			break
		}
		b >>= n
		nb -= n
		xb := uint(e >> 4 & 15)
		if pad != 0 && xb > nb-pad {
			err = io.ErrUnexpectedEOF
			break
		}
		length := int(e>>16) + int(b&(1<<xb-1))
		b >>= xb
		nb -= xb

		e = dt[b&(1<<distBits-1)]
		if e&kindMask == kindSub {
			e = dt[uint(e>>16)+uint(b>>distBits)&(1<<(e>>4&15)-1)]
		}
		n = uint(e & 15)
		if pad != 0 && (nb-pad < distMin || e&kindMask != kindInvalid && n > nb-pad) {
			err = io.ErrUnexpectedEOF
			break
		}
		if e&kindMask != kindLength {
			r.b, r.nb, r.pad, r.in = b, nb, pad, in
			if e&kindMask == kindInvalid {
				err = r.corrupt("invalid distance code")
			} else {
				err = r.corrupt("undefined distance symbol")
			}
			break
		}
		b >>= n
		nb -= n
		xb = uint(e >> 4 & 15)
		if pad != 0 && xb > nb-pad {
			err = io.ErrUnexpectedEOF
			break
		}
		dist := int(e>>16) + int(b&(1<<xb-1))
		b >>= xb
		nb -= xb
		if dist > out {
			r.b, r.nb, r.pad, r.in = b, nb, pad, in
			err = r.corrupt("distance before the start of the history")
			break
		}
		if length > len(buf)-out {
			err = ErrTooLong
			break
		}
		s := out - dist
		switch {
		case dist >= 8 && len(buf)-out >= length+8:
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(buf[out+i:], binary.LittleEndian.Uint64(buf[s+i:]))
			}
		case dist >= length:
			copy(buf[out:out+length], buf[s:s+length])
		default:
			// Overlapping: the pattern of dist bytes repeats; copy it in doubling runs.
			for k := 0; k < length; {
				k += copy(buf[out+k:out+length], buf[s:out+k])
			}
		}
		out += length
		if in+8 <= len(src) {
			b |= binary.LittleEndian.Uint64(src[in:]) << nb
			in += int(63-nb) >> 3
			nb |= 56
		} else {
			for nb <= 56 {
				if in < len(src) {
					b |= uint64(src[in]) << nb
					in++
				} else {
					pad += 8
				}
				nb += 8
			}
		}
		e = lt[b&(1<<litBits-1)]
		if e&kindMask == kindSub {
			e = lt[uint(e>>16)+uint(b>>litBits)&(1<<(e>>4&15)-1)]
		}
	}
	r.b, r.nb, r.pad, r.in = b, nb, pad, in
	return out, err
}

// fastRoom is the output room fast needs before a symbol: a longest match and the slack of
// its 8-byte copies.
const fastRoom = 258 + 8

// fast decodes symbols while at least 8 input bytes are left to refill from and fastRoom
// bytes of output room, so that neither the input's end nor the output limit needs a check.
// It stops before any symbol it does not simply decode (invalid or undefined codes, a
// distance too far back), leaving it to the careful loop, and reports done when it has
// consumed the end-of-block code.
func fast(src []byte, in int, b uint64, nb uint, buf []byte, out int, lt *[litTableSize]uint32, dt *[distTableSize]uint32) (int, uint64, uint, int, bool) {
	outLimit := len(buf) - fastRoom
	for in+8 <= len(src) && out <= outLimit {
		b |= binary.LittleEndian.Uint64(src[in:]) << nb
		in += int(63-nb) >> 3
		nb |= 56
		e := lt[b&(1<<litBits-1)]
		if e&kindMask == kindSub {
			e = lt[uint(e>>16)+uint(b>>litBits)&(1<<(e>>4&15)-1)]
		}
		if e&kindMask == kindLiteral {
			// Up to three literals from one refill (56 bits, codes of at most 15).
			b >>= e & 15
			nb -= uint(e & 15)
			buf[out] = byte(e >> 16)
			out++
			e = lt[b&(1<<litBits-1)]
			if e&kindMask == kindSub {
				e = lt[uint(e>>16)+uint(b>>litBits)&(1<<(e>>4&15)-1)]
			}
			if e&kindMask != kindLiteral {
				continue
			}
			b >>= e & 15
			nb -= uint(e & 15)
			buf[out] = byte(e >> 16)
			out++
			e = lt[b&(1<<litBits-1)]
			if e&kindMask == kindSub {
				e = lt[uint(e>>16)+uint(b>>litBits)&(1<<(e>>4&15)-1)]
			}
			if e&kindMask != kindLiteral {
				continue
			}
			b >>= e & 15
			nb -= uint(e & 15)
			buf[out] = byte(e >> 16)
			out++
			continue
		}
		if e&kindMask != kindLength {
			if e&kindMask == kindEnd {
				return in, b >> (e & 15), nb - uint(e&15), out, true
			}
			break
		}
		b0, nb0 := b, nb
		b >>= e & 15
		nb -= uint(e & 15)
		xb := e >> 4 & 15
		length := int(e>>16) + int(b&(1<<xb-1))
		b >>= xb
		nb -= uint(xb)
		e = dt[b&(1<<distBits-1)]
		if e&kindMask == kindSub {
			e = dt[uint(e>>16)+uint(b>>distBits)&(1<<(e>>4&15)-1)]
		}
		if e&kindMask != kindLength {
			return in, b0, nb0, out, false
		}
		b >>= e & 15
		nb -= uint(e & 15)
		xb = e >> 4 & 15
		dist := int(e>>16) + int(b&(1<<xb-1))
		b >>= xb
		nb -= uint(xb)
		if dist > out {
			return in, b0, nb0, out, false
		}
		s := out - dist
		if dist >= 8 {
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(buf[out+i:], binary.LittleEndian.Uint64(buf[s+i:]))
			}
		} else if dist == 1 {
			v := uint64(buf[s]) * 0x0101010101010101
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(buf[out+i:], v)
			}
		} else {
			for k := 0; k < length; {
				k += copy(buf[out+k:out+length], buf[s:out+k])
			}
		}
		out += length
	}
	return in, b, nb, out, false
}
