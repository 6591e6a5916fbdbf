package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the soft memory limit imggen and featuremerger run under when
// GOMEMLIMIT does not give one (runtime/debug.SetMemoryLimit): the collector then runs
// sooner as the heap nears it, rather than letting it grow to twice the live heap
// (GOGC=100). Both keep what a kit needs per package small (docs/performance.md), so a
// 20,000-package kit's live heap peaks near 100 MiB; with the limit its resident size stays
// near 200 MiB (the target is 256 MiB) at no measured CPU cost, where without it the
// collector's pacing let it reach 250-330 MiB. A run whose live heap exceeds the limit is not
// failed: the collector runs more often, within the runtime's cap on its CPU share.
const defaultMemoryLimit = 200 << 20

// limitMemory applies defaultMemoryLimit unless the environment sets GOMEMLIMIT.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
