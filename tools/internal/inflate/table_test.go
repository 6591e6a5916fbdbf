package inflate

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// bw writes deflate bits LSB-first; code writes a Huffman code MSB-first as deflate sends it.
type bw struct {
	out []byte
	n   uint
}

func (w *bw) bits(v uint32, n uint) *bw {
	for i := uint(0); i < n; i++ {
		if w.n%8 == 0 {
			w.out = append(w.out, 0)
		}
		w.out[len(w.out)-1] |= byte(v>>i&1) << (w.n % 8)
		w.n++
	}
	return w
}

func (w *bw) code(c uint32, n uint) *bw {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>uint(i)&1, 1)
	}
	return w
}

// Fixed-code helpers.
func (w *bw) lit(c byte) *bw {
	if c < 144 {
		return w.code(0x30+uint32(c), 8)
	}
	return w.code(0x190+uint32(c)-144, 9)
}
func (w *bw) sym(s int) *bw { // length symbols and EOB
	if s < 280 {
		return w.code(uint32(s-256), 7)
	}
	return w.code(0xC0+uint32(s-280), 8)
}
func (w *bw) dist(code uint32) *bw   { return w.code(code, 5) }
func (w *bw) fixed(final uint32) *bw { return w.bits(final, 1).bits(1, 2) }

func TestTable(t *testing.T) {
	dict32k := bytes.Repeat([]byte("0123456789abcdef"), 2048)
	tests := []struct {
		name  string
		dict  []byte
		src   []byte
		limit int
		want  string
		err   string // "", "eof", "toolong", "corrupt"
	}{
		{"stored", nil, []byte{1, 5, 0, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'}, 100, "hello", ""},
		{"empty stored", nil, []byte{1, 0, 0, 0xff, 0xff}, 100, "", ""},
		{"stored, bad complement", nil, []byte{1, 5, 0, 0xfb, 0xff, 'h', 'e', 'l', 'l', 'o'}, 100, "", "corrupt"},
		{"stored cut short", nil, []byte{1, 5, 0, 0xfa, 0xff, 'h', 'e'}, 100, "he", "eof"},
		{"stored over the limit", nil, []byte{1, 5, 0, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'}, 4, "", "toolong"},
		{"empty fixed", nil, []byte{3, 0}, 100, "", ""},
		{"non-final then stored", nil, append(new(bw).fixed(0).lit('x').sym(256).bits(1, 1).bits(0, 2).out, 1, 0, 0xfe, 0xff, 'y'), 100, "xy", ""},
		{"fixed 258-byte run", nil, new(bw).fixed(1).lit('a').sym(285).dist(0).sym(256).out, 1000, string(bytes.Repeat([]byte("a"), 259)), ""},
		{"overlapping copy", nil, new(bw).fixed(1).lit('a').lit('b').sym(264).dist(1).sym(256).out, 100, "ababababababab"[:12], ""},
		{"distance 32768 into the dictionary", dict32k, new(bw).fixed(1).sym(257).dist(29).bits(8191, 13).sym(256).out, 100, "012", ""},
		{"distance before the history", []byte("0123456789"), new(bw).fixed(1).sym(257).dist(6).bits(2, 2).sym(256).out, 100, "", "corrupt"},
		{"distance exactly the history", []byte("0123456789"), new(bw).fixed(1).sym(257).dist(6).bits(1, 2).sym(256).out, 100, "012", ""},
		{"length symbol 286", nil, new(bw).fixed(1).lit('a').sym(286).out, 100, "", "corrupt"},
		{"distance code 30", nil, new(bw).fixed(1).lit('a').sym(257).dist(30).sym(256).out, 100, "", "corrupt"},
		{"reserved block type", nil, []byte{7}, 100, "", "corrupt"},
		{"over the limit", nil, new(bw).fixed(1).lit('a').lit('b').lit('c').sym(256).out, 2, "", "toolong"},
		{"match over the limit", nil, new(bw).fixed(1).lit('a').sym(260).dist(0).sym(256).out, 5, "", "toolong"},
		{"exactly the limit", nil, new(bw).fixed(1).lit('a').sym(260).dist(0).sym(256).out, 7, "aaaaaaa", ""},
		{"no end of block", nil, new(bw).fixed(1).lit('a').out, 100, "a", "eof"},
		{"empty input", nil, nil, 100, "", "eof"},
		// Dynamic: HLIT 0 (257), HDIST 0 (1), HCLEN 14 (18 lengths), code length code all
		// of 3 bits but 8 of them... an over-subscribed code length code.
		{"over-subscribed code length code", nil, new(bw).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4).bits(0x249249, 24).bits(0x249249, 24).bits(1, 9).out, 100, "", "corrupt"},
		{"repeat with no previous length", nil, dynRepeatFirst(), 100, "", "corrupt"},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := viaDecoder(&d, tc.dict, tc.src, tc.limit)
			kind := tc.err
			if kind == "" {
				kind = "ok"
			}
			if got.kind != kind || string(got.out) != tc.want {
				t.Errorf("got %s %q, want %s %q", got.kind, got.out, kind, tc.want)
			}
			compare(t, &d, tc.dict, tc.src, tc.limit)
		})
	}
}

// dynRepeatFirst is a dynamic block whose first code length is "repeat the previous".
func dynRepeatFirst() []byte {
	w := new(bw).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4) // 4 code length codes: 16, 17, 18, 0
	w.bits(1, 3).bits(1, 3).bits(0, 3).bits(0, 3)                       // 16 and 17: one bit each
	w.code(0, 1).bits(0, 2)                                             // symbol 16 first
	return w.out
}

func TestErrors(t *testing.T) {
	var d Decoder
	buf := make([]byte, 10)
	if _, err := d.Decode(buf, 11, nil); err == nil {
		t.Error("start past the buffer accepted")
	}
	if _, err := d.Decode(buf, 0, []byte{7}); !errors.As(err, new(*CorruptError)) {
		t.Errorf("block type 3: %v", err)
	}
	if _, err := d.Decode(buf, 0, []byte{1, 5, 0}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut stored header: %v", err)
	}
}
