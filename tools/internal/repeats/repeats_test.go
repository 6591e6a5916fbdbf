package repeats

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/repeats/repeatstest"
)

// count is the least limit Few accepts b with.
func count(b []byte, t *Table) int {
	for n := 0; ; n++ {
		if Few(b, t, n) {
			return n
		}
	}
}

func TestFew(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 32768)
	rng.Read(random)
	var tab Table
	base := count(random, &tab)
	if base > 2 {
		t.Fatalf("32 KiB of random bytes: %d repeats, want at most 2", base)
	}
	// A run copied from close by repeats l-3 sequences (a collision in the table may hide
	// one); from far back, as many as the table
	// still holds (one position per hash: about half after 20,000 others), which for a long
	// run is still far above the limit.
	for _, l := range []int{4, 5, 8, 100} {
		b := append([]byte(nil), random...)
		copy(b[20000:20000+l], b[19800:19800+l])
		if got := count(b, &tab); got > base+l-3 || got < base+l-3-l/50 {
			t.Errorf("random with a %d-byte copy from 200 bytes back: %d repeats, want %d", l, got, base+l-3)
		}
	}
	far := append([]byte(nil), random...)
	copy(far[20000:20100], far[100:200])
	if Few(far, &tab, 2) {
		t.Errorf("random with a 100-byte copy from 19,900 bytes back: Few(2) = true, want false")
	}
	for _, c := range []struct {
		name string
		b    []byte
		want int
	}{
		{"empty", nil, 0},
		{"three bytes", []byte{1, 1, 1}, 0},
		{"zeros", make([]byte, 1000), 996},
		{"text", []byte("the cat and the dog and the bird"), 4}, // " and the" twice: 5 sequences, "the " once more
	} {
		if got := count(c.b, &tab); got < c.want {
			t.Errorf("%s: %d repeats, want at least %d", c.name, got, c.want)
		}
	}
}

// TestWindowsSameAsScan: the windows' early answer never differs from the whole scan's, on
// chunks near the line (repeatstest), on text, and on random chunks whose few repeats are
// planted inside and across the windows, at sizes around the windows' minimum.
func TestWindowsSameAsScan(t *testing.T) {
	var tab Table
	check := func(name string, b []byte) {
		t.Helper()
		for limit := 0; limit <= 6; limit++ {
			if got, want := Few(b, &tab, limit), few(b, &tab, limit); got != want {
				t.Fatalf("%s, limit %d: Few %v, whole scan %v", name, limit, got, want)
			}
		}
	}
	rejected := 0
	for seed := int64(0); seed < 400; seed++ {
		_, b, name := repeatstest.Chunk(seed, []int{2047, 2048, 4000, 32768, 65536})
		check(name, b)
		rng := rand.New(rand.NewSource(seed))
		r := make([]byte, []int{2047, 2048, 2049, 32768, 65536}[seed%5])
		rng.Read(r)
		step := len(r) / windows
		for k := rng.Intn(6); k > 0; k-- {
			l := 4 + rng.Intn(3)
			w := rng.Intn(windows)
			from := w*step + rng.Intn(windowLen)
			to := from + 1 + rng.Intn(windowLen)
			if to+l <= len(r) {
				copy(r[to:to+l], r[from:from+l])
			}
		}
		check(fmt.Sprintf("seed %d, random with planted repeats, %d bytes", seed, len(r)), r)
		if manyInWindows(r, 2) {
			rejected++
		}
	}
	if rejected == 0 {
		t.Error("no planted chunk was told by the windows: the test does not reach them")
	}
	check("text", []byte(strings.Repeat("the cat and the dog and the bird; ", 200)))

	// The whole scan's table holds one position per hash: a nearer sequence with the same
	// hash but other bytes hides a repeat from it, and must hide it from the windows too.
	// v repeats at p and i inside the first window, with u in between: same Table hash as
	// v, a different 16th bit.
	rng := rand.New(rand.NewSource(99))
	hash := func(x uint32, bits int) uint32 { return (x * 0x1E35A7BD) >> (32 - bits) }
	v := rng.Uint32()
	u := rng.Uint32()
	for u == v || hash(u, TableBits) != hash(v, TableBits) || hash(u, 16) == hash(v, 16) {
		u = rng.Uint32()
	}
	for _, size := range []int{2048, 32768} {
		b := make([]byte, size)
		rng.Read(b)
		for _, at := range []struct {
			pos int
			x   uint32
		}{{20, v}, {100, u}, {180, v}} {
			binary.LittleEndian.PutUint32(b[at.pos:], at.x)
		}
		check(fmt.Sprintf("random, %d bytes, a repeat hidden by a nearer collision", size), b)
	}
}
