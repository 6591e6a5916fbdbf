package ffu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Reader is an opened FFU. Open has checked every header against the file; the payload is read
// only by Verify, ReadBlock and Extract.
type Reader struct {
	r    io.ReaderAt
	size int64

	Security    SecurityHeader
	Image       ImageHeader
	ImageOffset int64 // file offset of the image header, where hashing starts
	Stores      []*Store

	catalog, hashTable, manifestRaw []byte
	manifest                        *Manifest
	warnings                        []string
}

// Store is one store of the image: its header, descriptors and where its payload is.
type Store struct {
	Header        StoreHeader
	HeaderOffset  int64 // file offset of the store header
	PayloadOffset int64 // file offset of the store's first payload block
	Validation    []ValidationEntry
	Entries       []BlockEntry
	// From the manifest's [Store] section.
	SectorSize uint32
	DiskSize   int64 // MinSectorCount * SectorSize; without MinSectorCount, the end of the last DISK_BEGIN block
	Manifest   StoreSection
}

// ValidationEntry is a VALIDATION_ENTRY (partial updates only; ImageApp writes none).
type ValidationEntry struct {
	SectorIndex, SectorOffset uint32
	Data                      []byte
}

// FormatError is what Open and Verify return for a file that is not a valid FFU.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "not a valid FFU: " + e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{fmt.Sprintf(format, args...)}
}

// readAt reads exactly len(b) bytes at off, which the caller has checked lie in the file.
func (rd *Reader) readAt(b []byte, off int64, what string) error {
	if len(b) == 0 {
		return nil // some ReaderAts (bytes.Reader) report EOF even for nothing at the end
	}
	if _, err := rd.r.ReadAt(b, off); err != nil {
		return fmt.Errorf("reading %s at offset %d: %w", what, off, err)
	}
	return nil
}

// fits reports whether n bytes at off lie within the file (without overflowing).
func (rd *Reader) fits(off int64, n uint64) bool {
	return off >= 0 && off <= rd.size && n <= uint64(rd.size-off)
}

// Open reads and checks the headers of the FFU in r (size bytes).
func Open(r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{r: r, size: size}
	if err := rd.readSecurity(); err != nil {
		return nil, err
	}
	if err := rd.readImageHeader(); err != nil {
		return nil, err
	}
	off := roundUp(rd.ImageOffset+int64(rd.Image.Size)+int64(rd.Image.ManifestLength), rd.chunk())
	stores := 1
	for i := 0; i < stores; i++ {
		s, next, err := rd.readStore(i, off)
		if err != nil {
			return nil, err
		}
		if i == 0 && s.Header.MajorVersion >= 2 {
			stores = int(s.Header.NumOfStores)
		}
		rd.Stores = append(rd.Stores, s)
		off = next
	}
	for i, s := range rd.Stores {
		n := uint64(s.Header.WriteDescriptorCount) * uint64(s.Header.BlockSize)
		if !rd.fits(off, n) {
			return nil, formatErr("store %d: payload of %d blocks of %d bytes at offset %d is beyond the end of the file (%d bytes)", i+1, s.Header.WriteDescriptorCount, s.Header.BlockSize, off, size)
		}
		if s.Header.MajorVersion >= 2 && s.Header.StorePayloadSize != n {
			return nil, formatErr("store %d: StorePayloadSize %d, but %d blocks of %d bytes are %d", i+1, s.Header.StorePayloadSize, s.Header.WriteDescriptorCount, s.Header.BlockSize, n)
		}
		s.PayloadOffset = off
		off += int64(n)
	}
	if err := rd.matchManifest(); err != nil {
		return nil, err
	}
	return rd, nil
}

func (rd *Reader) chunk() int64 { return int64(rd.Security.ChunkSizeKB) * 1024 }

