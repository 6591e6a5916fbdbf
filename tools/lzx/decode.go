package lzx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Decode tables: an entry holds a symbol (bits 8 and up) and its code length (bits 0-4), or,
// with bit 5 set, the index of a subtable for the codes longer than the primary table's bits.
// A zero entry is a bit pattern that no code uses.
const (
	mainBits    = 10
	lengthBits  = 10
	alignedBits = 7
	pretreeBits = 8
	subLink     = 32
)

// buildTable makes the decode table of a canonical Huffman code with the given lengths.
// Oversubscribed codes are refused; incomplete ones (an unused length tree is all zeros)
// decode until an unused pattern appears.
func buildTable(t []uint32, lens []uint8, tb uint) ([]uint32, error) {
	var count [maxCodeLen + 1]int
	for _, l := range lens {
		if l > maxCodeLen {
			return t, fmt.Errorf("code length %d over %d", l, maxCodeLen)
		}
		count[l]++
	}
	count[0] = 0
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return t, errors.New("oversubscribed Huffman code")
		}
	}
	var next [maxCodeLen + 2]int
	code := 0
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	n := 1 << tb
	if cap(t) < n {
		t = make([]uint32, n, n+64<<(maxCodeLen-tb))
	}
	t = t[:n]
	clear(t)
	subSize := 1 << (maxCodeLen - tb)
	for sym, l8 := range lens {
		l := uint(l8)
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		e := uint32(sym)<<8 | uint32(l)
		if l <= tb {
			start := c << (tb - l)
			for i := 0; i < 1<<(tb-l); i++ {
				t[start+i] = e
			}
			continue
		}
		prefix := c >> (l - tb)
		if t[prefix] == 0 {
			t[prefix] = uint32(len(t))<<8 | subLink
			for i := 0; i < subSize; i++ {
				t = append(t, 0)
			}
		}
		if t[prefix]&subLink == 0 {
			return t, errors.New("inconsistent Huffman code")
		}
		sub := int(t[prefix] >> 8)
		start := (c & (1<<(l-tb) - 1)) << (maxCodeLen - l)
		for i := 0; i < 1<<(maxCodeLen-l); i++ {
			t[sub+start+i] = e
		}
	}
	return t, nil
}

// decoder is the state of one LZX stream.
type decoder struct {
	win   []byte // the window: the CAB folder's ring, or the WIM chunk itself
	wpos  int    // next write position in win
	total int64  // bytes decoded so far: no match reaches further back
	wim   bool   // block sizes behind the "default 32768" bit

	windowBits, mainSyms int
	mainLens             [maxMainSyms]uint8
	lengthLens           [numLengthSyms]uint8
	alignedLens          [numAligned]uint8
	pretreeLens          [numPretree]uint8
	mainT, lengthT       []uint32
	alignedT, pretreeT   []uint32
	r                    [3]uint32

	blockType   int
	blockRemain int
	oddPad      bool // an uncompressed block of odd size is followed by a pad byte
	headerRead  bool
	e8Size      int32 // 0: no E8 translation

	in     []byte
	ip     int // next byte of in to load (may pass len(in): zeros are loaded there)
	bitbuf uint64
	bitcnt uint
}

func (d *decoder) reset(windowBits int, wim bool) {
	d.windowBits = windowBits
	d.mainSyms = numChars + 8*numSlots(windowBits)
	d.wim = wim
	d.mainLens = [maxMainSyms]uint8{}
	d.lengthLens = [numLengthSyms]uint8{}
	d.r = [3]uint32{1, 1, 1}
	d.blockType, d.blockRemain, d.oddPad, d.headerRead = 0, 0, false, false
	d.e8Size = 0
	d.wpos, d.total = 0, 0
}

func (d *decoder) setInput(in []byte) {
	d.in, d.ip, d.bitbuf, d.bitcnt = in, 0, 0, 0
}

func (d *decoder) refill() {
	for d.bitcnt <= 48 {
		var w uint64
		if d.ip+1 < len(d.in) {
			w = uint64(d.in[d.ip]) | uint64(d.in[d.ip+1])<<8
		} else if d.ip < len(d.in) {
			w = uint64(d.in[d.ip])
		}
		d.ip += 2
		d.bitbuf = d.bitbuf<<16 | w
		d.bitcnt += 16
	}
}

