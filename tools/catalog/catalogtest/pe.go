package catalogtest

import (
	"encoding/binary"
	"fmt"
)

// PESpec describes a small PE image for tests to build with PE: no code that runs, but headers
// a PE parser (osslsigncode, a loader's) accepts: a DOS header and stub, the COFF header, a PE32
// or PE32+ optional header with 16 data directories, a section table, the sections at
// FileAlignment 0x200 after SizeOfHeaders 0x200, then Trailer (data after the sections, an
// "overlay") and, when Cert is set, a certificate table at the end of the file.
type PESpec struct {
	PE32     bool     // PE32 (magic 0x10b, i386) instead of PE32+ (0x20b, AMD64)
	Sections [][]byte // the sections' contents, each padded with zeros to 0x200 bytes
	Trailer  []byte   // bytes after the sections (any length: an odd one tests the 8-byte padding)
	CheckSum uint32   // the optional header's CheckSum field
	Cert     []byte   // the certificate table's WIN_CERTIFICATE content; nil: none
}

// PE offsets tests use to change fields.
const (
	PEHeaderOffset = 0x80             // e_lfanew
	PEOptOffset    = 0x80 + 4 + 20    // the optional header
	PECheckSum     = PEOptOffset + 64 // the CheckSum field
)

// PEDataDirs is the offset of the data directories of a PE32 (pe32) or PE32+ image built by PE.
func PEDataDirs(pe32 bool) int {
	if pe32 {
		return PEOptOffset + 96
	}
	return PEOptOffset + 112
}

// PE builds the image s describes.
func PE(s PESpec) []byte {
	const align, headerSize = 0x200, 0x200
	le := binary.LittleEndian
	optSize := 240
	if s.PE32 {
		optSize = 224
	}
	img := make([]byte, headerSize)
	copy(img, "MZ")
	le.PutUint16(img[2:], 0x90)
	le.PutUint32(img[0x3c:], PEHeaderOffset)
	copy(img[0x40:], "\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$")
	copy(img[PEHeaderOffset:], "PE\x00\x00")
	coff := img[PEHeaderOffset+4:]
	machine := uint16(0x8664)
	if s.PE32 {
		machine = 0x14c
	}
	le.PutUint16(coff[0:], machine)
	le.PutUint16(coff[2:], uint16(len(s.Sections)))
	le.PutUint32(coff[4:], 0x5f5e1000) // TimeDateStamp
	le.PutUint16(coff[16:], uint16(optSize))
	le.PutUint16(coff[18:], 0x2022) // executable, large address aware, DLL
	opt := img[PEOptOffset:]
	dirs := PEDataDirs(s.PE32) - PEOptOffset
	if s.PE32 {
		le.PutUint16(opt[0:], 0x10b)
		le.PutUint32(opt[28:], 0x10000000) // ImageBase
	} else {
		le.PutUint16(opt[0:], 0x20b)
		le.PutUint64(opt[24:], 0x180000000)
	}
	opt[2] = 14                                                // linker version
	le.PutUint32(opt[32:], 0x1000)                             // SectionAlignment
	le.PutUint32(opt[36:], align)                              // FileAlignment
	le.PutUint16(opt[40:], 6)                                  // OS version
	le.PutUint16(opt[48:], 6)                                  // subsystem version
	le.PutUint32(opt[56:], uint32(0x1000*(1+len(s.Sections)))) // SizeOfImage
	le.PutUint32(opt[60:], headerSize)                         // SizeOfHeaders
	le.PutUint32(opt[64:], s.CheckSum)                         // CheckSum
	le.PutUint16(opt[68:], 3)                                  // console
	le.PutUint16(opt[70:], 0x160)                              // DLL characteristics
	le.PutUint32(opt[dirs-4:], 16)                             // NumberOfRvaAndSizes
	table := img[PEOptOffset+optSize:]
	var body []byte
	for i, data := range s.Sections {
		raw := (len(data) + align - 1) / align * align
		h := table[40*i:]
		copy(h, fmt.Sprintf(".s%d", i))
		le.PutUint32(h[8:], uint32(len(data)))             // VirtualSize
		le.PutUint32(h[12:], uint32(0x1000*(i+1)))         // VirtualAddress
		le.PutUint32(h[16:], uint32(raw))                  // SizeOfRawData
		le.PutUint32(h[20:], uint32(headerSize+len(body))) // PointerToRawData
		le.PutUint32(h[36:], 0x40000040)                   // initialized data, readable
		body = append(body, data...)
		body = append(body, make([]byte, raw-len(data))...)
	}
	img = append(img, body...)
	img = append(img, s.Trailer...)
	if s.Cert != nil {
		img = append(img, make([]byte, (8-len(img)%8)%8)...)
		n := 8 + len(s.Cert)
		n += (8 - n%8) % 8
		wc := make([]byte, n)
		le.PutUint32(wc[0:], uint32(n))
		le.PutUint16(wc[4:], 0x200) // WIN_CERT_REVISION_2_0
		le.PutUint16(wc[6:], 2)     // WIN_CERT_TYPE_PKCS_SIGNED_DATA
		copy(wc[8:], s.Cert)
		dir := PEDataDirs(s.PE32) + 4*8
		le.PutUint32(img[dir:], uint32(len(img)))
		le.PutUint32(img[dir+4:], uint32(n))
		img = append(img, wc...)
	}
	return img
}
