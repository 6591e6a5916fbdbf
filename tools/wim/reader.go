package wim

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"unicode/utf16"
)

// Reader reads a single-part WIM. Open checks every size and offset it uses against the
// file before allocating, and Walk and the content readers do the same, so damaged or
// hostile files give errors, never panics or huge allocations.
type Reader struct {
	r           io.ReaderAt
	size        int64
	Header      Header
	Compression Compression
	Blobs       []BlobEntry // the blob table, in file order
	Images      []Image     // one per metadata resource, in blob table order
	XML         string      // the XML data, decoded from UTF-16
	byHash      map[[20]byte]int
}

// BlobEntry is one entry of the blob table.
type BlobEntry struct {
	Resource
	PartNumber uint16
	RefCount   uint32
	Hash       [20]byte
}

// Image is one image of the WIM.
type Image struct {
	Index    int       // 1-based
	Info     ImageInfo // from the XML data; zero if the XML has no IMAGE with this index
	Metadata BlobEntry
}

// File is an entry of an image's directory tree.
type File struct {
	Path           string // names from the root joined by '/'; "" for the root
	Name           string
	Attributes     uint32
	IsDir          bool
	Size           int64    // size of the unnamed data stream
	Hash           [20]byte // SHA-1 of the unnamed data stream; zero when empty
	SecurityID     int32    // index into the image's security descriptors, -1 for none
	CreationTime   uint64   // FILETIME
	LastAccessTime uint64
	LastWriteTime  uint64
	ShortName      string
	ReparseTag     uint32 // for reparse points
	HardLinkGroup  uint64 // for others: nonzero groups entries that are hard links of one file
	Streams        []Stream
}

// Stream is a named data stream of a File.
type Stream struct {
	Name string
	Size int64
	Hash [20]byte
}

const (
	maxMetadataSize = 1 << 30 // far above any real image (a full OS is tens of MiB)
	maxXMLSize      = 64 << 20
	maxDepth        = 4096
)

// Open reads the header, blob table and XML data of the WIM in the first size bytes of r.
func Open(r io.ReaderAt, size int64) (*Reader, error) {
	if size < headerSize {
		return nil, fmt.Errorf("header: file has %d bytes, a WIM header has %d", size, headerSize)
	}
	hb := make([]byte, headerSize)
	if _, err := r.ReadAt(hb, 0); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	h, err := parseHeader(hb)
	if err != nil {
		return nil, err
	}
	w := &Reader{r: r, size: size, Header: *h, byHash: map[[20]byte]int{}}
	if w.Compression, err = h.Compression(); err != nil {
		return nil, err
	}
	if h.TotalParts != 1 || h.PartNumber != 1 {
		return nil, fmt.Errorf("header: part %d of %d: split WIMs are not supported", h.PartNumber, h.TotalParts)
	}
	if w.Compression != None {
		c := codecs[w.Compression]
		cs := int(h.ChunkSize)
		if h.Version == versionSolid && cs == 0 {
			cs = defaultChunkSize
		}
		if cs < c.minChunk || cs > c.maxChunk || cs&(cs-1) != 0 {
			return nil, fmt.Errorf("header: chunk size %d is not valid for %s (a power of two from %d to %d)", h.ChunkSize, w.Compression, c.minChunk, c.maxChunk)
		}
	}

	table, err := w.readSmall(h.BlobTable, "blob table", int64(size))
	if err != nil {
		return nil, err
	}
	if len(table)%blobEntrySize != 0 {
		return nil, fmt.Errorf("blob table: %d bytes, not a whole number of %d-byte entries", len(table), blobEntrySize)
	}
	for off := 0; off < len(table); off += blobEntrySize {
		e := BlobEntry{
			Resource:   getResource(table[off:]),
			PartNumber: binary.LittleEndian.Uint16(table[off+24:]),
			RefCount:   binary.LittleEndian.Uint32(table[off+26:]),
		}
		copy(e.Hash[:], table[off+30:off+50])
		if e.Flags&ResMetadata != 0 {
			w.Images = append(w.Images, Image{Index: len(w.Images) + 1, Metadata: e})
			continue
		}
		if _, dup := w.byHash[e.Hash]; !dup {
			w.byHash[e.Hash] = len(w.Blobs)
		}
		w.Blobs = append(w.Blobs, e)
	}
	if int(h.ImageCount) != len(w.Images) {
		return nil, fmt.Errorf("header: image count %d, but the blob table has %d metadata resources", h.ImageCount, len(w.Images))
	}
	if h.BootIndex > h.ImageCount {
		return nil, fmt.Errorf("header: boot index %d, but there are %d images", h.BootIndex, h.ImageCount)
	}

	if h.XMLData.SizeInWIM != 0 {
		xb, err := w.readSmall(h.XMLData, "XML data", maxXMLSize)
		if err != nil {
			return nil, err
		}
		text, imgs, err := parseXML(xb)
		w.XML = text
		if err != nil {
			return nil, err
		}
		for _, info := range imgs {
			if info.Index >= 1 && info.Index <= len(w.Images) {
				w.Images[info.Index-1].Info = info
			}
		}
	}
	return w, nil
}

