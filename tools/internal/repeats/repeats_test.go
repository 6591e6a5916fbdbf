package repeats

import (
	"math/rand"
	"testing"
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