// bits reads n <= 32 bits, most significant first.
func (d *decoder) bits(n uint) uint32 {
	if d.bitcnt < n {
		d.refill()
	}
	d.bitcnt -= n
	return uint32(d.bitbuf>>d.bitcnt) & (1<<n - 1)
}

// consumed is the number of input bits used so far.
func (d *decoder) consumed() int64 { return int64(d.ip)*8 - int64(d.bitcnt) }

func (d *decoder) overrun() bool { return d.consumed() > int64(len(d.in))*8 }

var errCode = errors.New("bit pattern of no Huffman code")

func (d *decoder) sym(t []uint32, tb uint) (int, error) {
	if d.bitcnt < maxCodeLen {
		d.refill()
	}
	e := t[uint32(d.bitbuf>>(d.bitcnt-tb))&(1<<tb-1)]
	if e&subLink != 0 {
		e = t[int(e>>8)+int(uint32(d.bitbuf>>(d.bitcnt-maxCodeLen))&(1<<(maxCodeLen-tb)-1))]
	}
	l := uint(e & 31)
	if l == 0 {
		return 0, errCode
	}
	d.bitcnt -= l
	return int(e >> 8), nil
}

// readLengths reads code lengths lens[first:last] as deltas from their previous values,
// through a pretree sent just before them.
func (d *decoder) readLengths(lens []uint8, first, last int) error {
	for i := range d.pretreeLens {
		d.pretreeLens[i] = uint8(d.bits(4))
	}
	var err error
	if d.pretreeT, err = buildTable(d.pretreeT, d.pretreeLens[:], pretreeBits); err != nil {
		return fmt.Errorf("pretree: %v", err)
	}
	for i := first; i < last; {
		s, err := d.sym(d.pretreeT, pretreeBits)
		if err != nil {
			return fmt.Errorf("pretree: %v", err)
		}
		run, v := 1, uint8(0)
		switch s {
		case 17:
			run = 4 + int(d.bits(4))
		case 18:
			run = 20 + int(d.bits(5))
		case 19:
			run = 4 + int(d.bits(1))
			s2, err := d.sym(d.pretreeT, pretreeBits)
			if err != nil {
				return fmt.Errorf("pretree: %v", err)
			}
			if s2 > 16 {
				return fmt.Errorf("pretree symbol %d after a run symbol", s2)
			}
			v = uint8((int(lens[i]) - s2 + 17) % 17)
		default:
			v = uint8((int(lens[i]) - s + 17) % 17)
		}
		// Encoders may run past the end of the table; libmspack and wimlib drop the rest.
		for ; run > 0 && i < last; run-- {
			lens[i] = v
			i++
		}
	}
	return nil
}

func (d *decoder) readBlockHeader() error {
	if d.oddPad {
		d.ip++
		d.oddPad = false
	}
	d.blockType = int(d.bits(3))
	if d.wim {
		if d.bits(1) == 1 {
			d.blockRemain = FrameSize
		} else {
			d.blockRemain = int(d.bits(16))
			if d.windowBits >= 16 {
				d.blockRemain = d.blockRemain<<8 | int(d.bits(8))
			}
		}
	} else {
		hi := d.bits(16)
		d.blockRemain = int(hi<<8 | d.bits(8))
	}
	switch {
	case d.overrun():
		return errors.New("input ends in a block header")
	case d.blockType < blockVerbatim || d.blockType > blockUncompressed:
		return fmt.Errorf("block type %d, want 1 (verbatim), 2 (aligned offset) or 3 (uncompressed)", d.blockType)
	case d.blockRemain == 0:
		return errors.New("block of size 0")
	}
	var err error
	switch d.blockType {
	case blockAligned:
		for i := range d.alignedLens {
			d.alignedLens[i] = uint8(d.bits(3))
		}
		if d.alignedT, err = buildTable(d.alignedT, d.alignedLens[:], alignedBits); err != nil {
			return fmt.Errorf("aligned offset tree: %v", err)
		}
		fallthrough
	case blockVerbatim:
		if err := d.readLengths(d.mainLens[:], 0, numChars); err != nil {
			return fmt.Errorf("main tree: %v", err)
		}
		if err := d.readLengths(d.mainLens[:], numChars, d.mainSyms); err != nil {
			return fmt.Errorf("main tree: %v", err)
		}
		if d.mainT, err = buildTable(d.mainT, d.mainLens[:d.mainSyms], mainBits); err != nil {
			return fmt.Errorf("main tree: %v", err)
		}
		if err := d.readLengths(d.lengthLens[:], 0, numLengthSyms); err != nil {
			return fmt.Errorf("length tree: %v", err)
		}
		if d.lengthT, err = buildTable(d.lengthT, d.lengthLens[:], lengthBits); err != nil {
			return fmt.Errorf("length tree: %v", err)
		}
	case blockUncompressed:
		// 1 to 16 bits of padding to a 16-bit boundary, then R0..R2 and the bytes.
		c := d.consumed()
		c += 16 - c%16
		d.ip, d.bitbuf, d.bitcnt = int(c/8), 0, 0
		if d.ip+12 > len(d.in) {
			return errors.New("uncompressed block header truncated")
		}
		for i := range d.r {
			d.r[i] = binary.LittleEndian.Uint32(d.in[d.ip+4*i:])
		}
		d.ip += 12
		d.oddPad = d.blockRemain&1 == 1
	}
	if d.overrun() {
		return errors.New("input ends in a block header")
	}
	return nil
}

