package main

import (
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// startMemProfile serves OEMIMAGE_MEMPROFILE=FILE: a heap profile (go tool pprof FILE) taken
// when the live heap was largest. The peak, not the end of the run, decides the resident size,
// so the live heap is sampled every memProfileEvery and the profile rewritten each time it has
// grown by an eighth since the last one. stop writes the last profile if none was written and
// reports the peak on stderr.
func startMemProfile(path string) (stop func()) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	var peak, written uint64
	write := func() {
		if f, err := os.Create(path); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(memProfileEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if n := live(); n > peak {
				peak = n
				if n > written+written/8 {
					written = n
					write()
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		if written == 0 {
			write()
		}
		fmt.Fprintf(os.Stderr, "oemimage: peak live heap %d MiB (heap profile %s at %d MiB)\n", peak>>20, path, written>>20)
	}
}

const memProfileEvery = 50 * time.Millisecond
