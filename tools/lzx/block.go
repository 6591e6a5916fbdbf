package lzx

import "github.com/oemimage/rules_oemimage/tools/internal/huffman"

// blockEncoder writes LZX blocks and keeps the state that runs across them: the recent
// offsets and the previous code lengths the next trees are sent as deltas of.
type blockEncoder struct {
	wim        bool
	windowBits int
	mainSyms   int
	r          [3]uint32
	prevMain   [maxMainSyms]uint8
	prevLength [numLengthSyms]uint8

	mainFreq    [maxMainSyms]uint32
	lengthFreq  [numLengthSyms]uint32
	alignedFreq [numAligned]uint32
	mainLens    [maxMainSyms]uint8
	lengthLens  [numLengthSyms]uint8
	alignedLens [numAligned]uint8
	mainCodes   [maxMainSyms]uint16
	lengthCodes [numLengthSyms]uint16
	alignedCode [numAligned]uint16
	scratch     huffman.Scratch
	syms        []preSym // symbols of the match sequence after the recent offsets are applied
}

// preSym is a coded match: main symbol, length symbol (or -1), offset slot's extra bits.
type preSym struct {
	main   uint16
	length int16
	extra  uint32
	eb     uint8
}

func (e *blockEncoder) reset(windowBits int, wim bool) {
	*e = blockEncoder{wim: wim, windowBits: windowBits, mainSyms: numChars + 8*numSlots(windowBits),
		r: [3]uint32{1, 1, 1}, scratch: e.scratch, syms: e.syms[:0]}
}

// tally turns items into coded symbols (applying the recent offsets, which it advances),
// counts them and makes the main and length codes. It returns the bytes the items cover.
func (e *blockEncoder) tally(data []byte, items []item) int {
	clear(e.mainFreq[:])
	clear(e.lengthFreq[:])
	clear(e.alignedFreq[:])
	syms := e.syms[:0]
	pos := 0
	for _, it := range items {
		if it.length == 0 {
			b := data[pos]
			e.mainFreq[b]++
			syms = append(syms, preSym{main: uint16(b), length: -1})
			pos++
			continue
		}
		var slot int
		var extra uint32
		switch it.off {
		case e.r[0]:
			slot = 0
		case e.r[1]:
			slot = 1
		case e.r[2]:
			slot = 2
		default:
			f := it.off + 2
			slot = slotOf(f)
			extra = f - slotBase[slot]
		}
		updateR(&e.r, it.off)
		lh := int(it.length) - minMatch
		ls := int16(-1)
		if lh >= 7 {
			ls = int16(lh - 7)
			e.lengthFreq[ls]++
			lh = 7
		}
		ps := preSym{main: uint16(numChars + slot*8 + lh), length: ls, extra: extra, eb: extraBits[slot]}
		if slot >= 3 && ps.eb >= 3 {
			e.alignedFreq[extra&7]++
		}
		e.mainFreq[ps.main]++
		syms = append(syms, ps)
		pos += int(it.length)
	}
	e.syms = syms
	huffman.Lengths(e.mainFreq[:e.mainSyms], maxCodeLen, e.mainLens[:e.mainSyms], &e.scratch)
	huffman.Lengths(e.lengthFreq[:], maxCodeLen, e.lengthLens[:], &e.scratch)
	return pos
}

