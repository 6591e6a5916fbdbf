package wim

import (
	"bytes"
	"math/rand"
	"testing"
)

// text returns n bytes of text-like data: words from a small vocabulary, as in program
// resources and manifests, which LZ77 compresses well.
func text(seed int64, n int) []byte {
	words := []string{"Windows", "Mobile", "package", "driver", "kernel", "0x0040", "ImageUpdate", "MainOS", "resource", "\r\n", "    ", "DeviceLayout", "<File Source=\"", "\" />"}
	rng := rand.New(rand.NewSource(seed))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.Intn(len(words))])
		if rng.Intn(3) == 0 {
			b.WriteByte(byte('a' + rng.Intn(26)))
		}
	}
	return b.Bytes()[:n]
}

func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// mixed alternates text and random runs, roughly 2:1 compressible like program binaries.
func mixed(seed int64, n int) []byte {
	return interleave(seed, n,
		func(rng *rand.Rand) []byte { return text(rng.Int63(), 2048) },
		func(rng *rand.Rand) []byte { return randomBytes(rng.Int63(), 1024) })
}

// interleave appends, until n bytes, runs from heads or tails, a coin toss each.
func interleave(seed int64, n int, heads, tails func(*rand.Rand) []byte) []byte {
	rng := rand.New(rand.NewSource(seed))
	var b []byte
	for len(b) < n {
		if rng.Intn(2) == 0 {
			b = append(b, heads(rng)...)
		} else {
			b = append(b, tails(rng)...)
		}
	}
	return b[:n]
}

func xpressRoundTrip(t *testing.T, src []byte) int {
	t.Helper()
	c := newXPRESSCompressor(xpressMaxChunk)
	dst := make([]byte, xpressBound(len(src)))
	n := c.Compress(dst, src)
	if n == 0 {
		return len(src)
	}
	if n >= len(src) {
		t.Fatalf("Compress returned %d for %d bytes", n, len(src))
	}
	if e := c.encodedSize(); e != n {
		t.Fatalf("encodedSize %d, encode wrote %d", e, n)
	}
	var d xpressDecompressor
	got := make([]byte, len(src))
	if err := d.Decompress(got, dst[:n]); err != nil {
		t.Fatalf("Decompress: %v", err)
	}
	if !bytes.Equal(got, src) {
		i := 0
		for i < len(src) && got[i] == src[i] {
			i++
		}
		t.Fatalf("round trip differs at byte %d of %d", i, len(src))
	}
	return n
}

func TestXPRESSRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte("abcdefghij"), 6000)
	tests := []struct {
		name       string
		data       []byte
		compresses bool
	}{
		{"empty", nil, false},
		{"tiny", []byte("hello"), false},
		{"table-size", bytes.Repeat([]byte{'x'}, 260), false},
		{"zeros 32K", make([]byte, 32768), true},
		{"zeros 64K", make([]byte, 65536), true},
		{"one byte runs", bytes.Repeat([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), 800), true},
		{"text 32K", text(1, 32768), true},
		{"text 4K", text(2, 4096), true},
		{"text odd", text(3, 12345), true},
		{"mixed 32K", mixed(4, 32768), true},
		{"random 32K", randomBytes(5, 32768), false},
		{"long matches 60000", long, true},
		{"length 18..272 and 273+", append(append(text(6, 300), bytes.Repeat([]byte("Q"), 280)...), text(6, 300)...), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := xpressRoundTrip(t, tt.data)
			if tt.compresses != (n < len(tt.data)) {
				t.Errorf("compressed %d bytes to %d; want compresses=%v", len(tt.data), n, tt.compresses)
			}
		})
	}
}

// TestXPRESSAllLengths covers every match length class and offset bit count.
func TestXPRESSAllLengths(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 200; i++ {
		n := 300 + rng.Intn(65536-300)
		src := make([]byte, 0, n)
		for len(src) < n {
			switch rng.Intn(3) {
			case 0:
				src = append(src, randomBytes(rng.Int63(), 1+rng.Intn(40))...)
			case 1:
				if len(src) > 0 {
					off := 1 + rng.Intn(len(src))
					l := 3 + rng.Intn(300)
					if rng.Intn(20) == 0 {
						l = 3 + rng.Intn(3000)
					}
					for k := 0; k < l; k++ {
						src = append(src, src[len(src)-off])
					}
				}
			case 2:
				src = append(src, bytes.Repeat([]byte{byte(rng.Intn(4))}, rng.Intn(70))...)
			}
		}
		xpressRoundTrip(t, src[:n])
	}
}

func TestXPRESSDecompressBad(t *testing.T) {
	valid := make([]byte, xpressBound(32768))
	src := text(9, 32768)
	n := newXPRESSCompressor(xpressMaxChunk).Compress(valid, src)
	valid = valid[:n]
	tests := []struct {
		name string
		data []byte
	}{
		{"short", make([]byte, 100)},
		{"no codewords", make([]byte, 300)},
		{"incomplete code", append([]byte{0x01}, make([]byte, 300)...)},
		{"oversubscribed", bytes.Repeat([]byte{0x11}, 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := new(xpressDecompressor).Decompress(make([]byte, 1000), tt.data); err == nil {
				t.Fatal("no error")
			}
		})
	}
	// Truncated and bit-flipped data may decode to garbage but must not panic.
	for i := 0; i < len(valid); i += 37 {
		var d xpressDecompressor
		_ = d.Decompress(make([]byte, len(src)), valid[:i])
		c := bytes.Clone(valid)
		c[i] ^= 0x5A
		_ = d.Decompress(make([]byte, len(src)), c)
	}
}

func benchmarkCompress(b *testing.B, data []byte) {
	c := newXPRESSCompressor(xpressMaxChunk)
	dst := make([]byte, xpressBound(32768))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	out := 0
	for i := 0; i < b.N; i++ {
		out = 0
		for off := 0; off < len(data); off += 32768 {
			chunk := data[off:min(off+32768, len(data))]
			n := c.Compress(dst, chunk)
			if n == 0 {
				n = len(chunk)
			}
			out += n
		}
	}
	b.ReportMetric(float64(out)/float64(len(data))*100, "%size")
}

func BenchmarkXPRESSCompressMixed(b *testing.B)  { benchmarkCompress(b, mixed(1, 4<<20)) }
func BenchmarkXPRESSCompressText(b *testing.B)   { benchmarkCompress(b, text(1, 4<<20)) }
func BenchmarkXPRESSCompressRandom(b *testing.B) { benchmarkCompress(b, randomBytes(1, 4<<20)) }

// bench/genimage's payload: 4 KiB random runs among text, in chunks the shortcut leaves to the parse.
func BenchmarkXPRESSCompressHalfRandom(b *testing.B) { benchmarkCompress(b, halfRandom(1, 4<<20)) }

func BenchmarkXPRESSDecompress(b *testing.B) {
	data := mixed(1, 4<<20)
	c := newXPRESSCompressor(xpressMaxChunk)
	var chunks [][]byte
	for off := 0; off < len(data); off += 32768 {
		dst := make([]byte, xpressBound(32768))
		n := c.Compress(dst, data[off:off+32768])
		chunks = append(chunks, dst[:n])
	}
	var d xpressDecompressor
	out := make([]byte, 32768)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, ch := range chunks {
			if err := d.Decompress(out, ch); err != nil {
				b.Fatal(err)
			}
		}
	}
}
