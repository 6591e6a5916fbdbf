package cab

import "errors"

// Readers of MSZIP such as libmspack (cabextract) reject deflate blocks whose Huffman codes
// are incomplete, which RFC 1951 allows and Go's compress/flate writes (one distance code of
// one bit when a block has a single distance, or none). zlib never does: it forces two codes.
// completeCodes walks a deflate stream's blocks and reports whether every dynamic block's
// code-length, literal/length and distance codes are complete, so that the writer can
// compress such a block again differently or store it.

var errIncomplete = errors.New("incomplete Huffman code")

type bitReader struct {
	data []byte
	pos  int // bit position
}

func (b *bitReader) bits(n int) (uint32, bool) {
	var v uint32
	for i := 0; i < n; i++ {
		byteIdx := b.pos >> 3
		if byteIdx >= len(b.data) {
			return 0, false
		}
		v |= uint32(b.data[byteIdx]>>(b.pos&7)&1) << i
		b.pos++
	}
	return v, true
}

// huffman is a canonical decoder built from code lengths.
type huffman struct {
	count  [16]uint16 // codes of each length
	symbol []uint16   // symbols ordered by code
}

// build returns whether the lengths form a complete code (libmspack's condition).
func (h *huffman) build(lengths []uint8) bool {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return false // over-subscribed
		}
	}
	var offs [16]uint16
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]uint16, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	return left == 0
}

func (h *huffman) decode(b *bitReader) (int, bool) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		bit, ok := b.bits(1)
		if !ok {
			return 0, false
		}
		code |= int(bit)
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+(code-first)]), true
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, false
}

var (
	lengthExtra = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distExtra   = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// completeCodes reports whether every dynamic block of the deflate stream uses complete codes.
func completeCodes(stream []byte) error {
	b := &bitReader{data: stream}
	for {
		final, ok1 := b.bits(1)
		typ, ok2 := b.bits(2)
		if !ok1 || !ok2 {
			return errors.New("truncated deflate stream")
		}
		switch typ {
		case 0:
			b.pos = (b.pos + 7) &^ 7
			n, ok := b.bits(16)
			if _, ok2 := b.bits(16); !ok || !ok2 {
				return errors.New("truncated stored block")
			}
			b.pos += int(n) * 8
		case 1:
			// Fixed codes are complete; walk the symbols to find the block's end.
			var lit, dist huffman
			lengths := make([]uint8, 288)
			for i := range lengths {
				switch {
				case i < 144:
					lengths[i] = 8
				case i < 256:
					lengths[i] = 9
				case i < 280:
					lengths[i] = 7
				default:
					lengths[i] = 8
				}
			}
			lit.build(lengths)
			d := make([]uint8, 30)
			for i := range d {
				d[i] = 5
			}
			dist.build(d)
			if err := walkSymbols(b, &lit, &dist); err != nil {
				return err
			}
		case 2:
			hlit, _ := b.bits(5)
			hdist, _ := b.bits(5)
			hclen, ok := b.bits(4)
			if !ok {
				return errors.New("truncated dynamic block header")
			}
			cl := make([]uint8, 19)
			for i := 0; i < int(hclen)+4; i++ {
				v, ok := b.bits(3)
				if !ok {
					return errors.New("truncated code lengths")
				}
				cl[clOrder[i]] = uint8(v)
			}
			var clh huffman
			if !clh.build(cl) {
				return errIncomplete
			}
			n := int(hlit) + 257 + int(hdist) + 1
			lengths := make([]uint8, 0, n)
			for len(lengths) < n {
				sym, ok := clh.decode(b)
				if !ok {
					return errors.New("bad code length code")
				}
				switch {
				case sym < 16:
					lengths = append(lengths, uint8(sym))
				case sym == 16:
					if len(lengths) == 0 {
						return errors.New("repeat with no previous length")
					}
					r, _ := b.bits(2)
					for i := 0; i < int(r)+3; i++ {
						lengths = append(lengths, lengths[len(lengths)-1])
					}
				case sym == 17:
					r, _ := b.bits(3)
					lengths = append(lengths, make([]uint8, int(r)+3)...)
				default:
					r, _ := b.bits(7)
					lengths = append(lengths, make([]uint8, int(r)+11)...)
				}
			}
			if len(lengths) > n {
				return errors.New("code lengths overrun")
			}
			var lit, dist huffman
			if !lit.build(lengths[:hlit+257]) || !dist.build(lengths[hlit+257:]) {
				return errIncomplete
			}
			if err := walkSymbols(b, &lit, &dist); err != nil {
				return err
			}
		default:
			return errors.New("bad block type")
		}
		if final == 1 {
			return nil
		}
	}
}

// walkSymbols reads a compressed block's symbols up to its end-of-block code.
func walkSymbols(b *bitReader, lit, dist *huffman) error {
	for {
		sym, ok := lit.decode(b)
		if !ok {
			return errors.New("bad literal/length code")
		}
		switch {
		case sym < 256:
		case sym == 256:
			return nil
		case sym > 285:
			return errors.New("bad length symbol")
		default:
			b.pos += lengthExtra[sym-257]
			d, ok := dist.decode(b)
			if !ok || d > 29 {
				return errors.New("bad distance code")
			}
			b.pos += distExtra[d]
		}
	}
}