func (rd *Reader) readSecurity() error {
	if rd.size < securityHeaderSize {
		return formatErr("file of %d bytes is shorter than the %d-byte security header", rd.size, securityHeaderSize)
	}
	b := make([]byte, securityHeaderSize)
	if err := rd.readAt(b, 0, "security header"); err != nil {
		return err
	}
	le := binary.LittleEndian
	h := SecurityHeader{le.Uint32(b[0:]), le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint32(b[24:]), le.Uint32(b[28:])}
	rd.Security = h
	switch {
	case h.Size != securityHeaderSize:
		return formatErr("security header at offset 0: cbSize %d, want %d", h.Size, securityHeaderSize)
	case string(b[4:16]) != securitySignature:
		return formatErr("security header at offset 4: signature %q, want %q", b[4:16], securitySignature)
	case h.ChunkSizeKB == 0 || h.ChunkSizeKB > MaxChunkSizeKB:
		return formatErr("security header at offset 16: chunk size %d KB is outside 1..%d", h.ChunkSizeKB, MaxChunkSizeKB)
	case h.AlgID != AlgSHA256:
		return formatErr("security header at offset 20: hash algorithm %#x, only SHA-256 (%#x) is known", h.AlgID, AlgSHA256)
	case h.HashTableSize%hashSize != 0:
		return formatErr("security header at offset 28: hash table size %d is not a multiple of %d", h.HashTableSize, hashSize)
	case h.CatalogSize > MaxCatalogBytes:
		return formatErr("security header at offset 24: catalog of %d bytes is over the limit of %d bytes", h.CatalogSize, MaxCatalogBytes)
	case h.HashTableSize > MaxHashTableBytes:
		return formatErr("security header at offset 28: hash table of %d bytes is over the limit of %d bytes", h.HashTableSize, MaxHashTableBytes)
	case !rd.fits(securityHeaderSize, uint64(h.CatalogSize)+uint64(h.HashTableSize)):
		return formatErr("catalog (%d bytes) and hash table (%d bytes) after the security header go beyond the end of the file (%d bytes)", h.CatalogSize, h.HashTableSize, rd.size)
	}
	rd.catalog = make([]byte, h.CatalogSize)
	if err := rd.readAt(rd.catalog, securityHeaderSize, "catalog"); err != nil {
		return err
	}
	rd.hashTable = make([]byte, h.HashTableSize)
	if err := rd.readAt(rd.hashTable, securityHeaderSize+int64(h.CatalogSize), "hash table"); err != nil {
		return err
	}
	rd.ImageOffset = roundUp(securityHeaderSize+int64(h.CatalogSize)+int64(h.HashTableSize), rd.chunk())
	return nil
}

func (rd *Reader) readImageHeader() error {
	off := rd.ImageOffset
	if !rd.fits(off, imageHeaderSize) {
		return formatErr("image header at offset %d is beyond the end of the file (%d bytes)", off, rd.size)
	}
	b := make([]byte, imageHeaderSizeDTI)
	if err := rd.readAt(b[:imageHeaderSize], off, "image header"); err != nil {
		return err
	}
	le := binary.LittleEndian
	h := ImageHeader{Size: le.Uint32(b[0:]), ManifestLength: le.Uint32(b[16:]), ChunkSizeKB: le.Uint32(b[20:])}
	switch {
	case h.Size != imageHeaderSize && h.Size != imageHeaderSizeDTI:
		return formatErr("image header at offset %d: cbSize %d, want %d (or %d)", off, h.Size, imageHeaderSize, imageHeaderSizeDTI)
	case string(b[4:16]) != imageSignature:
		return formatErr("image header at offset %d: signature %q, want %q", off+4, b[4:16], imageSignature)
	case h.ChunkSizeKB != rd.Security.ChunkSizeKB:
		return formatErr("image header at offset %d: chunk size %d KB, but the security header says %d KB", off+20, h.ChunkSizeKB, rd.Security.ChunkSizeKB)
	}
	if h.Size == imageHeaderSizeDTI {
		if !rd.fits(off, imageHeaderSizeDTI) {
			return formatErr("image header at offset %d is beyond the end of the file", off)
		}
		if err := rd.readAt(b[imageHeaderSize:], off+imageHeaderSize, "image header"); err != nil {
			return err
		}
		h.DeviceTargetInfoCount = le.Uint32(b[imageHeaderSize:])
		if h.DeviceTargetInfoCount != 0 {
			return formatErr("image header at offset %d: %d device target infos; they are not supported", off, h.DeviceTargetInfoCount)
		}
	}
	rd.Image = h
	moff := off + int64(h.Size)
	if h.ManifestLength > MaxManifestBytes {
		return formatErr("image header at offset %d: manifest of %d bytes is over the limit of %d bytes", off+16, h.ManifestLength, MaxManifestBytes)
	}
	if !rd.fits(moff, uint64(h.ManifestLength)) {
		return formatErr("manifest at offset %d (%d bytes) goes beyond the end of the file (%d bytes)", moff, h.ManifestLength, rd.size)
	}
	rd.manifestRaw = make([]byte, h.ManifestLength)
	if err := rd.readAt(rd.manifestRaw, moff, "manifest"); err != nil {
		return err
	}
	m, err := ParseManifest(rd.manifestRaw)
	if err != nil {
		return formatErr("manifest at offset %d: %v", moff, err)
	}
	ff := m.Section("FullFlash")
	if ff == nil {
		return formatErr("manifest at offset %d: no [FullFlash] section", moff)
	}
	if v, _ := ff.Get("Version"); !strings.EqualFold(v, "2.0") {
		return formatErr("manifest at offset %d: [FullFlash] Version %q, want 2.0", moff, v)
	}
	rd.manifest = m
	return nil
}

