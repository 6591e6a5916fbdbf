package wim

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand"
	"testing"
)

// nearRandomChunk is a chunk on either side of incompressible's line: random bytes, over a
// smaller alphabet, with one byte more frequent, with short and long runs copied in, or a
// deflate stream of text.
func nearRandomChunk(seed int64) (string, []byte) {
	rng := rand.New(rand.NewSource(seed))
	n := []int{1024, 5000, 32767, 32768, 65536}[rng.Intn(5)]
	b := randomBytes(rng.Int63(), n)
	kind := rng.Intn(5)
	switch kind {
	case 1:
		a := 180 + rng.Intn(77)
		for i := range b {
			b[i] = byte(int(b[i]) % a)
		}
	case 2:
		p := 1 + rng.Intn(60)
		for i := range b {
			if rng.Intn(1000) < p {
				b[i] = 0
			}
		}
	case 3:
		for k := 1 << rng.Intn(10); k > 0; k-- {
			l := 3 + rng.Intn(22)
			from, to := rng.Intn(n-l), rng.Intn(n-l)
			if from < to && to-from < 1<<(8+rng.Intn(8)) {
				copy(b[to:to+l], b[from:from+l])
			}
		}
	case 4:
		var out bytes.Buffer
		w, _ := flate.NewWriter(&out, 1+rng.Intn(9))
		for out.Len() < n {
			w.Write(text(rng.Int63(), 4*n))
		}
		w.Close()
		b = out.Bytes()[:n]
	}
	return fmt.Sprintf("seed %d kind %d size %d", seed, kind, n), b
}

// TestXPRESSIncompressibleSameAsParse: every chunk incompressible passes is one the full
// parse stores, and it passes nearly every random chunk.
func TestXPRESSIncompressibleSameAsParse(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	quick, full := newXPRESSCompressor(xpressMaxChunk), newXPRESSCompressor(xpressMaxChunk)
	dst := make([]byte, xpressBound(xpressMaxChunk))
	passed, uniform, uniformPassed := 0, 0, 0
	for seed := int64(0); seed < int64(n); seed++ {
		name, b := nearRandomChunk(seed)
		inc := quick.incompressible(b)
		size := full.compress(dst, b, false)
		if inc {
			passed++
			if size != 0 {
				t.Errorf("%s: incompressible, but the parse compresses it to %d bytes", name, size)
			}
		}
		if got := quick.Compress(dst, b); (got == 0) != (size == 0) {
			t.Errorf("%s: Compress gives %d bytes, the full parse %d", name, got, size)
		}
		if bytes.Contains([]byte(name), []byte("kind 0")) {
			uniform++
			if inc {
				uniformPassed++
			}
		}
	}
	t.Logf("%d chunks: %d passed incompressible; %d of %d uniform", n, passed, uniformPassed, uniform)
	if uniformPassed*10 < uniform*9 {
		t.Errorf("incompressible passed %d of %d random chunks, want 90%%", uniformPassed, uniform)
	}
}
