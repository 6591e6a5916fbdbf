package wim

import (
	"fmt"

	"github.com/oemimage/rules_oemimage/tools/lzx"
)

// chunkCompressor compresses chunks for one goroutine at a time. Writers keep one per
// worker; a new format (LZX, the original ImgToWIM's default) plugs in through codecs.
type chunkCompressor interface {
	// Compress writes src compressed to dst, which holds bound(len(src)) bytes, and
	// returns the compressed size, or 0 when compression would not make src smaller
	// (the chunk is then stored as is, which every reader accepts).
	Compress(dst, src []byte) int
}

// chunkDecompressor decodes one chunk into dst, whose length is the uncompressed size.
type chunkDecompressor interface {
	Decompress(dst, src []byte) error
}

type codec struct {
	headerFlag      uint32
	minChunk        int // chunk sizes are powers of two in [minChunk, maxChunk]
	maxChunk        int
	minCompressed   int // no compressed chunk is shorter (XPRESS: its Huffman table)
	bound           func(n int) int
	newCompressor   func(chunkSize int) chunkCompressor   // nil: writing is not supported
	newDecompressor func(chunkSize int) chunkDecompressor // nil: reading is not supported
}

var codecs = map[Compression]*codec{
	XPRESS: {
		headerFlag:      FlagCompressXPRESS,
		minChunk:        4096,
		maxChunk:        xpressMaxChunk,
		minCompressed:   xpressSymbols / 2,
		bound:           xpressBound,
		newCompressor:   func(n int) chunkCompressor { return newXPRESSCompressor(n) },
		newDecompressor: func(int) chunkDecompressor { return new(xpressDecompressor) },
	},
	LZX: {
		headerFlag:    FlagCompressLZX,
		minChunk:      32768,
		maxChunk:      2 << 20,
		minCompressed: 1,
		bound:         lzx.Bound,
		newCompressor: func(n int) chunkCompressor {
			c, err := lzx.NewWIMEncoder(n, lzx.Strong)
			if err != nil {
				panic(err) // NewWriter checked the chunk size
			}
			return c
		},
		newDecompressor: func(n int) chunkDecompressor {
			d, err := lzx.NewWIMDecoder(n)
			if err != nil {
				return failingDecompressor{err}
			}
			return d
		},
	},
	LZMS: {headerFlag: FlagCompressLZMS, minChunk: 32768, maxChunk: 1 << 30, minCompressed: 1},
}

func errUnsupported(c Compression, what string) error {
	return fmt.Errorf("%s compression not supported yet (%s)", c, what)
}

// failingDecompressor reports a chunk size its codec cannot use (the header check makes it rare).
type failingDecompressor struct{ err error }

func (f failingDecompressor) Decompress(dst, src []byte) error { return f.err }
