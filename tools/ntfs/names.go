package ntfs

import (
	"strconv"
	"strings"
)

const shortChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~"

func shortChar(r rune) bool {
	return r < 0x80 && strings.ContainsRune(shortChars, r)
}

// is83 reports whether name is a legal 8.3 name once upper-cased: then Windows stores it as
// its own short name and makes none.
func is83(name string) bool {
	base, ext, dot := strings.Cut(name, ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || (dot && ext == "") || strings.Contains(ext, ".") {
		return false
	}
	for _, r := range strings.ToUpper(base + ext) {
		if !shortChar(r) {
			return false
		}
	}
	return true
}

// shortBasis returns the upper-cased 8.3 basis of a long name as Windows forms it: spaces and
// leading dots dropped, other characters not allowed in short names turned into '_', the base
// cut to 6 characters for the "~n" tail and the last extension to 3.
func shortBasis(name string) (base, ext string) {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			switch {
			case r == ' ' || r == '.':
			case shortChar(r):
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	name = strings.TrimLeft(name, ".")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		base, ext = clean(name[:i]), clean(name[i+1:])
	} else {
		base = clean(name)
	}
	if len(ext) > 3 {
		ext = ext[:3]
	}
	if base == "" {
		base = "_"
	}
	return base, ext
}

// shortName makes the n-th short name of a basis: BASE~n.EXT in at most 8.3 characters.
func shortName(base, ext string, n int) string {
	tail := "~" + strconv.Itoa(n)
	if len(base)+len(tail) > 8 {
		base = base[:8-len(tail)]
	}
	if ext != "" {
		return base + tail + "." + ext
	}
	return base + tail
}