// decode fills d.win[d.wpos:end] (end <= len(d.win)).
func (d *decoder) decode(end int) error {
	for d.wpos < end {
		if d.blockRemain == 0 {
			if err := d.readBlockHeader(); err != nil {
				return fmt.Errorf("at output byte %d: %v", d.total, err)
			}
		}
		stop := end
		if d.wpos+d.blockRemain < stop {
			stop = d.wpos + d.blockRemain
		}
		start := d.wpos
		var err error
		if d.blockType == blockUncompressed {
			n := stop - d.wpos
			if d.ip+n > len(d.in) {
				return fmt.Errorf("at output byte %d: uncompressed block truncated", d.total)
			}
			copy(d.win[d.wpos:stop], d.in[d.ip:])
			d.ip += n
			d.wpos = stop
		} else {
			err = d.decodeSymbols(stop)
		}
		d.blockRemain -= d.wpos - start
		d.total += int64(d.wpos - start)
		if err != nil {
			return fmt.Errorf("at output byte %d: %v", d.total, err)
		}
		if d.overrun() {
			return fmt.Errorf("at output byte %d: compressed data ends early", d.total)
		}
	}
	return nil
}

func (d *decoder) decodeSymbols(stop int) error {
	win := d.win
	base := d.total - int64(d.wpos) // stream position of win[0] in this lap of the ring
	aligned := d.blockType == blockAligned
	for d.wpos < stop {
		s, err := d.sym(d.mainT, mainBits)
		if err != nil {
			return fmt.Errorf("main tree: %v", err)
		}
		if s < numChars {
			win[d.wpos] = byte(s)
			d.wpos++
			continue
		}
		s -= numChars
		length := s&7 + minMatch
		if s&7 == 7 {
			ls, err := d.sym(d.lengthT, lengthBits)
			if err != nil {
				return fmt.Errorf("length tree: %v", err)
			}
			length += ls
		}
		slot := s >> 3
		var off uint32
		switch slot {
		case 0:
			off = d.r[0]
		case 1:
			off = d.r[1]
			d.r[1] = d.r[0]
			d.r[0] = off
		case 2:
			off = d.r[2]
			d.r[2] = d.r[0]
			d.r[0] = off
		default:
			eb := uint(extraBits[slot])
			off = slotBase[slot] - 2
			if aligned && eb >= 3 {
				off += d.bits(eb-3) << 3
				a, err := d.sym(d.alignedT, alignedBits)
				if err != nil {
					return fmt.Errorf("aligned offset tree: %v", err)
				}
				off += uint32(a)
			} else {
				off += d.bits(eb)
			}
			d.r[2], d.r[1], d.r[0] = d.r[1], d.r[0], off
		}
		if length > stop-d.wpos {
			return fmt.Errorf("match of %d bytes crosses the end of its block or frame (%d bytes left)", length, stop-d.wpos)
		}
		if off == 0 || int64(off) > base+int64(d.wpos) || int(off) > len(win) {
			return fmt.Errorf("match offset %d with %d bytes of history", off, base+int64(d.wpos))
		}
		src := d.wpos - int(off)
		if src >= 0 && src+length <= d.wpos {
			copy(win[d.wpos:d.wpos+length], win[src:])
			d.wpos += length
			continue
		}
		if src < 0 {
			src += len(win) // the CAB ring's previous lap
		}
		for i := 0; i < length; i++ {
			win[d.wpos] = win[src]
			d.wpos++
			if src++; src == len(win) {
				src = 0
			}
		}
	}
	return nil
}