// readStore reads the store header, validation and write descriptors at off and returns the
// offset of what follows the store's padded metadata.
func (rd *Reader) readStore(i int, off int64) (*Store, int64, error) {
	n := i + 1
	h, hsize, err := rd.readStoreHeader(i, off)
	if err != nil {
		return nil, 0, err
	}
	s := &Store{Header: h, HeaderOffset: off}
	voff := off + hsize
	if s.Validation, err = rd.readValidation(n, off, voff, h); err != nil {
		return nil, 0, err
	}
	woff := voff + int64(h.ValidateDescriptorLength)
	if s.Entries, err = rd.readWriteDescriptors(n, woff, h); err != nil {
		return nil, 0, err
	}
	for _, t := range []struct {
		name         string
		index, count uint32
	}{{"initial", h.InitialTableIndex, h.InitialTableCount}, {"flash-only", h.FlashOnlyTableIndex, h.FlashOnlyTableCount}, {"final", h.FinalTableIndex, h.FinalTableCount}} {
		if uint64(t.index)+uint64(t.count) > uint64(h.WriteDescriptorCount) {
			return nil, 0, formatErr("store %d at offset %d: %s table index %d + count %d is beyond the %d write descriptors", n, off, t.name, t.index, t.count, h.WriteDescriptorCount)
		}
	}
	meta := hsize + int64(h.ValidateDescriptorLength) + int64(h.WriteDescriptorLength)
	// Metadata is padded to the block size from the store's start (StorePayload.GetMetadata).
	return s, off + roundUp(meta, int64(h.BlockSize)), nil
}