// writeBlock encodes items, whose literals are the bytes of data from its start, as one
// verbatim or aligned offset block, whichever is smaller.
func (e *blockEncoder) writeBlock(w *bitWriter, data []byte, items []item) {
	size := e.tally(data, items)
	syms := e.syms
	huffman.Lengths(e.alignedFreq[:], 7, e.alignedLens[:], &e.scratch)
	// Aligned offset blocks code the low 3 offset bits with their own tree (24 bits to send).
	var verbatimBits, alignedBits int
	for s, f := range e.alignedFreq {
		verbatimBits += 3 * int(f)
		alignedBits += int(e.alignedLens[s]) * int(f)
	}
	aligned := alignedBits+24 < verbatimBits

	btype := uint32(blockVerbatim)
	if aligned {
		btype = blockAligned
	}
	w.put(btype, 3)
	e.putSize(w, size)
	if aligned {
		for _, l := range e.alignedLens {
			w.put(uint32(l), 3)
		}
		huffman.Codes(e.alignedLens[:], e.alignedCode[:])
	}
	e.writeLengths(w, e.mainLens[:numChars], e.prevMain[:numChars])
	e.writeLengths(w, e.mainLens[numChars:e.mainSyms], e.prevMain[numChars:e.mainSyms])
	e.writeLengths(w, e.lengthLens[:], e.prevLength[:])
	copy(e.prevMain[:], e.mainLens[:])
	copy(e.prevLength[:], e.lengthLens[:])
	huffman.Codes(e.mainLens[:e.mainSyms], e.mainCodes[:])
	huffman.Codes(e.lengthLens[:], e.lengthCodes[:])

	for _, ps := range syms {
		w.put(uint32(e.mainCodes[ps.main]), uint(e.mainLens[ps.main]))
		if ps.main < numChars {
			continue
		}
		if ps.length >= 0 {
			w.put(uint32(e.lengthCodes[ps.length]), uint(e.lengthLens[ps.length]))
		}
		if ps.eb == 0 {
			continue
		}
		if aligned && ps.eb >= 3 {
			w.put(ps.extra>>3, uint(ps.eb)-3)
			a := ps.extra & 7
			w.put(uint32(e.alignedCode[a]), uint(e.alignedLens[a]))
		} else {
			w.put(ps.extra, uint(ps.eb))
		}
	}
}

func (e *blockEncoder) putSize(w *bitWriter, size int) {
	if e.wim {
		if size == FrameSize {
			w.put(1, 1)
			return
		}
		w.put(0, 1)
		if e.windowBits >= 16 {
			w.put(uint32(size)>>8, 16)
			w.put(uint32(size)&0xFF, 8)
		} else {
			w.put(uint32(size), 16)
		}
		return
	}
	w.put(uint32(size)>>8, 16)
	w.put(uint32(size)&0xFF, 8)
}

// writeUncompressed writes data as an uncompressed block.
func (e *blockEncoder) writeUncompressed(w *bitWriter, data []byte) {
	w.put(blockUncompressed, 3)
	e.putSize(w, len(data))
	w.alignUncompressed()
	for _, r := range e.r {
		w.out = append(w.out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	w.out = append(w.out, data...)
	if len(data)%2 == 1 {
		w.out = append(w.out, 0)
	}
}

// writeLengths sends code lengths as deltas from prev through a pretree.
func (e *blockEncoder) writeLengths(w *bitWriter, lens, prev []uint8) {
	type pre struct {
		sym   uint8
		extra uint8
		eb    uint8
	}
	var buf [maxMainSyms + 1]pre
	out := buf[:0]
	var freq [numPretree]uint32
	delta := func(i int, v uint8) uint8 { return uint8((int(prev[i]) - int(v) + 17) % 17) }
	for i := 0; i < len(lens); {
		run := 1
		for i+run < len(lens) && lens[i+run] == lens[i] {
			run++
		}
		switch {
		case lens[i] == 0 && run >= 20:
			run = min(run, 51)
			out = append(out, pre{18, uint8(run - 20), 5})
		case lens[i] == 0 && run >= 4:
			run = min(run, 19)
			out = append(out, pre{17, uint8(run - 4), 4})
		case run >= 4:
			run = min(run, 5)
			out = append(out, pre{19, uint8(run - 4), 1}, pre{delta(i, lens[i]), 0, 0})
		default:
			run = 1
			out = append(out, pre{delta(i, lens[i]), 0, 0})
		}
		i += run
	}
	for _, p := range out {
		freq[p.sym]++
	}
	var plens [numPretree]uint8
	var pcodes [numPretree]uint16
	huffman.Lengths(freq[:], 15, plens[:], &e.scratch)
	huffman.Codes(plens[:], pcodes[:])
	for _, l := range plens {
		w.put(uint32(l), 4)
	}
	for _, p := range out {
		w.put(uint32(pcodes[p.sym]), uint(plens[p.sym]))
		if p.eb > 0 {
			w.put(uint32(p.extra), uint(p.eb))
		}
	}
}
