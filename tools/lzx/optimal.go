package lzx

// Near-optimal parsing for the strong level: a first, lazy parse gives symbol statistics,
// whose Huffman code lengths become bit costs; a shortest-path search over every literal,
// recent-offset match and hash chain match then picks the cheapest items. The recent
// offsets depend on the path, so each position keeps those of its cheapest arrival.

type costModel struct {
	main   [maxMainSyms]uint32
	length [numLengthSyms]uint32
}

// unusedCost is the price of a symbol the statistics never saw: it would get a long code.
const unusedCost = 14

func (c *costModel) set(e *blockEncoder, mainSyms int) {
	for i := 0; i < mainSyms; i++ {
		c.main[i] = uint32(e.mainLens[i])
		if c.main[i] == 0 {
			c.main[i] = unusedCost
		}
	}
	for i := range c.length {
		c.length[i] = uint32(e.lengthLens[i])
		if c.length[i] == 0 {
			c.length[i] = unusedCost
		}
	}
}

func (c *costModel) match(length int, slot int) uint32 {
	lh := length - minMatch
	cost := uint32(extraBits[slot])
	if lh >= 7 {
		cost += c.length[lh-7]
		lh = 7
	}
	return cost + c.main[numChars+slot*8+lh]
}

type node struct {
	cost uint32
	len  uint32 // of the item arriving here (0: literal)
	off  uint32
	r    [3]uint32
}

type cand struct{ len, off int }

// candidates appends the hash chain matches at i, with strictly increasing lengths.
func (m *matcher[P]) candidates(out []cand, i, end int) []cand {
	max := min(end-i, maxMatch)
	if max < 3 {
		return out
	}
	b := m.buf
	limit := max0(i - m.maxOff)
	best := 2
	if c := int(m.near[i]); c >= limit {
		if l := matchLen(b, i, c, max); l >= 3 {
			out = append(out, cand{l, i - c})
			best = l
			if l >= max {
				return out
			}
		}
	}
	c := int(m.prev[i])
	for d := m.p.depth; c >= limit && d > 0; d-- {
		if b[c+best] == b[i+best] {
			if l := matchLen(b, i, c, max); l > best {
				out = append(out, cand{l, i - c})
				best = l
				if l >= max || l >= m.p.nice {
					break
				}
			}
		}
		c = int(m.prev[c])
	}
	return out
}

func max0(v int) int {
	if v < 0 {
		return 0
	}
	return v
}

// findAll indexes buf and lists every position's hash chain candidates once, for all the
// optimal passes: cands[at[i]:at[i+1]] are position i's. After a match of nice length or
// more, the positions it covers get none (as they would rarely be worth them).
func (m *matcher[P]) findAll(at []int32, cands []cand) ([]int32, []cand) {
	n := len(m.buf)
	at = append(at[:0], 0)
	cands = cands[:0]
	insertTo := n - 2
	skipTo := 0
	for i := 0; i < n; i++ {
		if i < insertTo {
			m.insert(i)
		}
		if i >= skipTo {
			start := len(cands)
			cands = m.candidates(cands, i, n)
			if k := len(cands); k > start && cands[k-1].len >= m.p.nice {
				skipTo = i + cands[k-1].len
			}
		}
		at = append(at, int32(len(cands)))
	}
	return at, cands
}

// optimalParse returns the items of buf (one WIM chunk) under the cost model.
func (m *matcher[P]) optimalParse(items []item, nodes []node, cm *costModel, at []int32, cands []cand) ([]item, []node) {
	n := len(m.buf)
	if cap(nodes) < n+1 {
		nodes = make([]node, n+1)
	}
	nodes = nodes[:n+1]
	for i := range nodes {
		nodes[i].cost = ^uint32(0)
	}
	nodes[0] = node{r: [3]uint32{1, 1, 1}}
	b := m.buf
	for i := 0; i < n; i++ {
		cur := nodes[i]
		if c := cur.cost + cm.main[b[i]]; c < nodes[i+1].cost {
			nodes[i+1] = node{cost: c, r: cur.r}
		}
		max := min(n-i, maxMatch)
		if max < minMatch {
			continue
		}
		// Each match only prices the lengths the ones before it did not reach: a recent
		// offset is cheaper than a new one for the same length, almost always.
		covered := minMatch - 1
		longest := 0
		for k := 0; k < 3; k++ {
			o := int(cur.r[k])
			if o > i {
				continue
			}
			l := matchLen(b, i, i-o, max)
			for ln := covered + 1; ln <= l; ln++ {
				if c := cur.cost + cm.match(ln, k); c < nodes[i+ln].cost {
					r := cur.r
					r[0], r[k] = r[k], r[0]
					nodes[i+ln] = node{cost: c, len: uint32(ln), off: uint32(o), r: r}
				}
			}
			covered = maxInt(covered, l)
		}
		longest = covered
		for _, cd := range cands[at[i]:at[i+1]] {
			if cd.len <= covered {
				continue
			}
			slot := slotOf(uint32(cd.off) + 2)
			for ln := covered + 1; ln <= cd.len; ln++ {
				if c := cur.cost + cm.match(ln, slot); c < nodes[i+ln].cost {
					r := cur.r
					updateR(&r, uint32(cd.off))
					nodes[i+ln] = node{cost: c, len: uint32(ln), off: uint32(cd.off), r: r}
				}
			}
			covered = cd.len
			longest = cd.len
		}
		// A match of nice length is taken as it is when it is the cheapest way there.
		if longest >= m.p.nice && nodes[i+longest].len == uint32(longest) {
			i += longest - 1
		}
	}
	// Walk back from the end, then reverse.
	start := len(items)
	for i := n; i > 0; {
		nd := nodes[i]
		items = append(items, item{length: nd.len, off: nd.off})
		if nd.len == 0 {
			i--
		} else {
			i -= int(nd.len)
		}
	}
	for a, z := start, len(items)-1; a < z; a, z = a+1, z-1 {
		items[a], items[z] = items[z], items[a]
	}
	return items, nodes
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
