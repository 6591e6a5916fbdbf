// Package wim writes and reads Windows Imaging (WIM) files, the format of Microsoft's
// ImgToWIM, WIMGAPI and wimlib: a 208-byte header, content-addressed resources ("blobs",
// identified by the SHA-1 of their content and stored once), one metadata resource per image
// (security data and the directory tree), a blob table, XML data in UTF-16LE and an optional
// integrity table.
//
// The Writer writes one image, with no compression or XPRESS (LZ77+Huffman) in chunks of
// 32 KiB, deterministically: the same tree gives the same bytes. The Reader reads the header,
// blob table, XML and directory trees of any single-part WIM and the content of uncompressed
// XPRESS and LZX resources (LZMS is reported as unsupported), and verifies the integrity
// table and every blob's SHA-1. docs/wim.md describes what the writer writes and why.
package wim

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Compression is the compression format of a WIM's resources.
type Compression int

const (
	None   Compression = iota // stored
	XPRESS                    // LZ77+Huffman ([MS-XCA] 2.1), chunks of up to 64 KiB
	LZX                       // tools/lzx, chunks of 32 KiB to 2 MiB; read only for now
	LZMS                      // read: not supported yet; write: not supported yet
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case XPRESS:
		return "XPRESS"
	case LZX:
		return "LZX"
	case LZMS:
		return "LZMS"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Header flags (WIM_HDR_FLAG_*).
const (
	FlagCompression     = 0x00000002
	FlagReadOnly        = 0x00000004
	FlagSpanned         = 0x00000008
	FlagResourceOnly    = 0x00000010
	FlagMetadataOnly    = 0x00000020
	FlagWriteInProgess  = 0x00000040
	FlagRPFix           = 0x00000080
	FlagCompressXPRESS  = 0x00020000
	FlagCompressLZX     = 0x00040000
	FlagCompressLZMS    = 0x00080000
	FlagCompressXPRESS2 = 0x00200000
)

// Resource header flags (WIM_RESHDR_FLAG_*).
const (
	ResFree       = 0x01
	ResMetadata   = 0x02
	ResCompressed = 0x04
	ResSpanned    = 0x08
	ResSolid      = 0x10
)

// File attributes (FILE_ATTRIBUTE_*) stored in directory entries.
const (
	AttrReadOnly          = 0x00000001
	AttrHidden            = 0x00000002
	AttrSystem            = 0x00000004
	AttrDirectory         = 0x00000010
	AttrArchive           = 0x00000020
	AttrDevice            = 0x00000040
	AttrNormal            = 0x00000080
	AttrTemporary         = 0x00000100
	AttrSparseFile        = 0x00000200
	AttrReparsePoint      = 0x00000400
	AttrCompressed        = 0x00000800
	AttrOffline           = 0x00001000
	AttrNotContentIndexed = 0x00002000
	AttrEncrypted         = 0x00004000
)

const (
	headerSize        = 208
	magic             = "MSWIM\x00\x00\x00"
	versionDefault    = 0x10D00 // 1.13, what WIMGAPI and wimlib write for non-solid WIMs
	versionSolid      = 0xE00
	reshdrSize        = 24
	blobEntrySize     = 50
	dentryFixedSize   = 102
	integrityChunk    = 10 << 20 // bytes per integrity-table hash, as WIMGAPI and wimlib use
	defaultChunkSize  = 32768
	filetimeUnixDelta = 116444736000000000 // 100 ns intervals from 1601-01-01 to 1970-01-01
)

// Resource describes where a resource lies in the file (a resource header, reshdr).
type Resource struct {
	SizeInWIM        int64 // bytes in the file (56 bits on disk)
	Flags            byte  // Res* flags
	Offset           int64 // from the start of the file
	UncompressedSize int64
}

func (r Resource) put(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], uint64(r.SizeInWIM)&(1<<56-1)|uint64(r.Flags)<<56)
	binary.LittleEndian.PutUint64(b[8:], uint64(r.Offset))
	binary.LittleEndian.PutUint64(b[16:], uint64(r.UncompressedSize))
}

