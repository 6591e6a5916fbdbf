package cab

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/oemimage/rules_oemimage/tools/lzx"
)

// File is a file entry of a cabinet.
type File struct {
	Name       string
	Size       int64
	ModTime    time.Time
	Attributes uint16
	Folder     int
	offset     int64 // in the folder's uncompressed data
}

// Folder is a CFFOLDER: a run of CFDATA blocks with one compression.
type Folder struct {
	Compression Compression
	Blocks      int
	start       int64 // offset of the first CFDATA
}

// Reader reads a cabinet. Every count and offset of the headers is checked against the size of
// the file before it is used, so a corrupt or hostile cabinet gives an error, not a huge
// allocation or a panic.
type Reader struct {
	r         io.ReaderAt
	size      int64
	Folders   []Folder
	Files     []*File
	dataExtra int // per-CFDATA reserve bytes
}

// FormatError is a cabinet that does not follow the format.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "not a valid cabinet: " + e.Msg }

func formatErr(format string, args ...any) error { return &FormatError{fmt.Sprintf(format, args...)} }

// NewReader reads the headers of the cabinet in r, which is size bytes long.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	var h [headerSize]byte
	if size < headerSize {
		return nil, formatErr("%d bytes, shorter than the %d-byte header", size, headerSize)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, err
	}
	if string(h[0:4]) != signature {
		return nil, formatErr("signature %q, expected %q", h[0:4], signature)
	}
	le := binary.LittleEndian
	cbCabinet := int64(le.Uint32(h[8:]))
	coffFiles := int64(le.Uint32(h[16:]))
	if h[25] != versionMajor {
		return nil, formatErr("version %d.%d, expected %d.x", h[25], h[24], versionMajor)
	}
	nFolders := int(le.Uint16(h[26:]))
	nFiles := int(le.Uint16(h[28:]))
	flags := le.Uint16(h[30:])
	if cbCabinet > size {
		return nil, formatErr("header says %d bytes, the file has %d (truncated?)", cbCabinet, size)
	}
	if flags&(flagPrevCab|flagNextCab) != 0 {
		return nil, fmt.Errorf("cabinet is part of a multi-cabinet set; sets are not supported")
	}
	pos := int64(headerSize)
	folderExtra, dataExtra := 0, 0
	if flags&flagReserve != 0 {
		var rs [4]byte
		if _, err := r.ReadAt(rs[:], pos); err != nil {
			return nil, formatErr("reserve sizes: %v", err)
		}
		headerExtra := int64(le.Uint16(rs[0:]))
		folderExtra, dataExtra = int(rs[2]), int(rs[3])
		pos += 4 + headerExtra
	}
	if pos+int64(nFolders)*int64(folderSize+folderExtra) > cbCabinet {
		return nil, formatErr("%d folders do not fit in %d bytes", nFolders, cbCabinet)
	}
	if nFiles > 0 && coffFiles+int64(nFiles)*(fileFixedSize+2) > cbCabinet {
		return nil, formatErr("%d files at offset %d do not fit in %d bytes", nFiles, coffFiles, cbCabinet)
	}
	cr := &Reader{r: r, size: cbCabinet, dataExtra: dataExtra}
	fb := make([]byte, folderSize)
	for i := 0; i < nFolders; i++ {
		if _, err := r.ReadAt(fb, pos); err != nil {
			return nil, formatErr("folder %d: %v", i, err)
		}
		f := Folder{start: int64(le.Uint32(fb[0:])), Blocks: int(le.Uint16(fb[4:])), Compression: Compression(le.Uint16(fb[6:]))}
		if f.start > cbCabinet || f.start+int64(f.Blocks)*dataHeaderSize > cbCabinet {
			return nil, formatErr("folder %d: %d blocks at offset %d outside the %d-byte cabinet", i, f.Blocks, f.start, cbCabinet)
		}
		cr.Folders = append(cr.Folders, f)
		pos += int64(folderSize + folderExtra)
	}
	// CFFILE entries: read the whole table at once, bounded by the cabinet's size.
	pos = coffFiles
	for i := 0; i < nFiles; i++ {
		var fh [fileFixedSize + maxNameBytes]byte
		n, err := r.ReadAt(fh[:], pos)
		if n < fileFixedSize+1 {
			return nil, formatErr("file entry %d at offset %d: %v", i, pos, err)
		}
		nul := bytes.IndexByte(fh[fileFixedSize:n], 0)
		if nul < 0 {
			return nil, formatErr("file entry %d: name without terminating NUL within %d bytes", i, maxNameBytes)
		}
		name := string(fh[fileFixedSize : fileFixedSize+nul])
		iFolder := int(le.Uint16(fh[8:]))
		if iFolder >= continuedFrom {
			return nil, fmt.Errorf("file %q continues across cabinets; multi-cabinet sets are not supported", name)
		}
		if iFolder >= len(cr.Folders) {
			return nil, formatErr("file %q: folder %d of %d", name, iFolder, len(cr.Folders))
		}
		if err := CheckName(name); err != nil {
			return nil, formatErr("file entry %d: %v", i, err)
		}
		f := &File{
			Name:       name,
			Size:       int64(le.Uint32(fh[0:])),
			offset:     int64(le.Uint32(fh[4:])),
			Folder:     iFolder,
			ModTime:    fromDOSDateTime(le.Uint16(fh[10:]), le.Uint16(fh[12:])),
			Attributes: le.Uint16(fh[14:]) &^ attrNameIsUTF,
		}
		if max := int64(cr.Folders[iFolder].Blocks) * blockSize; f.offset+f.Size > max {
			return nil, formatErr("file %q: bytes %d-%d beyond the %d its folder can hold", name, f.offset, f.offset+f.Size, max)
		}
		cr.Files = append(cr.Files, f)
		pos += int64(fileFixedSize + nul + 1)
	}
	return cr, nil
}

