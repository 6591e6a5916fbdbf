package cab

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/oemimage/rules_oemimage/tools/lzx"
)

// FileSource is a file to write into a cabinet. Size must be exact: the writer lays out every
// header before it reads any content, and fails if a file yields another number of bytes.
type FileSource struct {
	Name       string // name in the cabinet, '\' between directories
	Size       int64
	Open       func() (io.ReadCloser, error)
	ModTime    time.Time // zero: Options.ModTime
	Attributes uint16    // AttrReadOnly, ...; AttrArchive when zero
}

// Options control Write. The zero value writes stored (uncompressed) data.
type Options struct {
	Compression Compression // None, MSZIP, or LZX (window 2^21) or LZXWindow(15..21)
	Level       int         // deflate level 1-9 for MSZIP; 0 means 4 (docs/formats.md)
	ModTime     time.Time   // stamp of files without their own; zero means DefaultModTime
	SetID       uint16      // setID of the cabinet header
	Workers     int         // parallel MSZIP compressors; 0 means GOMAXPROCS
}

type folderPlan struct {
	files  []int // indexes into the file list
	bytes  int64 // uncompressed bytes
	blocks int
}

// plan assigns files to folders in order, starting a new folder when the current one would
// exceed the 65535 blocks a folder can count.
func plan(files []FileSource) ([]folderPlan, error) {
	var folders []folderPlan
	cur := folderPlan{}
	for i, f := range files {
		if f.Size < 0 || f.Size > MaxFolderBytes {
			return nil, fmt.Errorf("%s: %d bytes; a cabinet file holds at most %d bytes", f.Name, f.Size, int64(MaxFolderBytes))
		}
		if cur.bytes+f.Size > MaxFolderBytes && len(cur.files) > 0 {
			folders = append(folders, cur)
			cur = folderPlan{}
		}
		cur.files = append(cur.files, i)
		cur.bytes += f.Size
	}
	folders = append(folders, cur)
	for i := range folders {
		folders[i].blocks = int((folders[i].bytes + blockSize - 1) / blockSize)
	}
	return folders, nil
}

func validate(files []FileSource) error {
	if len(files) > MaxFiles {
		return fmt.Errorf("%d files; a cabinet holds at most %d", len(files), MaxFiles)
	}
	seen := make(map[string]string, len(files))
	for _, f := range files {
		if err := CheckName(f.Name); err != nil {
			return err
		}
		// Windows extracts case-insensitively: two names differing only in case would collide.
		key := strings.ToLower(f.Name)
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("file name %q given twice (as %q)", f.Name, prev)
		}
		seen[key] = f.Name
		if f.Open == nil {
			return fmt.Errorf("%s: no content", f.Name)
		}
	}
	return nil
}

// RawFolder is a folder of another cabinet copied byte for byte: its CFDATA blocks keep their
// compression and checksums, so nothing is compressed again. What is copied is checked first
// (checkRawFolder): checksums, or a full decode where blocks have none. Files are the
// parts of its data the new cabinet lists; bytes no file refers to are carried along unlisted.
type RawFolder struct {
	From   *Reader
	Source string // the cabinet's file, for messages
	Index  int
	Files  []RawFile
}

// RawFile is a file of a RawFolder: Size bytes at Offset of the folder's uncompressed data.
type RawFile struct {
	Name       string
	Origin     string // what messages call it (its name or path in the source); Name when empty
	Offset     int64
	Size       int64
	ModTime    time.Time
	Attributes uint16
}

// Write writes a cabinet holding files, in the given order, to w, and returns its size.
// w must be positioned at the cabinet's start: the folder offsets are patched at the end.
// The output depends only on the files, their order and opt.
func Write(w io.WriteSeeker, files []FileSource, opt Options) (int64, error) {
	return WriteWithRaw(w, files, nil, opt)
}