// readSmall reads a whole resource that is expected to fit in memory.
func (w *Reader) readSmall(res Resource, what string, limit int64) ([]byte, error) {
	if res.UncompressedSize > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reader accepts", what, res.UncompressedSize, limit)
	}
	rr, err := w.resourceReader(res, what)
	if err != nil {
		return nil, err
	}
	b := make([]byte, res.UncompressedSize)
	if _, err := io.ReadFull(rr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// resourceReader returns a reader of the uncompressed content of res.
func (w *Reader) resourceReader(res Resource, what string) (io.Reader, error) {
	end := res.Offset + res.SizeInWIM
	if res.Offset < 0 || res.SizeInWIM < 0 || end < res.Offset || end > w.size {
		return nil, fmt.Errorf("%s: bytes %d-%d lie outside the %d-byte file", what, res.Offset, end, w.size)
	}
	if res.Flags&ResSolid != 0 {
		return nil, fmt.Errorf("%s: solid resources are not supported yet", what)
	}
	if res.Flags&ResSpanned != 0 {
		return nil, fmt.Errorf("%s: spanned resources are not supported", what)
	}
	if res.Flags&ResCompressed == 0 || w.Compression == None {
		if res.SizeInWIM != res.UncompressedSize {
			return nil, fmt.Errorf("%s: uncompressed resource of %d bytes stored in %d", what, res.UncompressedSize, res.SizeInWIM)
		}
		return io.NewSectionReader(w.r, res.Offset, res.SizeInWIM), nil
	}
	c := codecs[w.Compression]
	if c.newDecompressor == nil {
		return nil, fmt.Errorf("%s: %w", what, errUnsupported(w.Compression, "reading"))
	}
	return newChunkReader(w.r, res, int64(w.Header.ChunkSize), c, what)
}

// chunkReader decompresses a chunked resource one chunk at a time.
type chunkReader struct {
	r       io.ReaderAt
	what    string
	data    int64   // file offset of the first chunk
	offs    []int64 // chunk i occupies offs[i]..offs[i+1] from data
	usize   int64
	chunk   int64
	dec     chunkDecompressor
	minComp int
	next    int    // next chunk to decode
	buf     []byte // decoded chunk
	pos     int
	cbuf    []byte
	err     error
}

func newChunkReader(r io.ReaderAt, res Resource, chunk int64, c *codec, what string) (*chunkReader, error) {
	if res.UncompressedSize == 0 {
		return &chunkReader{r: r, what: what}, nil
	}
	n := (res.UncompressedSize + chunk - 1) / chunk
	entry := int64(chunkEntrySize(res.UncompressedSize))
	// Every chunk but the last holds at least minCompressed bytes besides its table
	// entry; checked before anything is allocated for the table.
	if n-1 > res.SizeInWIM/(entry+int64(c.minCompressed)) {
		return nil, fmt.Errorf("%s: %d bytes of %d-byte chunks cannot be stored in %d bytes", what, res.UncompressedSize, chunk, res.SizeInWIM)
	}
	tsize := (n - 1) * entry
	t := make([]byte, tsize)
	if _, err := r.ReadAt(t, res.Offset); err != nil {
		return nil, fmt.Errorf("%s: chunk table: %w", what, err)
	}
	cr := &chunkReader{r: r, what: what, data: res.Offset + tsize, usize: res.UncompressedSize, chunk: chunk,
		dec: c.newDecompressor(int(chunk)), minComp: c.minCompressed}
	cr.offs = make([]int64, n+1)
	for i := int64(1); i < n; i++ {
		if entry == 8 {
			cr.offs[i] = int64(binary.LittleEndian.Uint64(t[8*(i-1):]))
		} else {
			cr.offs[i] = int64(binary.LittleEndian.Uint32(t[4*(i-1):]))
		}
	}
	cr.offs[n] = res.SizeInWIM - tsize
	for i := int64(0); i < n; i++ {
		csize := cr.offs[i+1] - cr.offs[i]
		usize := min(chunk, res.UncompressedSize-i*chunk)
		if csize <= 0 || csize > usize || csize < usize && csize < int64(cr.minComp) {
			return nil, fmt.Errorf("%s: chunk %d of %d has %d bytes for %d uncompressed (chunk table entries %d-%d)", what, i, n, csize, usize, cr.offs[i], cr.offs[i+1])
		}
	}
	cr.buf = make([]byte, 0, chunk)
	cr.cbuf = make([]byte, chunk)
	return cr, nil
}

func (cr *chunkReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	for cr.pos == len(cr.buf) {
		if cr.next >= len(cr.offs)-1 {
			cr.err = io.EOF
			return 0, io.EOF
		}
		i := int64(cr.next)
		csize := cr.offs[i+1] - cr.offs[i]
		usize := min(cr.chunk, cr.usize-i*cr.chunk)
		cb := cr.cbuf[:csize]
		if _, err := cr.r.ReadAt(cb, cr.data+cr.offs[i]); err != nil {
			cr.err = fmt.Errorf("%s: chunk %d: %w", cr.what, i, err)
			return 0, cr.err
		}
		cr.buf = cr.buf[:usize]
		if csize == usize {
			copy(cr.buf, cb)
		} else if err := cr.dec.Decompress(cr.buf, cb); err != nil {
			cr.err = fmt.Errorf("%s: chunk %d: %w", cr.what, i, err)
			return 0, cr.err
		}
		cr.pos = 0
		cr.next++
	}
	n := copy(p, cr.buf[cr.pos:])
	cr.pos += n
	return n, nil
}

// blob returns the blob table entry with this hash.
func (w *Reader) blob(h [20]byte) (BlobEntry, bool) {
	i, ok := w.byHash[h]
	if !ok {
		return BlobEntry{}, false
	}
	return w.Blobs[i], true
}

// OpenBlob returns a reader of the content with SHA-1 h. The empty content (zero hash)
// is always there.
func (w *Reader) OpenBlob(h [20]byte) (io.Reader, error) {
	if h == ([20]byte{}) {
		return bytes.NewReader(nil), nil
	}
	e, ok := w.blob(h)
	if !ok {
		return nil, fmt.Errorf("blob %x is not in the blob table", h)
	}
	return w.resourceReader(e.Resource, "blob "+hex.EncodeToString(h[:]))
}

// Open returns a reader of a file's unnamed data stream.
func (w *Reader) Open(f *File) (io.Reader, error) {
	r, err := w.OpenBlob(f.Hash)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return r, nil
}

// Metadata is an image's decoded metadata resource.
type Metadata struct {
	SecurityDescriptors [][]byte
	Root                *Dir
}

// Dir is a File with its children in on-disk order (only directories have children).
type Dir struct {
	File
	Children []*Dir
	subdir   uint64 // offset of the children list
}

// ReadMetadata reads and decodes the metadata resource of image index (1-based).
func (w *Reader) ReadMetadata(index int) (*Metadata, error) {
	if index < 1 || index > len(w.Images) {
		return nil, fmt.Errorf("image %d: the WIM has images 1 to %d", index, len(w.Images))
	}
	what := fmt.Sprintf("image %d metadata", index)
	md, err := w.readSmall(w.Images[index-1].Metadata.Resource, what, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	m, err := w.parseMetadata(md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return m, nil
}

func (w *Reader) parseMetadata(md []byte) (*Metadata, error) {
	if len(md) < 8 {
		return nil, fmt.Errorf("%d bytes, too short for security data", len(md))
	}
	total := int64(binary.LittleEndian.Uint32(md))
	num := int64(binary.LittleEndian.Uint32(md[4:]))
	total = (total + 7) &^ 7
	if total == 0 {
		total = 8
	}
	if total > int64(len(md)) || num > (total-8)/8 {
		return nil, fmt.Errorf("security data of %d bytes with %d descriptors does not fit the %d-byte resource", total, num, len(md))
	}
	m := &Metadata{}
	p := 8 + 8*num
	for i := int64(0); i < num; i++ {
		sz := int64(binary.LittleEndian.Uint64(md[8+8*i:]))
		if sz < 0 || sz > total-p {
			return nil, fmt.Errorf("security descriptor %d: %d bytes at offset %d overrun the security data's %d", i, sz, p, total)
		}
		m.SecurityDescriptors = append(m.SecurityDescriptors, md[p:p+sz])
		p += sz
	}
	ps := &metaParser{w: w, md: md, seen: map[uint64]bool{}}
	root, _, err := ps.dentry(uint64(total))
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("no root directory entry at offset %d", total)
	}
	root.Path, root.Name = "", ""
	if err := ps.children(root, 0); err != nil {
		return nil, err
	}
	m.Root = root
	return m, nil
}

type metaParser struct {
	w    *Reader
	md   []byte
	seen map[uint64]bool
}

func name16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// dentry decodes the directory entry at off; it returns nil at an end-of-list mark, and
// the offset of the next sibling.
func (ps *metaParser) dentry(off uint64) (*Dir, uint64, error) {
	md := ps.md
	if off > uint64(len(md)) || uint64(len(md))-off < 8 {
		return nil, 0, fmt.Errorf("directory entry at offset %d lies past the end (%d bytes)", off, len(md))
	}
	length := binary.LittleEndian.Uint64(md[off:])
	if length == 0 || length == 8 {
		return nil, off + 8, nil
	}
	if length < dentryFixedSize || length > uint64(len(md))-off {
		return nil, 0, fmt.Errorf("directory entry at offset %d: length %d (the fixed part is %d, %d bytes remain)", off, length, dentryFixedSize, uint64(len(md))-off)
	}
	e := md[off : off+length]
	d := &Dir{File: File{
		Attributes:     binary.LittleEndian.Uint32(e[8:]),
		SecurityID:     int32(binary.LittleEndian.Uint32(e[12:])),
		CreationTime:   binary.LittleEndian.Uint64(e[40:]),
		LastAccessTime: binary.LittleEndian.Uint64(e[48:]),
		LastWriteTime:  binary.LittleEndian.Uint64(e[56:]),
	}}
	subdir := binary.LittleEndian.Uint64(e[16:])
	copy(d.Hash[:], e[64:84])
	if d.Attributes&AttrReparsePoint != 0 {
		d.ReparseTag = binary.LittleEndian.Uint32(e[88:])
	} else {
		d.HardLinkGroup = binary.LittleEndian.Uint64(e[88:])
	}
	nstreams := int(binary.LittleEndian.Uint16(e[96:]))
	shortLen := uint64(binary.LittleEndian.Uint16(e[98:]))
	nameLen := uint64(binary.LittleEndian.Uint16(e[100:]))
	need := uint64(dentryFixedSize)
	if nameLen > 0 {
		need += nameLen + 2
	}
	if shortLen > 0 {
		need += shortLen + 2
	}
	if nameLen%2 != 0 || shortLen%2 != 0 || need > length {
		return nil, 0, fmt.Errorf("directory entry at offset %d: names of %d and %d bytes do not fit its %d bytes", off, nameLen, shortLen, length)
	}
	d.Name = name16(e[dentryFixedSize : dentryFixedSize+nameLen])
	if shortLen > 0 {
		s := dentryFixedSize + nameLen + 2
		d.ShortName = name16(e[s : s+shortLen])
	}
	d.IsDir = d.Attributes&AttrDirectory != 0
	if d.IsDir {
		d.subdir = subdir
	}
	// Extra stream entries follow the entry, each aligned to 8 bytes.
	next := (off + length + 7) &^ 7
	for i := 0; i < nstreams; i++ {
		if next > uint64(len(md)) || uint64(len(md))-next < 38 {
			return nil, 0, fmt.Errorf("directory entry at offset %d: stream entry %d at offset %d lies past the end", off, i, next)
		}
		sl := binary.LittleEndian.Uint64(md[next:])
		if sl < 38 || sl > uint64(len(md))-next {
			return nil, 0, fmt.Errorf("directory entry at offset %d: stream entry %d has length %d", off, i, sl)
		}
		se := md[next : next+sl]
		var s Stream
		copy(s.Hash[:], se[16:36])
		nl := uint64(binary.LittleEndian.Uint16(se[36:]))
		if 38+nl > sl || nl%2 != 0 {
			return nil, 0, fmt.Errorf("directory entry at offset %d: stream entry %d: name of %d bytes in %d", off, i, nl, sl)
		}
		s.Name = name16(se[38 : 38+nl])
		if nl == 0 {
			// The unnamed data stream, stored here by WIMGAPI when a file has named
			// streams (the entry's own hash is then zero).
			if d.Hash == ([20]byte{}) {
				d.Hash = s.Hash
			}
		} else {
			d.Streams = append(d.Streams, s)
		}
		next = (next + sl + 7) &^ 7
	}
	var err error
	if d.Size, err = ps.size(d.Hash); err != nil {
		return nil, 0, fmt.Errorf("%q: %w", d.Name, err)
	}
	for i := range d.Streams {
		if d.Streams[i].Size, err = ps.size(d.Streams[i].Hash); err != nil {
			return nil, 0, fmt.Errorf("%q stream %q: %w", d.Name, d.Streams[i].Name, err)
		}
	}
	return d, next, nil
}

func (ps *metaParser) size(h [20]byte) (int64, error) {
	if h == ([20]byte{}) {
		return 0, nil
	}
	e, ok := ps.w.blob(h)
	if !ok {
		return 0, fmt.Errorf("content %x is not in the blob table", h)
	}
	return e.UncompressedSize, nil
}

// children reads the list of d's children and, recursively, theirs.
func (ps *metaParser) children(d *Dir, depth int) error {
	off := d.subdir
	if off == 0 {
		return nil
	}
	if depth > maxDepth {
		return fmt.Errorf("%s: directories nested deeper than %d", d.Path, maxDepth)
	}
	if ps.seen[off] {
		return fmt.Errorf("%s: directory list at offset %d is used twice", d.Path, off)
	}
	ps.seen[off] = true
	for {
		c, next, err := ps.dentry(off)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Path, err)
		}
		if c == nil {
			return nil
		}
		if c.Name == "" {
			return fmt.Errorf("%s: directory entry at offset %d has no name", d.Path, off)
		}
		c.Path = c.Name
		if d.Path != "" {
			c.Path = d.Path + "/" + c.Name
		}
		if err := ps.children(c, depth+1); err != nil {
			return err
		}
		d.Children = append(d.Children, c)
		off = next
	}
}

