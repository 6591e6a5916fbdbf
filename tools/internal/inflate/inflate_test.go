package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// flateResult is what compress/flate makes of src with dict under an output limit, read as
// tools/cab reads it: through a LimitReader of limit+1 bytes.
type flateResult struct {
	out  []byte
	kind string // "ok", "eof", "toolong", "corrupt"
}

func viaFlate(dict, src []byte, limit int) flateResult {
	zr := flate.NewReaderDict(bytes.NewReader(src), dict)
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, int64(limit)+1))
	switch {
	case n > int64(limit):
		return flateResult{kind: "toolong"}
	case err == nil:
		return flateResult{out.Bytes(), "ok"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return flateResult{out.Bytes(), "eof"}
	}
	return flateResult{kind: "corrupt"}
}

func viaDecoder(d *Decoder, dict, src []byte, limit int) flateResult {
	buf := make([]byte, len(dict)+limit)
	copy(buf, dict)
	end, err := d.Decode(buf, len(dict), src)
	if end < len(dict) || end > len(buf) {
		return flateResult{kind: fmt.Sprintf("end %d outside [%d,%d]", end, len(dict), len(buf))}
	}
	var ce *CorruptError
	switch {
	case err == nil:
		return flateResult{buf[len(dict):end], "ok"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return flateResult{buf[len(dict):end], "eof"}
	case errors.Is(err, ErrTooLong):
		return flateResult{kind: "toolong"}
	case errors.As(err, &ce):
		return flateResult{kind: "corrupt"}
	}
	return flateResult{kind: "unexpected error " + err.Error()}
}

func compare(t testing.TB, d *Decoder, dict, src []byte, limit int) {
	t.Helper()
	want := viaFlate(dict, src, limit)
	got := viaDecoder(d, dict, src, limit)
	if got.kind != want.kind {
		t.Fatalf("dict %d bytes, src %d bytes %x, limit %d: decoder says %s, compress/flate %s", len(dict), len(src), head(src), limit, got.kind, want.kind)
	}
	if !bytes.Equal(got.out, want.out) {
		t.Fatalf("dict %d bytes, src %d bytes %x, limit %d (%s): decoder gives %d bytes, compress/flate %d, first difference at %d", len(dict), len(src), head(src), limit, got.kind, len(got.out), len(want.out), firstDiff(got.out, want.out))
	}
}

func head(b []byte) []byte {
	if len(b) > 48 {
		return b[:48]
	}
	return b
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// mixed is text-like data with repeats near and far, runs and random stretches.
func mixed(rng *rand.Rand, n int) []byte {
	words := []string{"the ", "cabinet ", "package ", "Microsoft", ".dll", "\x00\x00\x00\x00", "MZ\x90\x00", "<file name=\"", "\r\n", "    "}
	var b []byte
	for len(b) < n {
		switch rng.IntN(6) {
		case 0:
			for range rng.IntN(40) {
				b = append(b, byte(rng.Uint32()))
			}
		case 1:
			b = append(b, bytes.Repeat([]byte{byte(rng.Uint32())}, rng.IntN(600))...)
		case 2:
			if len(b) > 0 {
				at := rng.IntN(len(b))
				b = append(b, b[at:min(len(b), at+rng.IntN(300))]...)
			}
		default:
			b = append(b, words[rng.IntN(len(words))]...)
		}
	}
	return b[:n]
}

func deflate(t testing.TB, level int, dict, data []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriterDict(&b, level, dict)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// TestAgainstFlate decodes many compress/flate streams, every level, sizes up to a block,
// with and without dictionaries, and their truncations and single-byte corruptions.
func TestAgainstFlate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var d Decoder
	sizes := []int{0, 1, 2, 7, 100, 258, 1000, 4096, 20000, 32767, 32768}
	for level := -2; level <= 9; level++ {
		for _, size := range sizes {
			dict := mixed(rng, []int{0, 1, 300, 32768}[rng.IntN(4)])
			data := mixed(rng, size)
			if size > 0 && len(dict) > 0 && rng.IntN(2) == 0 {
				// Refer back into the dictionary.
				copy(data[:min(size, 500)], dict[len(dict)-min(len(dict), 500):])
			}
			src := deflate(t, level, dict, data)
			got := viaDecoder(&d, dict, src, 32768)
			if got.kind != "ok" || !bytes.Equal(got.out, data) {
				t.Fatalf("level %d size %d dict %d: %s, %d bytes, first difference at %d", level, size, len(dict), got.kind, len(got.out), firstDiff(got.out, data))
			}
			compare(t, &d, dict, src, 32768)
			compare(t, &d, dict, src, max(0, size-1))
			for range 8 {
				compare(t, &d, dict, src[:rng.IntN(len(src)+1)], 32768)
				bad := bytes.Clone(src)
				bad[rng.IntN(len(bad))] ^= byte(1 << rng.IntN(8))
				compare(t, &d, dict, bad, 32768)
			}
		}
	}
}
