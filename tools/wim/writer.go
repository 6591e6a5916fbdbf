package wim

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
)

// Output is what a Writer writes to; *os.File satisfies it. The writer writes forward and
// seeks back to fill in chunk tables and the header. It hashes the integrity table's pieces
// as it writes them, except where a chunk table is filled in after its chunks (a compressed
// file over 1 MiB): those bytes it reads back once the table is written.
type Output interface {
	io.Writer
	io.Seeker
	io.ReaderAt
}

// Options control a Writer. The zero value writes an uncompressed WIM stamped with
// imageconst.Epoch and a GUID derived from the content.
type Options struct {
	Compression Compression // None, XPRESS or LZX
	// Chunk size: a power of two, 4096 to 65536 for XPRESS, 32768 to 2 MiB for LZX; 0 means
	// 32768 (what Windows reads).
	ChunkSize int
	// GUID of the WIM. The zero GUID means: derived from the image (SHA-1 of the
	// metadata resource and the blob table), so equal trees get equal GUIDs.
	GUID [16]byte
	Time time.Time // every entry's timestamps and the image's XML times; zero means imageconst.Epoch

	// XML data of the image. Empty strings are left out.
	Name, Description, DisplayName, DisplayDescription, Flags string
	Windows                                                   *WindowsInfo // optional <WINDOWS> element

	// SecurityDescriptor, if set, is one self-relative security descriptor given to every
	// entry (security_id 0). Without it entries have none (security_id -1), which wimlib
	// accepts and applies as the target directory's defaults.
	SecurityDescriptor []byte

	Workers int // parallel chunk compressors; 0 means GOMAXPROCS. The output does not depend on it.
}

const (
	// Blobs up to this size are read and hashed before anything is written, so a
	// duplicate costs no compression and no output. Larger ones are written as they are
	// read and, if their SHA-1 turns out to be known, the output is rewound over them.
	bufferedLimit = 1 << 20
)

// blob is a resource of the WIM: one distinct file content, or the metadata.
type blob struct {
	hash   [20]byte
	size   int64
	refcnt uint32
	res    Resource // set by the output goroutine
}

// job is one chunk on its way from AddFile through a compressor to the output.
type job struct {
	buf  []byte // chunk-size buffer for the uncompressed data
	data []byte // the chunk, buf[:n]
	out  []byte // compressed chunk (XPRESS)
	n    int    // compressed size; 0 stores data as is
	done chan struct{}
}

type opKind int

const (
	opWhole opKind = iota // a blob whose chunks are all in jobs
	opBegin               // start of a streamed blob of nchunks chunks
	opChunk               // next chunk of the streamed blob
	opEnd                 // end of the streamed blob; discard rewinds over it
)

type op struct {
	kind    opKind
	blob    *blob
	jobs    []*job
	nchunks int
	discard bool
}

// Writer writes one image to a WIM file. Add entries in any order with AddDir and
// AddFile (parents are created as needed), then call Close, which writes the metadata,
// blob table, XML data, integrity table and header. A Writer is not safe for concurrent
// use; internally it hashes on the caller's goroutine, compresses on Workers goroutines
// and writes on one more, keeping a bounded number of chunks in flight.
type Writer struct {
	out    Output
	opt    Options
	codec  *codec // nil: no compression
	chunk  int
	ft     uint64
	root   *node
	blobs  map[[20]byte]*blob
	order  []*blob // file contents in file order
	meta   *blob
	o      *output // owned by the output goroutine until it ends
	err    error   // sticky, set by Close
	free   chan *job
	workQ  chan *job
	writeQ chan op
	wg     sync.WaitGroup
	outErr error       // set by the output goroutine
	failed atomic.Bool // the output goroutine hit an error: stop adding
	outEnd int64       // end of the written data, set by the output goroutine
	maxEnd int64       // furthest byte ever written, set by the output goroutine
	closed bool
}