// readStoreHeader reads and checks the store header at off (v1, and v2's store count, index
// and device path) and returns it with its size.
func (rd *Reader) readStoreHeader(i int, off int64) (StoreHeader, int64, error) {
	n := i + 1
	if !rd.fits(off, storeHeaderV1Size) {
		return StoreHeader{}, 0, formatErr("store %d: header at offset %d is beyond the end of the file (%d bytes)", n, off, rd.size)
	}
	b := make([]byte, storeHeaderV2Fixed)
	if err := rd.readAt(b[:storeHeaderV1Size], off, "store header"); err != nil {
		return StoreHeader{}, 0, err
	}
	le := binary.LittleEndian
	h := StoreHeader{
		UpdateType:            le.Uint32(b[0:]),
		MajorVersion:          le.Uint16(b[4:]),
		MinorVersion:          le.Uint16(b[6:]),
		FullFlashMajorVersion: le.Uint16(b[8:]),
		FullFlashMinorVersion: le.Uint16(b[10:]),
	}
	for _, id := range bytes.Split(b[12:12+platformIDBytes], []byte{0}) {
		if len(id) == 0 {
			break
		}
		h.PlatformIDs = append(h.PlatformIDs, string(id))
	}
	f := make([]uint32, 11)
	for k := range f {
		f[k] = le.Uint32(b[0xCC+4*k:])
	}
	h.BlockSize, h.WriteDescriptorCount, h.WriteDescriptorLength = f[0], f[1], f[2]
	h.ValidateDescriptorCount, h.ValidateDescriptorLength = f[3], f[4]
	h.InitialTableIndex, h.InitialTableCount = f[5], f[6]
	h.FlashOnlyTableIndex, h.FlashOnlyTableCount = f[7], f[8]
	h.FinalTableIndex, h.FinalTableCount = f[9], f[10]

	switch {
	case h.MajorVersion == 1 && h.FullFlashMajorVersion == 3:
		return StoreHeader{}, 0, formatErr("store %d at offset %d: compressed store (version 1, full flash version 3) is not supported", n, off)
	case h.FullFlashMajorVersion != 2 || (h.MajorVersion != 1 && h.MajorVersion != 2):
		return StoreHeader{}, 0, formatErr("store %d at offset %d: store header version %d.%d, full flash version %d.%d; want 1 or 2, and 2", n, off+4, h.MajorVersion, h.MinorVersion, h.FullFlashMajorVersion, h.FullFlashMinorVersion)
	case i > 0 && h.MajorVersion != 2:
		return StoreHeader{}, 0, formatErr("store %d at offset %d: store header version %d after a version 2 store", n, off+4, h.MajorVersion)
	case h.UpdateType > 1:
		return StoreHeader{}, 0, formatErr("store %d at offset %d: update type %d (0 full, 1 partial)", n, off, h.UpdateType)
	case h.BlockSize < minReadBlockSize || h.BlockSize > maxReadBlockSize || h.BlockSize%minReadBlockSize != 0:
		return StoreHeader{}, 0, formatErr("store %d at offset %d: block size %d is not a multiple of 512 between %d and %d", n, off+0xCC, h.BlockSize, minReadBlockSize, maxReadBlockSize)
	}
	hsize := int64(storeHeaderV1Size)
	if h.MajorVersion == 2 {
		if !rd.fits(off, storeHeaderV2Fixed) {
			return StoreHeader{}, 0, formatErr("store %d: v2 header at offset %d is beyond the end of the file", n, off)
		}
		if err := rd.readAt(b[storeHeaderV1Size:], off+storeHeaderV1Size, "store header"); err != nil {
			return StoreHeader{}, 0, err
		}
		p := b[storeHeaderV1Size:]
		h.NumOfStores, h.StoreIndex, h.StorePayloadSize = le.Uint16(p[0:]), le.Uint16(p[2:]), le.Uint64(p[4:])
		units := int64(le.Uint16(p[12:]))
		hsize = storeHeaderV2Fixed + 2*units
		if !rd.fits(off, uint64(hsize)) {
			return StoreHeader{}, 0, formatErr("store %d: device path of %d characters at offset %d goes beyond the end of the file", n, units, off+storeHeaderV2Fixed)
		}
		raw := make([]byte, 2*units)
		if err := rd.readAt(raw, off+storeHeaderV2Fixed, "device path"); err != nil {
			return StoreHeader{}, 0, err
		}
		u := make([]uint16, units)
		for k := range u {
			u[k] = le.Uint16(raw[2*k:])
		}
		h.DevicePath = string(utf16.Decode(u))
		switch {
		case h.NumOfStores == 0:
			return StoreHeader{}, 0, formatErr("store %d at offset %d: NumOfStores is 0", n, off+storeHeaderV1Size)
		case int(h.StoreIndex) != n:
			return StoreHeader{}, 0, formatErr("store %d at offset %d: StoreIndex %d, want %d", n, off+storeHeaderV1Size+2, h.StoreIndex, n)
		case i > 0 && h.NumOfStores != rd.Stores[0].Header.NumOfStores:
			return StoreHeader{}, 0, formatErr("store %d at offset %d: NumOfStores %d, but store 1 says %d", n, off+storeHeaderV1Size, h.NumOfStores, rd.Stores[0].Header.NumOfStores)
		}
	}
	return h, hsize, nil
}

// readValidation reads the validation descriptors at voff (checking both descriptor lengths
// against their limit first).
func (rd *Reader) readValidation(n int, off, voff int64, h StoreHeader) ([]ValidationEntry, error) {
	le := binary.LittleEndian
	var out []ValidationEntry
	for _, d := range []struct {
		what  string
		field int64
		n     uint32
	}{{"validation", 0xDC, h.ValidateDescriptorLength}, {"write", 0xD4, h.WriteDescriptorLength}} {
		if d.n > MaxDescriptorBytes {
			return nil, formatErr("store %d at offset %d: %d bytes of %s descriptors are over the limit of %d bytes", n, off+d.field, d.n, d.what, MaxDescriptorBytes)
		}
	}
	if !rd.fits(voff, uint64(h.ValidateDescriptorLength)) {
		return nil, formatErr("store %d: %d bytes of validation descriptors at offset %d go beyond the end of the file", n, h.ValidateDescriptorLength, voff)
	}
	vb := make([]byte, h.ValidateDescriptorLength)
	if err := rd.readAt(vb, voff, "validation descriptors"); err != nil {
		return nil, err
	}
	for k := uint32(0); k < h.ValidateDescriptorCount; k++ {
		if len(vb) < validationFixed {
			return nil, formatErr("store %d: validation descriptor %d: the %d bytes of validation descriptors at offset %d hold fewer than %d descriptors", n, k, h.ValidateDescriptorLength, voff, h.ValidateDescriptorCount)
		}
		cnt := le.Uint32(vb[8:])
		if uint64(cnt) > uint64(len(vb)-validationFixed) {
			return nil, formatErr("store %d: validation descriptor %d: %d bytes of compare data go beyond the validation descriptors at offset %d", n, k, cnt, voff)
		}
		out = append(out, ValidationEntry{le.Uint32(vb[0:]), le.Uint32(vb[4:]), vb[validationFixed : validationFixed+cnt]})
		vb = vb[validationFixed+cnt:]
	}
	if len(vb) != 0 {
		return nil, formatErr("store %d: %d bytes left after %d validation descriptors at offset %d", n, len(vb), h.ValidateDescriptorCount, voff)
	}

	return out, nil
}