// checkFolder reads every CFDATA block of folder i: sizes within the format and the folder's
// extent, checksums where the blocks carry them; a folder with a block without a checksum
// is decoded whole (to io.Discard). It returns the length of the blocks and the folder's
// uncompressed size; on error, at is the output offset of the failing block.
func (cr *Reader) checkFolder(i int) (length, output, at int64, err error) {
	fr, err := cr.openFolder(i)
	if err != nil {
		return 0, 0, 0, err
	}
	defer fr.release()
	unchecked := false
	for fr.block < fr.f.Blocks {
		_, n, checked, err := fr.readBlock()
		if err != nil {
			return 0, 0, fr.out, err
		}
		unchecked = unchecked || !checked
		fr.out += int64(n)
		fr.block++
	}
	if unchecked {
		full, err := cr.openFolder(i)
		if err != nil {
			return 0, 0, 0, err
		}
		_, err = io.Copy(io.Discard, full)
		full.release()
		if err != nil {
			return 0, 0, full.out, err
		}
	}
	return fr.pos - cr.Folders[i].start, fr.out, 0, nil
}

// Verify checks every folder of the cabinet as WriteWithRaw checks what it copies, and that
// every file lies within its folder's output: for a cabinet copied whole.
func (cr *Reader) Verify() error {
	for i := range cr.Folders {
		if cr.Folders[i].Blocks == 0 && len(cr.byFolder[i]) == 0 {
			continue
		}
		_, out, at, err := cr.checkFolder(i)
		if err != nil {
			return fmt.Errorf("%s: %w", cr.memberAt(i, at), err)
		}
		for _, f := range cr.byFolder[i] {
			if f.offset+f.Size > out {
				return formatErr("%s: bytes %d-%d are outside the %d that folder %d holds", f.Name, f.offset, f.offset+f.Size, out, i)
			}
		}
	}
	return nil
}

// memberAt names the file holding the block of folder i whose output starts at out.
func (cr *Reader) memberAt(i int, out int64) string {
	for _, f := range cr.byFolder[i] {
		if out < f.offset+f.Size && f.offset < out+blockSize {
			return f.Name
		}
	}
	return fmt.Sprintf("folder %d (bytes no file uses)", i)
}

// checkRawFolder checks a folder about to be copied (checkFolder), so that corruption in
// what is copied is found here rather than passed on, and that the files to list lie within
// its output. It returns where the blocks lie.
func checkRawFolder(rf RawFolder) (start, length int64, err error) {
	r := rf.From
	if r.dataExtra != 0 {
		return 0, 0, fmt.Errorf("%s: folders of a cabinet with per-block reserved bytes cannot be copied as they are", rf.source())
	}
	length, out, at, err := r.checkFolder(rf.Index)
	if err != nil {
		return 0, 0, rf.blame(at, err)
	}
	for _, f := range rf.Files {
		if f.Offset < 0 || f.Size < 0 || f.Offset+f.Size > out {
			return 0, 0, fmt.Errorf("%s: %s: bytes %d-%d are outside the %d that folder %d holds", rf.source(), f.origin(), f.Offset, f.Offset+f.Size, out, rf.Index)
		}
	}
	return r.Folders[rf.Index].start, length, nil
}

func (f RawFile) origin() string {
	if f.Origin == "" {
		return f.Name
	}
	return f.Origin
}

func (rf RawFolder) source() string {
	if rf.Source == "" {
		return "source cabinet"
	}
	return rf.Source
}

// blame is err of the block whose output starts at out, naming the file it holds.
func (rf RawFolder) blame(out int64, err error) error {
	what := "bytes no copied file uses"
	for _, f := range rf.Files {
		if out < f.Offset+f.Size && f.Offset < out+blockSize {
			what = f.origin()
			break
		}
	}
	return fmt.Errorf("%s (%s): %w", rf.source(), what, err)
}