// NewWriter starts a WIM on out, which should be empty: it is written from offset 0.
// Close must be called, also after errors: it stops the writer's goroutines.
func NewWriter(out Output, opt Options) (*Writer, error) {
	w := &Writer{out: out, opt: opt, blobs: map[[20]byte]*blob{}}
	switch opt.Compression {
	case None:
		w.chunk = defaultChunkSize
	case XPRESS, LZX:
		w.codec = codecs[opt.Compression]
		w.chunk = opt.ChunkSize
		if w.chunk == 0 {
			w.chunk = defaultChunkSize
		}
		if w.chunk < w.codec.minChunk || w.chunk > w.codec.maxChunk || w.chunk&(w.chunk-1) != 0 {
			return nil, fmt.Errorf("chunk size %d: %v chunks are a power of two from %d to %d bytes", w.chunk, opt.Compression, w.codec.minChunk, w.codec.maxChunk)
		}
	case LZMS:
		return nil, errUnsupported(opt.Compression, "writing")
	default:
		return nil, fmt.Errorf("unknown compression %v", opt.Compression)
	}
	if opt.Time.IsZero() {
		w.opt.Time = imageconst.Epoch
	}
	w.ft = filetime(w.opt.Time)
	w.root = &node{dir: true, attrs: AttrDirectory, children: map[string]*node{}}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Enough jobs for one buffered blob plus a few chunks per worker to keep all busy.
	njobs := bufferedLimit/w.chunk + 4*workers + 4
	w.free = make(chan *job, njobs)
	for i := 0; i < njobs; i++ {
		j := &job{buf: make([]byte, w.chunk), done: make(chan struct{}, 1)}
		if w.codec != nil {
			j.out = make([]byte, w.codec.bound(w.chunk))
		}
		w.free <- j
	}
	w.writeQ = make(chan op, njobs)
	if w.codec != nil {
		w.workQ = make(chan *job, njobs)
		for i := 0; i < workers; i++ {
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				c := w.codec.newCompressor(w.chunk)
				for j := range w.workQ {
					j.n = c.Compress(j.out, j.data)
					j.done <- struct{}{}
				}
			}()
		}
	}
	// 128 KiB: the buffer stays in the core's cache from the copy in to the write's copy out
	// (with 1 MiB, the kernel's copy into the page cache read it back from memory: imgtowim
	// --compression=none of a 2 GiB MainOS spent 3.6 s in system time instead of 2.0 s).
	o := &output{f: out, buf: make([]byte, 0, 128<<10), integ: newPieceHasher(), hashed: headerSize, hold: -1}
	o.write(make([]byte, headerSize)) // the header is written last
	w.o = o
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.drain(o)
	}()
	return w, nil
}

// lookup resolves path to its parent directory (creating directories it implies), its last
// name and the entry of that name if there is one; for the root: nil, nil, the root.
func (w *Writer) lookup(path string) (*node, []uint16, *node, error) {
	names, err := splitPath(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, w.root, nil
	}
	d := w.root
	for _, name := range names[:len(names)-1] {
		c := d.children[foldName(name)]
		switch {
		case c == nil:
			c = &node{name: name, dir: true, attrs: AttrDirectory, children: map[string]*node{}}
			d.children[foldName(name)] = c
		case !c.dir:
			return nil, nil, nil, fmt.Errorf("%s: %q is a file, not a directory", path, string16(c.name))
		}
		d = c
	}
	last := names[len(names)-1]
	return d, last, d.children[foldName(last)], nil
}

func string16(u []uint16) string { return string(utf16.Decode(u)) }

// AddDir adds a directory; attrs (FILE_ATTRIBUTE_*) get AttrDirectory added. Adding a
// directory that a deeper path already implied sets its attributes.
func (w *Writer) AddDir(path string, attrs uint32) error {
	if w.err != nil {
		return w.err
	}
	if attrs&AttrReparsePoint != 0 {
		return fmt.Errorf("%s: reparse points are not supported", path)
	}
	parent, name, n, err := w.lookup(path)
	if err != nil {
		return err
	}
	switch {
	case n == nil:
		n = &node{name: name, dir: true, children: map[string]*node{}}
		parent.children[foldName(name)] = n
	case !n.dir:
		return fmt.Errorf("%s: already added as a file", path)
	case n.explicit && n != w.root:
		return fmt.Errorf("%s: directory added twice", path)
	}
	n.explicit = true
	n.attrs = attrs&^AttrNormal | AttrDirectory
	return nil
}

