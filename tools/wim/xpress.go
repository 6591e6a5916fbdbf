package wim

import (
	"encoding/binary"
	"fmt"
	"github.com/oemimage/rules_oemimage/tools/internal/huffman"
	"github.com/oemimage/rules_oemimage/tools/internal/repeats"
	"math/bits"
)

// XPRESS in WIM files is the "LZ77+Huffman" algorithm of [MS-XCA] 2.1, one independent
// block per chunk: 256 bytes holding the 4-bit codeword lengths of 512 symbols (two per
// byte, the even symbol in the low nibble), then a bitstream of little-endian 16-bit units
// read from the high bit down, with literal bytes of long match lengths interleaved.
// Symbols 0-255 are literals; 256+(log2(offset)<<4)+min(length-3, 15) are matches, followed
// by the length bytes (if the low nibble is 15) and then log2(offset) offset bits.
// The compressor ends the data with symbol 256, which WIMGAPI expects ([MS-XCA] 2.2.4).

const (
	xpressSymbols    = 512
	xpressMaxCodeLen = 15
	xpressMinMatch   = 3
	xpressEOD        = 256
	xpressMaxChunk   = 65536 // offsets are at most 65535, positions fit 16 bits

	// Lazy parsing parameters: wimlib's for its default compression level 50 (greedy
	// below 30, lazy to 59, near-optimal from 60), which `wimlib-imagex capture
	// --compress=xpress` uses: look at up to 46 earlier positions (23 for the lazy look
	// one position ahead) and take a match of 93 bytes at once.
	xpressSearchDepth = 46
	xpressNiceLen     = 93

	// wimlib's hash tables (its hc_matchfinder: 2^15 heads for 3-byte sequences, 2^16
	// for 4-byte ones, both hashed with multiplier 0x1E35A7BD), which decide the candidates
	// a search of limited depth sees: with them, and with its rule of no search within 5
	// bytes of the chunk's end, our chunks are wimlib's byte for byte
	// (TestCompressesLikeWimlib). Fewer collisions than smaller tables also mean fewer
	// searches of random bytes.
	hash3Bits = 15
	hash4Bits = 16

	// The chunk is copied into a fixed array and indexes are masked, so that the compiler
	// drops bounds checks in the match finder's inner loops (bytes past the chunk are
	// never counted: every comparison is limited by the chunk's length).
	winMask = 1<<17 - 1
	winSize = winMask + 1 + 8

	// encode's output, which holds at most 2 bytes per input byte (see xpressBound).
	outMask = 1<<17 - 1
)

type window [winSize]byte

func (w *window) load32(i int) uint32 {
	j := i & winMask
	return uint32(w[j]) | uint32(w[j+1])<<8 | uint32(w[j+2])<<16 | uint32(w[j+3])<<24
}

func (w *window) load64(i int) uint64 {
	j := i & winMask
	return uint64(w[j]) | uint64(w[j+1])<<8 | uint64(w[j+2])<<16 | uint64(w[j+3])<<24 |
		uint64(w[j+4])<<32 | uint64(w[j+5])<<40 | uint64(w[j+6])<<48 | uint64(w[j+7])<<56
}

// matchLen returns how many bytes from i and j on are equal, at most limit.
func (w *window) matchLen(i, j, limit int) int {
	k := 0
	for k+8 <= limit {
		if x := w.load64(i+k) ^ w.load64(j+k); x != 0 {
			return k + bits.TrailingZeros64(x)>>3
		}
		k += 8
	}
	for k < limit && w[(i+k)&winMask] == w[(j+k)&winMask] {
		k++
	}
	return k
}

// xpressBound is the room Compress needs for n input bytes: the table, at most 15 bits
// per literal (a match costs less per byte), and the final units.
func xpressBound(n int) int { return 256 + 2*n + 8 }

// xpressCompressor holds its tables by value: one base register reaches them all.
type xpressCompressor struct {
	freqs     [xpressSymbols]uint32
	lens      [xpressSymbols]uint8
	codes     [xpressSymbols]uint16
	items     []uint32 // literal: byte (<256); match: offset<<16 | (length-3)
	nitems    int
	extraBits int // offset bits of the parsed matches
	lenBytes  int // extra length bytes of the parsed matches
	hs        *huffman.Scratch
	rep       *repeats.Table // incompressible's

	// Hash-chain match finder over one chunk, positions in 16 bits (half the cache
	// footprint of 32). 0 means none, so position 0 is never a match source; the head
	// tables are cleared per chunk, prev entries are always written before being read.
	head3 [1 << hash3Bits]uint16 // most recent position of each 3-byte hash
	head4 [1 << hash4Bits]uint16 // most recent position of each 4-byte hash
	prev  [xpressMaxChunk]uint16 // previous position with the same 4-byte hash
	win   window
	out   [outMask + 2]byte
}

