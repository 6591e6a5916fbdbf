package ffu

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/oemimage/rules_oemimage/tools/catalog"
)

// Signing (ImageSigner.exe; docs/signing.md): the catalog at the start of an FFU holds the
// SHA-1 of the hash table, and a signed catalog is what makes a device accept the image. The
// catalog is signed apart from the image (sign.cmd, signtool, Microsoft's retail signing of a
// truncated image), then put back with ReplaceCatalog. Nothing hashed changes: the hash table
// covers the file from the image header on, and the catalog only names the hash table.

// Head is the start of an FFU as ImageSigner reads it for getcatalog and truncate: the
// security header, catalog and hash table, the image header and manifest, and the first store
// header, every chunk of it checked against the hash table. ReadHead needs only the first End
// bytes, so a truncated FFU (what `imagesigner truncate` writes) reads as well as a whole one.
type Head struct {
	Security    SecurityHeader
	Catalog     []byte
	HashTable   []byte
	Member      string // the catalog member holding SHA1(hash table), HashTable.blob from ImageApp
	Image       ImageHeader
	ImageOffset int64       // file offset of the image header
	Store       StoreHeader // the first store's header: its PlatformIDs are what getcatalog prints
	StoreOffset int64
	// End is the end of the chunk holding the first store header: the security header region,
	// the image header and manifest chunks and that chunk, which is what ImageSigner's
	// truncate keeps (it reads chunk by chunk from the image header to the store header).
	End int64
}

// ReadHead reads and checks the head of the FFU in r (size bytes): the catalog must hold the
// hash table's SHA-1, and every chunk from the image header to End its hash table entry.
func ReadHead(r io.ReaderAt, size int64) (*Head, error) {
	rd := &Reader{r: r, size: size}
	if err := rd.readSecurity(); err != nil {
		return nil, err
	}
	member, err := CheckCatalog(rd.catalog, rd.hashTable)
	if err != nil {
		return nil, &FormatError{err.Error()}
	}
	chunk := rd.chunk()
	// A header that does not parse may be a changed byte the hash table catches: the chunks
	// read so far are checked first, so that tampering is reported as such.
	reached, storeOff := rd.ImageOffset+chunk, int64(-1)
	fail := func(err error) (*Head, error) {
		if herr := rd.checkChunks(min(reached, size), storeOff); herr != nil {
			return nil, herr
		}
		return nil, err
	}
	if err := rd.readImageHeader(); err != nil {
		if rd.Image.Size != 0 && rd.Image.ManifestLength <= MaxManifestBytes {
			reached = roundUp(rd.ImageOffset+int64(rd.Image.Size)+int64(rd.Image.ManifestLength), chunk)
		}
		return fail(err)
	}
	off := roundUp(rd.ImageOffset+int64(rd.Image.Size)+int64(rd.Image.ManifestLength), chunk)
	reached, storeOff = off+chunk, off
	h, hsize, err := rd.readStoreHeader(0, off)
	if err != nil {
		return fail(err)
	}
	end := off + roundUp(hsize, chunk)
	if end > size {
		return fail(formatErr("store 1: the chunk holding its header ends at offset %d, beyond the end of the file (%d bytes): truncated", end, size))
	}
	if n := (end - rd.ImageOffset) / chunk; n > int64(len(rd.hashTable)/hashSize) {
		return nil, formatErr("the hash table lists %d chunks, fewer than the %d from the image header (offset %d) to the end of the first store header's chunk (offset %d)", len(rd.hashTable)/hashSize, n, rd.ImageOffset, end)
	}
	if err := rd.checkChunks(end, off); err != nil {
		return nil, err
	}
	return &Head{
		Security: rd.Security, Catalog: rd.catalog, HashTable: rd.hashTable, Member: member,
		Image: rd.Image, ImageOffset: rd.ImageOffset, Store: h, StoreOffset: off, End: end,
	}, nil
}

