package wim

import (
	"crypto/sha1"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// pieceHasher computes an integrity table from the bytes it is given in file order: the
// SHA-1 of every integrityChunk bytes, the last piece shorter.
type pieceHasher struct {
	h    hash.Hash
	n    int64  // bytes in the current piece
	sums []byte // 20 bytes per finished piece
}

func newPieceHasher() *pieceHasher { return &pieceHasher{h: sha1.New()} }

func (p *pieceHasher) write(b []byte) {
	for len(b) > 0 {
		k := min(int64(len(b)), integrityChunk-p.n)
		p.h.Write(b[:k])
		p.n += k
		b = b[k:]
		if p.n == integrityChunk {
			p.sums = p.h.Sum(p.sums)
			p.h.Reset()
			p.n = 0
		}
	}
}

// pieceState is a pieceHasher as it was, to go back to when bytes it was given are dropped.
type pieceState struct {
	state []byte
	n     int64
	nsums int
}

func (p *pieceHasher) save() pieceState {
	st, err := p.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/sha1 always marshals its state
	}
	return pieceState{st, p.n, len(p.sums)}
}

func (p *pieceHasher) restore(s pieceState) {
	if err := p.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s.state); err != nil {
		panic(err) // the state came from save
	}
	p.n, p.sums = s.n, p.sums[:s.nsums]
}

// table returns the integrity table: its size, the number of pieces, the piece size, then
// each piece's SHA-1.
func (p *pieceHasher) table() []byte {
	sums := p.sums
	if p.n > 0 {
		sums = p.h.Sum(sums[:len(sums):len(sums)])
	}
	t := make([]byte, 12+len(sums))
	binary.LittleEndian.PutUint32(t[0:], uint32(len(t)))
	binary.LittleEndian.PutUint32(t[4:], uint32(len(sums)/20))
	binary.LittleEndian.PutUint32(t[8:], integrityChunk)
	copy(t[12:], sums)
	return t
}

// hashRange returns the SHA-1 of [off, end) of r, read through buf.
func hashRange(r io.ReaderAt, off, end int64, buf []byte) ([20]byte, error) {
	h := sha1.New()
	for off < end {
		b := buf[:min(int64(len(buf)), end-off)]
		if _, err := r.ReadAt(b, off); err != nil {
			return [20]byte{}, fmt.Errorf("reading back bytes %d-%d: %w", off, off+int64(len(b)), err)
		}
		h.Write(b)
		off += int64(len(b))
	}
	var sum [20]byte
	h.Sum(sum[:0])
	return sum, nil
}