// AddFile adds a file of size bytes read from r, which must yield exactly size bytes.
// attrs are FILE_ATTRIBUTE_* flags; 0 means AttrNormal. Contents already in the WIM
// (same SHA-1) are stored once. If reading r fails, the file is not added (directories
// its path implied stay), the error is returned and the Writer stays usable. Errors
// writing the output are reported by a later AddFile or by Close.
func (w *Writer) AddFile(path string, size int64, r io.Reader, attrs uint32) error {
	if w.err != nil {
		return w.err
	}
	if w.failed.Load() {
		return errors.New("output failed; Close reports the error")
	}
	switch {
	case size < 0:
		return fmt.Errorf("%s: negative size %d", path, size)
	case attrs&AttrDirectory != 0:
		return fmt.Errorf("%s: a file cannot have the directory attribute", path)
	case attrs&AttrReparsePoint != 0:
		return fmt.Errorf("%s: reparse points are not supported", path)
	}
	parent, name, n, err := w.lookup(path)
	if err != nil {
		return err
	}
	if parent == nil {
		return fmt.Errorf("%q: a file needs a name", path)
	}
	if n != nil {
		return fmt.Errorf("%s: already added", path)
	}
	if attrs == 0 {
		attrs = AttrNormal
	}
	n = &node{name: name, attrs: attrs, size: size, explicit: true}
	if size > 0 {
		b, err := w.addBlob(size, r, false)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		n.hash = b.hash
	} else if err := expectEOF(r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	parent.children[foldName(name)] = n
	return nil
}

func expectEOF(r io.Reader) error {
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n > 0 {
			return errors.New("content is longer than the given size")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (w *Writer) release(jobs []*job) {
	for _, j := range jobs {
		w.free <- j
	}
}

// readChunk reads the next chunk of a blob into a free job.
func (w *Writer) readChunk(r io.Reader, n int, read, size int64) (*job, error) {
	j := <-w.free
	j.data = j.buf[:n]
	if k, err := io.ReadFull(r, j.data); err != nil {
		w.free <- j
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("content ended after %d of %d bytes", read+int64(k), size)
		}
		return nil, err
	}
	return j, nil
}

// addBlob stores size bytes from r as a blob, or finds the blob with the same content.
func (w *Writer) addBlob(size int64, r io.Reader, meta bool) (*blob, error) {
	h := sha1.New()
	nchunks := int((size + int64(w.chunk) - 1) / int64(w.chunk))
	chunkLen := func(i int) int { return int(min(int64(w.chunk), size-int64(i)*int64(w.chunk))) }
	if size <= bufferedLimit && !meta {
		jobs := make([]*job, 0, nchunks)
		for i := 0; i < nchunks; i++ {
			j, err := w.readChunk(r, chunkLen(i), int64(i)*int64(w.chunk), size)
			if err != nil {
				w.release(jobs)
				return nil, err
			}
			h.Write(j.data)
			jobs = append(jobs, j)
		}
		if err := expectEOF(r); err != nil {
			w.release(jobs)
			return nil, err
		}
		var sum [20]byte
		h.Sum(sum[:0])
		if b := w.blobs[sum]; b != nil {
			b.refcnt++
			w.release(jobs)
			return b, nil
		}
		b := &blob{hash: sum, size: size, refcnt: 1}
		w.blobs[sum] = b
		w.order = append(w.order, b)
		if w.codec != nil {
			for _, j := range jobs {
				w.workQ <- j
			}
		}
		w.writeQ <- op{kind: opWhole, blob: b, jobs: jobs}
		return b, nil
	}

	b := &blob{size: size, refcnt: 1}
	w.writeQ <- op{kind: opBegin, blob: b, nchunks: nchunks}
	fail := func(err error) (*blob, error) {
		w.writeQ <- op{kind: opEnd, blob: b, discard: true}
		return nil, err
	}
	for i := 0; i < nchunks; i++ {
		j, err := w.readChunk(r, chunkLen(i), int64(i)*int64(w.chunk), size)
		if err != nil {
			return fail(err)
		}
		h.Write(j.data)
		if w.codec != nil {
			w.workQ <- j
		}
		w.writeQ <- op{kind: opChunk, jobs: []*job{j}}
	}
	if err := expectEOF(r); err != nil {
		return fail(err)
	}
	h.Sum(b.hash[:0])
	if meta {
		w.writeQ <- op{kind: opEnd, blob: b}
		return b, nil
	}
	if old := w.blobs[b.hash]; old != nil {
		old.refcnt++
		w.writeQ <- op{kind: opEnd, blob: b, discard: true}
		return old, nil
	}
	w.blobs[b.hash] = b
	w.order = append(w.order, b)
	w.writeQ <- op{kind: opEnd, blob: b}
	return b, nil
}

// drain runs on its own goroutine: it writes the blobs in the order they were added,
// each chunk once its compressor is done with it.
func (w *Writer) drain(o *output) {
	var (
		start, tablePos int64
		sizes           []int64 // compressed chunk sizes of the streamed blob
		entry           int     // chunk table entry size of the streamed blob
		saved           outputMark
	)
	wait := func(j *job) {
		if w.codec != nil {
			<-j.done
		}
	}
	for op := range w.writeQ {
		if o.err != nil && !w.failed.Load() {
			w.failed.Store(true)
		}
		switch op.kind {
		case opWhole:
			for _, j := range op.jobs {
				wait(j)
			}
			w.writeWhole(o, op.blob, op.jobs)
			w.release(op.jobs)
		case opBegin:
			start = o.pos()
			sizes = sizes[:0]
			entry = chunkEntrySize(op.blob.size)
			tablePos = start
			if w.codec != nil && op.nchunks > 1 {
				// The integrity pieces wait for the chunk table, filled in at opEnd.
				o.hold = start
				o.write(make([]byte, (op.nchunks-1)*entry))
			} else {
				saved = o.mark() // to go back to if the blob is discarded
			}
		case opChunk:
			j := op.jobs[0]
			wait(j)
			if j.n > 0 {
				o.write(j.out[:j.n])
				sizes = append(sizes, int64(j.n))
			} else {
				o.write(j.data)
				sizes = append(sizes, int64(len(j.data)))
			}
			w.release(op.jobs)
		case opEnd:
			if op.discard {
				o.rewind(start)
				if o.hold >= 0 {
					o.hold = -1
				} else {
					o.backTo(saved)
				}
				continue
			}
			res := Resource{Offset: start, SizeInWIM: o.pos() - start, UncompressedSize: op.blob.size}
			// A single chunk stored as is is an uncompressed resource.
			if w.codec != nil && (len(sizes) > 1 || res.SizeInWIM < res.UncompressedSize) {
				res.Flags = ResCompressed
				if len(sizes) > 1 {
					o.patch(tablePos, chunkTable(sizes, entry))
				}
			}
			if o.hold >= 0 {
				o.release()
			}
			op.blob.res = res
		}
	}
	o.flush()
	w.outErr = o.err
	w.outEnd = o.pos()
	w.maxEnd = max(o.end, o.pos())
}

// writeWhole writes a blob whose chunks are all at hand: compressed with its chunk table,
// unless that would not be smaller than the data, in which case it is stored as is.
func (w *Writer) writeWhole(o *output, b *blob, jobs []*job) {
	start := o.pos()
	if w.codec != nil {
		entry := chunkEntrySize(b.size)
		sizes := make([]int64, len(jobs))
		total := int64(entry * (len(jobs) - 1))
		for i, j := range jobs {
			sizes[i] = int64(j.n)
			if j.n == 0 {
				sizes[i] = int64(len(j.data))
			}
			total += sizes[i]
		}
		if total < b.size {
			o.write(chunkTable(sizes, entry))
			for _, j := range jobs {
				if j.n > 0 {
					o.write(j.out[:j.n])
				} else {
					o.write(j.data)
				}
			}
			b.res = Resource{Offset: start, SizeInWIM: total, Flags: ResCompressed, UncompressedSize: b.size}
			return
		}
	}
	for _, j := range jobs {
		o.write(j.data)
	}
	b.res = Resource{Offset: start, SizeInWIM: b.size, UncompressedSize: b.size}
}

// chunkEntrySize is the size of a chunk table entry: 8 bytes for resources over 4 GiB.
func chunkEntrySize(size int64) int {
	if size > 0xFFFFFFFF {
		return 8
	}
	return 4
}

// chunkTable holds, for chunks 1..n-1, the offset of each chunk from the end of the table.
func chunkTable(sizes []int64, entry int) []byte {
	if len(sizes) < 2 {
		return nil
	}
	t := make([]byte, (len(sizes)-1)*entry)
	off := int64(0)
	for i, s := range sizes[:len(sizes)-1] {
		off += s
		if entry == 8 {
			binary.LittleEndian.PutUint64(t[8*i:], uint64(off))
		} else {
			binary.LittleEndian.PutUint32(t[4*i:], uint32(off))
		}
	}
	return t
}

// Close writes the metadata resource, blob table, XML data, integrity table and header.
// The Writer cannot be used afterwards; out is not closed.
func (w *Writer) Close() error {
	if w.closed {
		return errors.New("wim: Writer already closed")
	}
	w.closed = true
	if w.err == nil {
		md := buildMetadata(w.root, w.opt.SecurityDescriptor, w.ft)
		b, err := w.addBlob(int64(len(md)), bytes.NewReader(md), true)
		if err != nil {
			w.err = fmt.Errorf("metadata resource: %w", err)
		} else {
			w.meta = b
		}
	}
	close(w.writeQ)
	if w.workQ != nil {
		close(w.workQ)
	}
	w.wg.Wait()
	if w.err == nil && w.outErr != nil {
		w.err = fmt.Errorf("output: %w", w.outErr)
	}
	if w.err != nil {
		return w.err
	}
	w.err = errors.New("wim: Writer closed")
	return w.finish()
}

func (w *Writer) finish() error {
	w.meta.res.Flags |= ResMetadata
	pos := w.outEnd
	write := func(b []byte) error {
		if _, err := w.out.Seek(pos, io.SeekStart); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		if _, err := w.out.Write(b); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		pos += int64(len(b))
		return nil
	}

	// Blob table: the metadata resource first, then file contents in file order.
	table := make([]byte, 0, blobEntrySize*(1+len(w.order)))
	for _, b := range append([]*blob{w.meta}, w.order...) {
		var e [blobEntrySize]byte
		b.res.put(e[:])
		binary.LittleEndian.PutUint16(e[24:], 1) // part number
		binary.LittleEndian.PutUint32(e[26:], b.refcnt)
		copy(e[30:], b.hash[:])
		table = append(table, e[:]...)
	}
	// Resource headers of the blob table and XML data carry the METADATA flag, as
	// WIMGAPI and wimlib write them.
	blobTable := Resource{Offset: pos, SizeInWIM: int64(len(table)), UncompressedSize: int64(len(table)), Flags: ResMetadata}
	if err := write(table); err != nil {
		return err
	}

	info := ImageInfo{
		Index: 1, Name: w.opt.Name, Description: w.opt.Description, DisplayName: w.opt.DisplayName,
		DisplayDescription: w.opt.DisplayDescription, Flags: w.opt.Flags, Windows: w.opt.Windows,
		CreationTime: w.ft, LastModTime: w.ft,
	}
	var count func(n *node)
	count = func(n *node) {
		if n.dir {
			info.DirCount++
			for _, c := range n.sorted {
				count(c)
			}
			return
		}
		info.FileCount++
		info.TotalBytes += n.size
	}
	count(w.root)
	// The WIM's TOTALBYTES is the offset of the XML data, as wimlib writes it.
	xmlData, err := marshalXML(pos, info)
	if err != nil {
		return err
	}
	xmlRes := Resource{Offset: pos, SizeInWIM: int64(len(xmlData)), UncompressedSize: int64(len(xmlData)), Flags: ResMetadata}
	if err := write(xmlData); err != nil {
		return err
	}

	// The integrity table covers the bytes after the header up to the end of the blob
	// table; the output goroutine hashed those before the blob table.
	if w.o.hashed != blobTable.Offset {
		return fmt.Errorf("integrity table: %d bytes hashed, the blob table starts at %d (internal error)", w.o.hashed, blobTable.Offset)
	}
	w.o.integ.write(table)
	integ := w.o.integ.table()
	integRes := Resource{Offset: pos, SizeInWIM: int64(len(integ)), UncompressedSize: int64(len(integ))}
	if err := write(integ); err != nil {
		return err
	}
	// A duplicate large blob rewound at the end may have left bytes past the end.
	if w.maxEnd > pos {
		if t, ok := w.out.(interface{ Truncate(int64) error }); ok {
			if err := t.Truncate(pos); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		} else if err := write(make([]byte, w.maxEnd-pos)); err != nil {
			return err
		}
	}

	h := Header{
		Version:      versionDefault,
		Flags:        FlagRPFix,
		PartNumber:   1,
		TotalParts:   1,
		ImageCount:   1,
		BlobTable:    blobTable,
		XMLData:      xmlRes,
		BootMetadata: w.meta.res,
		BootIndex:    1,
		Integrity:    integRes,
		GUID:         w.opt.GUID,
	}
	if w.codec != nil {
		h.Flags |= FlagCompression | w.codec.headerFlag
		h.ChunkSize = uint32(w.chunk)
	}
	if h.GUID == ([16]byte{}) {
		g := sha1.New()
		g.Write([]byte("rules_oemimage WIM GUID\x00"))
		g.Write(w.meta.hash[:])
		g.Write(table)
		copy(h.GUID[:], g.Sum(nil))
	}
	pos = 0
	return write(h.marshal())
}

// output buffers the forward writes of the output goroutine, hashes the integrity table's
// pieces from its buffer before writing it, and remembers the first error.
type output struct {
	f      Output
	buf    []byte
	bufOff int64 // file offset of buf[0]
	end    int64 // end of what was written to f
	err    error

	integ  *pieceHasher
	hashed int64  // integ has the bytes from headerSize to hashed
	hold   int64  // bytes from hold on may still change (a chunk table to come); -1: none
	back   []byte // release's read-back buffer, allocated once
}

func (o *output) pos() int64 { return o.bufOff + int64(len(o.buf)) }

func (o *output) flush() {
	if len(o.buf) == 0 || o.err != nil {
		o.bufOff += int64(len(o.buf))
		o.buf = o.buf[:0]
		return
	}
	o.hashBuffered()
	_, o.err = o.f.Write(o.buf)
	o.bufOff += int64(len(o.buf))
	o.end = max(o.end, o.bufOff)
	o.buf = o.buf[:0]
}

func (o *output) write(p []byte) {
	if len(o.buf)+len(p) > cap(o.buf) {
		o.flush()
	}
	o.buf = append(o.buf, p...)
}

func (o *output) seek(off int64) {
	if o.err == nil {
		_, o.err = o.f.Seek(off, io.SeekStart)
	}
}

// patch overwrites already written bytes at off.
func (o *output) patch(off int64, p []byte) {
	if off >= o.bufOff {
		copy(o.buf[off-o.bufOff:], p)
		return
	}
	pos := o.pos()
	o.flush()
	o.seek(off)
	if o.err == nil {
		_, o.err = o.f.Write(p)
	}
	o.seek(pos)
}

// rewind drops everything written from off on.
func (o *output) rewind(off int64) {
	if off >= o.bufOff {
		o.buf = o.buf[:off-o.bufOff]
		return
	}
	o.flush()
	o.seek(off)
	o.bufOff = off
}

// hashBuffered gives the integrity hasher the buffered bytes it does not have yet, up to the
// hold. Bytes past the hold are written unhashed; release reads them back.
func (o *output) hashBuffered() {
	hi := o.pos()
	if o.hold >= 0 {
		hi = min(hi, o.hold)
	}
	if o.hashed < o.bufOff || o.hashed >= hi {
		return
	}
	o.integ.write(o.buf[o.hashed-o.bufOff : hi-o.bufOff])
	o.hashed = hi
}

// outputMark is the integrity hasher's state at an offset, to go back to.
type outputMark struct {
	state pieceState
	at    int64
}

// mark hashes everything written so far and returns the hasher's state, for a blob that may
// be rewound over.
func (o *output) mark() outputMark {
	o.hashBuffered()
	if o.hashed != o.pos() && o.err == nil {
		o.err = fmt.Errorf("integrity table: %d bytes hashed at offset %d (internal error)", o.hashed, o.pos())
	}
	return outputMark{o.integ.save(), o.hashed}
}

// backTo returns the hasher to a mark, after a rewind to the mark's offset.
func (o *output) backTo(m outputMark) {
	o.integ.restore(m.state)
	o.hashed = m.at
}

// release ends the hold once the chunk table is filled in: the bytes already written out
// unhashed are read back and hashed; the buffered ones are hashed when flushed.
func (o *output) release() {
	o.hold = -1
	if o.err != nil || o.hashed >= o.bufOff {
		return
	}
	if o.back == nil {
		o.back = make([]byte, 1<<20)
	}
	for o.hashed < o.bufOff && o.err == nil {
		b := o.back[:min(int64(len(o.back)), o.bufOff-o.hashed)]
		if _, err := o.f.ReadAt(b, o.hashed); err != nil {
			o.err = fmt.Errorf("reading back bytes %d-%d for the integrity table: %w", o.hashed, o.hashed+int64(len(b)), err)
			return
		}
		o.integ.write(b)
		o.hashed += int64(len(b))
	}
}
