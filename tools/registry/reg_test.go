package registry

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func sz(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s + "\x00")) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func decode(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xFE || len(b)%2 != 0 {
		t.Fatalf("no UTF-16LE byte order mark: % x", b[:min(len(b), 4)])
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 2; i < len(b); i += 2 {
		u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
	}
	return string(utf16.Decode(u))
}

func TestFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Value
		want string
	}{
		{"empty", nil, "Windows Registry Editor Version 5.00\r\n"},
		{"empty key", []Value{{Key: `HKEY_CURRENT_USER\K`}}, "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\K]\r\n"},
		{"types and order", []Value{
			{Key: `HKEY_LOCAL_MACHINE\Software\B`, Name: "z", Type: "REG_DWORD", Data: []byte{1, 2, 3, 4}},
			{Key: `HKEY_LOCAL_MACHINE\Software\a`, Name: "Path", Type: "REG_SZ", Data: sz(`C:\x "y"`)},
			{Key: `HKEY_LOCAL_MACHINE\SOFTWARE\b`, Name: "@", Type: "REG_SZ", Data: sz("d")},
			{Key: `HKEY_LOCAL_MACHINE\Software\B`, Name: "Q", Type: "REG_QWORD", Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
			{Key: `HKEY_LOCAL_MACHINE\Software\B`, Name: "bin", Type: "REG_BINARY", Data: []byte{0xab, 0}},
			{Key: `HKEY_LOCAL_MACHINE\Software\B`, Name: "e", Type: "REG_EXPAND_SZ", Data: sz("%a%")},
			{Key: `HKEY_LOCAL_MACHINE\Software\B`, Name: "m", Type: "REG_MULTI_SZ", Data: append(sz("a"), 0, 0)},
			{Key: `HKEY_LOCAL_MACHINE\Software\B`, Name: "nl", Type: "REG_SZ", Data: sz("a\nb")},
		}, "Windows Registry Editor Version 5.00\r\n" +
			"\r\n[HKEY_LOCAL_MACHINE\\Software\\a]\r\n\"Path\"=\"C:\\\\x \\\"y\\\"\"\r\n" +
			"\r\n[HKEY_LOCAL_MACHINE\\Software\\B]\r\n@=\"d\"\r\n\"bin\"=hex:ab,00\r\n\"e\"=hex(2):25,00,61,00,25,00,00,00\r\n" +
			"\"m\"=hex(7):61,00,00,00,00,00\r\n\"nl\"=hex(1):61,00,0a,00,62,00,00,00\r\n\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n\"z\"=dword:04030201\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := File(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := decode(t, b); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestFileUnknownType(t *testing.T) {
	_, err := File([]Value{{Key: `HKEY_LOCAL_MACHINE\x`, Name: "v", Type: "REG_NONSENSE"}})
	if err == nil || !strings.Contains(err.Error(), "REG_NONSENSE") {
		t.Fatalf("err = %v, want one naming the type", err)
	}
}