func newXPRESSCompressor(maxChunk int) *xpressCompressor {
	return &xpressCompressor{
		items: make([]uint32, min(maxChunk, xpressMaxChunk)),
		hs:    new(huffman.Scratch),
	}
}

// Compress compresses src (at most 64 KiB) into dst, which must hold xpressBound(len(src))
// bytes, and returns the compressed size, or 0 when the result would not be smaller than
// src: WIM stores such chunks as they are.
func (c *xpressCompressor) Compress(dst, src []byte) int { return c.compress(dst, src, true) }

// compress is Compress; without shortcut, a chunk incompressible passes is parsed too (for
// the test that it is then stored).
func (c *xpressCompressor) compress(dst, src []byte, shortcut bool) int {
	if len(src) <= 256+4 || len(src) > len(c.items) {
		return 0 // the Huffman table alone is 256 bytes
	}
	if shortcut && c.incompressible(src) {
		return 0
	}
	c.head3 = [1 << hash3Bits]uint16{}
	c.head4 = [1 << hash4Bits]uint16{}
	copy(c.win[:], src)
	c.parse(src)
	c.freqs[xpressEOD]++
	huffman.Lengths(c.freqs[:], xpressMaxCodeLen, c.lens[:], c.hs)
	if c.encodedSize() >= len(src) {
		return 0
	}
	return c.encode(dst)
}

// Random-looking chunks (compressed files, media) are stored after a parse that finds
// nothing worth its cost. incompressible tells them beforehand, as the LZX encoder does
// (tools/lzx incompressible.go): at most xpressMaxRepeats4 of the chunk's 4-byte sequences
// repeat (repeats.Few), and its literals alone, Huffman coded, come to at least
// xpressStoreMargin bytes more than the chunk. XPRESS takes no match under 3 bytes nor one
// of 3 bytes from 4 KiB back or more, and a 3-byte match costs its symbol and up to 11
// offset bits: such a chunk has no match that pays, so the parse stores it too
// (TestXPRESSIncompressibleSameAsParse).
const (
	xpressMaxRepeats4 = 2
	xpressStoreMargin = 32
)

func (c *xpressCompressor) incompressible(src []byte) bool {
	if len(src) < 1024 {
		return false
	}
	if c.rep == nil {
		c.rep = new(repeats.Table)
	}
	if !repeats.Few(src, c.rep, xpressMaxRepeats4) {
		return false
	}
	c.freqs = [xpressSymbols]uint32{}
	for _, b := range src {
		c.freqs[b]++
	}
	c.freqs[xpressEOD]++
	huffman.Lengths(c.freqs[:], xpressMaxCodeLen, c.lens[:], c.hs)
	c.extraBits, c.lenBytes = 0, 0
	return c.encodedSize() >= len(src)+xpressStoreMargin
}

func hash3(v uint32) uint32 { return (v & 0xFFFFFF) * 0x1E35A7BD >> (32 - hash3Bits) }
func hash4(v uint32) uint32 { return v * 0x1E35A7BD >> (32 - hash4Bits) }

// xpressSearchEnd is how many bytes a position needs before the chunk's end to be searched
// and entered into the hash tables: 5, as in wimlib, whose match finder reads the next
// position's 4 bytes ahead. The last 4 bytes are always literals.
const xpressSearchEnd = 5

// longestMatch enters pos into the hash tables and returns the longest match at pos longer
// than bestLen, looking at no more than depth earlier positions, or bestLen and offset 0.
func (c *xpressCompressor) longestMatch(n, pos, bestLen, depth int) (int, int) {
	if n-pos < xpressSearchEnd {
		return bestLen, 0
	}
	cur := c.win.load32(pos)
	h3 := hash3(cur)
	cand3 := c.head3[h3]
	c.head3[h3] = uint16(pos)
	h4 := hash4(cur)
	cand4 := c.head4[h4]
	c.prev[uint16(pos)] = cand4
	c.head4[h4] = uint16(pos)
	return c.search(n, pos, cur, cand3, cand4, bestLen, depth)
}