// readWriteDescriptors reads the write descriptors at woff: one block each, its disk
// locations DISK_BEGIN or DISK_END.
func (rd *Reader) readWriteDescriptors(n int, woff int64, h StoreHeader) ([]BlockEntry, error) {
	le := binary.LittleEndian
	if !rd.fits(woff, uint64(h.WriteDescriptorLength)) {
		return nil, formatErr("store %d: %d bytes of write descriptors at offset %d go beyond the end of the file", n, h.WriteDescriptorLength, woff)
	}
	if uint64(h.WriteDescriptorCount)*(blockEntryFixed+diskLocationSize) > uint64(h.WriteDescriptorLength) {
		return nil, formatErr("store %d: %d write descriptors cannot fit in %d bytes (at offset %d)", n, h.WriteDescriptorCount, h.WriteDescriptorLength, woff)
	}
	wb := make([]byte, h.WriteDescriptorLength)
	if err := rd.readAt(wb, woff, "write descriptors"); err != nil {
		return nil, err
	}
	entries := make([]BlockEntry, h.WriteDescriptorCount)
	locs := make([]DiskLocation, 0, (len(wb)-blockEntryFixed*int(h.WriteDescriptorCount))/diskLocationSize)
	pos := 0
	for k := range entries {
		eoff := woff + int64(pos)
		if len(wb)-pos < blockEntryFixed {
			return nil, formatErr("store %d: write descriptor %d at offset %d: the write descriptors end", n, k, eoff)
		}
		nloc, nblk := le.Uint32(wb[pos:]), le.Uint32(wb[pos+4:])
		pos += blockEntryFixed
		switch {
		case nblk != 1:
			return nil, formatErr("store %d: write descriptor %d at offset %d: dwBlockCount %d, want 1", n, k, eoff, nblk)
		case nloc == 0:
			return nil, formatErr("store %d: write descriptor %d at offset %d: no disk location", n, k, eoff)
		case uint64(nloc)*diskLocationSize > uint64(len(wb)-pos):
			return nil, formatErr("store %d: write descriptor %d at offset %d: %d disk locations go beyond the write descriptors", n, k, eoff, nloc)
		}
		start := len(locs)
		for range nloc {
			l := DiskLocation{AccessMethod(le.Uint32(wb[pos:])), le.Uint32(wb[pos+4:])}
			if l.Method != DiskBegin && l.Method != DiskEnd {
				return nil, formatErr("store %d: write descriptor %d at offset %d: disk access method %d (0 DISK_BEGIN, 2 DISK_END)", n, k, woff+int64(pos), l.Method)
			}
			locs = append(locs, l)
			pos += diskLocationSize
		}
		entries[k].Locations = locs[start:len(locs):len(locs)]
	}
	if pos != len(wb) {
		return nil, formatErr("store %d: %d bytes left after %d write descriptors at offset %d", n, len(wb)-pos, h.WriteDescriptorCount, woff)
	}
	return entries, nil
}

