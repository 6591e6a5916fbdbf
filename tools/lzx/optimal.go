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

// candidates lists the hash chain matches at i with strictly increasing lengths.
func (m *matcher) candidates(out []cand, i, end int) []cand {
	out = out[:0]
	max := min(end-i, maxMatch)
	if max < 3 {
		return out
	}
	b := m.buf
	limit := max0(i - m.maxOff)
	best := 2
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

// optimalParse returns the items of buf[0:n] (one WIM chunk) under the cost model.
func (m *matcher) optimalParse(items []item, nodes []node, cm *costModel, cands []cand) ([]item, []node, []cand) {
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
	insertTo := n - 2
	m.next = 0
	for i := 0; i < n; i++ {
		if i < insertTo {
			m.insert(i)
			m.next = i + 1
		}
		cur := nodes[i]
		if c := cur.cost + cm.main[b[i]]; c < nodes[i+1].cost {
			nodes[i+1] = node{cost: c, r: cur.r}
		}
		max := min(n-i, maxMatch)
		if max < minMatch {
			continue
		}
		longest := 0
		for k := 0; k < 3; k++ {
			o := int(cur.r[k])
			if o > i {
				continue
			}
			l := matchLen(b, i, i-o, max)
			longest = maxInt(longest, l)
			for ln := minMatch; ln <= l; ln++ {
				if c := cur.cost + cm.match(ln, k); c < nodes[i+ln].cost {
					r := cur.r
					r[0], r[k] = r[k], r[0]
					nodes[i+ln] = node{cost: c, len: uint32(ln), off: uint32(o), r: r}
				}
			}
		}
		cands = m.candidates(cands, i, n)
		prev := minMatch
		for _, cd := range cands {
			slot := slotOf(uint32(cd.off) + 2)
			for ln := prev + 1; ln <= cd.len; ln++ {
				if c := cur.cost + cm.match(ln, slot); c < nodes[i+ln].cost {
					r := cur.r
					updateR(&r, uint32(cd.off))
					nodes[i+ln] = node{cost: c, len: uint32(ln), off: uint32(cd.off), r: r}
				}
			}
			prev = cd.len
			longest = maxInt(longest, cd.len)
		}
		// A very long match is taken as it is: the positions it covers are only indexed.
		if longest >= m.p.nice && nodes[i+longest].len == uint32(longest) && nodes[i+longest].cost != ^uint32(0) {
			for j := i + 1; j < i+longest; j++ {
				if j < insertTo {
					m.insert(j)
				}
				nodes[j].cost = ^uint32(0) - 1 // not a place to arrive at any more
			}
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
	return items, nodes, cands
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
