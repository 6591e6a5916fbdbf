// Package cab reads and writes Microsoft Cabinet files ([MS-CAB]), the container of mobile
// packages (.spkg): stored, MSZIP and LZX compression (tools/lzx), several folders,
// deterministic bytes.
//
// Existing Go code was looked at first (abemedia/go-cabinet: reader and writer without
// checksums on write or parallel compression; secDre4mer/go-cab and google/go-cabfile: readers
// only). This package is written for the project's needs instead: byte-for-byte deterministic
// output, streaming with bounded memory, MSZIP blocks compressed in parallel, every header
// size checked against the file before anything is allocated, and a plain error for Quantum.
// See docs/formats.md and docs/lzx.md.
package cab

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Compression is a folder's typeCompress (low 4 bits; LZX and Quantum keep a window size in the
// high byte).
type Compression uint16

const (
	None    Compression = 0
	MSZIP   Compression = 1
	Quantum Compression = 2
	LZX     Compression = 3
)

func (c Compression) String() string {
	switch c & 0xF {
	case None:
		return "none"
	case MSZIP:
		return "MSZIP"
	case Quantum:
		return "Quantum"
	case LZX:
		return "LZX"
	}
	return fmt.Sprintf("unknown(%#x)", uint16(c))
}

// LZXWindow is the typeCompress of LZX with a window of 2^bits bytes (15 to 21).
func LZXWindow(bits int) Compression { return LZX | Compression(bits)<<8 }

// WindowBits is the window order an LZX typeCompress names (bits 8-12).
func (c Compression) WindowBits() int { return int(c>>8) & 0x1F }

// Format limits ([MS-CAB] 2.1 and 2.3).
const (
	blockSize      = 32768                  // uncompressed bytes of one CFDATA block
	maxBlocks      = 65535                  // CFDATA blocks of one folder (cCFData is 16 bits)
	MaxFolderBytes = maxBlocks * blockSize  // 0x7FFF8000: also the largest file
	MaxFiles       = 65535                  // cFiles is 16 bits
	MaxCabinet     = 1<<32 - 1              // cbCabinet is 32 bits
	maxNameBytes   = 256                    // CB_MAX_FILENAME
	headerSize     = 36                     // CFHEADER without reserve
	folderSize     = 8                      // CFFOLDER without reserve
	fileFixedSize  = 16                     // CFFILE before the name
	dataHeaderSize = 8                      // CFDATA before the data
	maxMSZIPData   = blockSize + 12         // cbData limit for an MSZIP block
	maxLZXData     = blockSize + 6144       // cbData limit for an LZX block (libmspack's)
	signature      = "MSCF"                 // CFHEADER signature
	flagPrevCab    = 0x0001                 // cfhdrPREV_CABINET
	flagNextCab    = 0x0002                 // cfhdrNEXT_CABINET
	flagReserve    = 0x0004                 // cfhdrRESERVE_PRESENT
	attrNameIsUTF  = 0x80                   // _A_NAME_IS_UTF
	dosEpochYear   = 1980                   // MS-DOS dates start here
	versionMinor   = 3                      // cabinet format 1.3
	versionMajor   = 1                      //
	defaultModTime = "2015-07-29T00:00:00Z" // Windows 10 release: the fixed default stamp
)

// File attributes of CFFILE.attribs.
const (
	AttrReadOnly = 0x01
	AttrHidden   = 0x02
	AttrSystem   = 0x04
	AttrArchive  = 0x20
	AttrExec     = 0x40
)

// DefaultModTime is the timestamp written when the caller gives none: fixed, so that the same
// inputs give the same bytes.
var DefaultModTime, _ = time.Parse(time.RFC3339, defaultModTime)

// checksum is the CFDATA checksum of [MS-CAB] 2.5: 32-bit little-endian words XORed together;
// the 1-3 trailing bytes are combined with the first of them in the high position.
func checksum(b []byte, seed uint32) uint32 {
	csum := seed
	// XOR 8 bytes at a time: the two halves of the 64-bit XOR are the XORs of the even and
	// odd 32-bit words, which fold into the same checksum.
	var wide uint64
	n8 := len(b) / 8
	for i := 0; i < n8; i++ {
		wide ^= binary.LittleEndian.Uint64(b[8*i:])
	}
	csum ^= uint32(wide) ^ uint32(wide>>32)
	n := len(b) / 4
	for i := 2 * n8; i < n; i++ {
		csum ^= binary.LittleEndian.Uint32(b[4*i:])
	}
	var ul uint32
	rest := b[4*n:]
	switch len(rest) {
	case 3:
		ul = uint32(rest[0])<<16 | uint32(rest[1])<<8 | uint32(rest[2])
	case 2:
		ul = uint32(rest[0])<<8 | uint32(rest[1])
	case 1:
		ul = uint32(rest[0])
	}
	return csum ^ ul
}

// dataChecksum is the csum field of a CFDATA: over the data, then over cbData and cbUncomp.
func dataChecksum(data []byte, uncompressed int) uint32 {
	var sizes [4]byte
	binary.LittleEndian.PutUint16(sizes[0:], uint16(len(data)))
	binary.LittleEndian.PutUint16(sizes[2:], uint16(uncompressed))
	return checksum(sizes[:], checksum(data, 0))
}

// dosDateTime converts t (in UTC) to MS-DOS date and time; times before 1980 become 1980-01-01.
func dosDateTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Year() < dosEpochYear {
		return 1<<5 | 1, 0
	}
	if t.Year() > dosEpochYear+127 {
		t = time.Date(dosEpochYear+127, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Year()-dosEpochYear)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	tm = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return date, tm
}

func fromDOSDateTime(date, tm uint16) time.Time {
	return time.Date(int(date>>9)+dosEpochYear, time.Month(date>>5&0xF), int(date&0x1F),
		int(tm>>11), int(tm>>5&0x3F), int(tm&0x1F)*2, 0, time.UTC)
}

// CheckName reports whether name may be stored in or extracted from a cabinet: a relative path
// with '\' separators, no empty, "." or ".." part, no drive letter, no NUL or control
// character, at most 255 bytes.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty file name")
	case len(name) >= maxNameBytes:
		return fmt.Errorf("file name %q is %d bytes, the limit is %d", name, len(name), maxNameBytes-1)
	case strings.ContainsAny(name, "/:"):
		return fmt.Errorf("file name %q: '/' and ':' are not allowed (use '\\' between directories, no drive letter)", name)
	}
	for _, r := range name {
		if r < 0x20 {
			return fmt.Errorf("file name %q contains control character %#x", name, r)
		}
	}
	for _, part := range strings.Split(name, `\`) {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("file name %q: empty, '.' or '..' path element (names must stay inside the cabinet)", name)
		}
	}
	return nil
}
