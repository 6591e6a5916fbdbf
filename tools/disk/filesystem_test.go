package disk

import (
	"strings"
	"testing"
)

func TestParseAttributes(t *testing.T) {
	for _, tt := range []struct {
		names string
		want  Attributes
	}{
		{"", 0},
		{"Normal", 0},
		{"Archive", 0}, // the writers' own bit
		{"ReadOnly", ReadOnly},
		{"Hidden System", Hidden | System},
		{"ReadOnly Hidden System Archive Offline", ReadOnly | Hidden | System},
		{"  ReadOnly\tHidden ", ReadOnly | Hidden},
		{"readonly", 0}, // names are case-sensitive, as in a DSM
	} {
		if got := ParseAttributes(tt.names); got != tt.want {
			t.Errorf("ParseAttributes(%q) = %#x, want %#x", tt.names, got, tt.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, tt := range []struct {
		name, err string // err: "" for a valid name, else a part of the error
	}{
		{"a.dll", ""},
		{"very long file name with spaces.txt", ""},
		{"ÄÖÜ-ünïcode.bin", ""},
		{strings.Repeat("x", 255), ""},
		{strings.Repeat("x", 256), "longer than 255"},
		{strings.Repeat("😀", 128), "longer than 255"}, // 256 UTF-16 units
		{"", "invalid file name"},
		{".", "invalid file name"},
		{"..", "invalid file name"},
		{"name.", "ends in '.' or ' '"},
		{"name ", "ends in '.' or ' '"},
		{"a?b", `character '?' is not allowed`},
		{"a\x01b", `character '\x01' is not allowed`},
		{`a\b`, `character '\\' is not allowed`},
	} {
		err := CheckName(tt.name)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("CheckName(%q) = %v, want nil", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("CheckName(%q) = %v, want an error with %q", tt.name, err, tt.err)
		}
	}
}
