package lzx

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Level picks the encoder's effort.
type Level int

const (
	Fast   Level = 1 // short hash chains, lazy matching: for packages (the original's "FastLZX")
	Strong Level = 2 // long hash chains, lazy matching: for WIM files
	Best   Level = 3 // near-optimal parsing (WIM only): about 0.9% smaller, 3-4x slower than Strong
)

type params struct {
	depth  int // hash chain candidates examined
	nice   int // a match this long ends the search
	lazy   int // a match this long is taken without looking one byte further
	passes int // optimal parsing passes after the lazy one (WIM only)
}

func levelParams(l Level) params {
	// Measured on bench/lzx_vs_wimlib.sh's tree (docs/lzx.md): deeper chains stop paying
	// beyond these depths.
	switch l {
	case Strong:
		return params{depth: 256, nice: 258, lazy: 128}
	case Best:
		return params{depth: 64, nice: 258, lazy: 258, passes: 1}
	}
	return params{depth: 32, nice: 64, lazy: 32}
}

// item is a literal (length 0: the byte at the current position) or a match.
type item struct {
	length uint32
	off    uint32
}

const (
	noPos = -1
)

// position is the type of the matcher's positions: int16 when they all fit (a WIM chunk of
// 32 KiB, whose tables then take half the cache), else int32. The type changes no match.
type position interface{ ~int16 | ~int32 }

// matcher finds matches in buf with hash chains of 4-byte prefixes, and the nearest earlier
// position with the same 3-byte prefix for the short matches the chains miss.
type matcher[P position] struct {
	buf      []byte
	head     []P // 2^hashBits chain heads
	hashBits uint
	prev     []P // prev[p]: the previous position with p's 4-byte hash, or noPos
	head3    []P
	near     []P // near[p]: the previous position with p's 3-byte hash, or noPos
	maxOff   int
	p        params
	next     int      // the next position to insert
	lit      []uint32 // literal cost prefix sums of the data being parsed (priceLiterals)
	litBase  int
}

func (m *matcher[P]) reset(maxOff int, p params) {
	if m.head == nil {
		// About as many heads as window positions (up to 2^20): chains through data
		// that does not repeat stay short.
		m.hashBits = uint(min(max(bits.Len(uint(maxOff)), 15), 20))
		m.head = make([]P, 1<<m.hashBits)
		m.head3 = make([]P, 1<<(m.hashBits-2))
	}
	for i := range m.head {
		m.head[i] = noPos
	}
	for i := range m.head3 {
		m.head3[i] = noPos
	}
	m.maxOff, m.p, m.next = maxOff, p, 0
}

// insert adds position i (i+3 <= len(buf)) to the chains.
func (m *matcher[P]) insert(i int) {
	b := m.buf[i:]
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
	h3 := (v * 0x9E3779B1) >> (32 - (m.hashBits - 2))
	m.near[i] = m.head3[h3]
	m.head3[h3] = P(i)
	if len(b) > 3 {
		v |= uint32(b[3]) << 24
	}
	h := (v * 0x1E35A7BD) >> (32 - m.hashBits)
	m.prev[i] = m.head[h]
	m.head[h] = P(i)
}

// insertRange adds positions from to to-1 (to+2 <= len(buf)) to the chains, as insert
// does one at a time.
func (m *matcher[P]) insertRange(from, to int) {
	if from >= to {
		return
	}
	b := m.buf
	head, head3 := m.head, m.head3
	s3, s4 := 32-(m.hashBits-2), 32-m.hashBits
	n := min(to, len(b)-3) - from // positions with 4 bytes to hash
	if n > 0 {
		prev, near := m.prev[from:from+n], m.near[from:from+n]
		src := b[from : from+n+3]
		for k := range prev {
			v := binary.LittleEndian.Uint32(src[k:])
			h3 := ((v & 0xFFFFFF) * 0x9E3779B1) >> s3
			near[k] = head3[h3]
			head3[h3] = P(from + k)
			h := (v * 0x1E35A7BD) >> s4
			prev[k] = head[h]
			head[h] = P(from + k)
		}
	} else {
		n = 0
	}
	for i := from + n; i < to; i++ {
		m.insert(i)
	}
}

