package cab

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemimage/rules_oemimage/tools/internal/inflate"
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
// allocation or a panic. The members of a folder are sorted by offset and may not overlap,
// and folders may not share data: each byte of the file is decoded for one member at most,
// so reading every member costs time linear in the output, not in the output times the
// number of members.
type Reader struct {
	r         io.ReaderAt
	size      int64
	Folders   []Folder
	Files     []*File
	dataExtra int              // per-CFDATA reserve bytes
	byName    map[string]*File // case-folded name -> file; nil for a small cabinet (lookup)
	byFolder  [][]*File        // each folder's files, by offset
	limits    []int64          // where each folder's data must end: the next folder's start, or the end
	decoded   int64            // bytes ReadFile has decoded so far (maxReadFileDecode)
	filesEnd  int64            // end of the CFFILE table
}

// MaxMetadataSize is the largest member ReadFile returns whole: a package's man.dsm.xml, a
// feature manifest, a policy file. Content is streamed (Walk); what is read whole is
// metadata, and a bigger claim is a decompression bomb, not a manifest. 16 MiB holds a DSM
// listing a cabinet's 65,535 files at 256 bytes an entry, and keeps the XML parsers that
// read these members (a tree of every element) well inside a 2 GiB address space.
const MaxMetadataSize = 16 << 20

// maxReadFileDecode bounds what all ReadFile calls on one Reader decode, the folder bytes
// before each member included: members read in reverse order from the end of a 2 GiB
// folder would otherwise decode it again for each. A variable for tests.
var maxReadFileDecode int64 = 2 * MaxFolderBytes

// maxHeaderReserve is the limit [MS-CAB] sets on cbCFHeader.
const maxHeaderReserve = 60000

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
	if cbCabinet < headerSize {
		return nil, formatErr("header says %d bytes, less than the header itself", cbCabinet)
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
		if headerExtra > maxHeaderReserve {
			return nil, formatErr("%d reserved header bytes, over the format's %d", headerExtra, maxHeaderReserve)
		}
		pos += 4 + headerExtra
		if pos > cbCabinet {
			return nil, formatErr("%d reserved header bytes past the end of the %d-byte cabinet", headerExtra, cbCabinet)
		}
	}
	if pos+int64(nFolders)*int64(folderSize+folderExtra) > cbCabinet {
		return nil, formatErr("%d folders do not fit in %d bytes", nFolders, cbCabinet)
	}
	if nFiles > 0 && (coffFiles < headerSize || coffFiles+int64(nFiles)*(fileFixedSize+2) > cbCabinet) {
		return nil, formatErr("%d files at offset %d do not fit in %d bytes", nFiles, coffFiles, cbCabinet)
	}
	cr := &Reader{r: r, size: cbCabinet, dataExtra: dataExtra}
	if nFiles > scanFiles {
		cr.byName = make(map[string]*File, nFiles)
	}
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
	headersEnd := pos
	if err := cr.readFiles(coffFiles, nFiles); err != nil {
		return nil, err
	}
	if nFiles > 0 {
		headersEnd = max(headersEnd, cr.filesEnd)
	}
	if err := cr.folderLimits(headersEnd); err != nil {
		return nil, err
	}
	if err := cr.sortMembers(); err != nil {
		return nil, err
	}
	return cr, nil
}

