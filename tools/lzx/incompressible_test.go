package lzx

import (
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/repeats/repeatstest"
)

// TestIncompressibleSameAsParse: every chunk incompressible passes is one the full parse
// stores (over repeatstest's chunks on both sides of the line), and it passes most random
// chunks (or it would save nothing).
func TestIncompressibleSameAsParse(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	c, _ := NewWIMEncoder(1<<15, Strong)
	full, _ := NewWIMEncoder(1<<15, Strong)
	dst := make([]byte, Bound(1<<15))
	passed, stored, uniform, uniformPassed := 0, 0, 0, 0
	for seed := int64(0); seed < int64(n); seed++ {
		kind, b, name := repeatstest.Chunk(seed, []int{1024, 4000, 32767, 32768})
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
		if kind == repeatstest.Uniform {
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
