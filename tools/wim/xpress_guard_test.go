package wim

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/codectest"
)

// The XPRESS guard: the SHA-256 of the compressor's output over seeded inputs, so that work
// on its speed shows at once when it changes a byte. The digests were recorded from the
// compressor with wimlib's hash tables and end-of-chunk rule. An intended change of the output records them anew
// (go test -run TestXPRESSGuardDigests -xpress.record ./tools/wim/) and says why in its
// commit.
var recordXPRESSGuard = flag.Bool("xpress.record", false, "print the XPRESS guard digests of the current compressor instead of checking them")

var xpressGuardDigests = map[string]string{
	"halfrandom-32768": "11f91230ff5d5b450c4dacbfee03fc12cb6da0f48fd2232224c65ce5abc75d98",
	"halfrandom-65536": "f449b5f3731e1dc5a49516e3479a0113e4732cdc5f6ffa0e75c8067f199ddcd7",
	"longruns-32768":   "02aad354051f2e7a3bd3513c94299a8d3cdc8161349df005543a6c75801357d8",
	"longruns-65536":   "d305ebf6ab0fe0c13a729e18bbfe4bf12edffc6a619905ed18c15b79252dd36a",
	"mixed-32768":      "31247156b74034b1e3c64c0c88a8c53077a8b91b264120237b37b9a0aa7db166",
	"mixed-65536":      "de62d098aa8bd74b874bfde8676eec9363a046256255dfa3f8c3a54147a1205b",
	"random-32768":     "8de76ee7eb6b32c307d4a46a43ac55bc15b917e2a24d36c3d001878a97fd39d6",
	"random-65536":     "d904e1f1e028ba9058a128a6fd724f0f9892ae8fe49c8f7dc2613183f7f8bbca",
	"text-32768":       "f53688530ddbc772240df48313ffb3b65a116c24965590e11aa0b621d00e6057",
	"text-4096":        "3e247bfff289ad72e1297d1b7fd17cc85fddb949323bfe3c08eca2d0a8fecb14",
	"text-65536":       "742efaad38afac85cf483cf2b0c3db85e64cc5d1a26530fc2410c76279e6f7ca",
	"zeros-32768":      "e9bda16829236ee9af3b947e2455444d4c4638bd7d230b288d42ece16f86778f",
	"zeros-65536":      "b919dff3556db7d5f0733e07eb66204bd0aa3fde3f2808a4cdb4865627a11d7d",
}

// halfRandom is bench/genimage's payload shape: 4 KiB runs of random bytes among text, so
// that chunks hold both and the store-without-parse shortcut does not take them.
func halfRandom(seed int64, n int) []byte {
	return interleave(seed, n,
		func(rng *rand.Rand) []byte { return randomBytes(rng.Int63(), 4096) },
		func(rng *rand.Rand) []byte { return text(rng.Int63(), 1+rng.Intn(8192)) })
}

// longRuns has runs of one byte and repeats of every length class, far and near.
func longRuns(seed int64, n int) []byte {
	rng := rand.New(rand.NewSource(seed))
	var b []byte
	for len(b) < n {
		switch rng.Intn(4) {
		case 0:
			b = append(b, bytes.Repeat([]byte{byte(rng.Intn(256))}, 1+rng.Intn(1000))...)
		case 1:
			if len(b) > 0 {
				off := 1 + rng.Intn(len(b))
				for k := 3 + rng.Intn(300); k > 0; k-- {
					b = append(b, b[len(b)-off])
				}
			}
		default:
			b = append(b, randomBytes(rng.Int63(), 1+rng.Intn(64))...)
		}
	}
	return b[:n]
}

func TestXPRESSGuardDigests(t *testing.T) {
	const total = 3<<20 + 12345 // chunks of every size up to the last, short one
	shapes := []struct {
		name string
		gen  func(seed int64, n int) []byte
	}{
		{"text", text}, {"random", randomBytes}, {"mixed", mixed}, {"halfrandom", halfRandom},
		{"longruns", longRuns}, {"zeros", func(int64, int) []byte { return make([]byte, total) }},
	}
	got := map[string]string{}
	for _, s := range shapes {
		data := s.gen(int64(len(s.name)), total)
		for _, chunk := range []int{4096, 32768, 65536} {
			if chunk == 4096 && s.name != "text" {
				continue
			}
			name := fmt.Sprintf("%s-%d", s.name, chunk)
			got[name] = xpressGuard(t, data, chunk)
		}
	}
	if *recordXPRESSGuard {
		for name, d := range got {
			fmt.Printf("\t%q: %q,\n", name, d)
		}
		return
	}
	if len(got) != len(xpressGuardDigests) {
		t.Errorf("%d guard inputs, %d digests", len(got), len(xpressGuardDigests))
	}
	for name, d := range got {
		if want := xpressGuardDigests[name]; d != want {
			t.Errorf("%s: output digest %s, want %s: the compressor's output changed", name, d, want)
		}
	}
}

// xpressGuard compresses data chunk by chunk, checks the round trip, and returns the digest
// of the compressed sizes and bytes.
func xpressGuard(t *testing.T, data []byte, chunk int) string {
	c := newXPRESSCompressor(chunk)
	var dec xpressDecompressor
	d, err := codectest.ChunkDigest(data, chunk, codectest.Codec{Bound: xpressBound(chunk), Compress: c.Compress, Decompress: dec.Decompress})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