// readFiles reads the CFFILE entries: the table is bounded by the cabinet's size.
func (cr *Reader) readFiles(pos int64, nFiles int) error {
	le := binary.LittleEndian
	for i := 0; i < nFiles; i++ {
		var fh [fileFixedSize + maxNameBytes]byte
		if cr.size-pos < fileFixedSize+2 {
			return formatErr("file entry %d at offset %d: past the end of the %d-byte cabinet", i, pos, cr.size)
		}
		n, err := cr.r.ReadAt(fh[:min(int64(len(fh)), cr.size-pos)], pos)
		if n < fileFixedSize+2 {
			return formatErr("file entry %d at offset %d: %v", i, pos, eofIsShortEntry(err))
		}
		nul := bytes.IndexByte(fh[fileFixedSize:n], 0)
		if nul < 0 {
			return formatErr("file entry %d: name without terminating NUL within %d bytes", i, min(n-fileFixedSize, maxNameBytes))
		}
		name := string(fh[fileFixedSize : fileFixedSize+nul])
		iFolder := int(le.Uint16(fh[8:]))
		if iFolder >= continuedFrom {
			return fmt.Errorf("file %q continues across cabinets; multi-cabinet sets are not supported", name)
		}
		if iFolder >= len(cr.Folders) {
			return formatErr("file %q: folder %d of %d", name, iFolder, len(cr.Folders))
		}
		if err := CheckName(name); err != nil {
			return formatErr("file entry %d: %v", i, err)
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
			return formatErr("file %q: bytes %d-%d beyond the %d its folder can hold", name, f.offset, f.offset+f.Size, max)
		}
		if other := cr.Lookup(name); other != nil {
			return formatErr("file %q given twice (as %q): which one is meant?", name, other.Name)
		}
		if cr.byName != nil {
			cr.byName[foldName(name)] = f
		}
		cr.Files = append(cr.Files, f)
		pos += int64(fileFixedSize + nul + 1)
	}
	cr.filesEnd = pos
	return nil
}

const continuedFrom = 0xFFFD // iFolder values marking files continued from or to other cabinets

func eofIsShortEntry(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return errors.New("past the end of the cabinet")
	}
	return err
}

// foldName is the key names are compared by: case-insensitively, as on Windows.
func foldName(name string) string { return strings.ToLower(name) }

// folderLimits checks that folders with data start after the headers and at distinct
// offsets, and records for each where its data must end: at the next folder's start. Two
// folders reading the same blocks would make a small file decode to many times its output.
func (cr *Reader) folderLimits(headersEnd int64) error {
	cr.limits = make([]int64, len(cr.Folders))
	var order []int
	for i, f := range cr.Folders {
		cr.limits[i] = cr.size
		if f.Blocks == 0 {
			continue
		}
		if f.start < headersEnd {
			return formatErr("folder %d: data at offset %d, inside the headers (they end at %d)", i, f.start, headersEnd)
		}
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return cr.Folders[order[a]].start < cr.Folders[order[b]].start })
	for k := 1; k < len(order); k++ {
		prev, cur := order[k-1], order[k]
		if cr.Folders[prev].start == cr.Folders[cur].start {
			return formatErr("folders %d and %d both start at offset %d", prev, cur, cr.Folders[cur].start)
		}
		cr.limits[prev] = cr.Folders[cur].start
	}
	return nil
}

// sortMembers lists each folder's files by offset and refuses overlapping ones: a member
// is a range of its folder's output of its own.
func (cr *Reader) sortMembers() error {
	cr.byFolder = make([][]*File, len(cr.Folders))
	for _, f := range cr.Files {
		cr.byFolder[f.Folder] = append(cr.byFolder[f.Folder], f)
	}
	for fi, files := range cr.byFolder {
		sort.SliceStable(files, func(a, b int) bool { return files[a].offset < files[b].offset })
		var last *File
		for _, f := range files {
			if f.Size == 0 {
				continue
			}
			if last != nil && f.offset < last.offset+last.Size {
				return formatErr("files %q (bytes %d-%d) and %q (bytes %d-%d) overlap in folder %d",
					last.Name, last.offset, last.offset+last.Size, f.Name, f.offset, f.offset+f.Size, fi)
			}
			last = f
		}
	}
	return nil
}

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
	ra    *readAhead
	cr    *Reader
	index int
	f     Folder
	limit int64 // the folder's data ends here at the latest
	pos   int64 // offset of the next CFDATA
	block int
	out   int64  // bytes decoded so far
	buf   []byte // decoded bytes of the current block not yet read
	lzx   *lzx.CABDecoder
	*blockBuffers
}

