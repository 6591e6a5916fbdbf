package fat

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"
)

const shortChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'()-@^_`{}~"

func utf16Of(s string) []uint16 { return utf16.Encode([]rune(s)) }

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// shortNameTries counts the candidates shortName tried (for the test that keeps it linear).
var shortNameTries atomic.Int64

// shortName returns the 8.3 name for name, unique among used, and whether name needs long-name
// entries (it does unless it is itself an upper-case 8.3 name).
func shortName(name string, used map[string]bool, tails map[string]int) ([11]byte, bool) {
	var out [11]byte
	if s, ok := exact83(name); ok && !used[string(s[:])] {
		return s, false
	}
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			switch {
			case r == ' ' || r == '.':
			case r < 0x80 && strings.ContainsRune(shortChars, r):
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	stem, ext := strings.TrimLeft(name, "."), ""
	if i := strings.LastIndexByte(stem, '.'); i > 0 {
		stem, ext = stem[:i], stem[i+1:]
	}
	base, e := clean(stem), clean(ext)
	if len(e) > 3 {
		e = e[:3]
	}
	if base == "" {
		base = "_"
	}
	// Numeric tails count up from where this basis last stopped (tails), so that a
	// directory of many similar names costs one try per name, not one per earlier name. The
	// candidates depend on the basis' first 6 characters only (BASE~n keeps 8 - len("~n") <= 6
	// of them), so that is the key: names alike in 6 characters share one count. Keyed by the
	// whole basis, each new name (BENCHFILE0001, BENCHFILE0002, ...) tried every tail given
	// before it, and a MainOS of 160,000 such files took 90 s here. Either way the smallest
	// free tail is chosen: every tail below the count is taken, and names are never freed.
	key := base
	if len(key) > 6 {
		key = key[:6]
	}
	key += "." + e
	n := tails[key]
	for {
		n++
		shortNameTries.Add(1)
		tail := "~" + strconv.Itoa(n)
		b := base
		if len(b)+len(tail) > 8 {
			b = b[:8-len(tail)]
		}
		copy(out[:], pad(b+tail, 8)+pad(e, 3))
		if !used[string(out[:])] {
			break
		}
	}
	tails[key] = n
	return out, true
}

// exact83 reports whether name is a valid upper-case 8.3 name, and its directory form.
func exact83(name string) ([11]byte, bool) {
	var out [11]byte
	stem, ext, _ := strings.Cut(name, ".")
	if stem == "" || len(stem) > 8 || len(ext) > 3 || strings.Contains(ext, ".") {
		return out, false
	}
	for _, r := range stem + ext {
		if r >= 0x80 || !strings.ContainsRune(shortChars, r) {
			return out, false
		}
	}
	copy(out[:], fmt.Sprintf("%-8s%-3s", stem, ext))
	return out, true
}

func lfnChecksum(short [11]byte) byte {
	var sum byte
	for _, c := range short {
		sum = (sum&1)<<7 + sum>>1 + c
	}
	return sum
}

// writeLFN writes the long-name entries of name before its short entry and returns the bytes
// used: 13 UTF-16 units per entry, last part first.
func writeLFN(buf []byte, name string, short [11]byte) int {
	units := utf16Of(name)
	n := (len(units) + 12) / 13
	padded := make([]uint16, n*13)
	for i := range padded {
		switch {
		case i < len(units):
			padded[i] = units[i]
		case i == len(units):
			padded[i] = 0
		default:
			padded[i] = 0xFFFF
		}
	}
	sum := lfnChecksum(short)
	slots := [13]int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30}
	for k := 0; k < n; k++ {
		seq := n - k // entries run from the last part to the first
		e := buf[k*dirEntrySize : (k+1)*dirEntrySize]
		e[0] = byte(seq)
		if k == 0 {
			e[0] |= 0x40
		}
		e[11] = attrLFN
		e[13] = sum
		for j, off := range slots {
			binary.LittleEndian.PutUint16(e[off:], padded[(seq-1)*13+j])
		}
	}
	return n * dirEntrySize
}

// labelName is a volume label in directory-entry form: upper case, 11 characters.
func labelName(label string) [11]byte {
	var out [11]byte
	var b strings.Builder
	for _, r := range strings.ToUpper(label) {
		if r < 0x80 && (strings.ContainsRune(shortChars, r) || r == ' ') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	copy(out[:], fmt.Sprintf("%-11.11s", b.String()))
	return out
}
