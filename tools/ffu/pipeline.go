package ffu

import (
	"crypto/sha256"
	"runtime"
	"sync"
)

// SHA-256 of the chunks is most of the work of writing and verifying an image. Chunks hash
// independently, so hashStream cuts the stream into units of whole chunks: one goroutine fills
// them, GOMAXPROCS goroutines hash them, and the caller's goroutine consumes them in order.
// Memory is a fixed number of units, whatever the size of the stream.

const (
	unitTarget = 1 << 20 // bytes per unit, rounded up to whole chunks
	unitsDepth = 6       // units in flight
)

type unit struct {
	buf    []byte
	off    int64 // stream offset of buf[0]
	hashed chan struct{}
}

// hashStream fills the stream [0, total) unit by unit with fill, writes the SHA-256 of chunk i
// to sums[32*i:], and hands each unit to sink in stream order (sink may be nil). total is a
// multiple of chunk. The first error of fill or sink stops it and is returned.
func hashStream(total, chunk int64, sums []byte, fill func(buf []byte, off int64) error, sink func(buf []byte) error) error {
	size := max(chunk, (unitTarget+chunk-1)/chunk*chunk)
	workers := max(1, runtime.GOMAXPROCS(0))
	free := make(chan *unit, unitsDepth)
	for range unitsDepth {
		free <- &unit{buf: make([]byte, size)}
	}
	toHash := make(chan *unit, unitsDepth)
	toSink := make(chan *unit, unitsDepth)
	done := make(chan struct{})

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range toHash {
				for p := int64(0); p < int64(len(u.buf)); p += chunk {
					s := sha256.Sum256(u.buf[p : p+chunk])
					copy(sums[(u.off+p)/chunk*hashSize:], s[:])
				}
				close(u.hashed)
			}
		}()
	}

	var fillErr error
	go func() {
		defer close(toSink)
		defer close(toHash)
		for off := int64(0); off < total; off += size {
			select {
			case <-done:
				return
			default:
			}
			var u *unit
			select {
			case u = <-free:
			case <-done:
				return
			}
			u.buf, u.off, u.hashed = u.buf[:min(size, total-off)], off, make(chan struct{})
			if fillErr = fill(u.buf, off); fillErr != nil {
				return
			}
			toHash <- u
			toSink <- u
		}
	}()

	var sinkErr error
	for u := range toSink {
		if sinkErr == nil && sink != nil {
			if sinkErr = sink(u.buf); sinkErr != nil {
				close(done)
			}
		}
		<-u.hashed
		u.buf = u.buf[:cap(u.buf)]
		free <- u
	}
	wg.Wait()
	// toSink is closed and the workers are done: fillErr and sums are ours again.
	if sinkErr != nil {
		return sinkErr
	}
	return fillErr
}
