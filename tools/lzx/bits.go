package lzx

// bitWriter writes an LZX bitstream: bits most significant first into 16-bit little-endian
// words. Whole 32-bit pairs of words go out at once; flush writes out the last whole word,
// for the callers that measure or extend out.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint // pending bits in acc (< 32 between calls, < 16 after flush)
}

// put writes the low n bits of v (n <= 32).
func (w *bitWriter) put(v uint32, n uint) {
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.n += n
	if w.n >= 32 {
		w.n -= 32
		x := uint32(w.acc >> w.n)
		w.out = append(w.out, byte(x>>16), byte(x>>24), byte(x), byte(x>>8))
	}
}

// flush writes out the pending whole 16-bit word, if any.
func (w *bitWriter) flush() {
	if w.n >= 16 {
		w.n -= 16
		word := uint16(w.acc >> w.n)
		w.out = append(w.out, byte(word), byte(word>>8))
	}
}

// align pads with zeros to a 16-bit boundary.
func (w *bitWriter) align() {
	w.flush()
	if w.n > 0 {
		w.put(0, 16-w.n)
		w.flush()
	}
}

// alignUncompressed writes the 1 to 16 bits of padding before an uncompressed block's body.
func (w *bitWriter) alignUncompressed() {
	w.flush()
	w.put(0, 16-w.n)
	w.flush()
}
