package lzx

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/codectest"
)

// The guard: the SHA-256 of the encoder's output over seeded generated inputs. The digests in
// guardDigests pin the encoder's output: they were recorded from the encoder as it was before
// its speed work (commit 83934e7), so a change to the parse, the block splitting, the trees
// or the bit writer shows here. An intended change of the output must record them anew
// (go test -run TestGuardDigests -lzx.record ./tools/lzx/) and say why in its commit.

var recordGuard = flag.Bool("lzx.record", false, "print the guard digests of the current encoder instead of checking them")

// genRand is a small seeded generator (splitmix64), so the inputs never depend on math/rand.
type genRand uint64

func (g *genRand) next() uint64 {
	*g += 0x9E3779B97F4A7C15
	z := uint64(*g)
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (g *genRand) intn(n int) int { return int(g.next() % uint64(n)) }

// geom returns a small number most of the time and a large one now and then: 1 to 2^maxBits.
func (g *genRand) geom(maxBits int) int {
	b := g.intn(maxBits) + 1
	return 1 + g.intn(1<<b)
}

// copyBack appends n bytes copied from dist bytes back (overlapping copies repeat), as the
// matches of real data do.
func copyBack(b []byte, dist, n int) []byte {
	if dist > len(b) || dist <= 0 {
		return b
	}
	for k := 0; k < n; k++ {
		b = append(b, b[len(b)-dist])
	}
	return b
}

// genText is text-like: words of a skewed vocabulary, lines, and repeated phrases.
func genText(seed uint64, n int) []byte {
	g := genRand(seed)
	vocab := make([]string, 400)
	for i := range vocab {
		w := make([]byte, 2+g.intn(9))
		for k := range w {
			w[k] = "etaoinshrdlucmfwypvbgkjqxz"[min(g.intn(26), g.intn(26))]
		}
		vocab[i] = string(w)
	}
	b := make([]byte, 0, n+300)
	for len(b) < n {
		switch r := g.intn(100); {
		case r < 8 && len(b) > 100:
			b = copyBack(b, 1+g.geom(17)%len(b), 4+g.intn(40))
		case r < 12:
			b = append(b, ".\r\n"...)
		case r < 14:
			b = append(b, "<Package Name=\""...)
		default:
			b = append(b, vocab[min(g.intn(len(vocab)), g.intn(len(vocab)), g.intn(len(vocab)))]...)
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// genPE is PE-like: a header, code with E8 calls and repeated instruction runs, tables of
// pointers and strings, and zero padding; long copies reach far back now and then.
func genPE(seed uint64, n int) []byte {
	g := genRand(seed)
	b := make([]byte, 0, n+1000)
	b = append(b, 'M', 'Z', 0x90, 0)
	b = append(b, make([]byte, 60)...)
	b = append(b, "This program cannot be run in DOS mode.\r\r\n$"...)
	ops := []byte{0x8B, 0x89, 0x48, 0x4C, 0x83, 0xFF, 0x0F, 0x85, 0x84, 0xC3, 0xCC, 0x55, 0x5D, 0x33, 0xC0, 0x74, 0x75, 0xEB}
	for len(b) < n {
		switch r := g.intn(100); {
		case r < 10:
			rel := int32(g.intn(1<<20) - 1<<19)
			b = append(b, 0xE8, byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24))
		case r < 30 && len(b) > 64:
			b = copyBack(b, 1+g.geom(20)%len(b), 3+g.geom(7))
		case r < 33:
			b = append(b, make([]byte, g.geom(9))...)
		case r < 36:
			v := uint32(0x10000000 + g.intn(1<<16)*4)
			for k := g.intn(16); k >= 0; k-- {
				b = binary.LittleEndian.AppendUint32(b, v)
				v += uint32(4 * (1 + g.intn(8)))
			}
		case r < 38:
			b = append(b, "KERNEL32.dll\x00GetProcAddress\x00"[g.intn(10):]...)
		default:
			for k := g.intn(12); k >= 0; k-- {
				if g.intn(3) == 0 {
					b = append(b, byte(g.next()))
				} else {
					b = append(b, ops[min(g.intn(len(ops)), g.intn(len(ops)))])
				}
			}
		}
	}
	return b[:n]
}

func genRandom(seed uint64, n int) []byte {
	g := genRand(seed)
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], g.next())
		copy(b[i:], w[:])
	}
	return b
}

// genMixed is a file system's worth of shapes in a row: PE, text, random, zeros and runs of
// a small alphabet, with sizes around the 32 KiB frame.
func genMixed(seed uint64, n int) []byte {
	g := genRand(seed)
	var b []byte
	for len(b) < n {
		size := []int{1, 7, 32767, 32768, 32769, 65536 + 3, 1 << 17, 300000}[g.intn(8)]
		switch g.intn(6) {
		case 0, 1:
			b = append(b, genPE(g.next(), size)...)
		case 2:
			b = append(b, genText(g.next(), size)...)
		case 3:
			b = append(b, genRandom(g.next(), size)...)
		case 4:
			b = append(b, make([]byte, size)...)
		default:
			for k := 0; k < size; k++ {
				b = append(b, "ab\x00\xff"[min(g.intn(4), g.intn(4))])
			}
		}
	}
	return b[:n]
}

type guardInput struct {
	name string
	data []byte
}