// blockBuffers are a folder reader's block buffers and inflater, some 190 KiB: pooled, as
// each of a kit's 20,000 packages is read once or twice, and so many short-lived buffers
// would mostly be garbage for the collector (and heap held until it runs).
type blockBuffers struct {
	raw []byte // the current block's data as stored
	// MSZIP: the previous block's output (the next block's dictionary) in mszip[:history],
	// the current block's after it; moved to the front before the next block.
	mszip   []byte
	history int
	last    int // end of the current block's output in mszip
	inf     *inflate.Decoder
	lzxOut  []byte
	lzxDec  *lzx.CABDecoder // reset for each LZX folder
}

var blockBufferPool = sync.Pool{New: func() any { return &blockBuffers{} }}

// getBlockBuffers takes buffers from the pool: the next folder starts with no history (its
// first block has none).
func getBlockBuffers() *blockBuffers {
	b := blockBufferPool.Get().(*blockBuffers)
	b.history, b.last = 0, 0
	return b
}

func (cr *Reader) openFolder(i int) (*folderReader, error) {
	f := cr.Folders[i]
	fr := &folderReader{ra: &readAhead{r: cr.r, end: cr.size}, cr: cr, index: i, f: f, limit: cr.limits[i], pos: f.start}
	switch f.Compression & 0xF {
	case None, MSZIP, LZX:
	default:
		return nil, unsupported(f.Compression)
	}
	fr.blockBuffers = getBlockBuffers()
	if f.Compression&0xF == LZX {
		// The decoder (and its window of up to 2 MiB) comes with the pooled buffers.
		var err error
		if fr.lzxDec == nil {
			fr.lzxDec, err = lzx.NewCABDecoder(f.Compression.WindowBits())
		} else {
			err = fr.lzxDec.Reset(f.Compression.WindowBits())
		}
		if err != nil {
			fr.release()
			return nil, formatErr("folder %d: %v", i, err)
		}
		fr.lzx = fr.lzxDec
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

// maxData is the largest cbData of a block of compression c ([MS-CAB] 2.5; LZX as
// libmspack allows).
func maxData(c Compression) int {
	switch c & 0xF {
	case MSZIP:
		return maxMSZIPData
	case LZX:
		return maxLZXData
	}
	return blockSize
}

// blockHeader reads the CFDATA header at fr.pos and checks its sizes against the format and
// the folder's extent; it returns where the data starts.
func (fr *folderReader) blockHeader() (csum uint32, cbData, cbUncomp int, dataAt int64, err error) {
	var h [dataHeaderSize]byte
	if fr.pos+dataHeaderSize > fr.limit {
		return 0, 0, 0, 0, formatErr("%s: past the end of the folder's data (offset %d)", fr.where(), fr.limit)
	}
	if _, err := fr.ra.ReadAt(h[:], fr.pos); err != nil {
		return 0, 0, 0, 0, formatErr("%s: %v", fr.where(), err)
	}
	le := binary.LittleEndian
	csum = le.Uint32(h[0:])
	cbData = int(le.Uint16(h[4:]))
	cbUncomp = int(le.Uint16(h[6:]))
	if cbUncomp > blockSize || cbData > maxData(fr.f.Compression) {
		return 0, 0, 0, 0, formatErr("%s: %d bytes decoding to %d, over the format's limits (%d, %d) for %v", fr.where(), cbData, cbUncomp, maxData(fr.f.Compression), blockSize, fr.f.Compression)
	}
	dataAt = fr.pos + dataHeaderSize + int64(fr.cr.dataExtra)
	if dataAt+int64(cbData) > fr.limit {
		return 0, 0, 0, 0, formatErr("%s: %d data bytes past the end of the folder's data (offset %d)", fr.where(), cbData, fr.limit)
	}
	return csum, cbData, cbUncomp, dataAt, nil
}

func (fr *folderReader) where() string {
	return fmt.Sprintf("folder %d, block %d at offset %d", fr.index, fr.block, fr.pos)
}

// readBlock reads the current block's data and verifies its checksum when it has one.
func (fr *folderReader) readBlock() (raw []byte, cbUncomp int, checked bool, err error) {
	csum, cbData, cbUncomp, dataAt, err := fr.blockHeader()
	if err != nil {
		return nil, 0, false, err
	}
	if len(fr.raw) < cbData {
		fr.raw = make([]byte, max(maxMSZIPData, maxLZXData, blockSize))
	}
	raw = fr.raw[:cbData]
	if _, err := fr.ra.ReadAt(raw, dataAt); err != nil {
		return nil, 0, false, formatErr("%s: %v", fr.where(), err)
	}
	// With per-block reserve bytes the checksum covers them too: not checked then.
	checked = csum != 0 && fr.cr.dataExtra == 0
	if checked {
		if got := dataChecksum(raw, cbUncomp); got != csum {
			return nil, 0, false, formatErr("%s: checksum %#08x, computed %#08x (corrupt data)", fr.where(), csum, got)
		}
	}
	fr.pos = dataAt + int64(cbData)
	return raw, cbUncomp, checked, nil
}

func (fr *folderReader) next() error {
	at := fr.pos
	raw, cbUncomp, _, err := fr.readBlock()
	if err != nil {
		return err
	}
	where := func() string { return fmt.Sprintf("folder %d, block %d at offset %d", fr.index, fr.block, at) }
	switch fr.f.Compression & 0xF {
	case None:
		if len(raw) != cbUncomp {
			return formatErr("%s: stored block of %d bytes claims %d", where(), len(raw), cbUncomp)
		}
		fr.buf = raw
	case MSZIP:
		if len(raw) < 2 || raw[0] != 'C' || raw[1] != 'K' {
			return formatErr("%s: MSZIP block without its \"CK\" signature", where())
		}
		if fr.inf == nil {
			fr.inf = new(inflate.Decoder)
			fr.mszip = make([]byte, 2*blockSize)
		}
		// The previous block's output is this one's history (32 KiB window).
		h := copy(fr.mszip, fr.mszip[fr.history:fr.last])
		end, err := fr.inf.Decode(fr.mszip[:h+cbUncomp], h, raw[2:])
		fr.history, fr.last = h, end
		switch {
		case errors.Is(err, inflate.ErrTooLong):
			// The stream decodes to more than cbUncomp bytes: at least one more.
			return formatErr("%s: MSZIP block decodes to %d bytes or more, header says %d", where(), cbUncomp+1, cbUncomp)
		case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
			return formatErr("%s: MSZIP: %v", where(), err)
		case end-h != cbUncomp:
			return formatErr("%s: MSZIP block decodes to %d bytes or more, header says %d", where(), end-h, cbUncomp)
		}
		fr.buf = fr.mszip[h:end]
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
	fr.out += int64(cbUncomp)
	fr.block++
	return nil
}

// release returns the folder reader's buffers.
func (fr *folderReader) release() {
	fr.ra.release()
	if fr.blockBuffers != nil {
		blockBufferPool.Put(fr.blockBuffers)
		fr.blockBuffers, fr.buf, fr.lzx = nil, nil, nil
	}
}

// memberReader yields one member's bytes of a folder: a folder that ends before the
// member's declared size, or any decoding error, is an error naming the member, never a
// quiet short read.
type memberReader struct {
	fr   *folderReader
	f    *File
	left int64
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > m.left {
		p = p[:m.left]
	}
	n, err := m.fr.Read(p)
	m.left -= int64(n)
	switch {
	case errors.Is(err, io.EOF) && m.left > 0:
		return n, formatErr("%s: declared %d bytes, but its folder's blocks end %d bytes short of them", m.f.Name, m.f.Size, m.left)
	case err != nil && !errors.Is(err, io.EOF):
		return n, fmt.Errorf("%s: %w", m.f.Name, err)
	}
	return n, nil
}

// seek skips the folder to f's first byte.
func (fr *folderReader) seek(f *File) error {
	if f.offset < fr.out-int64(len(fr.buf)) {
		return fmt.Errorf("%s: folder %d read past the file's offset %d", f.Name, fr.index, f.offset)
	}
	skip := f.offset - (fr.out - int64(len(fr.buf)))
	if _, err := io.CopyN(io.Discard, fr, skip); err != nil {
		if errors.Is(err, io.EOF) {
			return formatErr("%s: starts at byte %d of folder %d, whose blocks hold %d", f.Name, f.offset, fr.index, fr.out)
		}
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

// Each calls fn for every file in Walk's order, decoding nothing: what Walk will give, known
// before it runs.
func (cr *Reader) Each(fn func(f *File) error) error {
	for _, files := range cr.byFolder {
		for _, f := range files {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// Walk calls fn for every file, folder by folder and by offset within a folder, with a
// reader of its content that is valid until fn returns. Each folder is decoded once, front
// to back; a read error names the file.
func (cr *Reader) Walk(fn func(f *File, r io.Reader) error) error {
	for fi, files := range cr.byFolder {
		if len(files) == 0 {
			continue
		}
		if err := cr.walkFolder(fi, files, fn); err != nil {
			return err
		}
	}
	return nil
}

func (cr *Reader) walkFolder(fi int, files []*File, fn func(f *File, r io.Reader) error) error {
	fr, err := cr.openFolder(fi)
	if err != nil {
		return err
	}
	defer fr.release()
	for _, f := range files {
		if err := fr.seek(f); err != nil {
			return err
		}
		mr := &memberReader{fr: fr, f: f, left: f.Size}
		if err := fn(f, mr); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, mr); err != nil {
			return err
		}
	}
	return nil
}

// ReadFile returns the content of the named file (names compare case-insensitively, as on
// Windows), which must be metadata: at most MaxMetadataSize bytes. It decodes the file's
// folder up to the file.
func (cr *Reader) ReadFile(name string) ([]byte, error) {
	f := cr.Lookup(name)
	if f == nil {
		return nil, fmt.Errorf("no file %q in the cabinet", name)
	}
	if f.Size > MaxMetadataSize {
		return nil, fmt.Errorf("%s: %d bytes; a file read whole (a manifest, a policy) may have at most %d (cab.MaxMetadataSize): a decompression bomb?", f.Name, f.Size, MaxMetadataSize)
	}
	if cr.decoded+f.offset+f.Size > maxReadFileDecode {
		return nil, fmt.Errorf("%s: reading it would take this cabinet's whole-file reads past %d decoded bytes (the limit of metadata reads of one cabinet)", f.Name, maxReadFileDecode)
	}
	cr.decoded += f.offset + f.Size
	fr, err := cr.openFolder(f.Folder)
	if err != nil {
		return nil, err
	}
	defer fr.release()
	if err := fr.seek(f); err != nil {
		return nil, err
	}
	// Grow with the data actually decoded rather than trust f.Size for an allocation.
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, &memberReader{fr: fr, f: f, left: f.Size}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// scanFiles is the most files a cabinet finds by name with a scan rather than a map: a
// package cabinet holds a few files, a kit 20,000 packages, each open for the whole run, and
// a map costs a few hundred bytes even for three names.
const scanFiles = 8

// Lookup finds a file by name, case-insensitively.
func (cr *Reader) Lookup(name string) *File {
	key := foldName(name)
	if cr.byName != nil {
		return cr.byName[key]
	}
	for _, f := range cr.Files {
		if f.Name == name || foldName(f.Name) == key {
			return f
		}
	}
	return nil
}

// Offset is where the file's bytes start in its folder's uncompressed data (for RawFile).
func (f *File) Offset() int64 { return f.offset }