// WriteWithRaw is Write with raw folders of other cabinets appended after the new ones.
func WriteWithRaw(w io.WriteSeeker, files []FileSource, raws []RawFolder, opt Options) (int64, error) {
	if err := opt.normalize(); err != nil {
		return 0, err
	}
	all := append([]FileSource(nil), files...)
	for _, rf := range raws {
		for _, f := range rf.Files {
			// Stand-ins, so that names and counts are checked together with the new files.
			all = append(all, FileSource{Name: f.Name, Size: f.Size, Open: func() (io.ReadCloser, error) { return nil, nil }})
		}
	}
	if err := validate(all); err != nil {
		return 0, err
	}
	folders, err := plan(files)
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		folders = nil
	}
	rawPlans, err := planRaw(raws)
	if err != nil {
		return 0, err
	}
	if len(folders)+len(rawPlans) == 0 {
		folders = []folderPlan{{}}
	}
	if len(folders)+len(rawPlans) > 0xFFFF {
		return 0, fmt.Errorf("%d folders; a cabinet holds at most 65535", len(folders)+len(rawPlans))
	}
	hdr := header(files, folders, rawPlans, len(all), opt)
	if _, err := w.Write(hdr); err != nil {
		return 0, err
	}
	pos := int64(len(hdr))

	starts := make([]int64, len(folders)+len(rawPlans))
	for fi, fo := range folders {
		starts[fi] = pos
		n, err := writeFolder(w, files, fo, opt)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	for ri, rp := range rawPlans {
		starts[len(folders)+ri] = pos
		n, err := copyRange(w, rp.From.r, rp.start, rp.length)
		if err != nil {
			return 0, err
		}
		if n != rp.length {
			return 0, fmt.Errorf("copying folder %d: %d of %d bytes", rp.Index, n, rp.length)
		}
		pos += n
	}
	if pos > MaxCabinet {
		return 0, fmt.Errorf("the cabinet would be %d bytes; the format allows at most %d", pos, int64(MaxCabinet))
	}
	return pos, patchOffsets(w, pos, starts)
}