func matchLen(b []byte, a, c, max int) int {
	n := 0
	for n+8 <= max {
		x := binary.LittleEndian.Uint64(b[a+n:]) ^ binary.LittleEndian.Uint64(b[c+n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < max && b[a+n] == b[c+n] {
		n++
	}
	return n
}

// The estimated bits of a match beyond its length, its main symbol and offset bits, in
// sixteenths of bits: 6 for the most recent offset, 8 for the other two, and 10 and the
// offset's extra bits for a new one.
var recentCost = [2]int{16 * 6, 16 * 8}

var newCostBySlot [maxSlots + 1]int // set by init, after extraBits

// newCost is the cost of a match at a new offset off.
func newCost(off int) int { return newCostBySlot[slotOf(uint32(off)+2)] }

// priceLiterals sets the literal costs of buf[start:end] from its own byte histogram:
// lit[k] is the cost of the bytes from start to start+k, in sixteenths of bits.
func (m *matcher[P]) priceLiterals(start, end int) {
	var hist [256]uint32
	for _, b := range m.buf[start:end] {
		hist[b]++
	}
	var cost [256]uint32
	total := float64(end - start)
	for b, h := range hist {
		if h > 0 {
			c := 16 * math.Log2(total/float64(h))
			cost[b] = uint32(min(max(c, 16), 15*16))
		}
	}
	if cap(m.lit) < end-start+1 {
		m.lit = make([]uint32, end-start+1)
	}
	lit := m.lit[:end-start+1]
	lit[0] = 0
	var sum uint32
	for k, b := range m.buf[start:end] {
		sum += cost[b]
		lit[k+1] = sum
	}
	m.lit = lit
	m.litBase = start
}

// best finds the best-scoring match at i, with history from lo, ending by end.
func (m *matcher[P]) best(i, lo, end int, r *[3]uint32) (int, uint32, int) {
	max := end - i
	if max > maxMatch {
		max = maxMatch
	}
	bestLen, bestOff, bestScore := 0, uint32(0), 0
	if max < minMatch {
		return 0, 0, 0
	}
	b := m.buf
	// The score of a match of length l: li[l] (its literals' cost) less its own cost.
	li := m.lit[i-m.litBase : i-m.litBase+max+1]
	base := int(li[0])
	for k := 0; k < 3; k++ {
		o := int(r[k])
		if i-o < lo || o > m.maxOff {
			continue
		}
		if repeatsEarlier(r, k) {
			continue
		}
		// Two bytes in common first: most positions have none.
		if b[i] != b[i-o] || b[i+1] != b[i+1-o] {
			continue
		}
		if l := matchLen(b, i, i-o, max); l >= minMatch {
			if s := int(li[l]) - base - recentCost[min(k, 1)]; s > bestScore {
				bestLen, bestOff, bestScore = l, uint32(o), s
				// A later recent offset costs no less (recentCost), so it can only tie.
				if l >= max {
					break
				}
			}
		}
	}
	if max < 3 || bestLen >= m.p.nice || bestLen >= max {
		return bestLen, bestOff, bestScore
	}
	limit := i - m.maxOff
	if limit < lo {
		limit = lo
	}
	if c := int(m.near[i]); c >= limit && bestLen < 3 {
		if l := matchLen(b, i, c, max); l >= 3 {
			if s := int(li[l]) - base - newCost(i-c); s > bestScore {
				bestLen, bestOff, bestScore = l, uint32(i-c), s
				if l >= max {
					return bestLen, bestOff, bestScore
				}
			}
		}
	}
	// The chain runs to ever larger offsets, whose cost (newCost) never falls, and a chain
	// offset that is a recent one scored above already (newCost, which prices it as a new
	// offset, only lowers a score that would not win): only a candidate longer than
	// bestLen can score more, so one that differs in the 4 bytes up to bestLen is passed
	// over (as is one with under 3 bytes in common while bestLen < 3).
	prev := m.prev
	c := int(prev[i])
	d := m.p.depth
	if bestLen < 3 {
		want := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
		for ; c >= limit && d > 0; d-- {
			if binary.LittleEndian.Uint32(b[c:])&0xFFFFFF == want {
				l := matchLen(b, i, c, max)
				if s := int(li[l]) - base - newCost(i-c); s > bestScore {
					bestLen, bestOff, bestScore = l, uint32(i-c), s
					if l >= m.p.nice || l >= max {
						return bestLen, bestOff, bestScore
					}
					d--
					c = int(prev[c])
					break
				}
			}
			c = int(prev[c])
		}
		if bestLen < 3 {
			return bestLen, bestOff, bestScore
		}
	}
	want := binary.LittleEndian.Uint32(b[i+bestLen-3:])
	for ; c >= limit && d > 0; d-- {
		if binary.LittleEndian.Uint32(b[c+bestLen-3:]) == want {
			if l := matchLen(b, i, c, max); l > bestLen {
				if s := int(li[l]) - base - newCost(i-c); s > bestScore {
					bestLen, bestOff, bestScore = l, uint32(i-c), s
					if l >= m.p.nice || l >= max {
						break
					}
					want = binary.LittleEndian.Uint32(b[i+bestLen-3:])
				}
			}
		}
		c = int(prev[c])
	}
	return bestLen, bestOff, bestScore
}

// repeatsEarlier reports whether recent offset k is one before it: it would score the same,
// not more, so best and literalRun pass it over.
func repeatsEarlier(r *[3]uint32, k int) bool {
	return (k >= 1 && r[k] == r[0]) || (k == 2 && r[2] == r[1])
}

// literalRun returns the first position from i on where best(i, lo, end, r) could find a
// match, or where fewer than 3 bytes are left: the positions before it have no recent offset
// with their next two bytes, and neither their nearest 3-byte hash position nor any chain
// candidate best would try with their next three. These are the tests best makes before any
// scoring, so the positions before it are literals in best's parse too. One loop over the
// run, with the recent offsets (fixed while no match is taken) sorted out once.
func (m *matcher[P]) literalRun(i, lo, end int, r *[3]uint32) int {
	var offs [3]int
	n := 0
	for k := 0; k < 3; k++ {
		o := int(r[k])
		if o > m.maxOff || repeatsEarlier(r, k) {
			continue
		}
		offs[n] = o
		n++
	}
	b, prev, near := m.buf, m.prev, m.near
	depth := m.p.depth
	for ; end-i >= 3; i++ {
		for _, o := range offs[:n] {
			if i-o >= lo && b[i] == b[i-o] && b[i+1] == b[i+1-o] {
				return i
			}
		}
		limit := max(i-m.maxOff, lo)
		want := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16
		if c := int(near[i]); c >= limit && binary.LittleEndian.Uint32(b[c:])&0xFFFFFF == want {
			return i
		}
		for c, d := int(prev[i]), depth; c >= limit && d > 0; d-- {
			if binary.LittleEndian.Uint32(b[c:])&0xFFFFFF == want {
				return i
			}
			c = int(prev[c])
		}
	}
	return i
}

// updateR applies a match's offset to the recent offsets, as the decoder will.
func updateR(r *[3]uint32, off uint32) {
	switch off {
	case r[0]:
	case r[1]:
		r[0], r[1] = r[1], r[0]
	case r[2]:
		r[0], r[2] = r[2], r[0]
	default:
		r[2], r[1], r[0] = r[1], r[0], off
	}
}

// parse appends the items of buf[start:end] to items: lazy matching with the recent offsets
// in mind. Positions from lo may be matched. Every position up to end with three bytes after
// it goes into the hash chains, all of them before the parse: best(i) reads only the chains
// of i and of earlier positions, which later insertions leave as they are, so inserting
// ahead finds the same matches as inserting one position at a time, in one tight loop.
func (m *matcher[P]) parse(items []item, lo, start, end int, r *[3]uint32) []item {
	m.next = max(m.next, start)
	if to := min(end+1, len(m.buf)-2); m.next < to {
		m.insertRange(m.next, to)
		m.next = to
	}
	m.priceLiterals(start, end)
	i := start
	for i < end {
		for j := m.literalRun(i, lo, end, r); i < j; i++ {
			items = append(items, item{})
		}
		if i >= end {
			break
		}
		l, off, s := m.best(i, lo, end, r)
		if s <= 0 {
			items = append(items, item{})
			i++
			continue
		}
		// Lazy evaluation: a better match one byte on makes this byte a literal.
		for l < m.p.lazy && i+1 < end {
			l2, off2, s2 := m.best(i+1, lo, end, r)
			if s2 <= s+8 {
				break
			}
			items = append(items, item{})
			i++
			l, off, s = l2, off2, s2
		}
		items = append(items, item{length: uint32(l), off: off})
		updateR(r, off)
		i += l
	}
	return items
}

// slotOf is the position slot of a formatted offset (offset + 2).
func slotOf(f uint32) int {
	if f < 4 {
		return int(f)
	}
	if f >= 1<<18 {
		return 36 + int((f-1<<18)>>17)
	}
	n := bits.Len32(f) - 1
	return 2*n + int(f>>(n-1)&1)
}
