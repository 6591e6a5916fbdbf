package ffu

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// write is one write of a replayed disk: junk bytes, or the disk's own.
type write struct {
	off, n int64
	junk   bool
}

// replay is the whole of a disk in pieces of seeded random sizes, in seeded random order; with
// junk, then junk written over random places of the allocated extents, and the disk's bytes
// written there again (so the disk ends as it should, some blocks written after their last
// piece).
func replay(img *Image, seed int64, junk bool) []write {
	rng := rand.New(rand.NewSource(seed))
	var ws []write
	for off := int64(0); off < img.DiskSize; {
		n := min(img.DiskSize-off, 1+rng.Int63n(700<<10))
		ws = append(ws, write{off, n, false})
		off += n
	}
	rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
	if junk {
		var again []write
		for range 8 {
			e := img.Allocated[rng.Intn(len(img.Allocated))]
			n := 1 + rng.Int63n(min(e.Length, 300<<10))
			w := write{e.Offset + rng.Int63n(e.Length-n+1), n, true}
			ws = append(ws, w)
			w.junk = false
			again = append(again, w)
		}
		ws = append(ws, again...)
	}
	return ws
}

// A Layout told beforehand how many bytes each block will get hashes chunks while the disk is
// written; the FFU is byte for byte Write's whatever the counts say: exact (most chunks hashed
// early), too small (chunks hashed before their last writes, so hashed again), too large
// (never reached: all hashed by Finish), and with junk written first to places the disk's
// bytes overwrite later.
func TestLayoutEarlyHash(t *testing.T) {
	images := map[string]func(t *testing.T) *Image{
		"standard_ss512_chunk128": func(t *testing.T) *Image { return standardDisk(t, 512).image(128, false) },
		"standard_ss4096_chunk4":  func(t *testing.T) *Image { return standardDisk(t, 4096).image(4, false) },
		"standard_ss512_chunk1024": func(t *testing.T) *Image {
			return standardDisk(t, 512).image(1024, true)
		},
		"standard_ss512_chunk100": func(t *testing.T) *Image { return standardDisk(t, 512).image(100, true) },
	}
	for name, mk := range images {
		img := mk(t)
		want, _ := writeFFU(t, img)
		for _, tc := range []struct {
			name       string
			junk       bool
			scale      func(n uint64) uint64
			countsJunk bool // the counts include the junk writes and their repair
		}{
			{"exact", false, func(n uint64) uint64 { return n }, false},
			{"exact_with_junk", true, func(n uint64) uint64 { return n }, true},
			{"junk_not_counted", true, func(n uint64) uint64 { return n }, false},
			{"too_small", false, func(n uint64) uint64 { return n / 2 }, false},
			{"too_large", false, func(n uint64) uint64 { return n*2 + 1 }, false},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				l, err := img.Plan()
				if err != nil {
					t.Fatal(err)
				}
				ws := replay(img, int64(len(tc.name)), tc.junk)
				counts := newBlockCounts(img.DiskSize, l.p.bs)
				for i, w := range ws {
					if i >= len(ws)-16 && tc.junk && !tc.countsJunk {
						break // the junk and its repair
					}
					if _, err := counts.WriteAt(make([]byte, w.n), w.off); err != nil {
						t.Fatal(err)
					}
				}
				for i := range counts.n {
					counts.n[i] = tc.scale(counts.n[i])
				}
				f, err := os.Create(filepath.Join(t.TempDir(), "early.ffu"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				d, err := l.Disk(f)
				if err != nil {
					t.Fatal(err)
				}
				d.ExpectWrites(counts)
				if d.early == nil {
					t.Fatal("counts of the Layout's block size were not taken")
				}
				rng := rand.New(rand.NewSource(7))
				for _, w := range ws {
					b := make([]byte, w.n)
					if w.junk {
						rng.Read(b)
					} else if _, err := img.Disk.ReadAt(b, w.off); err != nil {
						t.Fatal(err)
					}
					if _, err := d.WriteAt(b, w.off); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := l.Finish(d); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("the FFU (%d bytes) differs from Write's (%d bytes)", len(got), len(want))
				}
				eligible, zeroOnly := earlyEligible(l)
				switch e := d.early; tc.name {
				case "exact", "exact_with_junk":
					// Every chunk that holds no header and no block from memory.
					if e.hashed != eligible {
						t.Errorf("%d chunks kept their early hash, want all %d eligible", e.hashed, eligible)
					}
				case "too_large":
					if e.hashed != zeroOnly {
						t.Errorf("%d chunks kept their early hash, want the %d of stored zero blocks only", e.hashed, zeroOnly)
					}
				default:
					if e.hashed >= eligible && eligible > 0 {
						t.Errorf("%d of %d eligible chunks kept their early hash, though some were written after it", e.hashed, eligible)
					}
				}
			})
		}
	}
}

// Counts of another block size leave the hashing to Finish.
func TestExpectWritesOtherBlockSize(t *testing.T) {
	img := standardDisk(t, 512).image(128, false)
	l, err := img.Plan()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "x.ffu"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := l.Disk(f)
	if err != nil {
		t.Fatal(err)
	}
	d.ExpectWrites(newBlockCounts(img.DiskSize, l.p.bs/2))
	if d.early != nil {
		t.Error("counts of half the block size were taken")
	}
}

// earlyEligible counts the chunks a Layout can hash early (neither headers nor a block from
// memory in them) and those of them holding no block from the disk (stored zeros only).
func earlyEligible(l *Layout) (eligible, zeroOnly int) {
	p := l.p
	payStart := p.imgRegion + p.storeMeta
	bad := map[int64]bool{}
	disk := map[int64]bool{}
	for k, s := range p.sources {
		first, last := l.chunksOf(uint32(k))
		for ch := first; ch <= last; ch++ {
			if s.kind == srcMem || ch*p.chunk < payStart {
				bad[ch] = true
			}
			if s.kind == srcDisk {
				disk[ch] = true
			}
		}
	}
	for ch := int64(0); ch < p.body/p.chunk; ch++ {
		if bad[ch] || ch*p.chunk < payStart || !l.chunkHasSlot(ch) {
			continue
		}
		eligible++
		if !disk[ch] {
			zeroOnly++
		}
	}
	return eligible, zeroOnly
}
