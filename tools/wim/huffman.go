package wim

import "slices"

// huffmanLengths sets lens[i] to the length of symbol i's codeword in a Huffman code for
// freqs, no codeword longer than maxLen. Unused symbols get 0. The code is complete
// (Kraft sum 1) whenever two or more symbols are used; with one used symbol, a second
// symbol gets a codeword too so that the code stays complete, as decoders require.
// Ties are broken by symbol value, so the result depends only on freqs.
func huffmanLengths(freqs []uint32, maxLen int, lens []uint8, scratch *huffScratch) {
	for i := range lens {
		lens[i] = 0
	}
	syms := scratch.syms[:0]
	for s, f := range freqs {
		if f != 0 {
			syms = append(syms, uint32(s))
		}
	}
	scratch.syms = syms
	switch len(syms) {
	case 0:
		return
	case 1:
		lens[syms[0]] = 1
		if syms[0] == 0 {
			lens[1] = 1
		} else {
			lens[0] = 1
		}
		return
	}
	// Leaves in increasing (frequency, symbol) order: sort keys frequency<<16|symbol.
	keys := scratch.keys[:0]
	for _, s := range syms {
		keys = append(keys, uint64(freqs[s])<<16|uint64(s))
	}
	slices.Sort(keys)
	for i, k := range keys {
		syms[i] = uint32(k & 0xFFFF)
	}
	scratch.keys = keys
	n := len(syms)
	// Two-queue Huffman construction: leaves 0..n-1, internal nodes n..2n-2 created in
	// nondecreasing weight order, so both queues stay sorted.
	weight := scratch.weight[:2*n-1]
	parent := scratch.parent[:2*n-1]
	for i, s := range syms {
		weight[i] = uint64(freqs[s])
	}
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
		parent[pick[0]] = next
		parent[pick[1]] = next
	}
	// Depths, root first; reuse weight as the depth array.
	depth := weight
	depth[2*n-2] = 0
	for i := 2*n - 3; i >= 0; i-- {
		depth[i] = depth[parent[i]] + 1
	}
	var count [64]int
	maxDepth := 0
	for i := 0; i < n; i++ {
		d := int(depth[i])
		if d >= len(count) {
			d = len(count) - 1 // cannot happen with 32-bit frequencies and 512 symbols
		}
		count[d]++
		if d > maxDepth {
			maxDepth = d
		}
	}
	// Limit the lengths (JPEG, ITU T.81 Annex K.3): move pairs of the deepest leaves up,
	// keeping the Kraft sum at 1.
	for i := maxDepth; i > maxLen; i-- {
		for count[i] > 0 {
			j := i - 2
			for count[j] == 0 {
				j--
			}
			count[i] -= 2
			count[i-1]++
			count[j+1] += 2
			count[j]--
		}
	}
	// The most frequent symbols (end of syms) get the shortest codewords.
	k := n - 1
	for l := 1; l <= maxLen; l++ {
		for c := count[l]; c > 0; c-- {
			lens[syms[k]] = uint8(l)
			k--
		}
	}
}

type huffScratch struct {
	keys   []uint64
	syms   []uint32
	weight []uint64
	parent []int
}

func newHuffScratch(nsyms int) *huffScratch {
	return &huffScratch{
		keys:   make([]uint64, 0, nsyms),
		syms:   make([]uint32, 0, nsyms),
		weight: make([]uint64, 2*nsyms),
		parent: make([]int, 2*nsyms),
	}
}

// canonicalCodes assigns canonical codewords: shorter codewords first, and among
// codewords of the same length, increasing with the symbol ([MS-XCA] 2.1.4.1, as DEFLATE).
func canonicalCodes(lens []uint8, codes []uint16, maxLen int) {
	var count [16]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [17]uint16
	code := uint16(0)
	for l := 1; l <= maxLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l != 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
}
