// Package ffu reads and writes full flash update images (.ffu), the format ImageApp (ImgGen.cmd)
// writes for Windows 10 Mobile devices: security header, catalog and SHA-256 hash table, image
// header and INI manifest, store header(s) with write descriptors, and the payload blocks, laid
// out in the three phases the Microsoft tool uses (docs/ffu.md; FORMATS.md section 3;
// docs/ffu-image-format.md).
//
// The writer streams: payload blocks are read from the raw disk as they are written and hashed
// on the way out, so memory follows the number of stored blocks, never the disk size. Output is
// deterministic: the same inputs give the same bytes (no timestamps, fixed manifest key order).
// The reader checks every header against the file before it allocates anything and reports what
// is wrong and where.
package ffu

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// Format constants (FORMATS.md section 3, ImageConstants in the Microsoft tools).
const (
	BlockSize          = 128 << 10 // PAYLOAD_BLOCK_SIZE: bytes of one payload block
	DefaultChunkSizeKB = 256       // ImageGeneratorParameters.DefaultChunkSize
	MaxChunkSizeKB     = 1024      // DeviceLayout ChunkSize is 1..1024 (KB)
	AlgSHA256          = 0x800C    // CALG_SHA_256, SECURITY_HEADER.dwAlgId

	securityHeaderSize = 32
	imageHeaderSize    = 24
	imageHeaderSizeDTI = 28 // img2ffu: adds DeviceTargetInfoCount
	storeHeaderV1Size  = 248
	storeHeaderV2Fixed = storeHeaderV1Size + 2 + 2 + 8 + 2 // before the UTF-16 device path
	platformIDBytes    = 192
	hashSize           = 32 // SHA-256
	blockEntryFixed    = 8  // dwLocationCount, dwBlockCount
	diskLocationSize   = 8
	validationFixed    = 12

	securitySignature = "SignedImage "
	imageSignature    = "ImageFlash  "

	// Sanity bounds for the reader: no real image comes near them, and they keep a hostile
	// header from asking for absurd buffers.
	minReadBlockSize = 512
	maxReadBlockSize = 16 << 20
)

// Limits of the reader (docs/ffu.md, "Reader checks"). Every size an FFU claims is checked
// against the file first, and against these before anything is allocated for it: no real
// image comes near them, and they keep a hostile header within a fixed amount of memory.
const (
	// MaxSectorSize bounds [Store] SectorSize: disks have 512- or 4096-byte sectors, and a GPT
	// header is read as one sector.
	MaxSectorSize = disk.MaxSectorSize
	// MaxDiskSize bounds a store's disk (MinSectorCount × SectorSize): 2^32 sectors of 4096
	// bytes, the most a 32-bit MinSectorCount (ImageApp's, and the writer's) describes with
	// real sector sizes. Extract makes a sparse file of this size.
	MaxDiskSize = 16 << 40
	// MaxCatalogBytes bounds the catalog: unsigned it is 328 bytes, signed a few KB.
	MaxCatalogBytes = 1 << 20
	// MaxHashTableBytes bounds the hash table: 32 bytes per chunk, so 16 MiB for 64 GiB of
	// image in 128 KB chunks; 256 MiB covers 1 TiB.
	MaxHashTableBytes = 256 << 20
	// MaxDescriptorBytes bounds each of a store's validation and write descriptor arrays: a
	// write descriptor of one location is 16 bytes per 128 KiB block, so 64 MiB describe
	// 512 GiB of stored blocks.
	MaxDescriptorBytes = 64 << 20
)

// AccessMethod is DISK_LOCATION.dwDiskAccessMethod.
type AccessMethod uint32

const (
	DiskBegin AccessMethod = 0 // block index counted from the start of the disk
	DiskEnd   AccessMethod = 2 // block index counted back from the end of the disk
)

func (m AccessMethod) String() string {
	switch m {
	case DiskBegin:
		return "DISK_BEGIN"
	case DiskEnd:
		return "DISK_END"
	}
	return fmt.Sprintf("unknown(%d)", uint32(m))
}

// DiskLocation is where a payload block goes on the disk.
type DiskLocation struct {
	Method     AccessMethod
	BlockIndex uint32
}

// Offset is the byte offset of the location on a disk of diskSize bytes with blockSize blocks;
// for DISK_END, diskSize - BlockIndex*blockSize - blockSize. ok is false if the block does not
// lie entirely on the disk.
func (l DiskLocation) Offset(diskSize int64, blockSize uint32) (off int64, ok bool) {
	start := int64(l.BlockIndex) * int64(blockSize)
	if start+int64(blockSize) > diskSize {
		return 0, false
	}
	switch l.Method {
	case DiskBegin:
		return start, true
	case DiskEnd:
		return diskSize - start - int64(blockSize), true
	}
	return 0, false
}