// matchManifest pairs the stores with the manifest's [Store] sections and checks that every
// disk location lies on its store's disk.
func (rd *Reader) matchManifest() error {
	secs := rd.manifest.StoreSections()
	if len(secs) != len(rd.Stores) {
		return formatErr("manifest has %d [Store] sections for %d store headers", len(secs), len(rd.Stores))
	}
	for i, s := range rd.Stores {
		n := i + 1
		s.Manifest = secs[i]
		v, ok := secs[i].Store.Get("SectorSize")
		ss, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || ss < 512 || ss > MaxSectorSize || ss&(ss-1) != 0 {
			return formatErr("manifest [Store] %d: SectorSize %q is not a power of two from 512 to %d", n, v, MaxSectorSize)
		}
		s.SectorSize = uint32(ss)
		bs := int64(s.Header.BlockSize)
		if v, ok := secs[i].Store.Get("MinSectorCount"); ok {
			count, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return formatErr("manifest [Store] %d: bad MinSectorCount %q", n, v)
			}
			if count > math.MaxUint32 || count*ss > MaxDiskSize {
				return formatErr("manifest [Store] %d: MinSectorCount %d of %d-byte sectors is over the limits of 2^32-1 sectors and %d bytes", n, count, ss, int64(MaxDiskSize))
			}
			s.DiskSize = int64(count * ss)
		} else {
			for k, e := range s.Entries {
				for _, l := range e.Locations {
					if l.Method == DiskEnd {
						return formatErr("store %d: write descriptor %d writes at DISK_END, but the manifest gives no MinSectorCount", n, k)
					}
					s.DiskSize = max(s.DiskSize, (int64(l.BlockIndex)+1)*bs)
				}
			}
			if s.DiskSize > MaxDiskSize {
				return formatErr("store %d: the write descriptors reach %d bytes into the disk, over the limit of %d bytes", n, s.DiskSize, int64(MaxDiskSize))
			}
		}
		locations := 0
		for k, e := range s.Entries {
			for _, l := range e.Locations {
				if _, ok := l.Offset(s.DiskSize, s.Header.BlockSize); !ok {
					return formatErr("store %d: write descriptor %d: %v is beyond the disk (%d bytes, %d blocks of %d bytes)", n, k, l, s.DiskSize, s.DiskSize/bs, bs)
				}
			}
			locations += len(e.Locations)
		}
		// Extract writes a block per location. Writers store each disk block once (ImageApp;
		// img2ffu lists every location of a deduplicated block), plus a location or two per
		// descriptor (phase 1 writes both ends), so Extract writes at most the disk plus the
		// payload: more locations would make a small file write without end.
		if limit := s.DiskSize/bs + int64(len(s.Entries)); int64(locations) > limit {
			return formatErr("store %d: %d disk locations for %d write descriptors on a disk of %d blocks: more than blocks + descriptors (%d)", n, locations, len(s.Entries), s.DiskSize/bs, limit)
		}
	}
	return nil
}

// Size is the size of the file.
func (rd *Reader) Size() int64 { return rd.size }

// Catalog is the catalog bytes (the .cat side file).
func (rd *Reader) Catalog() []byte { return rd.catalog }

// HashTable is the table of SHA-256 hashes of the chunks from the image header to the end.
func (rd *Reader) HashTable() []byte { return rd.hashTable }

// Warnings are what Verify found odd but not wrong (the catalog member's name).
func (rd *Reader) Warnings() []string { return rd.warnings }

// Manifest is the parsed manifest.
func (rd *Reader) Manifest() *Manifest { return rd.manifest }

// ManifestBytes is the manifest text as stored.
func (rd *Reader) ManifestBytes() []byte { return rd.manifestRaw }

// Phase tells which phase write descriptor k belongs to, as the Microsoft reader splits them
// (StorePayload.ReadMetadataFromStream): 1 up to the end of the initial table, 2 up to the end of
// the flash-only table, 3 up to the end of the final table; 0 after that.
func (s *Store) Phase(k int) int {
	h := s.Header
	switch k64 := uint64(k); {
	case k64 < uint64(h.InitialTableIndex)+uint64(h.InitialTableCount):
		return 1
	case k64 < uint64(h.FlashOnlyTableIndex)+uint64(h.FlashOnlyTableCount):
		return 2
	case k64 < uint64(h.FinalTableIndex)+uint64(h.FinalTableCount):
		return 3
	}
	return 0
}

// ReadBlock reads the payload block of write descriptor k of store s (0-based) into buf, which
// must hold the store's block size.
func (rd *Reader) ReadBlock(s, k int, buf []byte) error {
	if s < 0 || s >= len(rd.Stores) {
		return fmt.Errorf("no store %d (the image has %d)", s+1, len(rd.Stores))
	}
	st := rd.Stores[s]
	if k < 0 || k >= len(st.Entries) {
		return fmt.Errorf("store %d has no write descriptor %d (it has %d)", s+1, k, len(st.Entries))
	}
	bs := int(st.Header.BlockSize)
	if len(buf) < bs {
		return fmt.Errorf("buffer of %d bytes for a %d-byte block", len(buf), bs)
	}
	off := st.PayloadOffset + int64(k)*int64(bs)
	return rd.readAt(buf[:bs], off, fmt.Sprintf("store %d block %d", s+1, k))
}