// search returns the longest match at pos longer than bestLen, given the previous
// positions with the same 3-byte and 4-byte hashes (0: none), or bestLen and offset 0.
func (c *xpressCompressor) search(n, pos int, cur uint32, cand3, cand uint16, bestLen, depth int) (int, int) {
	w := &c.win
	prev := &c.prev
	maxLen := n - pos
	nice := min(xpressNiceLen, maxLen)
	bestOff := 0
	if bestLen < 3 && cand3 != 0 {
		if p := int(cand3); (w.load32(p)^cur)&0xFFFFFF == 0 {
			bestLen, bestOff = 3, pos-p
		}
	}
	if bestLen >= nice {
		return bestLen, bestOff
	}
	if bestLen < 4 {
		// Find the first candidate that matches 4 bytes.
		var p int
		for {
			if cand == 0 || depth == 0 {
				return bestLen, bestOff
			}
			p = int(cand)
			cand = prev[cand]
			depth--
			if w.load32(p) == cur {
				break
			}
		}
		bestLen, bestOff = 4+w.matchLen(p+4, pos+4, maxLen-4), pos-p
		if bestLen >= nice {
			return bestLen, bestOff
		}
	}
	for {
		// A longer match must also agree on the 4 bytes that end one byte past bestLen;
		// checking those first rejects most candidates. The inner loop has no calls, so
		// its values stay in registers.
		tail := w.load32(pos + bestLen - 3)
		off := bestLen - 3
		var p int
		for {
			if cand == 0 || depth == 0 {
				return bestLen, bestOff
			}
			p = int(cand)
			cand = prev[cand]
			depth--
			if w.load32(p+off) == tail && w.load32(p) == cur {
				break
			}
		}
		if l := 4 + w.matchLen(p+4, pos+4, maxLen-4); l > bestLen {
			bestLen, bestOff = l, pos-p
			if l >= nice {
				return bestLen, bestOff
			}
		}
	}
}

// skip enters count positions from pos on into the hash tables without searching.
func (c *xpressCompressor) skip(n, pos, count int) {
	end := min(pos+count, n-xpressSearchEnd+1)
	for ; pos < end; pos++ {
		v := c.win.load32(pos)
		c.head3[hash3(v)] = uint16(pos)
		h := hash4(v)
		c.prev[uint16(pos)] = c.head4[h]
		c.head4[h] = uint16(pos)
	}
}

// parse chooses literals and matches with lazy evaluation (as wimlib's level 50): take the
// longest match at a position unless the next position has a longer one; skip length-3
// matches at large offsets, which cost more than three literals.
func (c *xpressCompressor) parse(in []byte) {
	c.freqs = [xpressSymbols]uint32{}
	far3 := 4096
	if len(in) <= 8192 {
		far3 = 2048
	}
	n := len(in)
	items := c.items[:n]
	freqs := &c.freqs
	ni, extra := 0, 0 // items; offset bits and length bytes<<32 of the matches
	for pos := 0; pos < n; {
		// Enter pos into the hash tables here, and search only if a table has an earlier
		// position: most positions of incompressible data end here as literals. This is
		// longestMatch's insertion written out: as a shared method it is not inlined (cost
		// 112 > 80) and the call measured about 20% slower on BenchmarkXPRESSCompressRandom.
		var curLen, curOff int
		if n-pos >= xpressSearchEnd {
			cur := c.win.load32(pos)
			h3 := hash3(cur)
			cand3 := c.head3[h3]
			c.head3[h3] = uint16(pos)
			h4 := hash4(cur)
			cand4 := c.head4[h4]
			c.prev[uint16(pos)] = cand4
			c.head4[h4] = uint16(pos)
			// A 4-byte match also shares its 3-byte hash, so with no 3-byte candidate
			// there is none to search for. Over random bytes whether each table has a
			// candidate is a coin toss, so the tests are arranged for few branches the
			// processor cannot predict: min compiles to a conditional move, and the 3-byte
			// comparison (rarely true) goes first (position 0, read when cand3 is 0, is
			// harmless). This took the kit's MainOS sample from 202 to 296 MB/s.
			if min(cand3, cand4) != 0 {
				curLen, curOff = c.search(n, pos, cur, cand3, cand4, xpressMinMatch-1, xpressSearchDepth)
			} else if (c.win.load32(int(cand3))^cur)&0xFFFFFF == 0 && cand3 != 0 {
				curLen, curOff = xpressMinMatch, pos-int(cand3)
			}
		}
		pos++
		if curLen < xpressMinMatch || curLen == xpressMinMatch && curOff >= far3 {
			b := in[pos-1]
			freqs[b]++
			items[ni] = uint32(b)
			ni++
			continue
		}
		for {
			if curLen >= xpressNiceLen {
				sym, it, x := matchItem(curLen, curOff)
				freqs[sym]++
				items[ni] = it
				ni++
				extra += x
				c.skip(n, pos, curLen-1)
				pos += curLen - 1
				break
			}
			nextLen, nextOff := c.longestMatch(n, pos, curLen, xpressSearchDepth/2)
			pos++
			if nextLen > curLen {
				b := in[pos-2]
				freqs[b]++
				items[ni] = uint32(b)
				ni++
				curLen, curOff = nextLen, nextOff
				continue
			}
			sym, it, x := matchItem(curLen, curOff)
			freqs[sym]++
			items[ni] = it
			ni++
			extra += x
			c.skip(n, pos, curLen-2)
			pos += curLen - 2
			break
		}
	}
	c.nitems, c.extraBits, c.lenBytes = ni, extra&(1<<32-1), extra>>32
}