const continuedFrom = 0xFFFD // iFolder values marking files continued from or to other cabinets

// unsupported is the error for a folder whose compression this package cannot decode.
func unsupported(c Compression) error {
	switch c & 0xF {
	case Quantum:
		return errors.New("Quantum compression not supported yet")
	}
	return fmt.Errorf("unknown compression type %#x", uint16(c))
}

// readAhead serves the small sequential reads of a folder's blocks (an 8-byte header, then up
// to 32 KiB of data) from one larger read: a syscall per MiB rather than two per block.
type readAhead struct {
	r    io.ReaderAt
	end  int64 // the cabinet's size: reads never go past it
	off  int64 // file offset of data[0]
	want int64 // size of the next read: starts small (a manifest needs little), doubles to a MiB
	buf  *[]byte
	data []byte // valid part of *buf
}

const readAheadSize = 1 << 20

// Buffers are shared by folder readers: a package read once would otherwise allocate a MiB.
var readAheadPool = sync.Pool{New: func() any { b := make([]byte, readAheadSize); return &b }}

func (ra *readAhead) ReadAt(p []byte, off int64) (int, error) {
	if off >= ra.off && off+int64(len(p)) <= ra.off+int64(len(ra.data)) {
		return copy(p, ra.data[off-ra.off:]), nil
	}
	n := ra.want
	switch {
	case n == 0:
		n = 64 << 10
	case n < readAheadSize:
		n *= 2
	}
	ra.want = n
	if off+n > ra.end {
		n = ra.end - off
	}
	if n < int64(len(p)) || len(p) > readAheadSize {
		return ra.r.ReadAt(p, off)
	}
	if ra.buf == nil {
		ra.buf = readAheadPool.Get().(*[]byte)
	}
	k, err := ra.r.ReadAt((*ra.buf)[:n], off)
	ra.off, ra.data = off, (*ra.buf)[:k]
	if k < len(p) {
		return copy(p, ra.data), err
	}
	return copy(p, ra.data), nil
}

// release returns the buffer to the pool.
func (ra *readAhead) release() {
	if ra.buf != nil {
		readAheadPool.Put(ra.buf)
		ra.buf, ra.data = nil, nil
	}
}

// folderReader decodes the CFDATA blocks of a folder in order.
type folderReader struct {
	ra      *readAhead
	cr      *Reader
	index   int
	f       Folder
	pos     int64 // offset of the next CFDATA
	block   int
	buf     []byte // decoded bytes of the current block not yet read
	history []byte // MSZIP: the previous block's output, the next block's dictionary
	lzx     *lzx.CABDecoder
	lzxOut  []byte
	raw     []byte
	out     bytes.Buffer
}

func (cr *Reader) openFolder(i int) (*folderReader, error) {
	f := cr.Folders[i]
	fr := &folderReader{ra: &readAhead{r: cr.r, end: cr.size}, cr: cr, index: i, f: f, pos: f.start, raw: make([]byte, 0, maxLZXData)}
	switch f.Compression & 0xF {
	case None, MSZIP:
	case LZX:
		d, err := lzx.NewCABDecoder(f.Compression.WindowBits())
		if err != nil {
			return nil, formatErr("folder %d: %v", i, err)
		}
		fr.lzx = d
	default:
		return nil, unsupported(f.Compression)
	}
	return fr, nil
}

func (fr *folderReader) Read(p []byte) (int, error) {
	for len(fr.buf) == 0 {
		if fr.block == fr.f.Blocks {
			return 0, io.EOF
		}
		if err := fr.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, fr.buf)
	fr.buf = fr.buf[n:]
	return n, nil
}

