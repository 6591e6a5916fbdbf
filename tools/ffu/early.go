package ffu

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
)

// A Layout's Finish hashes the whole file once the disk is written: for a 2 GiB image, a
// second of reading it back and hashing it while nothing else runs. Most chunks are final long
// before: a file's content is written once, when it is installed. So the disk's writer may say
// beforehand how many bytes each disk block will receive (BlockCounts, from imggen's first pass
// over the packages' file lists, which issues the same writes with other bytes); a chunk is
// hashed, on other goroutines, as soon as every block it holds has received them. The counts
// decide only when a chunk is hashed, never what its hash is: a chunk written again after it was
// hashed is hashed again by Finish, and one whose counts are never reached is hashed there too,
// so wrong counts cost time, not bytes (TestLayoutEarlyHash).

// BlockCounts counts the bytes written to each block of a disk: an io.WriterAt that keeps
// nothing else.
type BlockCounts struct {
	bs   int64
	size int64
	n    []uint64
}

// maxCountedBlocks bounds a BlockCounts' table (8 bytes a block: 64 MiB of disk blocks of
// BlockSize at most, a 1 TiB disk); a larger disk is not counted, and Finish hashes it all.
const maxCountedBlocks = 1 << 23

// NewBlockCounts counts the writes to a disk of size bytes in blocks of BlockSize.
func NewBlockCounts(size int64) *BlockCounts { return newBlockCounts(size, BlockSize) }

func newBlockCounts(size, bs int64) *BlockCounts {
	c := &BlockCounts{bs: bs, size: size}
	if blocks := (size + bs - 1) / bs; blocks <= maxCountedBlocks {
		c.n = make([]uint64, blocks)
	}
	return c
}

// WriteAt counts b's bytes against the blocks they fall in.
func (c *BlockCounts) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off > c.size-int64(len(b)) {
		return 0, fmt.Errorf("ffu: disk write of %d bytes at offset %d is outside the %d-byte disk", len(b), off, c.size)
	}
	if c.n == nil {
		return len(b), nil
	}
	for done := int64(0); done < int64(len(b)); {
		pos := off + done
		k := min(int64(len(b))-done, c.bs-pos%c.bs)
		c.n[pos/c.bs] += uint64(k)
		done += k
	}
	return len(b), nil
}

const (
	chunkWaiting = iota // some of its blocks are still to be written
	chunkHashed         // hashed early; its hash stands unless it is written again
	chunkStale          // written after it was hashed, or never to be hashed early
)

// early is a Disk's hashing of chunks as they become final.
type early struct {
	expect  []uint64 // by disk block: the bytes its writes will bring
	got     []uint64
	pending []int32 // by chunk: blocks not yet final
	state   []uint8 // by chunk
	table   []byte  // the hash table, chunk by chunk
	queue   chan int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	hashed  int // chunks hashed early and not written since (for tests)
}

// ExpectWrites tells d how many bytes each disk block will be written (c, counted while an
// earlier pass made the same writes), so that it can hash chunks while the disk is being
// written. It must come before the first write. Counts of another block size, or none, leave
// all the hashing to Finish.
func (d *Disk) ExpectWrites(c *BlockCounts) {
	p := d.l.p
	if c == nil || c.n == nil || c.bs != p.bs || int64(len(c.n))*p.bs < d.l.img.DiskSize {
		return
	}
	chunks := p.body / p.chunk
	e := &early{
		expect: c.n, got: make([]uint64, len(c.n)),
		pending: make([]int32, chunks), state: make([]uint8, chunks),
		table: make([]byte, chunks*hashSize), queue: make(chan int64, 4096),
	}
	payStart := p.imgRegion + p.storeMeta
	// The headers, and the blocks Finish writes from memory, are final only in Finish.
	for c := int64(0); c*p.chunk < payStart; c++ {
		e.state[c] = chunkStale
	}
	for k, s := range p.sources {
		first, last := d.l.chunksOf(uint32(k))
		for ch := first; ch <= last; ch++ {
			switch {
			case s.kind == srcMem:
				e.state[ch] = chunkStale
			case s.kind == srcDisk && e.expect[s.index] > 0:
				e.pending[ch]++
			}
		}
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	for range workers {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			buf := make([]byte, p.chunk)
			for ch := range e.queue {
				// A failed read leaves a hash Finish will not use: it hashes again any chunk
				// not marked hashed, and marks stale on a write after the hash.
				if _, err := d.f.ReadAt(buf, p.secRegion+ch*p.chunk); err != nil {
					e.mu.Lock()
					e.state[ch] = chunkStale
					e.mu.Unlock()
					continue
				}
				s := sha256.Sum256(buf)
				copy(e.table[ch*hashSize:], s[:])
			}
		}()
	}
	// Chunks whose blocks all expect nothing (a stored block of zeros) are final already.
	for ch := range e.pending {
		if e.state[ch] == chunkWaiting && e.pending[ch] == 0 && d.l.chunkHasSlot(int64(ch)) {
			e.state[ch] = chunkHashed
			e.queue <- int64(ch)
		}
	}
	d.early = e
}

// chunksOf is the first and last hash chunk payload block k overlaps.
func (l *Layout) chunksOf(k uint32) (int64, int64) {
	p := l.p
	start := p.imgRegion + p.storeMeta + int64(k)*p.bs
	return start / p.chunk, (start + p.bs - 1) / p.chunk
}

// chunkHasSlot reports whether chunk ch overlaps a payload block (the padding after the last
// one is hashed by Finish).
func (l *Layout) chunkHasSlot(ch int64) bool {
	p := l.p
	payStart := p.imgRegion + p.storeMeta
	return (ch+1)*p.chunk > payStart && ch*p.chunk < payStart+int64(len(p.sources))*p.bs
}

// wrote records n bytes written to disk block blk, held by payload blocks slots.
func (e *early) wrote(l *Layout, blk uint32, n int, slots []slot) {
	if int(blk) >= len(e.expect) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range slots {
		first, last := l.chunksOf(s.index)
		for ch := first; ch <= last; ch++ {
			if e.state[ch] == chunkHashed {
				e.state[ch] = chunkStale
			}
		}
	}
	old := e.got[blk]
	e.got[blk] += uint64(n)
	if want := e.expect[blk]; old >= want || e.got[blk] < want {
		return
	}
	for _, s := range slots {
		first, last := l.chunksOf(s.index)
		for ch := first; ch <= last; ch++ {
			if e.state[ch] != chunkWaiting {
				continue
			}
			if e.pending[ch]--; e.pending[ch] == 0 {
				e.state[ch] = chunkHashed
				e.queue <- ch
			}
		}
	}
}

// finish waits for the early hashes and hashes the chunks they did not settle.
func (e *early) finish(l *Layout, f File) ([]byte, error) {
	close(e.queue)
	e.wg.Wait()
	p := l.p
	chunks := int64(len(e.state))
	for ch := int64(0); ch < chunks; {
		if e.state[ch] == chunkHashed {
			e.hashed++
			ch++
			continue
		}
		end := ch + 1
		for end < chunks && e.state[end] != chunkHashed {
			end++
		}
		base := p.secRegion + ch*p.chunk
		fill := func(buf []byte, off int64) error {
			_, err := f.ReadAt(buf, base+off)
			return err
		}
		if err := hashStream((end-ch)*p.chunk, p.chunk, e.table[ch*hashSize:end*hashSize], fill, nil); err != nil {
			return nil, err
		}
		ch = end
	}
	return e.table, nil
}
