package lzx

import "github.com/oemimage/rules_oemimage/tools/internal/repeats"

// WIMEncoder compresses WIM chunks, one at a time (keep one per goroutine).
type WIMEncoder struct {
	bits  int
	level Level
	p     params
	cm    costModel
	nodes []node
	cands []cand
	at    []int32
	m16   matcher[int16] // for chunks of 32 KiB
	m32   matcher[int32] // for larger ones
	e     blockEncoder
	w     bitWriter
	buf   []byte
	items []item
	last  *repeats.Table // incompressible's
}

// NewWIMEncoder returns an encoder for chunks of chunkSize bytes (a power of two from 2^15
// to 2^21: the window).
func NewWIMEncoder(chunkSize int, level Level) (*WIMEncoder, error) {
	bits, err := WIMWindowBits(chunkSize)
	if err != nil {
		return nil, err
	}
	return &WIMEncoder{bits: bits, level: level, p: levelParams(level)}, nil
}

// Bound is the room Compress needs in dst for n bytes of input.
func Bound(n int) int { return n + 64 }

// Compress compresses src (at most the chunk size) into dst, which holds Bound(len(src))
// bytes, and returns the compressed size, or 0 when that would not be smaller than src (the
// chunk is then stored as it is).
func (c *WIMEncoder) Compress(dst, src []byte) int { return c.compress(dst, src, true) }

// compress is Compress; without shortcut, a chunk incompressible passes is parsed too (for
// the test that it is then stored).
func (c *WIMEncoder) compress(dst, src []byte, shortcut bool) int {
	if len(src) == 0 || len(src) > 1<<c.bits {
		return 0
	}
	c.buf = append(c.buf[:0], src...)
	e8Encode(c.buf, 0, wimFileSize)
	if shortcut && c.incompressible() {
		return 0
	}
	if c.bits == MinWindowBits { // positions up to 32767: int16
		parseChunk(c, &c.m16)
	} else {
		parseChunk(c, &c.m32)
	}
	c.w = bitWriter{out: c.w.out[:0]}
	// Blocks of about 32 KiB: each has its own trees.
	start, pos, first := 0, 0, 0
	for i, it := range c.items {
		pos += max(int(it.length), 1)
		if pos-start >= FrameSize || i == len(c.items)-1 {
			c.e.writeBlock(&c.w, c.buf[start:], c.items[first:i+1])
			first, start = i+1, pos
			if c.w.flush(); len(c.w.out) >= len(src) {
				return 0
			}
		}
	}
	c.w.align()
	if len(c.w.out) >= len(src) || len(c.w.out) > len(dst) {
		return 0
	}
	return copy(dst, c.w.out)
}

// parseChunk sets c.items to the parse of c.buf, with m as the matcher.
func parseChunk[P position](c *WIMEncoder, m *matcher[P]) {
	m.buf = c.buf
	if cap(m.prev) < len(c.buf) {
		m.prev = make([]P, 1<<c.bits)
		m.near = make([]P, 1<<c.bits)
	}
	m.prev, m.near = m.prev[:len(c.buf)], m.near[:len(c.buf)]
	m.reset(1<<c.bits-3, c.p)
	c.e.reset(c.bits, true)
	r := [3]uint32{1, 1, 1}
	if c.p.passes > 0 {
		c.at, c.cands = m.findAll(c.at, c.cands)
		// A first, greedy pass over the candidates prices the symbols of the first optimal one.
		c.items = c.greedy(c.items[:0])
	} else {
		c.items = m.parse(c.items[:0], 0, 0, len(c.buf), &r)
	}
	for pass := 0; pass < c.p.passes; pass++ {
		// The previous parse's statistics price the symbols of the next, optimal one.
		c.e.tally(c.buf, c.items)
		c.cm.set(&c.e, c.e.mainSyms)
		c.e.reset(c.bits, true)
		c.items, c.nodes = m.optimalParse(c.items[:0], c.nodes, &c.cm, c.at, c.cands)
	}
}

// CABEncoder compresses the frames of one CAB folder in order, each into the payload of
// one CFDATA block. Each frame is one LZX block (or an uncompressed block when that is
// smaller), ending on a 16-bit boundary as CAB readers expect.
type CABEncoder struct {
	bits   int
	m      matcher[int32]
	bw     cabBlockWriter
	buf    []byte // E8-translated history (up to the window) and the current frame
	items  []item
	r      [3]uint32 // recent offsets as the parse sees them
	frames int
	total  int64
}

// NewCABEncoder returns an encoder for a folder with a window of 2^windowBits bytes.
func NewCABEncoder(windowBits int, level Level) (*CABEncoder, error) {
	if err := checkWindow(windowBits); err != nil {
		return nil, err
	}
	window := 1 << windowBits
	c := &CABEncoder{bits: windowBits, buf: make([]byte, 0, 2*window+FrameSize), r: [3]uint32{1, 1, 1}}
	c.m.prev = make([]int32, cap(c.buf))
	c.m.near = make([]int32, cap(c.buf))
	c.m.reset(window-3, levelParams(level))
	c.bw.e.reset(windowBits, false)
	return c, nil
}

// Encode compresses the next frame (1 to 32768 bytes; only a folder's last frame may be
// shorter than 32768) and returns the CFDATA payload, valid until the next call.
func (c *CABEncoder) Encode(frame []byte) []byte {
	if len(frame) == 0 || len(frame) > FrameSize {
		panic("lzx: CAB frame of a size other than 1 to 32768 bytes")
	}
	window := 1 << c.bits
	if len(c.buf)+len(frame) > cap(c.buf) {
		c.slide(len(c.buf) - window)
	}
	start := len(c.buf)
	c.buf = append(c.buf, frame...)
	if c.frames < e8Frames {
		e8Encode(c.buf[start:], c.total, wimFileSize)
	}
	c.m.buf = c.buf
	c.items = c.m.parse(c.items[:0], 0, start, len(c.buf), &c.r)

	out := c.bw.frame(c.buf[start:], c.items)
	c.frames++
	c.total += int64(len(frame))
	return out
}

// slide drops the first shift bytes of the history.
func (c *CABEncoder) slide(shift int) {
	n := copy(c.buf, c.buf[shift:])
	c.buf = c.buf[:n]
	adj := func(v int32) int32 {
		if v < int32(shift) {
			return noPos
		}
		return v - int32(shift)
	}
	for i, v := range c.m.head {
		c.m.head[i] = adj(v)
	}
	for i, v := range c.m.head3 {
		c.m.head3[i] = adj(v)
	}
	for i := 0; i < n; i++ {
		c.m.prev[i] = adj(c.m.prev[i+shift])
		c.m.near[i] = adj(c.m.near[i+shift])
	}
	c.m.next = max(c.m.next-shift, 0)
}

// greedy parses with the longest candidate at each position, for first statistics.
func (c *WIMEncoder) greedy(items []item) []item {
	for i := 0; i < len(c.buf); {
		cs := c.cands[c.at[i]:c.at[i+1]]
		if len(cs) == 0 {
			items = append(items, item{})
			i++
			continue
		}
		best := cs[len(cs)-1]
		items = append(items, item{length: uint32(best.len), off: uint32(best.off)})
		i += best.len
	}
	return items
}
