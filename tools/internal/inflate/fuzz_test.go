package inflate

import (
	"math/rand/v2"
	"testing"
)

// FuzzInflate compares Decode with compress/flate (NewReaderDict, read through a limit as
// tools/cab does) on arbitrary bytes and on compress/flate's own output for fuzz-chosen data,
// cut short or with one byte changed as the fuzzer chooses. Run it with -fuzzminimizetime 20x:
// each run compresses, and minimizing a new input the default 60 s stalls the fuzzer.
func FuzzInflate(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	f.Add([]byte{}, uint16(0), int8(0), uint16(32768), true, uint32(0), uint16(0))
	f.Add([]byte{0x03, 0x00}, uint16(0), int8(0), uint16(32768), true, uint32(0), uint16(0))
	f.Add(mixed(rng, 3000), uint16(300), int8(6), uint16(32768), false, uint32(0), uint16(0))
	f.Add(mixed(rng, 500), uint16(32768), int8(1), uint16(400), false, uint32(0x5000_0011), uint16(0))
	f.Add(mixed(rng, 5000), uint16(2000), int8(-2), uint16(32768), false, uint32(0), uint16(100))
	f.Add(deflate(f, 9, nil, mixed(rng, 2000)), uint16(0), int8(0), uint16(32768), true, uint32(0), uint16(0))
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte, dictLen uint16, level int8, limit uint16, raw bool, flip uint32, cut uint16) {
		dict := mixed(rand.New(rand.NewPCG(uint64(dictLen), 5)), int(dictLen)%32769)
		lim := int(limit) % 32769
		src := data
		if !raw {
			if len(data) > 40000 {
				return
			}
			src = deflate(t, int(uint8(level))%12-2, dict, data)
			if flip != 0 && len(src) > 0 {
				src[int(flip&0xFFFFFF)%len(src)] ^= byte(flip>>24) | 1
			}
			if cut != 0 && len(src) > 0 {
				src = src[:len(src)-int(cut)%len(src)]
			}
		}
		compare(t, &d, dict, src, lim)
	})
}