// checkChunks checks the whole chunks from the image header to end (those the file and the
// hash table have) against the hash table; a chunk at or after storeOff (when not negative)
// is named as the first store header's.
func (rd *Reader) checkChunks(end, storeOff int64) error {
	chunk := rd.chunk()
	n := min((end-rd.ImageOffset)/chunk, int64(len(rd.hashTable)/hashSize))
	buf := make([]byte, chunk)
	for i := int64(0); i < n; i++ {
		coff := rd.ImageOffset + i*chunk
		if err := rd.readAt(buf, coff, fmt.Sprintf("chunk %d", i)); err != nil {
			return err
		}
		if sum := sha256.Sum256(buf); !bytes.Equal(sum[:], rd.hashTable[i*hashSize:(i+1)*hashSize]) {
			what := "image header and manifest"
			if storeOff >= 0 && coff >= storeOff {
				what = "store 1 header"
			}
			return formatErr("chunk %d (offset %d, %s): SHA-256 does not match the hash table", i, coff, what)
		}
	}
	return nil
}

// CatalogMismatchError is a catalog that does not name this image's hash table: its
// HashTable.blob (or only) member has another digest, or it has no member.
type CatalogMismatchError struct {
	Member       string      // the member compared, "" if the catalog has no member
	MemberHash   crypto.Hash // its digest algorithm
	MemberDigest []byte
	TableSHA1    []byte // SHA-1 of the image's hash table
}

func (e *CatalogMismatchError) Error() string {
	if e.Member == "" {
		return fmt.Sprintf("the catalog has no member; the image's hash table has SHA-1 %x", e.TableSHA1)
	}
	return fmt.Sprintf("the catalog's %s member has %v %x, but the image's hash table has SHA-1 %x: the catalog was made for another image (or for this one before it changed)", e.Member, e.MemberHash, e.MemberDigest, e.TableSHA1)
}

// MatchCatalog checks that cat holds SHA1(hashTable) and returns the member's name: the
// HashTable.blob member when the catalog has one (ImageApp's catalogs do), else any member
// (another tool's name for it; the caller may warn). A well-formed catalog for another hash
// table is a *CatalogMismatchError naming both digests.
func MatchCatalog(cat, hashTable []byte) (member string, err error) {
	members, err := catalog.Parse(cat)
	if err != nil {
		return "", err
	}
	want := sha1.Sum(hashTable)
	matches := func(m *catalog.Member) bool { return m.Hash == crypto.SHA1 && bytes.Equal(m.Digest, want[:]) }
	m := catalog.Find(members, catalogMemberName)
	if m == nil {
		for i := range members {
			if matches(&members[i]) {
				return members[i].Name, nil
			}
		}
		if len(members) > 0 {
			m = &members[0]
		}
	}
	if m != nil && matches(m) {
		return m.Name, nil
	}
	e := &CatalogMismatchError{TableSHA1: want[:]}
	if m != nil {
		e.Member, e.MemberHash, e.MemberDigest = m.Name, m.Hash, m.Digest
	}
	return "", e
}

// SignedLayout is where ReplaceCatalog puts things.
type SignedLayout struct {
	Size        int64 // of the new file
	ImageOffset int64 // new offset of the image header
	Shift       int64 // ImageOffset minus the old one: a multiple of the chunk size
}

