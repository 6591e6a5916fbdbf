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
// compressor of commit 438957b. An intended change of the output records them anew
// (go test -run TestXPRESSGuardDigests -xpress.record ./tools/wim/) and says why in its
// commit.
var recordXPRESSGuard = flag.Bool("xpress.record", false, "print the XPRESS guard digests of the current compressor instead of checking them")

var xpressGuardDigests = map[string]string{
	"halfrandom-32768": "39e9b148edebc421c37219532e385a2090a5210527416bb34e6dd7aa4f2af8df",
	"halfrandom-65536": "322bac023c6cfc404e3ce3a30e20d491675de60e8a4b3c18133f38864c02a14a",
	"longruns-32768":   "422f593d057dfd0688ca12a9423254e7dd2f4626a5663129d1a441036bbe415c",
	"longruns-65536":   "b2d9deab01320b261192182294f8d0e2225832a6a67ad2017d80f35de3981040",
	"mixed-32768":      "5acfc0f2539a75ac500e76a130e3cca17571bcfd20b59d4141601a238064847e",
	"mixed-65536":      "23912e78138f601e950bec9b09eadaa51b15d511b40c48a2c0f078f972d5b465",
	"random-32768":     "8de76ee7eb6b32c307d4a46a43ac55bc15b917e2a24d36c3d001878a97fd39d6",
	"random-65536":     "d904e1f1e028ba9058a128a6fd724f0f9892ae8fe49c8f7dc2613183f7f8bbca",
	"text-32768":       "adbfe8600e51bd1fa19a21aa5d04e141272e950d4ce66ab00ef5f7647fccaa83",
	"text-4096":        "bb3069310be1b745839b656de0d71e3ddd7902621cc8b2da197201ad56585da3",
	"text-65536":       "8ff531726bbcb6e6d9343a4f82884c919bce017bc5af3f4dd035090d6b647f42",
	"zeros-32768":      "e9bda16829236ee9af3b947e2455444d4c4638bd7d230b288d42ece16f86778f",
	"zeros-65536":      "b919dff3556db7d5f0733e07eb66204bd0aa3fde3f2808a4cdb4865627a11d7d",
}

// halfRandom is bench/genimage's payload shape: 4 KiB runs of random bytes among text, so
// that chunks hold both and the store-without-parse shortcut does not take them.
func halfRandom(seed int64, n int) []byte {
	rng := rand.New(rand.NewSource(seed))
	var b []byte
	for len(b) < n {
		if rng.Intn(2) == 0 {
			b = append(b, randomBytes(rng.Int63(), 4096)...)
		} else {
			b = append(b, text(rng.Int63(), 1+rng.Intn(8192))...)
		}
	}
	return b[:n]
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