// normalize checks the options and fills in the defaults.
func (opt *Options) normalize() error {
	switch opt.Compression & 0xF {
	case None, MSZIP:
		if opt.Compression>>4 != 0 {
			return fmt.Errorf("compression %#x: only LZX takes a window size", uint16(opt.Compression))
		}
	case LZX:
		if opt.Compression == LZX {
			opt.Compression = LZXWindow(defaultLZXWindow)
		}
		if b := opt.Compression.WindowBits(); b < 15 || b > 21 || opt.Compression&^0x1FFF != 0 || opt.Compression&0xF0 != 0 {
			return fmt.Errorf("LZX window of 2^%d bytes (typeCompress %#x): expected 2^15 to 2^21", b, uint16(opt.Compression))
		}
	default:
		return fmt.Errorf("writing %v compression is not supported (use none, MSZIP or LZX)", opt.Compression)
	}
	if opt.Level == 0 {
		// Level 4: Go's deflate at 6 ran at half of zlib's speed (gcab -z) for 1% smaller
		// output; at 4 it is faster than zlib per core and within 5% of gcab's size.
		opt.Level = 4
	}
	if opt.Level < 1 || opt.Level > 9 {
		return fmt.Errorf("MSZIP level %d: expected 1 to 9", opt.Level)
	}
	if opt.ModTime.IsZero() {
		opt.ModTime = DefaultModTime
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

// rawPlan is a folder copied from another cabinet: where its data lies there.
type rawPlan struct {
	RawFolder
	start, length int64
}

func planRaw(raws []RawFolder) ([]rawPlan, error) {
	var plans []rawPlan
	for _, rf := range raws {
		if rf.Index < 0 || rf.Index >= len(rf.From.Folders) {
			return nil, fmt.Errorf("raw folder %d of a cabinet with %d folders", rf.Index, len(rf.From.Folders))
		}
		start, length, err := checkRawFolder(rf)
		if err != nil {
			return nil, err
		}
		plans = append(plans, rawPlan{rf, start, length})
	}
	return plans, nil
}

// header is the CFHEADER, the CFFOLDERs (their offsets left 0 for patchOffsets) and the
// CFFILEs: the new folders' files, then the raw folders'.
func header(files []FileSource, folders []folderPlan, rawPlans []rawPlan, count int, opt Options) []byte {
	var hdr bytes.Buffer
	coffFiles := headerSize + folderSize*(len(folders)+len(rawPlans))
	put16 := func(v uint16) { binary.Write(&hdr, binary.LittleEndian, v) }
	put32 := func(v uint32) { binary.Write(&hdr, binary.LittleEndian, v) }
	hdr.WriteString(signature)
	put32(0) // reserved1
	put32(0) // cbCabinet, patched
	put32(0) // reserved2
	put32(uint32(coffFiles))
	put32(0) // reserved3
	hdr.WriteByte(versionMinor)
	hdr.WriteByte(versionMajor)
	put16(uint16(len(folders) + len(rawPlans)))
	put16(uint16(count))
	put16(0) // flags
	put16(opt.SetID)
	put16(0) // iCabinet
	for _, fo := range folders {
		put32(0) // coffCabStart, patched
		put16(uint16(fo.blocks))
		put16(uint16(opt.Compression))
	}
	for _, rp := range rawPlans {
		f := rp.From.Folders[rp.Index]
		put32(0) // coffCabStart, patched
		put16(uint16(f.Blocks))
		put16(uint16(f.Compression))
	}
	entry := func(name string, size, off int64, folder int, mt time.Time, attr uint16) {
		if mt.IsZero() {
			mt = opt.ModTime
		}
		date, tm := dosDateTime(mt)
		if attr == 0 {
			attr = AttrArchive
		}
		if !isASCII(name) {
			attr |= attrNameIsUTF
		}
		put32(uint32(size))
		put32(uint32(off))
		put16(uint16(folder))
		put16(date)
		put16(tm)
		put16(attr)
		hdr.WriteString(name)
		hdr.WriteByte(0)
	}
	for fi, fo := range folders {
		var off int64
		for _, i := range fo.files {
			f := files[i]
			entry(f.Name, f.Size, off, fi, f.ModTime, f.Attributes)
			off += f.Size
		}
	}
	for ri, rp := range rawPlans {
		for _, f := range rp.Files {
			entry(f.Name, f.Size, f.Offset, len(folders)+ri, f.ModTime, f.Attributes)
		}
	}
	return hdr.Bytes()
}

// patchOffsets writes cbCabinet and each folder's coffCabStart, then seeks to the end.
func patchOffsets(w io.WriteSeeker, size int64, starts []int64) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(size))
	if err := writeAt(w, 8, b[:]); err != nil {
		return err
	}
	for fi := range starts {
		binary.LittleEndian.PutUint32(b[:], uint32(starts[fi]))
		if err := writeAt(w, int64(headerSize+folderSize*fi), b[:]); err != nil {
			return err
		}
	}
	_, err := w.Seek(size, io.SeekStart)
	return err
}

// copyRange copies length bytes at off of src to w. Between two files the kernel copies them
// (copy_file_range, through os.File.ReadFrom): merging packages then runs at copy speed.
func copyRange(w io.Writer, src io.ReaderAt, off, length int64) (int64, error) {
	if sf, ok := src.(*os.File); ok {
		if df, ok := w.(*os.File); ok {
			// ReadFrom reads from sf's current offset: others read sf with ReadAt only.
			if _, err := sf.Seek(off, io.SeekStart); err == nil {
				return df.ReadFrom(io.LimitReader(sf, length))
			}
		}
	}
	return io.Copy(w, io.NewSectionReader(src, off, length))
}

