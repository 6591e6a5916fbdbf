// Package cabtest makes hostile cabinets for tests: decompression bombs, written in
// milliseconds rather than by compressing gigabytes, and corruptions of valid cabinets.
package cabtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

const (
	blockSize  = 32768
	folderAt   = 36 // the first CFFOLDER of a cabinet without reserve
	headerSize = 8  // CFDATA header
)

// Filler is the content of a bomb: a 64-byte line, so that every 32 KiB block of it is the
// same and compresses to the same bytes.
var Filler = bytes.Repeat([]byte("<!-- decompression bomb filler, the same line again -->       \r\n"), blockSize/64)

// seedBlocks is how many blocks of filler the writer compresses before the bomb's last block
// is repeated: LZX reaches its steady state (a frame equal to the one before) within four.
const seedBlocks = 6

// Bomb returns a cabinet with compression comp holding files, then a file named name of
// Filler that takes the folder to size bytes (a multiple of 32 KiB, at most
// cab.MaxFolderBytes): the file has size less the other files' sizes. cab.Write
// compresses a few blocks of it; the last one is then repeated, which is valid for MSZIP
// (the writer's blocks stand alone) and for LZX once its frames repeat (checked).
func Bomb(files []cab.FileSource, name string, size int64, comp cab.Compression) ([]byte, error) {
	var small int64
	for _, f := range files {
		small += f.Size
	}
	blocks := int((small+blockSize-1)/blockSize) + seedBlocks
	seed := int64(blocks)*blockSize - small
	if len(Filler) != blockSize {
		return nil, fmt.Errorf("filler of %d bytes, expected %d", len(Filler), blockSize)
	}
	if size%blockSize != 0 || size < int64(blocks)*blockSize || size > cab.MaxFolderBytes {
		return nil, fmt.Errorf("bomb folder of %d bytes: expected a multiple of %d from %d to %d", size, blockSize, int64(blocks)*blockSize, int64(cab.MaxFolderBytes))
	}
	all := append(append([]cab.FileSource(nil), files...), cab.FileSource{Name: name, Size: seed, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(&repeat{b: Filler}, seed)), nil
	}})
	var m cab.MemFile
	if _, err := cab.Write(&m, all, cab.Options{Compression: comp, Workers: 1}); err != nil {
		return nil, err
	}
	b := m.Bytes()
	le := binary.LittleEndian
	if n := le.Uint16(b[26:]); n != 1 || int(le.Uint16(b[folderAt+4:])) != blocks {
		return nil, fmt.Errorf("expected one folder of %d blocks, the writer made %d folders", blocks, n)
	}
	starts, err := blockStarts(b, 0)
	if err != nil {
		return nil, err
	}
	last, prev := b[starts[blocks-1]:starts[blocks]], b[starts[blocks-2]:starts[blocks-1]]
	if !bytes.Equal(last, prev) {
		return nil, fmt.Errorf("the last two %v blocks differ: repeating one would not decode to the filler", comp)
	}
	extra := int(size/blockSize) - blocks
	out := make([]byte, 0, len(b)+extra*len(last))
	out = append(out, b...)
	for i := 0; i < extra; i++ {
		out = append(out, last...)
	}
	le.PutUint32(out[8:], uint32(len(out)))
	le.PutUint16(out[folderAt+4:], uint16(blocks+extra))
	entry, err := fileEntry(out, name)
	if err != nil {
		return nil, err
	}
	le.PutUint32(out[entry:], uint32(size-small))
	return out, nil
}

type repeat struct {
	b   []byte
	off int
}

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.b[r.off:])
		n += k
		r.off = (r.off + k) % len(r.b)
	}
	return n, nil
}

// blockStarts lists the offsets of folder i's CFDATA blocks and the end of the last.
func blockStarts(b []byte, folder int) ([]int, error) {
	le := binary.LittleEndian
	at := folderAt + 8*folder
	if at+8 > len(b) {
		return nil, fmt.Errorf("no folder %d", folder)
	}
	pos := int(le.Uint32(b[at:]))
	n := int(le.Uint16(b[at+4:]))
	starts := []int{pos}
	for i := 0; i < n; i++ {
		if pos+headerSize > len(b) {
			return nil, fmt.Errorf("block %d of folder %d past the end", i, folder)
		}
		pos += headerSize + int(le.Uint16(b[pos+4:]))
		starts = append(starts, pos)
	}
	return starts, nil
}

// fileEntry is the offset of the CFFILE entry of name.
func fileEntry(b []byte, name string) (int, error) {
	le := binary.LittleEndian
	pos := int(le.Uint32(b[16:]))
	for i := 0; i < int(le.Uint16(b[28:])); i++ {
		nul := bytes.IndexByte(b[pos+16:], 0)
		if nul < 0 {
			break
		}
		if string(b[pos+16:pos+16+nul]) == name {
			return pos, nil
		}
		pos += 16 + nul + 1
	}
	return 0, fmt.Errorf("no file %q in the cabinet", name)
}

// CorruptBlock returns a copy of a cabinet with the first data byte of block blk of folder
// flipped (for MSZIP, its "CK" signature); with clearSums every block's checksum of the
// folder is cleared as well, so that only decoding finds the damage.
func CorruptBlock(b []byte, folder, blk int, clearSums bool) ([]byte, error) {
	out := append([]byte(nil), b...)
	starts, err := blockStarts(out, folder)
	if err != nil {
		return nil, err
	}
	if blk >= len(starts)-1 {
		return nil, fmt.Errorf("folder %d has %d blocks, not %d", folder, len(starts)-1, blk+1)
	}
	at, end := starts[blk]+headerSize, starts[blk+1]
	if at == end {
		return nil, fmt.Errorf("block %d of folder %d has no data", blk, folder)
	}
	out[at] ^= 0x5A
	if clearSums {
		for _, s := range starts[:len(starts)-1] {
			binary.LittleEndian.PutUint32(out[s:], 0)
		}
	}
	return out, nil
}

// SetFileSize returns a copy of a cabinet whose file name claims size bytes.
func SetFileSize(b []byte, name string, size uint32) ([]byte, error) {
	out := append([]byte(nil), b...)
	entry, err := fileEntry(out, name)
	if err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint32(out[entry:], size)
	return out, nil
}
