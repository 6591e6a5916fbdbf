package pkggen

import (
	"bytes"
	"strings"
	"testing"
)

func TestRegValueData(t *testing.T) {
	for _, tc := range []struct {
		typ, value, wantType string
		want                 []byte
		err                  string
	}{
		{"REG_SZ", "ab", "REG_SZ", []byte{'a', 0, 'b', 0, 0, 0}, ""},
		{"REG_SZ", "", "REG_SZ", []byte{0, 0}, ""},
		{"REG_EXPAND_SZ", "%a", "REG_EXPAND_SZ", []byte{'%', 0, 'a', 0, 0, 0}, ""},
		{"REG_MULTI_SZ", "a;b", "REG_MULTI_SZ", []byte{'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0}, ""},
		{"REG_DWORD", "1234ABCD", "REG_DWORD", []byte{0xcd, 0xab, 0x34, 0x12}, ""},
		{"REG_DWORD", "1", "REG_DWORD", []byte{1, 0, 0, 0}, ""},
		{"REG_QWORD", "1234ABCD1234ABCD", "REG_QWORD", []byte{0xcd, 0xab, 0x34, 0x12, 0xcd, 0xab, 0x34, 0x12}, ""},
		{"REG_BINARY", "1A,2B,3D", "REG_BINARY", []byte{0x1a, 0x2b, 0x3d}, ""},
		{"REG_BINARY", "", "REG_BINARY", nil, ""},
		{"REG_HEX", "hex(7):61,00,00,00,00,00", "REG_MULTI_SZ", []byte{0x61, 0, 0, 0, 0, 0}, ""},
		{"REG_HEX", "hex(b):01,00,00,00,00,00,00,00", "REG_QWORD", []byte{1, 0, 0, 0, 0, 0, 0, 0}, ""},
		{"REG_HEX", "hex(1):61", "REG_SZ", []byte{0x61}, ""},
		// Invalid forms.
		{"REG_DWORD", "0x10", "", nil, "without 0x"},
		{"REG_DWORD", "100000000", "", nil, "32-bit"},
		{"REG_DWORD", "", "", nil, "32-bit"},
		{"REG_DWORD", "-1", "", nil, "32-bit"},
		{"REG_QWORD", "G", "", nil, "64-bit"},
		{"REG_BINARY", "1A,2", "", nil, "byte 2"},
		{"REG_BINARY", "1A,,2B", "", nil, "byte 2"},
		{"REG_HEX", "7:61", "", nil, "hex(x):"},
		{"REG_HEX", "hex(0):61", "", nil, "hex(0)"},
		{"REG_HEX", "hex(zz):61", "", nil, "hex(zz)"},
		{"REG_HEX", "hex(3):6", "", nil, "byte 1"},
		{"MUI_SZ", "x", "", nil, "Type=\"MUI_SZ\""},
	} {
		typ, d, err := regValueData(tc.typ, tc.value)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q: err = %v, want one containing %q", tc.typ, tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || typ != tc.wantType || !bytes.Equal(d, tc.want) {
			t.Errorf("%s %q = %s % x, %v; want %s % x", tc.typ, tc.value, typ, d, err, tc.wantType, tc.want)
		}
	}
}

func FuzzRegValueData(f *testing.F) {
	for _, s := range []string{"REG_SZ\x00a", "REG_DWORD\x001234ABCD", "REG_HEX\x00hex(7):61,00", "REG_BINARY\x001A,2B", "REG_MULTI_SZ\x00a;b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, value, _ := strings.Cut(s, "\x00")
		_, d, err := regValueData(typ, value)
		if err == nil && len(d) > 2*len(value)+8 {
			t.Fatalf("%d bytes of data from a %d-byte value", len(d), len(value))
		}
	})
}