// where names what lies at a file offset, for error messages.
func (rd *Reader) where(off int64) string {
	switch {
	case off < rd.ImageOffset:
		return "security header region"
	case len(rd.Stores) == 0 || off < rd.Stores[0].HeaderOffset:
		return "image header and manifest"
	}
	if off < rd.Stores[0].PayloadOffset {
		i := len(rd.Stores) - 1
		for i > 0 && off < rd.Stores[i].HeaderOffset {
			i--
		}
		return fmt.Sprintf("store %d header and descriptors", i+1)
	}
	for i, s := range rd.Stores {
		end := s.PayloadOffset + int64(len(s.Entries))*int64(s.Header.BlockSize)
		if off >= s.PayloadOffset && off < end {
			return fmt.Sprintf("store %d payload block %d", i+1, (off-s.PayloadOffset)/int64(s.Header.BlockSize))
		}
	}
	return "padding after the payload"
}

// Verify checks the catalog against the hash table and every chunk of the file, from the image
// header to the end, against the hash table. A changed, missing or extra byte is an error that
// names the chunk.
func (rd *Reader) Verify() error { return rd.verify(nil) }

// VerifyExtract is Verify and Extract in one read of the file: the blocks of a single-store
// image are written to dst (sparse, in write-descriptor order, as Extract writes them) from
// the chunks Verify reads. On an error dst holds part of the disk; the caller discards it.
func (rd *Reader) VerifyExtract(dst *os.File) error {
	if len(rd.Stores) != 1 {
		return fmt.Errorf("the image has %d stores: extract them one by one (ExtractStore)", len(rd.Stores))
	}
	st := rd.Stores[0]
	if err := emptyTo(dst, st.DiskSize); err != nil {
		return err
	}
	bs := int64(st.Header.BlockSize)
	payloadEnd := st.PayloadOffset + int64(len(st.Entries))*bs
	pos := rd.ImageOffset // the file offset of the next byte the sink is handed
	return rd.verify(func(buf []byte) error {
		start := pos
		pos += int64(len(buf))
		// The part of buf that is payload, block by block (a block may span two units).
		for lo := max(start, st.PayloadOffset); lo < min(pos, payloadEnd); {
			k := (lo - st.PayloadOffset) / bs
			inner := lo - st.PayloadOffset - k*bs
			hi := min(pos, st.PayloadOffset+(k+1)*bs)
			piece := buf[lo-start : hi-start]
			for _, l := range st.Entries[k].Locations {
				off, ok := l.Offset(st.DiskSize, st.Header.BlockSize)
				if !ok { // Open has checked this
					return errors.New("ffu: internal error: location beyond the disk")
				}
				if _, err := dst.WriteAt(piece, off+inner); err != nil {
					return fmt.Errorf("writing block of write descriptor %d at disk offset %d: %w", k, off, err)
				}
			}
			lo = hi
		}
		return nil
	})
}

// verify is Verify, handing the bytes it reads from the image header on, in file order, to
// sink (if not nil).
func (rd *Reader) verify(sink func(buf []byte) error) error {
	member, err := CheckCatalog(rd.catalog, rd.hashTable)
	if err != nil {
		return &FormatError{err.Error()}
	}
	if member != catalogMemberName {
		rd.warnings = append(rd.warnings, fmt.Sprintf("the catalog member holding the hash table's SHA-1 is called %q, not %s as in ImageApp's catalogs", member, catalogMemberName))
	}
	chunk := rd.chunk()
	n := int64(len(rd.hashTable) / hashSize)
	// Hash the complete chunks the file has, then compare in order: the first bad chunk is
	// reported before a truncation further on.
	have := min(n, max(rd.size-rd.ImageOffset, 0)/chunk)
	sums := make([]byte, have*hashSize)
	fill := func(buf []byte, off int64) error {
		return rd.readAt(buf, rd.ImageOffset+off, fmt.Sprintf("chunk %d", off/chunk))
	}
	if err := hashStream(have*chunk, chunk, sums, fill, sink); err != nil {
		return err
	}
	for i := range have {
		if !bytes.Equal(sums[i*hashSize:(i+1)*hashSize], rd.hashTable[i*hashSize:(i+1)*hashSize]) {
			off := rd.ImageOffset + i*chunk
			return formatErr("chunk %d (offset %d, %s): SHA-256 does not match the hash table", i, off, rd.where(off))
		}
	}
	if have < n {
		off := rd.ImageOffset + have*chunk
		if off >= rd.size {
			return formatErr("chunk %d (offset %d): missing, the file ends at %d: truncated (the hash table lists %d chunks)", have, off, rd.size, n)
		}
		return formatErr("chunk %d (offset %d, %s): truncated, %d of %d bytes", have, off, rd.where(off), rd.size-off, chunk)
	}
	if end := rd.ImageOffset + n*chunk; end < rd.size {
		return formatErr("%d bytes after the last hashed chunk %d (offset %d) are not covered by the hash table", rd.size-end, n-1, end)
	}
	return nil
}

