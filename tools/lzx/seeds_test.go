package lzx

// fuzzSeeds gives valid streams to start fuzzing from: WIM chunks, or CAB frames prefixed
// as FuzzDecodeCAB reads them.
func fuzzSeeds(wim bool) [][]byte {
	var seeds [][]byte
	for _, data := range [][]byte{[]byte("abcabcabcabcabcabcabcabc abc abc"), x86Sample(3000), textSample(20000)} {
		if wim {
			enc, _ := NewWIMEncoder(32768, Strong)
			dst := make([]byte, Bound(len(data)))
			if n := enc.Compress(dst, data); n > 0 {
				seeds = append(seeds, append([]byte{0, byte((len(data) - 1) >> 8), byte(len(data) - 1)}, dst[:n]...))
			}
			continue
		}
		enc, _ := NewCABEncoder(15, Fast)
		frame := data[:min(len(data), FrameSize)]
		seeds = append(seeds, append([]byte{0, byte((len(frame) - 1) >> 8), byte(len(frame) - 1)}, enc.Encode(frame)...))
	}
	return seeds
}

func x86Sample(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		switch i % 7 {
		case 0:
			b[i] = 0xE8
		case 1, 2:
			b[i] = byte(i / 7)
		default:
			b[i] = byte(i % 5)
		}
	}
	return b
}

func textSample(n int) []byte {
	words := []string{"frame ", "block ", "window ", "LZX ", "tree ", "offset ", "the "}
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = append(b, words[(i*i+i/3)%len(words)]...)
	}
	return b[:n]
}
