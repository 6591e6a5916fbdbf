// Package codectest pins a chunk compressor's output in tests: the digest of what it makes of
// data cut into chunks, each checked to decompress back to its chunk. The LZX and XPRESS
// guards use it, so that speed work on either shows at once when it changes a byte.
package codectest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Codec is a WIM chunk compressor and its decompressor. Compress returns the compressed
// size, 0 for a chunk stored as it is; dst holds Bound bytes.
type Codec struct {
	Bound      int
	Compress   func(dst, src []byte) int
	Decompress func(dst, src []byte) error
}

// ChunkDigest compresses data chunk by chunk and returns the SHA-256 of every chunk's
// compressed size (32 bits, little-endian) and bytes, or the first chunk that does not
// decompress back to itself.
func ChunkDigest(data []byte, chunk int, c Codec) (string, error) {
	h := sha256.New()
	dst := make([]byte, c.Bound)
	back := make([]byte, chunk)
	for off := 0; off < len(data); off += chunk {
		src := data[off:min(off+chunk, len(data))]
		n := c.Compress(dst, src)
		binary.Write(h, binary.LittleEndian, uint32(n))
		h.Write(dst[:n])
		if n == 0 {
			continue
		}
		if err := c.Decompress(back[:len(src)], dst[:n]); err != nil {
			return "", fmt.Errorf("chunk at %d of %d bytes: %v", off, chunk, err)
		}
		if !bytes.Equal(back[:len(src)], src) {
			return "", fmt.Errorf("chunk at %d of %d bytes: decompresses to other bytes", off, chunk)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