func (l DiskLocation) String() string {
	return fmt.Sprintf("%v %d", l.Method, l.BlockIndex)
}

// BlockEntry is a BLOCK_DATA_ENTRY (write descriptor): one payload block written to every
// location. dwBlockCount is always 1 (the reader rejects anything else).
type BlockEntry struct {
	Locations []DiskLocation
}

// SecurityHeader is SECURITY_HEADER.
type SecurityHeader struct {
	Size          uint32 // cbSize, 32
	ChunkSizeKB   uint32
	AlgID         uint32
	CatalogSize   uint32
	HashTableSize uint32
}

// ImageHeader is the FFU IMAGE_HEADER ("ImageFlash  ").
type ImageHeader struct {
	Size                  uint32 // cbSize: 24, or 28 with DeviceTargetInfoCount (img2ffu)
	ManifestLength        uint32
	ChunkSizeKB           uint32
	DeviceTargetInfoCount uint32 // only when Size is 28
}

// StoreHeader is STORE_HEADER, with the v2 fields when MajorVersion is 2.
type StoreHeader struct {
	UpdateType               uint32 // 0 full, 1 partial
	MajorVersion             uint16 // 1 or 2
	MinorVersion             uint16
	FullFlashMajorVersion    uint16 // 2
	FullFlashMinorVersion    uint16
	PlatformIDs              []string // szPlatformId, NUL-separated
	BlockSize                uint32   // dwBlockSizeInBytes
	WriteDescriptorCount     uint32
	WriteDescriptorLength    uint32
	ValidateDescriptorCount  uint32
	ValidateDescriptorLength uint32
	InitialTableIndex        uint32
	InitialTableCount        uint32
	FlashOnlyTableIndex      uint32
	FlashOnlyTableCount      uint32
	FinalTableIndex          uint32
	FinalTableCount          uint32
	NumOfStores              uint16 // v2
	StoreIndex               uint16 // v2, 1-based
	StorePayloadSize         uint64 // v2, payload bytes without padding
	DevicePath               string // v2, UTF-16LE in the file, no NUL
}

// size is the encoded size of the header.
func (h *StoreHeader) size() int {
	if h.MajorVersion >= 2 {
		return storeHeaderV2Fixed + 2*len(utf16.Encode([]rune(h.DevicePath)))
	}
	return storeHeaderV1Size
}

// encode lays the header out; the caller has checked that the platform IDs fit (checkPlatformIDs).
func (h *StoreHeader) encode() []byte {
	b := make([]byte, h.size())
	le := binary.LittleEndian
	le.PutUint32(b[0:], h.UpdateType)
	le.PutUint16(b[4:], h.MajorVersion)
	le.PutUint16(b[6:], h.MinorVersion)
	le.PutUint16(b[8:], h.FullFlashMajorVersion)
	le.PutUint16(b[10:], h.FullFlashMinorVersion)
	p := 12
	for _, id := range h.PlatformIDs {
		p += copy(b[p:12+platformIDBytes-1], id) + 1 // NUL after each; the last byte stays NUL
	}
	fields := []uint32{h.BlockSize, h.WriteDescriptorCount, h.WriteDescriptorLength,
		h.ValidateDescriptorCount, h.ValidateDescriptorLength, h.InitialTableIndex,
		h.InitialTableCount, h.FlashOnlyTableIndex, h.FlashOnlyTableCount, h.FinalTableIndex,
		h.FinalTableCount}
	for i, v := range fields {
		le.PutUint32(b[0xCC+4*i:], v)
	}
	if h.MajorVersion >= 2 {
		p := storeHeaderV1Size
		units := utf16.Encode([]rune(h.DevicePath))
		le.PutUint16(b[p:], h.NumOfStores)
		le.PutUint16(b[p+2:], h.StoreIndex)
		le.PutUint64(b[p+4:], h.StorePayloadSize)
		le.PutUint16(b[p+12:], uint16(len(units)))
		for i, u := range units {
			le.PutUint16(b[p+14+2*i:], u)
		}
	}
	return b
}

func entriesSize(entries []BlockEntry) int64 {
	n := int64(0)
	for _, e := range entries {
		n += blockEntryFixed + diskLocationSize*int64(len(e.Locations))
	}
	return n
}

func encodeEntries(entries []BlockEntry) []byte {
	b := make([]byte, 0, entriesSize(entries))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Locations)))
		b = binary.LittleEndian.AppendUint32(b, 1)
		for _, l := range e.Locations {
			b = binary.LittleEndian.AppendUint32(b, uint32(l.Method))
			b = binary.LittleEndian.AppendUint32(b, l.BlockIndex)
		}
	}
	return b
}

func roundUp(n, to int64) int64 {
	if r := n % to; r != 0 {
		return n + to - r
	}
	return n
}
