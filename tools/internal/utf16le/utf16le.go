// Package utf16le decodes the little-endian UTF-16 strings of Windows formats (GPT partition
// names, catalog tags and names, INF files): one decoder for the project's readers.
package utf16le

import "unicode/utf16"

// String decodes b as UTF-16LE; an odd last byte is ignored, unpaired surrogates become U+FFFD.
func String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// CString decodes b as UTF-16LE up to its first NUL code unit (a fixed-size or NUL-terminated
// field).
func CString(b []byte) string {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return String(b[:i])
		}
	}
	return String(b)
}