// matchItem returns a match's symbol, its item, and its offset bits plus its length
// bytes<<32.
func matchItem(length, offset int) (uint32, uint32, int) {
	adj := uint32(length - xpressMinMatch)
	log2 := bits.Len32(uint32(offset)) - 1
	x := log2
	if adj >= 15 {
		x += 1 << 32
		if adj >= 15+255 {
			x += 2 << 32
		}
	}
	return xpressEOD + uint32(log2)<<4 + min(adj, 15), uint32(offset)<<16 | adj, x
}

// encodedSize is the size encode will produce for the parsed items, computed from the
// code lengths so that incompressible chunks are not encoded at all.
func (c *xpressCompressor) encodedSize() int {
	bits := c.extraBits
	for s, f := range c.freqs {
		bits += int(f) * int(c.lens[s])
	}
	// Units are flushed once more than 16 bits are pending; the last pending unit and
	// one more are written at the end.
	return xpressSymbols/2 + 2*((bits+15)/16) + 2 + c.lenBytes
}

// encode writes the Huffman table and the chosen items to dst and returns the size.
func (c *xpressCompressor) encode(dst []byte) int {
	huffman.Codes(c.lens[:], c.codes[:])
	for i := 0; i < xpressSymbols/2; i++ {
		dst[i] = c.lens[2*i] | c.lens[2*i+1]<<4
	}
	lens, codes := &c.lens, &c.codes
	o := &c.out // masked indexes: no bounds checks

	// Bits fill 16-bit units whose places are reserved in advance: the unit being filled
	// (nb) and the one after (nb2); literal length bytes go after both (nbyte). This is
	// where [MS-XCA]'s decoder, which holds 32 bits, finds them. A unit is written once
	// more than 16 bits are pending; writing a symbol and its offset bits together gives
	// the same units, as long as no length byte comes between them.
	var bitbuf uint64
	var bitcount uint
	nb, nb2, nbyte := 0, 2, 4
	for _, it := range c.items[:c.nitems] {
		if it < 256 {
			bitbuf = bitbuf<<lens[it] | uint64(codes[it])
			bitcount += uint(lens[it])
			if bitcount > 16 {
				bitcount -= 16
				v := uint16(bitbuf >> bitcount)
				o[nb&outMask], o[(nb+1)&outMask] = byte(v), byte(v>>8)
				nb, nb2 = nb2, nbyte
				nbyte += 2
			}
			continue
		}
		off := it >> 16
		adj := it & 0xFFFF
		log2 := uint(bits.Len32(off) - 1)
		sym := xpressEOD + uint32(log2)<<4 + min(adj, 15)
		bitbuf = bitbuf<<lens[sym] | uint64(codes[sym])
		bitcount += uint(lens[sym])
		if adj >= 15 {
			if bitcount > 16 {
				bitcount -= 16
				v := uint16(bitbuf >> bitcount)
				o[nb&outMask], o[(nb+1)&outMask] = byte(v), byte(v>>8)
				nb, nb2 = nb2, nbyte
				nbyte += 2
			}
			b := min(adj-15, 255)
			o[nbyte&outMask] = byte(b)
			nbyte++
			if b == 255 {
				o[nbyte&outMask], o[(nbyte+1)&outMask] = byte(adj), byte(adj>>8)
				nbyte += 2
			}
		}
		bitbuf = bitbuf<<log2 | uint64(off&(1<<log2-1))
		bitcount += log2
		for bitcount > 16 {
			bitcount -= 16
			v := uint16(bitbuf >> bitcount)
			o[nb&outMask], o[(nb+1)&outMask] = byte(v), byte(v>>8)
			nb, nb2 = nb2, nbyte
			nbyte += 2
		}
	}
	bitbuf = bitbuf<<lens[xpressEOD] | uint64(codes[xpressEOD])
	bitcount += uint(lens[xpressEOD])
	if bitcount > 16 {
		bitcount -= 16
		v := uint16(bitbuf >> bitcount)
		o[nb&outMask], o[(nb+1)&outMask] = byte(v), byte(v>>8)
		nb, nb2 = nb2, nbyte
		nbyte += 2
	}
	v := uint16(bitbuf << (16 - bitcount))
	o[nb&outMask], o[(nb+1)&outMask] = byte(v), byte(v>>8)
	o[nb2&outMask], o[(nb2+1)&outMask] = 0, 0
	copy(dst[xpressSymbols/2:], o[:nbyte])
	return xpressSymbols/2 + nbyte
}

