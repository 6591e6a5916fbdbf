package lzx

import (
	"errors"
	"fmt"
)

// CABDecoder decodes the LZX stream of one CAB folder, one CFDATA block (frame) at a time.
// The stream's bits run on from block to block; every frame ends on a 16-bit boundary.
type CABDecoder struct {
	d       decoder
	frames  int
	pending []byte // input left over from the previous frame (normally none)
}

// maxPending bounds the input a frame may leave unread: a real frame leaves at most a pad
// byte, and a hostile one must not make the decoder hoard memory.
const maxPending = 1 << 16

// NewCABDecoder returns a decoder for a folder whose typeCompress names a window of
// 2^windowBits bytes.
func NewCABDecoder(windowBits int) (*CABDecoder, error) {
	if err := checkWindow(windowBits); err != nil {
		return nil, err
	}
	c := &CABDecoder{}
	c.d.reset(windowBits, false)
	c.d.win = make([]byte, 1<<windowBits)
	return c, nil
}

// Reset makes c a decoder for a new folder with a window of 2^windowBits bytes, as
// NewCABDecoder would, keeping its window when it is of that size: 2 MiB that need not be
// allocated and cleared again for each folder. What the last folder left in the window is
// never seen: a match reaching before the first byte the folder has written is an error.
func (c *CABDecoder) Reset(windowBits int) error {
	if err := checkWindow(windowBits); err != nil {
		return err
	}
	win, pending := c.d.win, c.pending[:0]
	*c = CABDecoder{pending: pending}
	c.d.reset(windowBits, false)
	if len(win) != 1<<windowBits {
		win = make([]byte, 1<<windowBits)
	}
	c.d.win = win
	return nil
}

// Decode decodes the next frame: src is the block's compressed bytes, and dst, whose length
// is the block's uncompressed size (at most 32768), receives the output.
func (c *CABDecoder) Decode(dst, src []byte) error {
	d := &c.d
	if len(dst) > FrameSize {
		return fmt.Errorf("LZX frame %d: %d bytes, over the %d of a frame", c.frames, len(dst), FrameSize)
	}
	in := src
	if len(c.pending) > 0 {
		in = append(c.pending, src...)
	}
	d.setInput(in)
	if !d.headerRead {
		if d.bits(1) == 1 {
			hi := d.bits(16)
			d.e8Size = int32(hi<<16 | d.bits(16))
		}
		d.headerRead = true
	}
	if d.wpos == len(d.win) {
		d.wpos = 0
	}
	if d.wpos+len(dst) > len(d.win) {
		return fmt.Errorf("LZX frame %d: %d bytes cross the end of the %d-byte window", c.frames, len(dst), len(d.win))
	}
	start := d.wpos
	if err := d.decode(start + len(dst)); err != nil {
		return fmt.Errorf("LZX frame %d: %v", c.frames, err)
	}
	copy(dst, d.win[start:d.wpos])
	if d.e8Size != 0 && c.frames < e8Frames {
		e8Decode(dst, d.total-int64(len(dst)), d.e8Size)
	}
	c.frames++
	// Realign to 16 bits; what is left of the input belongs to the next frame.
	if d.blockType != blockUncompressed || d.blockRemain == 0 {
		d.bitcnt -= d.bitcnt % 16
	}
	used := int(d.consumed() / 8)
	if d.overrun() {
		return fmt.Errorf("LZX frame %d: compressed data ends early", c.frames-1)
	}
	rest := in[used:]
	if len(rest) > maxPending {
		return fmt.Errorf("LZX frame %d: %d compressed bytes left unread", c.frames-1, len(rest))
	}
	c.pending = append(c.pending[:0:0], rest...)
	return nil
}

// WIMDecoder decodes the chunks of a WIM resource; it may be reused, one chunk at a time.
type WIMDecoder struct {
	d    decoder
	bits int
}

// NewWIMDecoder returns a decoder for chunks of the given size (the WIM header's chunk
// size: its window; the last chunk of a resource may be shorter).
func NewWIMDecoder(chunkSize int) (*WIMDecoder, error) {
	bits, err := WIMWindowBits(chunkSize)
	if err != nil {
		return nil, err
	}
	return &WIMDecoder{bits: bits}, nil
}

// Decompress decodes one chunk of len(dst) bytes.
func (w *WIMDecoder) Decompress(dst, src []byte) error {
	if len(dst) > 1<<w.bits {
		return fmt.Errorf("LZX chunk of %d bytes: over the %d-byte chunk size", len(dst), 1<<w.bits)
	}
	d := &w.d
	d.reset(w.bits, true)
	d.win = dst
	d.setInput(src)
	if err := d.decode(len(dst)); err != nil {
		return fmt.Errorf("LZX chunk: %v", err)
	}
	if d.overrun() {
		return errors.New("LZX chunk: compressed data ends early")
	}
	e8Decode(dst, 0, wimFileSize)
	return nil
}