// guardInputs gives every shape at sizes across the chunk, frame and window boundaries.
func guardInputs() []guardInput {
	var in []guardInput
	for _, n := range []int{1, 2, 3, 100, 32767, 32768, 32769, 65535, 65537, 100000} {
		in = append(in,
			guardInput{fmt.Sprintf("text-%d", n), genText(uint64(n), n)},
			guardInput{fmt.Sprintf("pe-%d", n), genPE(uint64(n)+1, n)},
			guardInput{fmt.Sprintf("random-%d", n), genRandom(uint64(n)+2, n)},
			guardInput{fmt.Sprintf("zeros-%d", n), make([]byte, n)},
		)
	}
	in = append(in,
		guardInput{"pe-big", genPE(11, 1<<21+5)},
		guardInput{"text-big", genText(12, 1<<21-1)},
		guardInput{"mixed-big", genMixed(13, 5<<20+77)},
	)
	return in
}

// guardWIM compresses data chunk by chunk, checks the round trip, and returns the digest of
// the compressed sizes and bytes.
func guardWIM(t *testing.T, data []byte, chunk int, level Level) string {
	enc, err := NewWIMEncoder(chunk, level)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := NewWIMDecoder(chunk)
	d, err := codectest.ChunkDigest(data, chunk, codectest.Codec{Bound: Bound(chunk), Compress: enc.Compress, Decompress: dec.Decompress})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// guardCAB compresses data as one CAB folder, frame by frame, and checks the round trip.
func guardCAB(t *testing.T, data []byte, bits int, level Level) string {
	enc, err := NewCABEncoder(bits, level)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := NewCABDecoder(bits)
	h := sha256.New()
	got := make([]byte, FrameSize)
	for off := 0; off < len(data); off += FrameSize {
		frame := data[off:min(off+FrameSize, len(data))]
		p := enc.Encode(frame)
		binary.Write(h, binary.LittleEndian, uint32(len(p)))
		h.Write(p)
		if err := dec.Decode(got[:len(frame)], p); err != nil || !bytes.Equal(got[:len(frame)], frame) {
			t.Fatalf("frame at %d: round trip: %v", off, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// guardFolder compresses data with EncodeCABFolder and checks the round trip.
func guardFolder(t *testing.T, data []byte, bits int, level Level, workers int) string {
	h := sha256.New()
	dec, _ := NewCABDecoder(bits)
	pos, at := 0, 0
	next := func(b []byte) (int, error) {
		n := copy(b, data[pos:])
		pos += n
		return n, nil
	}
	got := make([]byte, FrameSize)
	err := EncodeCABFolder(bits, level, workers, next, func(p []byte, n int) error {
		binary.Write(h, binary.LittleEndian, uint32(len(p)))
		h.Write(p)
		if err := dec.Decode(got[:n], p); err != nil || !bytes.Equal(got[:n], data[at:at+n]) {
			return fmt.Errorf("frame at %d: round trip: %v", at, err)
		}
		at += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type guardCase struct {
	name string
	run  func(t *testing.T, data []byte) string
	big  bool // also run on the big inputs
}

func guardCases() []guardCase {
	return []guardCase{
		{"wim32k-strong", func(t *testing.T, d []byte) string { return guardWIM(t, d, 1<<15, Strong) }, true},
		{"wim32k-fast", func(t *testing.T, d []byte) string { return guardWIM(t, d, 1<<15, Fast) }, false},
		{"wim32k-best", func(t *testing.T, d []byte) string { return guardWIM(t, d, 1<<15, Best) }, false},
		{"wim64k-strong", func(t *testing.T, d []byte) string { return guardWIM(t, d, 1<<16, Strong) }, false},
		{"wim2m-strong", func(t *testing.T, d []byte) string { return guardWIM(t, d, 1<<21, Strong) }, true},
		{"cab15-fast", func(t *testing.T, d []byte) string { return guardCAB(t, d, 15, Fast) }, true},
		{"cab17-strong", func(t *testing.T, d []byte) string { return guardCAB(t, d, 17, Strong) }, false},
		{"cab21-fast", func(t *testing.T, d []byte) string { return guardCAB(t, d, 21, Fast) }, true},
		{"folder21-fast-w2", func(t *testing.T, d []byte) string { return guardFolder(t, d, 21, Fast, 2) }, true},
		{"folder16-fast-w1", func(t *testing.T, d []byte) string { return guardFolder(t, d, 16, Fast, 1) }, false},
	}
}

// TestGuardDigests checks the encoder's output against the digests recorded from the code
// as it was (see guardDigests).
func TestGuardDigests(t *testing.T) {
	inputs := guardInputs()
	var record bytes.Buffer
	seen := 0
	for _, c := range guardCases() {
		for _, in := range inputs {
			if len(in.data) > 100000 && !c.big {
				continue
			}
			if testing.Short() && len(in.data) > 100000 {
				continue
			}
			key := c.name + "/" + in.name
			got := c.run(t, in.data)
			if *recordGuard {
				fmt.Fprintf(&record, "\t%q: %q,\n", key, got)
				continue
			}
			want, ok := guardDigests[key]
			if !ok {
				t.Errorf("%s: no recorded digest (got %s)", key, got)
				continue
			}
			seen++
			if got != want {
				t.Errorf("%s: output digest %s, recorded %s: the encoder's bytes changed", key, got, want)
			}
		}
	}
	if *recordGuard {
		fmt.Printf("var guardDigests = map[string]string{\n%s}\n", record.String())
		return
	}
	if seen == 0 {
		t.Fatal("no guard case ran")
	}
}
