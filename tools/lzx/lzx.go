// Package lzx implements Microsoft's LZX compression in its two framings: the CAB one (a
// folder is one stream with a window of 2^15..2^21 bytes, cut into 32 KiB frames that are
// the CFDATA blocks, an optional E8 translation announced in the stream's first bits, block
// sizes in 24 bits) and the WIM one (every chunk an independent stream whose window is the
// chunk, E8 translation always on with a file size of 12000000, block sizes behind a
// "default 32768" bit). See docs/lzx.md.
//
// The decoders take hostile input: every table, length and offset is checked, and bad input
// gives an error, never a panic or an access out of bounds.
package lzx

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Format constants ([MS-PATCH] 2.2, libmspack's lzx.h).
const (
	MinWindowBits = 15
	MaxWindowBits = 21
	FrameSize     = 32768 // uncompressed bytes of a CAB frame (one CFDATA block)

	numChars      = 256
	numLengthSyms = 249 // length tree: lengths 9..257 beyond the 7 of the match header
	numAligned    = 8
	numPretree    = 20
	minMatch      = 2
	maxMatch      = 257
	maxSlots      = 50
	maxMainSyms   = numChars + 8*maxSlots
	maxCodeLen    = 16
	wimFileSize   = 12000000 // WIM's fixed E8 translation size
	e8Frames      = 32768    // CAB: E8 translation covers the first 1 GiB (32768 frames)

	blockVerbatim     = 1
	blockAligned      = 2
	blockUncompressed = 3
)

var (
	extraBits [maxSlots + 1]uint8
	slotBase  [maxSlots + 1]uint32
)

func init() {
	for i := range extraBits {
		e := i/2 - 1
		if e < 0 {
			e = 0
		}
		if e > 17 {
			e = 17
		}
		extraBits[i] = uint8(e)
		if i > 0 {
			slotBase[i] = slotBase[i-1] + 1<<extraBits[i-1]
		}
	}
	for s := range newCostBySlot {
		newCostBySlot[s] = 16 * (10 + int(extraBits[s]))
	}
}

// numSlots is the number of position slots of a window: the first slot whose base reaches
// the window size (so 2^20 has 42 and 2^21 has 50, not 40 and 42 as an old document says).
func numSlots(windowBits int) int {
	switch windowBits {
	case 20:
		return 42
	case 21:
		return 50
	}
	return 2 * windowBits
}

func checkWindow(windowBits int) error {
	if windowBits < MinWindowBits || windowBits > MaxWindowBits {
		return fmt.Errorf("LZX window of 2^%d bytes: the format allows 2^%d to 2^%d", windowBits, MinWindowBits, MaxWindowBits)
	}
	return nil
}

// WIMWindowBits is the window order of a WIM chunk size: a power of two from 2^15 to 2^21.
func WIMWindowBits(chunkSize int) (int, error) {
	for b := MinWindowBits; b <= MaxWindowBits; b++ {
		if chunkSize == 1<<b {
			return b, nil
		}
	}
	return 0, fmt.Errorf("LZX chunk size %d: a power of two from %d to %d bytes", chunkSize, 1<<MinWindowBits, 1<<MaxWindowBits)
}

// e8Decode undoes the E8 (x86 CALL) translation of data, which starts at stream position
// pos: the operand of an E8 byte was written as an absolute target.
func e8Decode(data []byte, pos int64, fileSize int32) {
	if len(data) <= 10 {
		return
	}
	end := len(data) - 10
	for i := 0; i < end; i += 5 {
		k := bytes.IndexByte(data[i:end], 0xE8)
		if k < 0 {
			break
		}
		i += k
		cur := int32(pos + int64(i))
		abs := int32(binary.LittleEndian.Uint32(data[i+1:]))
		if abs >= -cur && abs < fileSize {
			rel := abs - cur
			if abs < 0 {
				rel = abs + fileSize
			}
			binary.LittleEndian.PutUint32(data[i+1:], uint32(rel))
		}
	}
}

// e8Encode is e8Decode's inverse: relative CALL targets become absolute.
func e8Encode(data []byte, pos int64, fileSize int32) {
	if len(data) <= 10 {
		return
	}
	end := len(data) - 10
	for i := 0; i < end; i += 5 {
		k := bytes.IndexByte(data[i:end], 0xE8)
		if k < 0 {
			break
		}
		i += k
		cur := int32(pos + int64(i))
		rel := int32(binary.LittleEndian.Uint32(data[i+1:]))
		if rel >= -cur && rel < fileSize {
			abs := rel + cur
			if rel >= fileSize-cur {
				abs = rel - fileSize
			}
			binary.LittleEndian.PutUint32(data[i+1:], uint32(abs))
		}
	}
}
