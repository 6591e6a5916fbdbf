package lzx

import (
	"flag"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchSet  []byte
)

// benchMiB is the benchmarks' input: 32 MiB, or less for a run under valgrind
// (-lzx.benchmib 2 gives a prefix of the same data).
var benchMiB = flag.Int("lzx.benchmib", 32, "MiB of generated data the benchmarks compress")

// benchData is 32 MiB of the guard's generated shapes, mostly PE-like and text-like as in a
// Windows image, with some random and zero runs.
func benchData() []byte {
	benchOnce.Do(func() {
		g := genRand(99)
		for len(benchSet) < *benchMiB<<20 {
			n := 4096 + g.intn(1<<19)
			switch r := g.intn(20); {
			case r < 11:
				benchSet = append(benchSet, genPE(g.next(), n)...)
			case r < 17:
				benchSet = append(benchSet, genText(g.next(), n)...)
			case r < 19:
				benchSet = append(benchSet, genRandom(g.next(), n/4)...)
			default:
				benchSet = append(benchSet, make([]byte, n/4)...)
			}
		}
		benchSet = benchSet[:*benchMiB<<20]
	})
	return benchSet
}

func benchWIM(b *testing.B, chunk int, level Level) {
	data := benchData()
	enc, _ := NewWIMEncoder(chunk, level)
	dst := make([]byte, Bound(chunk))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		out := 0
		for off := 0; off < len(data); off += chunk {
			src := data[off:min(off+chunk, len(data))]
			n := enc.Compress(dst, src)
			if n == 0 {
				n = len(src)
			}
			out += n
		}
		b.ReportMetric(float64(out)/float64(len(data)), "ratio")
	}
}

// BenchmarkWIMStrong is imgtowim's case: 32 KiB chunks at the Strong level, one goroutine.
func BenchmarkWIMStrong(b *testing.B) { benchWIM(b, 1<<15, Strong) }

// BenchmarkCABFolderFast is pkggen's case: one folder at the Fast level, one worker.
func BenchmarkCABFolderFast(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		pos, out := 0, 0
		next := func(p []byte) (int, error) {
			n := copy(p, data[pos:])
			pos += n
			return n, nil
		}
		err := EncodeCABFolder(21, Fast, 1, next, func(p []byte, n int) error {
			out += len(p)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(out)/float64(len(data)), "ratio")
	}
}

// BenchmarkWIMStrongRandom is imgtowim on random bytes (compressed files): chunks that are
// stored, which incompressible finds before the parse.
func BenchmarkWIMStrongRandom(b *testing.B) {
	g := genRand(7)
	data := genRandom(g.next(), 8<<20)
	enc, _ := NewWIMEncoder(1<<15, Strong)
	dst := make([]byte, Bound(1<<15))
	b.SetBytes(int64(len(data)))
	for range b.N {
		for off := 0; off < len(data); off += 1 << 15 {
			if enc.Compress(dst, data[off:off+1<<15]) != 0 {
				b.Fatal("a random chunk was compressed")
			}
		}
	}
}

// BenchmarkWIMStrongHalfRandom is bench/genimage's payload: 4 KiB runs of repeated text
// lines and of random bytes, in turn at random, so every chunk has both.
func BenchmarkWIMStrongHalfRandom(b *testing.B) {
	g := genRand(8)
	line := []byte("Windows 10 Mobile benchmark payload, text-like and compressible. ")
	var data []byte
	for len(data) < 8<<20 {
		if g.intn(2) == 0 {
			for k := 0; k < 4096/len(line); k++ {
				data = append(data, line...)
			}
		} else {
			data = append(data, genRandom(g.next(), 4096)...)
		}
	}
	data = data[:8<<20]
	enc, _ := NewWIMEncoder(1<<15, Strong)
	dst := make([]byte, Bound(1<<15))
	b.SetBytes(int64(len(data)))
	for range b.N {
		for off := 0; off < len(data); off += 1 << 15 {
			enc.Compress(dst, data[off:off+1<<15])
		}
	}
}
