package huffman

import (
	"math/rand"
	"slices"
	"testing"
)

func TestLengths(t *testing.T) {
	fib := make([]uint32, 512)
	a, b := uint32(1), uint32(1)
	for i := 0; i < 45; i++ {
		fib[i*3] = a // Fibonacci frequencies make an unlimited Huffman code 40+ bits deep
		a, b = b, a+b
	}
	one := make([]uint32, 8)
	one[5] = 9
	for _, tt := range []struct {
		name   string
		freqs  []uint32
		maxLen int
		used   []int // symbols with a codeword beyond those with a frequency
	}{
		{"Fibonacci, limited to 15", fib, 15, nil},
		{"Fibonacci, limited to 16", fib, 16, nil},
		{"one symbol gets a partner", one, 16, []int{0}},
		{"no symbol: 0 and 1 fill the code", make([]uint32, 8), 7, []int{0, 1}},
		{"two symbols", []uint32{0, 3, 0, 1}, 16, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lens := make([]uint8, len(tt.freqs))
			var s Scratch
			Lengths(tt.freqs, tt.maxLen, lens, &s)
			extra := map[int]bool{}
			for _, e := range tt.used {
				extra[e] = true
			}
			kraft := 0
			for sym, l := range lens {
				if int(l) > tt.maxLen {
					t.Fatalf("symbol %d: length %d > %d", sym, l, tt.maxLen)
				}
				if (l != 0) != (tt.freqs[sym] != 0 || extra[sym]) {
					t.Fatalf("symbol %d: length %d for frequency %d", sym, l, tt.freqs[sym])
				}
				if l != 0 {
					kraft += 1 << (tt.maxLen - int(l))
				}
			}
			if kraft != 1<<tt.maxLen {
				t.Fatalf("Kraft sum %d, want %d: the code must be complete", kraft, 1<<tt.maxLen)
			}
			// Same input, same lengths, with reused scratch.
			again := make([]uint8, len(lens))
			Lengths(tt.freqs, tt.maxLen, again, &s)
			if string(again) != string(lens) {
				t.Fatalf("second run gave %v, first %v", again, lens)
			}
		})
	}
}

func TestCodes(t *testing.T) {
	// RFC 1951 3.2.2's example: lengths (3,3,3,3,3,2,4,4) give these codes.
	lens := []uint8{3, 3, 3, 3, 3, 2, 4, 4}
	want := []uint16{0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111}
	codes := make([]uint16, len(lens))
	Codes(lens, codes)
	for i := range want {
		if codes[i] != want[i] {
			t.Errorf("symbol %d: code %b, want %b", i, codes[i], want[i])
		}
	}
}

// TestSortKeysSameAsSort: the radix sort gives slices.Sort's order, ties included, for key
// counts on both sides of its cut-over and frequencies of one to four bytes.
func TestSortKeysSameAsSort(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var tmp []uint64
	for i := 0; i < 2000; i++ {
		n := 1 + rng.Intn(700)
		maxF := []int{3, 200, 70000, 1 << 23, 1 << 30}[rng.Intn(5)]
		var keys []uint64
		for sym := 0; sym < n; sym++ {
			if f := rng.Intn(maxF); f != 0 {
				keys = append(keys, uint64(f)<<16|uint64(sym))
			}
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		tmp = sortKeys(keys, tmp)
		if !slices.Equal(keys, want) {
			t.Fatalf("%d keys, frequencies below %d: order differs from slices.Sort", len(keys), maxF)
		}
	}
}
