package wim

import (
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/repeats/repeatstest"
)

// TestXPRESSIncompressibleSameAsParse: every chunk incompressible passes is one the full
// parse stores (over repeatstest's chunks on both sides of the line), and it passes nearly
// every random chunk.
func TestXPRESSIncompressibleSameAsParse(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	quick, full := newXPRESSCompressor(xpressMaxChunk), newXPRESSCompressor(xpressMaxChunk)
	dst := make([]byte, xpressBound(xpressMaxChunk))
	passed, uniform, uniformPassed := 0, 0, 0
	for seed := int64(0); seed < int64(n); seed++ {
		kind, b, name := repeatstest.Chunk(seed, []int{1024, 5000, 32767, 32768, 65536})
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
		if kind == repeatstest.Uniform {
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