func writeAt(w io.WriteSeeker, off int64, b []byte) error {
	if _, err := w.Seek(off, io.SeekStart); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// blockReader concatenates a folder's files and cuts them into 32 KiB blocks.
type blockReader struct {
	files []FileSource
	idx   []int
	cur   io.ReadCloser
	name  string
	want  int64 // bytes the current file must still give
	next  int
}

func (br *blockReader) fill(buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if br.cur == nil {
			if br.next == len(br.idx) {
				return n, nil
			}
			f := br.files[br.idx[br.next]]
			br.next++
			rc, err := f.Open()
			if err != nil {
				return n, fmt.Errorf("%s: %w", f.Name, err)
			}
			br.cur, br.name, br.want = rc, f.Name, f.Size
		}
		chunk := buf[n:]
		if int64(len(chunk)) > br.want {
			chunk = chunk[:br.want]
		}
		m, err := io.ReadFull(br.cur, chunk)
		n += m
		br.want -= int64(m)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			br.close()
			return n, fmt.Errorf("%s: %w", br.name, err)
		}
		if br.want > 0 && err != nil {
			name := br.name
			br.close()
			return n, fmt.Errorf("%s: ended %d bytes short of the size it was given (changed while writing?)", name, br.want)
		}
		if br.want == 0 {
			// The file must end here: more bytes mean its size changed after the headers were written.
			var one [1]byte
			if k, _ := br.cur.Read(one[:]); k > 0 {
				name := br.name
				br.close()
				return n, fmt.Errorf("%s: longer than the size it was given (changed while writing?)", name)
			}
			if err := br.close(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (br *blockReader) close() error {
	if br.cur == nil {
		return nil
	}
	err := br.cur.Close()
	br.cur = nil
	if err != nil {
		return fmt.Errorf("%s: %w", br.name, err)
	}
	return nil
}

// writeFolder writes the CFDATA blocks of one folder and returns the bytes written.
func writeFolder(w io.Writer, files []FileSource, fo folderPlan, opt Options) (int64, error) {
	br := &blockReader{files: files, idx: fo.files}
	defer br.close()
	switch opt.Compression & 0xF {
	case None:
		return writeStored(w, br, fo.blocks)
	case LZX:
		return writeLZX(w, br, fo.blocks, opt)
	}
	return writeMSZIP(w, br, fo.blocks, opt)
}

// defaultLZXWindow is the window of plain LZX: 2 MiB, as Microsoft's packages use.
const defaultLZXWindow = 21

// writeLZX compresses a folder as one LZX stream, a frame per CFDATA block. Segments of the
// folder are parsed on opt.Workers goroutines; the bytes do not depend on their number.
func writeLZX(w io.Writer, br *blockReader, blocks int, opt Options) (int64, error) {
	var total int64
	read, written := 0, 0 // read belongs to the reading goroutine, written to this one
	next := func(buf []byte) (int, error) {
		if read == blocks {
			return 0, nil
		}
		read++
		return br.fill(buf)
	}
	err := lzx.EncodeCABFolder(opt.Compression.WindowBits(), lzx.Fast, opt.Workers, next, func(payload []byte, n int) error {
		m, err := writeBlock(w, payload, n)
		total += m
		written++
		return err
	})
	if err != nil {
		return 0, err
	}
	if written != blocks {
		return 0, fmt.Errorf("folder data ends at block %d of %d", written, blocks)
	}
	return total, nil
}

func writeBlock(w io.Writer, data []byte, uncompressed int) (int64, error) {
	var h [dataHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:], dataChecksum(data, uncompressed))
	binary.LittleEndian.PutUint16(h[4:], uint16(len(data)))
	binary.LittleEndian.PutUint16(h[6:], uint16(uncompressed))
	if _, err := w.Write(h[:]); err != nil {
		return 0, err
	}
	if _, err := w.Write(data); err != nil {
		return 0, err
	}
	return int64(dataHeaderSize + len(data)), nil
}

// compressBlock compresses j.raw[:j.n] into j.out as an MSZIP block ("CK" + deflate): with the
// first writer whose output every MSZIP reader accepts, else as one stored deflate block.
func compressBlock(j *job, writers []*flate.Writer) error {
	for _, fw := range writers {
		j.out.Reset()
		j.out.WriteString("CK")
		fw.Reset(&j.out)
		if _, err := fw.Write(j.raw[:j.n]); err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		if j.out.Len() > 2+storedDeflateSize(j.n) {
			break // incompressible: stored is smaller
		}
		if completeCodes(j.out.Bytes()[2:]) == nil {
			return nil
		}
	}
	// Go's flate frames incompressible data in several stored blocks, which can exceed the
	// MSZIP limit; one stored block of our own is smaller and always fits.
	j.out.Reset()
	j.out.WriteString("CK")
	appendStoredDeflate(&j.out, j.raw[:j.n])
	return nil
}

// storedDeflateSize is the size of n bytes as one final stored deflate block (RFC 1951 3.2.4).
func storedDeflateSize(n int) int { return 5 + n }

func appendStoredDeflate(b *bytes.Buffer, data []byte) {
	n := uint16(len(data))
	b.Write([]byte{0x01, byte(n), byte(n >> 8), byte(^n), byte(^n >> 8)}) // BFINAL=1, BTYPE=00
	b.Write(data)
}

func writeStored(w io.Writer, br *blockReader, blocks int) (int64, error) {
	buf := make([]byte, blockSize)
	var total int64
	for i := 0; i < blocks; i++ {
		n, err := br.fill(buf)
		if err != nil {
			return 0, err
		}
		m, err := writeBlock(w, buf[:n], n)
		if err != nil {
			return 0, err
		}
		total += m
	}
	return total, nil
}

type job struct {
	raw  []byte
	n    int
	out  bytes.Buffer
	err  error
	done chan struct{}
}

// writeMSZIP compresses blocks on opt.Workers goroutines and writes them in order. Each block
// is a complete deflate stream without a preset dictionary: valid MSZIP (readers keep history,
// writers need not use it), and what makes blocks independent, hence parallel.
func writeMSZIP(w io.Writer, br *blockReader, blocks int, opt Options) (int64, error) {
	jobs := make(chan *job)
	ordered := make(chan *job, 2*opt.Workers)
	pool := sync.Pool{New: func() any { return &job{raw: make([]byte, blockSize)} }}

	var wg sync.WaitGroup
	for i := 0; i < opt.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The levels to try, in order: a block whose codes a strict reader would refuse
			// (completeCodes) is compressed again at the next level, and stored at last.
			levels := []int{opt.Level}
			for _, l := range []int{6, 9, 1} {
				if l != opt.Level {
					levels = append(levels, l)
				}
			}
			writers := make([]*flate.Writer, len(levels))
			for i, l := range levels {
				writers[i], _ = flate.NewWriter(io.Discard, l)
			}
			for j := range jobs {
				j.err = compressBlock(j, writers)
				close(j.done)
			}
		}()
	}

	// The producer reads blocks in order; a read error stops it and travels as the last job.
	stop := make(chan struct{})
	go func() {
		defer close(ordered)
		defer close(jobs)
		for i := 0; i < blocks; i++ {
			j := pool.Get().(*job)
			j.err, j.done = nil, make(chan struct{})
			j.n, j.err = br.fill(j.raw)
			if j.err != nil {
				close(j.done)
				select {
				case ordered <- j:
				case <-stop:
				}
				return
			}
			select {
			case ordered <- j:
			case <-stop:
				return
			}
			jobs <- j
		}
	}()

	var total int64
	var werr error
	for j := range ordered {
		<-j.done
		if werr == nil {
			if j.err != nil {
				werr = j.err
				close(stop)
			} else {
				n, err := writeBlock(w, j.out.Bytes(), j.n)
				if err != nil {
					werr = err
					close(stop)
				}
				total += n
			}
		}
		pool.Put(j)
	}
	wg.Wait()
	if werr != nil {
		return 0, werr
	}
	return total, nil
}
