// Package huffman builds the length-limited canonical Huffman codes that LZX (tools/lzx) and
// XPRESS (tools/wim) encoders write: one implementation, so both formats' codes are complete
// and deterministic in the same way.
package huffman

import "slices"

// Scratch is reusable working memory of Lengths; the zero value is ready to use.
type Scratch struct {
	keys   []uint64
	tmp    []uint64 // sortKeys'
	syms   []int
	weight []uint64
	parent []int32
	depth  []uint8
}

// Lengths sets lens to the codeword lengths of a Huffman code for freqs with no codeword
// longer than maxLen (at most 63). The code is always complete (libmspack refuses incomplete
// codes): with fewer than two used symbols, symbols 0 and 1 fill it. Ties break by symbol,
// so the result depends on freqs alone.
func Lengths(freqs []uint32, maxLen int, lens []uint8, s *Scratch) {
	clear(lens)
	keys := s.keys[:0]
	for sym, f := range freqs {
		if f != 0 {
			keys = append(keys, uint64(f)<<16|uint64(sym))
		}
	}
	s.keys = keys
	if len(keys) < 2 {
		lens[0], lens[1] = 1, 1
		if len(keys) == 1 && keys[0]&0xFFFF > 1 {
			lens[keys[0]&0xFFFF], lens[1] = 1, 0
		}
		return
	}
	s.tmp = sortKeys(keys, s.tmp)
	n := len(keys)
	syms := slices.Grow(s.syms[:0], n)[:n]
	weight := slices.Grow(s.weight[:0], 2*n)[:2*n-1]
	parent := slices.Grow(s.parent[:0], 2*n)[:2*n-1]
	for i, k := range keys {
		syms[i] = int(k & 0xFFFF)
		weight[i] = k >> 16
	}
	// Two queues: leaves in weight order, and internal nodes, made in weight order.
	leaf, inner := 0, n
	for next := n; next < 2*n-1; next++ {
		var pick [2]int
		for k := range pick {
			if leaf < n && (inner >= next || weight[leaf] <= weight[inner]) {
				pick[k] = leaf
				leaf++
			} else {
				pick[k] = inner
				inner++
			}
		}
		weight[next] = weight[pick[0]] + weight[pick[1]]
		parent[pick[0]], parent[pick[1]] = int32(next), int32(next)
	}
	depth := slices.Grow(s.depth[:0], 2*n)[:2*n-1]
	depth[2*n-2] = 0
	var count [64]int
	for i := 2*n - 3; i >= 0; i-- {
		d := depth[parent[i]] + 1
		if d > 63 {
			d = 63 // unreachable with 32-bit frequencies and at most 656 symbols
		}
		depth[i] = d
		if i < n {
			count[d]++
		}
	}
	// Limit lengths as JPEG's Annex K.3 does: it keeps the Kraft sum at exactly 1.
	for l := 63; l > maxLen; l-- {
		for count[l] > 0 {
			j := l - 2
			for count[j] == 0 {
				j--
			}
			count[l] -= 2
			count[l-1]++
			count[j+1] += 2
			count[j]--
		}
	}
	// The most frequent symbols (the end of keys) get the shortest codewords.
	i := n - 1
	for l := 1; l <= maxLen; l++ {
		for c := count[l]; c > 0; c-- {
			lens[syms[i]] = uint8(l)
			i--
		}
	}
	s.syms, s.weight, s.parent, s.depth = syms, weight, parent, depth
}

// Codes assigns canonical codewords for lens (lengths up to 16): shorter codewords first, and
// among codewords of one length, increasing with the symbol ([MS-XCA] 2.1.4.1, the LZX
// specification 2.2, as DEFLATE).
func Codes(lens []uint8, codes []uint16) {
	var count [18]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [18]int
	code := 0
	for l := 1; l <= 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l != 0 {
			codes[s] = uint16(next[l])
			next[l]++
		}
	}
}

// sortKeys sorts keys (frequency<<16 | symbol, made in symbol order) as slices.Sort does, by
// frequency and then symbol: a radix sort on the frequency's bytes, least significant first,
// each pass stable, so equal frequencies keep their symbol order. A chunk's few hundred keys
// take two passes. tmp is scratch; sortKeys returns it.
func sortKeys(keys, tmp []uint64) []uint64 {
	var all uint64
	for _, k := range keys {
		all |= k
	}
	f := all >> 16
	if len(keys) < 64 || f >= 1<<24 {
		slices.Sort(keys)
		return tmp
	}
	tmp = slices.Grow(tmp[:0], len(keys))[:len(keys)]
	src, dst := keys, tmp
	for shift := uint(16); f > 0; shift, f = shift+8, f>>8 {
		var start [256]int
		for _, k := range src {
			start[byte(k>>shift)]++
		}
		at := 0
		for b, c := range start {
			start[b] = at
			at += c
		}
		for _, k := range src {
			b := byte(k >> shift)
			dst[start[b]] = k
			start[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return tmp
}