// Walk calls fn for every entry of image index (1-based): the root first (Path ""), then
// depth first, each directory before its children, children in on-disk order.
func (w *Reader) Walk(index int, fn func(f *File) error) error {
	m, err := w.ReadMetadata(index)
	if err != nil {
		return err
	}
	var walk func(d *Dir) error
	walk = func(d *Dir) error {
		if err := fn(&d.File); err != nil {
			return err
		}
		for _, c := range d.Children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(m.Root)
}

// Verify checks the integrity table, if there is one, the SHA-1 of every blob (file
// contents and metadata), and that every image's directory tree decodes and refers
// only to blobs that are in the blob table.
func (w *Reader) Verify() error {
	if err := w.VerifyIntegrity(); err != nil {
		return err
	}
	check := func(e BlobEntry, what string) error {
		rr, err := w.resourceReader(e.Resource, what)
		if err != nil {
			return err
		}
		h := sha1.New()
		n, err := io.Copy(h, rr)
		if err != nil {
			return err
		}
		if n != e.UncompressedSize {
			return fmt.Errorf("%s: %d bytes, the blob table says %d", what, n, e.UncompressedSize)
		}
		if got := h.Sum(nil); !bytes.Equal(got, e.Hash[:]) {
			return fmt.Errorf("%s: SHA-1 is %x, the blob table says %x", what, got, e.Hash)
		}
		return nil
	}
	for _, img := range w.Images {
		if err := check(img.Metadata, fmt.Sprintf("image %d metadata", img.Index)); err != nil {
			return err
		}
		if _, err := w.ReadMetadata(img.Index); err != nil {
			return err
		}
	}
	for _, e := range w.Blobs {
		if err := check(e, "blob "+hex.EncodeToString(e.Hash[:])); err != nil {
			return err
		}
	}
	return nil
}

// VerifyIntegrity checks the integrity table: SHA-1s of 10 MiB pieces of the bytes from
// the end of the header to the end of the blob table. A WIM without one passes.
func (w *Reader) VerifyIntegrity() error {
	res := w.Header.Integrity
	if res.SizeInWIM == 0 {
		return nil
	}
	t, err := w.readSmall(res, "integrity table", w.size)
	if err != nil {
		return err
	}
	if len(t) < 12 {
		return fmt.Errorf("integrity table: %d bytes, shorter than its 12-byte header", len(t))
	}
	size := int64(binary.LittleEndian.Uint32(t))
	n := int64(binary.LittleEndian.Uint32(t[4:]))
	chunk := int64(binary.LittleEndian.Uint32(t[8:]))
	if size != int64(len(t)) || n > (size-12)/20 || 12+20*n != size {
		return fmt.Errorf("integrity table: size field %d and %d entries do not match its %d bytes", size, n, len(t))
	}
	end := w.Header.BlobTable.Offset + w.Header.BlobTable.SizeInWIM
	if chunk <= 0 || end < headerSize || end > w.size {
		return fmt.Errorf("integrity table: chunk size %d, or blob table end %d outside the file", chunk, end)
	}
	if want := (end - headerSize + chunk - 1) / chunk; want != n {
		return fmt.Errorf("integrity table: %d entries; %d bytes in %d-byte pieces need %d", n, end-headerSize, chunk, want)
	}
	buf := make([]byte, min(chunk, 1<<20))
	for i := int64(0); i < n; i++ {
		off := headerSize + i*chunk
		sum, err := hashRange(w.r, off, min(end, off+chunk), buf)
		if err != nil {
			return fmt.Errorf("integrity table: %w", err)
		}
		if !bytes.Equal(sum[:], t[12+20*i:32+20*i]) {
			return fmt.Errorf("integrity table: bytes %d-%d have SHA-1 %x, the table says %x", off, min(end, off+chunk), sum, t[12+20*i:32+20*i])
		}
	}
	return nil
}