func (fr *folderReader) next() error {
	le := binary.LittleEndian
	var h [dataHeaderSize]byte
	where := func() string { return fmt.Sprintf("folder %d, block %d at offset %d", fr.index, fr.block, fr.pos) }
	if fr.pos+dataHeaderSize > fr.cr.size {
		return formatErr("%s: past the end of the cabinet", where())
	}
	if _, err := fr.ra.ReadAt(h[:], fr.pos); err != nil {
		return formatErr("%s: %v", where(), err)
	}
	csum := le.Uint32(h[0:])
	cbData := int(le.Uint16(h[4:]))
	cbUncomp := int(le.Uint16(h[6:]))
	if cbUncomp > blockSize || cbData > maxLZXData {
		return formatErr("%s: %d bytes decoding to %d, over the format's limits", where(), cbData, cbUncomp)
	}
	dataAt := fr.pos + dataHeaderSize + int64(fr.cr.dataExtra)
	if dataAt+int64(cbData) > fr.cr.size {
		return formatErr("%s: %d data bytes past the end of the cabinet", where(), cbData)
	}
	raw := fr.raw[:cbData]
	if _, err := fr.ra.ReadAt(raw, dataAt); err != nil {
		return formatErr("%s: %v", where(), err)
	}
	if csum != 0 && dataChecksum(raw, cbUncomp) != csum && fr.cr.dataExtra == 0 {
		return formatErr("%s: checksum %#08x, computed %#08x (corrupt data)", where(), csum, dataChecksum(raw, cbUncomp))
	}
	switch fr.f.Compression & 0xF {
	case None:
		if cbData != cbUncomp {
			return formatErr("%s: stored block of %d bytes claims %d", where(), cbData, cbUncomp)
		}
		fr.buf = raw
	case MSZIP:
		if len(raw) < 2 || raw[0] != 'C' || raw[1] != 'K' {
			return formatErr("%s: MSZIP block without its \"CK\" signature", where())
		}
		fr.out.Reset()
		zr := flate.NewReaderDict(bytes.NewReader(raw[2:]), fr.history)
		// One byte more than promised shows a block that decodes to too much.
		n, err := io.Copy(&fr.out, io.LimitReader(zr, int64(cbUncomp)+1))
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return formatErr("%s: MSZIP: %v", where(), err)
		}
		if int(n) != cbUncomp {
			return formatErr("%s: MSZIP block decodes to %d bytes, header says %d", where(), n, cbUncomp)
		}
		fr.buf = fr.out.Bytes()
		// The next block may refer to this one's output: keep it as history (32 KiB window).
		fr.history = append(fr.history[:0], fr.buf...)
	case LZX:
		if fr.lzxOut == nil {
			fr.lzxOut = make([]byte, blockSize)
		}
		out := fr.lzxOut[:cbUncomp]
		if err := fr.lzx.Decode(out, raw); err != nil {
			return formatErr("%s: %v", where(), err)
		}
		fr.buf = out
	}
	fr.pos = dataAt + int64(cbData)
	fr.block++
	return nil
}

// Walk calls fn for every file in cabinet order, with a reader of its content that is valid
// until fn returns. Each folder is decoded once, front to back.
func (cr *Reader) Walk(fn func(f *File, r io.Reader) error) error {
	byFolder := make([][]*File, len(cr.Folders))
	for _, f := range cr.Files {
		byFolder[f.Folder] = append(byFolder[f.Folder], f)
	}
	for fi, files := range byFolder {
		if len(files) == 0 {
			continue
		}
		fr, err := cr.openFolder(fi)
		if err != nil {
			return err
		}
		defer fr.ra.release()
		var at int64
		for _, f := range files {
			if f.offset < at {
				// Overlapping or out-of-order entries: reopen the folder (rare, valid).
				fr.ra.release()
				if fr, err = cr.openFolder(fi); err != nil {
					return err
				}
				defer fr.ra.release()
				at = 0
			}
			if _, err := io.CopyN(io.Discard, fr, f.offset-at); err != nil {
				return fmt.Errorf("%s: %w", f.Name, eofIsShort(err))
			}
			lr := &io.LimitedReader{R: fr, N: f.Size}
			if err := fn(f, lr); err != nil {
				return err
			}
			if _, err := io.Copy(io.Discard, lr); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			if lr.N != 0 {
				return formatErr("%s: folder data ends %d bytes early", f.Name, lr.N)
			}
			at = f.offset + f.Size
		}
	}
	return nil
}

func eofIsShort(err error) error {
	if errors.Is(err, io.EOF) {
		return formatErr("folder data ends early")
	}
	return err
}

// ReadFile returns the content of the named file (names compare case-insensitively, as on
// Windows). It decodes the file's folder up to the file.
func (cr *Reader) ReadFile(name string) ([]byte, error) {
	f := cr.Lookup(name)
	if f == nil {
		return nil, fmt.Errorf("no file %q in the cabinet", name)
	}
	fr, err := cr.openFolder(f.Folder)
	if err != nil {
		return nil, err
	}
	defer fr.ra.release()
	if _, err := io.CopyN(io.Discard, fr, f.offset); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, eofIsShort(err))
	}
	// Grow with the data actually decoded rather than trust f.Size for an allocation.
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(fr, f.Size))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if n != f.Size {
		return nil, formatErr("%s: folder data ends %d bytes early", f.Name, f.Size-n)
	}
	return buf.Bytes(), nil
}

// Lookup finds a file by name, case-insensitively.
func (cr *Reader) Lookup(name string) *File {
	for _, f := range cr.Files {
		if equalFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

// Offset is where the file's bytes start in its folder's uncompressed data (for RawFile).
func (f *File) Offset() int64 { return f.offset }
