package utf16le

import "testing"

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		in           string
		str, cstring string
	}{
		{"", "", ""},
		{"M\x00a\x00i\x00n\x00", "Main", "Main"},
		{"E\x00F\x00I\x00\x00\x00X\x00", "EFI\x00X", "EFI"},
		{"\xc4\x00\xdc\x00", "ÄÜ", "ÄÜ"},
		{"=\xd8\x00\xde", "😀", "😀"},          // a surrogate pair
		{"=\xd8A\x00", "\ufffdA", "\ufffdA"}, // an unpaired surrogate
		{"A\x00B", "A", "A"},                 // an odd last byte
		{"\x00\x00A\x00", "\x00A", ""},       // NUL first
		{"A\x00\x00", "A", "A"},              // a lone zero byte is not a NUL unit
	} {
		if got := String([]byte(c.in)); got != c.str {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.str)
		}
		if got := CString([]byte(c.in)); got != c.cstring {
			t.Errorf("CString(%q) = %q, want %q", c.in, got, c.cstring)
		}
	}
}