// ReplaceCatalog writes to w the FFU rd with its catalog replaced by catalog, as ImageSigner
// sign does: the security header's catalog size and the padding to the chunk size follow the
// new catalog; the hash table and everything from the image header on are copied byte for
// byte, shifted by whole chunks if the padded security region grows or shrinks. The padding
// is zeros. The catalog must hold the hash table's SHA-1 (MatchCatalog), and every chunk copied
// is checked against the hash table on the way, so a corrupt image is not signed: an error
// leaves w with part of the image. The copy streams; memory does not grow with the image.
func (rd *Reader) ReplaceCatalog(w io.Writer, catalog []byte) (SignedLayout, error) {
	if len(catalog) > MaxCatalogBytes {
		return SignedLayout{}, fmt.Errorf("catalog of %d bytes is over the limit of %d bytes", len(catalog), MaxCatalogBytes)
	}
	member, err := MatchCatalog(catalog, rd.hashTable)
	if err != nil {
		return SignedLayout{}, err
	}
	if member != catalogMemberName {
		rd.warnings = append(rd.warnings, fmt.Sprintf("the catalog member holding the hash table's SHA-1 is called %q, not %s as in ImageApp's catalogs", member, catalogMemberName))
	}
	chunk := rd.chunk()
	n := int64(len(rd.hashTable) / hashSize)
	body := rd.size - rd.ImageOffset
	if body != n*chunk {
		return SignedLayout{}, formatErr("%d bytes from the image header (offset %d) to the end of the file, but the hash table lists %d chunks of %d bytes (%d bytes): truncated or extended", body, rd.ImageOffset, n, chunk, n*chunk)
	}
	head := securityHeaderSize + int64(len(catalog)) + int64(len(rd.hashTable))
	region := roundUp(head, chunk)
	out := SignedLayout{Size: region + body, ImageOffset: region, Shift: region - rd.ImageOffset}

	sec := make([]byte, securityHeaderSize, region)
	le := binary.LittleEndian
	le.PutUint32(sec[0:], securityHeaderSize)
	copy(sec[4:16], securitySignature)
	le.PutUint32(sec[16:], rd.Security.ChunkSizeKB)
	le.PutUint32(sec[20:], rd.Security.AlgID)
	le.PutUint32(sec[24:], uint32(len(catalog)))
	le.PutUint32(sec[28:], uint32(len(rd.hashTable)))
	sec = append(append(sec, catalog...), rd.hashTable...)
	sec = sec[:region] // zeros to the chunk
	if _, err := w.Write(sec); err != nil {
		return out, err
	}

	sums := make([]byte, n*hashSize)
	fill := func(buf []byte, off int64) error {
		return rd.readAt(buf, rd.ImageOffset+off, fmt.Sprintf("chunk %d", off/chunk))
	}
	// The copy goes to w as it is hashed; the sums are compared at the end (the caller
	// writes to a temporary file and drops it on error).
	var copied int64
	sink := func(buf []byte) error {
		copied += int64(len(buf))
		_, err := w.Write(buf)
		return err
	}
	if err := hashStream(body, chunk, sums, fill, sink); err != nil {
		return out, err
	}
	for i := range n {
		if !bytes.Equal(sums[i*hashSize:(i+1)*hashSize], rd.hashTable[i*hashSize:(i+1)*hashSize]) {
			off := rd.ImageOffset + i*chunk
			return out, formatErr("chunk %d (offset %d, %s): SHA-256 does not match the hash table: the image is corrupt, not signed", i, off, rd.where(off))
		}
	}
	if copied != body {
		return out, fmt.Errorf("ffu: internal error: copied %d of %d bytes", copied, body)
	}
	return out, nil
}

// VerifySignature is the first two of the three checks a flashing tool makes before it
// flashes (Implementing image integrity validation in custom flashing tools): the catalog's
// signature and its certificate chain to one of roots (catalog.Verify: valid now, usable for
// code signing), then the hash of the table of hashes, the catalog's HashTable.blob member
// being SHA1(hash table) (MatchCatalog). Verify makes the third, every chunk against the table.
func (rd *Reader) VerifySignature(roots *x509.CertPool) (*catalog.Signature, error) {
	return rd.VerifySignatureTrust(catalog.Trust{Roots: roots})
}

// VerifySignatureTrust is VerifySignature against tr (catalog.VerifyTrust: with tr.TSARoots,
// a timestamp whose server chains to them makes the signing chain be checked at its time).
func (rd *Reader) VerifySignatureTrust(tr catalog.Trust) (*catalog.Signature, error) {
	sig, err := catalog.VerifyTrust(rd.catalog, tr)
	if err != nil {
		return nil, err
	}
	// A member of another name is Verify's warning.
	if _, err := MatchCatalog(rd.catalog, rd.hashTable); err != nil {
		return nil, fmt.Errorf("the signed catalog does not match the hash table: %w", err)
	}
	return sig, nil
}
