package lzx

// bitWriter writes an LZX bitstream: bits most significant first into 16-bit little-endian
// words.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint // pending bits in acc (< 16 between calls)
}

// put writes the low n bits of v (n <= 32).
func (w *bitWriter) put(v uint32, n uint) {
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.n += n
	for w.n >= 16 {
		w.n -= 16
		word := uint16(w.acc >> w.n)
		w.out = append(w.out, byte(word), byte(word>>8))
	}
}

// align pads with zeros to a 16-bit boundary.
func (w *bitWriter) align() {
	if w.n > 0 {
		w.put(0, 16-w.n)
	}
}

// alignUncompressed writes the 1 to 16 bits of padding before an uncompressed block's body.
func (w *bitWriter) alignUncompressed() {
	w.put(0, 16-w.n)
}
