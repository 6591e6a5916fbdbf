package fat

import (
	"fmt"
	"strconv"
	"testing"
)

// TestShortNamesLinear: a directory of many names alike in their first 6 characters gets the
// 8.3 names a search from ~1 gives (the smallest free tail), at one try per name. The count
// was kept per whole basis, so each new basis tried every tail given before it: quadratic.
func TestShortNamesLinear(t *testing.T) {
	const n = 1500
	used, tails := map[string]bool{}, map[string]int{}
	ref := map[string]bool{}
	before := shortNameTries.Load()
	for i := range n {
		name := fmt.Sprintf("BenchFile%05d.txt", i)
		if i%7 == 0 {
			name = fmt.Sprintf("bench%d.dat", i) // a shorter basis: its own count
		}
		got, lfn := shortName(name, used, tails)
		used[string(got[:])] = true
		want := refShortName(name, ref)
		ref[want] = true
		if string(got[:]) != want || !lfn {
			t.Fatalf("name %d %q: %q (long name %v), want %q", i, name, got, lfn, want)
		}
	}
	if tries := shortNameTries.Load() - before; tries > 2*n {
		t.Errorf("%d names took %d tries, want at most %d", n, tries, 2*n)
	}
}

// refShortName is the 8.3 name by the definition: the first BASE~k.EXT not used, k from 1,
// for the ASCII names of the test.
func refShortName(name string, used map[string]bool) string {
	stem, ext := name, ""
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '.' {
			stem, ext = name[:i], name[i+1:]
			break
		}
	}
	up := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				b[i] = c - 32
			}
		}
		return string(b)
	}
	base, e := up(stem), up(ext)
	for k := 1; ; k++ {
		tail := "~" + strconv.Itoa(k)
		b := base
		if len(b)+len(tail) > 8 {
			b = b[:8-len(tail)]
		}
		s := fmt.Sprintf("%-8s%-3s", b+tail, e)
		if !used[s] {
			return s
		}
	}
}