func getResource(b []byte) Resource {
	v := binary.LittleEndian.Uint64(b)
	return Resource{
		SizeInWIM:        int64(v & (1<<56 - 1)),
		Flags:            byte(v >> 56),
		Offset:           int64(binary.LittleEndian.Uint64(b[8:]) & (1<<63 - 1)),
		UncompressedSize: int64(binary.LittleEndian.Uint64(b[16:]) & (1<<63 - 1)),
	}
}

// Header is the 208-byte WIM header.
type Header struct {
	Version      uint32
	Flags        uint32
	ChunkSize    uint32
	GUID         [16]byte
	PartNumber   uint16
	TotalParts   uint16
	ImageCount   uint32
	BlobTable    Resource
	XMLData      Resource
	BootMetadata Resource
	BootIndex    uint32
	Integrity    Resource
}

func (h *Header) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[8:], headerSize)
	binary.LittleEndian.PutUint32(b[0x0C:], h.Version)
	binary.LittleEndian.PutUint32(b[0x10:], h.Flags)
	binary.LittleEndian.PutUint32(b[0x14:], h.ChunkSize)
	copy(b[0x18:], h.GUID[:])
	binary.LittleEndian.PutUint16(b[0x28:], h.PartNumber)
	binary.LittleEndian.PutUint16(b[0x2A:], h.TotalParts)
	binary.LittleEndian.PutUint32(b[0x2C:], h.ImageCount)
	h.BlobTable.put(b[0x30:])
	h.XMLData.put(b[0x48:])
	h.BootMetadata.put(b[0x60:])
	binary.LittleEndian.PutUint32(b[0x78:], h.BootIndex)
	h.Integrity.put(b[0x7C:])
	return b
}

func parseHeader(b []byte) (*Header, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("header: file has %d bytes, a WIM header has %d", len(b), headerSize)
	}
	if string(b[:8]) != magic {
		return nil, fmt.Errorf("header: magic %q is not %q: not a WIM file", b[:8], magic)
	}
	if n := binary.LittleEndian.Uint32(b[8:]); n != headerSize {
		return nil, fmt.Errorf("header: header size %d, want %d", n, headerSize)
	}
	h := &Header{
		Version:      binary.LittleEndian.Uint32(b[0x0C:]),
		Flags:        binary.LittleEndian.Uint32(b[0x10:]),
		ChunkSize:    binary.LittleEndian.Uint32(b[0x14:]),
		PartNumber:   binary.LittleEndian.Uint16(b[0x28:]),
		TotalParts:   binary.LittleEndian.Uint16(b[0x2A:]),
		ImageCount:   binary.LittleEndian.Uint32(b[0x2C:]),
		BlobTable:    getResource(b[0x30:]),
		XMLData:      getResource(b[0x48:]),
		BootMetadata: getResource(b[0x60:]),
		BootIndex:    binary.LittleEndian.Uint32(b[0x78:]),
		Integrity:    getResource(b[0x7C:]),
	}
	copy(h.GUID[:], b[0x18:])
	return h, nil
}

// Compression returns the compression format the header's flags name.
func (h *Header) Compression() (Compression, error) {
	if h.Flags&FlagCompression == 0 {
		return None, nil
	}
	switch {
	case h.Flags&FlagCompressXPRESS != 0:
		return XPRESS, nil
	case h.Flags&FlagCompressLZX != 0:
		return LZX, nil
	case h.Flags&FlagCompressLZMS != 0:
		return LZMS, nil
	}
	return None, fmt.Errorf("header: flags %#x set COMPRESSION but name no known format", h.Flags)
}

// filetime converts t to a Windows FILETIME (100 ns intervals since 1601-01-01 UTC).
func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100 + filetimeUnixDelta)
}

// FiletimeToTime converts a Windows FILETIME to a time.Time in UTC.
func FiletimeToTime(ft uint64) time.Time {
	v := int64(ft) - filetimeUnixDelta
	return time.Unix(v/1e7, v%1e7*100).UTC()
}