// xpressDecompressor decodes XPRESS chunks; its table is rebuilt for every chunk.
type xpressDecompressor struct {
	lens  [xpressSymbols]uint8
	codes [xpressSymbols]uint16
	// table maps the next 15 bits of input to symbol | codeword length<<9.
	table [1 << xpressMaxCodeLen]uint16
}

func (d *xpressDecompressor) buildTable() error {
	kraft := 0
	for _, l := range d.lens {
		if l != 0 {
			kraft += 1 << (xpressMaxCodeLen - l)
		}
	}
	if kraft != 1<<xpressMaxCodeLen {
		if kraft == 0 {
			return fmt.Errorf("XPRESS chunk: Huffman table has no codewords")
		}
		return fmt.Errorf("XPRESS chunk: Huffman codeword lengths do not form a complete code (Kraft sum %d/%d)", kraft, 1<<xpressMaxCodeLen)
	}
	huffman.Codes(d.lens[:], d.codes[:])
	for s, l := range d.lens {
		if l == 0 {
			continue
		}
		start := int(d.codes[s]) << (xpressMaxCodeLen - l)
		e := uint16(s) | uint16(l)<<9
		t := d.table[start : start+1<<(xpressMaxCodeLen-l)]
		for i := range t {
			t[i] = e
		}
	}
	return nil
}

// Decompress decodes src into dst, whose length is the chunk's uncompressed size. Like
// wimlib (and [MS-XCA]'s decoder) it reads missing input as zero bits; the SHA-1 of the
// blob catches such damage.
func (d *xpressDecompressor) Decompress(dst, src []byte) error {
	if len(src) < xpressSymbols/2 {
		return fmt.Errorf("XPRESS chunk: %d bytes, shorter than its 256-byte Huffman table", len(src))
	}
	for i := 0; i < xpressSymbols/2; i++ {
		d.lens[2*i] = src[i] & 15
		d.lens[2*i+1] = src[i] >> 4
	}
	if err := d.buildTable(); err != nil {
		return err
	}
	in := src[xpressSymbols/2:]
	var bitbuf uint32 // next bits, left-aligned
	var bitsleft uint
	ip, op, n := 0, 0, len(dst)
	for op < n {
		if bitsleft < 15 {
			if len(in)-ip >= 2 {
				bitbuf |= uint32(binary.LittleEndian.Uint16(in[ip:])) << (16 - bitsleft)
				ip += 2
				bitsleft += 16
			} else {
				bitsleft = 32
			}
		}
		e := d.table[bitbuf>>(32-xpressMaxCodeLen)]
		l := uint(e >> 9)
		bitbuf <<= l
		bitsleft -= l
		sym := e & 0x1FF
		if sym < 256 {
			dst[op] = byte(sym)
			op++
			continue
		}
		length := int(sym & 15)
		log2 := uint(sym>>4) & 15
		if bitsleft < 16 {
			if len(in)-ip >= 2 {
				bitbuf |= uint32(binary.LittleEndian.Uint16(in[ip:])) << (16 - bitsleft)
				ip += 2
				bitsleft += 16
			} else {
				bitsleft = 32
			}
		}
		off := 1 << log2
		if log2 > 0 {
			off |= int(bitbuf >> (32 - log2))
			bitbuf <<= log2
			bitsleft -= log2
		}
		if length == 15 {
			if ip < len(in) {
				length += int(in[ip])
				ip++
			}
			if length == 15+255 {
				length = 0
				if len(in)-ip >= 2 {
					length = int(binary.LittleEndian.Uint16(in[ip:]))
					ip += 2
				}
			}
		}
		length += xpressMinMatch
		if off > op {
			return fmt.Errorf("XPRESS chunk: match at output byte %d refers %d bytes back, before the chunk", op, off)
		}
		if length > n-op {
			return fmt.Errorf("XPRESS chunk: match of %d bytes at output byte %d runs past the chunk's %d bytes", length, op, n)
		}
		if off >= length {
			copy(dst[op:op+length], dst[op-off:])
		} else {
			for i := op; i < op+length; i++ {
				dst[i] = dst[i-off]
			}
		}
		op += length
	}
	return nil
}