// Extract writes the disk of a single-store image to dst as a sparse file: dst is truncated to
// the disk size and only the stored blocks are written, in write-descriptor order, so later
// phases overwrite earlier ones.
func (rd *Reader) Extract(dst *os.File) error {
	if len(rd.Stores) != 1 {
		return fmt.Errorf("the image has %d stores: extract them one by one (ExtractStore)", len(rd.Stores))
	}
	return rd.ExtractStore(0, dst)
}

// ExtractStore writes the disk of store s (0-based) to dst, as Extract does.
func (rd *Reader) ExtractStore(s int, dst *os.File) error {
	if s < 0 || s >= len(rd.Stores) {
		return fmt.Errorf("no store %d (the image has %d)", s+1, len(rd.Stores))
	}
	if err := emptyTo(dst, rd.Stores[s].DiskSize); err != nil {
		return err
	}
	return rd.extractTo(s, dst)
}

// extractTo writes the blocks of store s to w in write-descriptor order.
func (rd *Reader) extractTo(s int, w io.WriterAt) error {
	st := rd.Stores[s]
	buf := make([]byte, st.Header.BlockSize)
	for k, e := range st.Entries {
		if err := rd.ReadBlock(s, k, buf); err != nil {
			return err
		}
		for _, l := range e.Locations {
			off, ok := l.Offset(st.DiskSize, st.Header.BlockSize)
			if !ok { // Open has checked this
				return errors.New("ffu: internal error: location beyond the disk")
			}
			if _, err := w.WriteAt(buf, off); err != nil {
				return fmt.Errorf("writing block of write descriptor %d at disk offset %d: %w", k, off, err)
			}
		}
	}
	return nil
}

// DiskReader is a read-only view of store s's disk (0-based) as Extract would write it, read
// from the payload on demand: for reading the final GPT or file systems of an image without
// extracting it. Blocks that no write descriptor stores read as zeros. It needs a disk size that
// is a multiple of the block size (as every image ImageApp writes), so that DISK_BEGIN and
// DISK_END blocks line up.
func (rd *Reader) DiskReader(s int) (io.ReaderAt, error) {
	if s < 0 || s >= len(rd.Stores) {
		return nil, fmt.Errorf("no store %d (the image has %d)", s+1, len(rd.Stores))
	}
	st := rd.Stores[s]
	bs := int64(st.Header.BlockSize)
	if st.DiskSize%bs != 0 {
		return nil, fmt.Errorf("store %d: disk of %d bytes is not a multiple of the %d-byte block: extract it instead", s+1, st.DiskSize, bs)
	}
	v := &diskView{rd: rd, st: st, bs: bs, blocks: map[int64]int64{}}
	for k, e := range st.Entries {
		for _, l := range e.Locations {
			off, _ := l.Offset(st.DiskSize, st.Header.BlockSize)
			v.blocks[off/bs] = int64(k) // later descriptors win, as in Extract
		}
	}
	return v, nil
}

type diskView struct {
	rd     *Reader
	st     *Store
	bs     int64
	blocks map[int64]int64 // disk block -> write descriptor
}

func (v *diskView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	n := 0
	for n < len(p) && off < v.st.DiskSize {
		inner := off % v.bs
		k := int(min(int64(len(p)-n), v.bs-inner, v.st.DiskSize-off))
		if d, ok := v.blocks[off/v.bs]; ok {
			src := v.st.PayloadOffset + d*v.bs + inner
			if err := v.rd.readAt(p[n:n+k], src, fmt.Sprintf("block of write descriptor %d", d)); err != nil {
				return n, err
			}
		} else {
			clear(p[n : n+k])
		}
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
