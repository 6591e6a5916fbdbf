package lzx

import (
	"bytes"
	"compress/flate"
	"fmt"
	"testing"
)

// nearRandom gives chunks on both sides of incompressible's line: random bytes over a
// smaller alphabet or with a skewed byte, with short and long repeats copied in, and
// deflate streams of text (compressed files, as in a real image).
func nearRandom(seed uint64) (string, []byte) {
	g := genRand(seed)
	n := []int{1024, 4000, 32767, 32768}[g.intn(4)]
	b := genRandom(g.next(), n)
	kind := g.intn(5)
	switch kind {
	case 0: // uniform
	case 1: // an alphabet of 200 to 256 bytes
		a := 200 + g.intn(57)
		for i := range b {
			b[i] = byte(int(b[i]) % a)
		}
	case 2: // one byte more frequent than the rest
		p := 1 + g.intn(40)
		for i := range b {
			if g.intn(1000) < p {
				b[i] = 0
			}
		}
	case 3: // repeats of 2 to 24 bytes copied from earlier in the chunk
		k := 1 + g.geom(9)
		for ; k > 0; k-- {
			l := 2 + g.intn(23)
			from, to := g.intn(n-l), g.intn(n-l)
			if from < to {
				copy(b[to:to+l], b[from:from+l])
			}
		}
	case 4: // deflate of text
		var out bytes.Buffer
		w, _ := flate.NewWriter(&out, 1+g.intn(9))
		for out.Len() < n {
			w.Write(genText(g.next(), 4*n))
		}
		w.Close()
		b = out.Bytes()[:n]
	}
	return fmt.Sprintf("seed %d kind %d size %d", seed, kind, n), b
}

// TestIncompressibleSameAsParse: every chunk incompressible passes is one the full parse
// stores, and it passes most random chunks (or it would save nothing).
func TestIncompressibleSameAsParse(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	c, _ := NewWIMEncoder(1<<15, Strong)
	full, _ := NewWIMEncoder(1<<15, Strong)
	dst := make([]byte, Bound(1<<15))
	passed, stored, uniform, uniformPassed := 0, 0, 0, 0
	for seed := uint64(0); seed < uint64(n); seed++ {
		name, b := nearRandom(seed)
		c.buf = append(c.buf[:0], b...)
		e8Encode(c.buf, 0, wimFileSize)
		quick := c.incompressible()
		fullSize := full.compress(dst, b, false)
		if fullSize == 0 {
			stored++
		}
		if quick {
			passed++
			if fullSize != 0 {
				t.Errorf("%s: incompressible, but the parse compresses it to %d bytes", name, fullSize)
			}
		}
		if name[len(fmt.Sprintf("seed %d ", seed)):][:6] == "kind 0" {
			uniform++
			if quick {
				uniformPassed++
			}
		}
		// Compress is the same as the full encoder either way.
		if got := c.Compress(dst, b); (got == 0) != (fullSize == 0) {
			t.Errorf("%s: Compress %d bytes, the full parse %d", name, got, fullSize)
		}
	}
	t.Logf("%d chunks: %d stored by the full parse, %d of them found by incompressible; %d of %d uniform", n, stored, passed, uniformPassed, uniform)
	if uniformPassed*10 < uniform*9 {
		t.Errorf("incompressible passed %d of %d uniformly random chunks, want 90%%", uniformPassed, uniform)
	}
}
