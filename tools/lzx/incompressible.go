package lzx

import "github.com/oemimage/rules_oemimage/tools/internal/repeats"

// Random-looking chunks (compressed files, media, keys) are stored as they are, after a
// parse that costs most of the encoder's time for nothing: on random bytes the parse finds
// only 2- and 3-byte matches, which cost more than their literals, and the block comes out
// 60-90 bytes larger than the chunk. incompressible says so before the parse, from two
// cheap facts about the E8-translated chunk:
//
//   - its 4-byte sequences hardly repeat: repeats.Few finds at most maxRepeats4 (random
//     data has about 0.1 per 32 KiB; text or code one per byte of each repeated run);
//   - the block the encoder would write for it as literals alone, trees and all, is at least
//     storeMargin bytes larger than the chunk: a Huffman code of its bytes does not pay.
//
// With no long matches to take, a parse can only trade literals for 2- and 3-byte matches,
// whose offset bits leave them no cheaper than the literals they replace; so such a chunk is
// stored whatever the parse. TestIncompressibleSameAsParse checks that over random, nearly
// random and mixed chunks: a chunk this function passes is one the full encoder stores.
const (
	maxRepeats4 = 2
	storeMargin = 32
)

// incompressible reports whether c.buf (one block's worth: at most FrameSize bytes) would be
// stored. It uses c.items and c.e, which the parse then resets.
func (c *WIMEncoder) incompressible() bool {
	b := c.buf
	if len(b) < 1024 || len(b) > FrameSize {
		return false
	}
	if c.last == nil {
		c.last = new(repeats.Table)
	}
	if !repeats.Few(b, c.last, maxRepeats4) {
		return false
	}
	// The literals-only block, as writeBlock would write it.
	c.items = c.items[:0]
	for range b {
		c.items = append(c.items, item{})
	}
	c.e.reset(c.bits, true)
	c.w = bitWriter{out: c.w.out[:0]}
	c.e.writeBlock(&c.w, b, c.items)
	c.w.flush()
	c.w.align()
	return len(c.w.out) >= len(b)+storeMargin
}
