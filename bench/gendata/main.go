// Command gendata writes deterministic test files for the benchmarks:
// `gendata DIR TOTAL_MIB COUNT` writes COUNT files of log-distributed sizes (1 KiB to 8 MiB)
// adding up to about TOTAL_MIB, each a mix of text-like (compressible) and random runs, so that
// deflate compresses it about 2:1 as it does program binaries.
package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gendata DIR TOTAL_MIB COUNT")
		os.Exit(2)
	}
	dir := os.Args[1]
	total, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil || total <= 0 {
		fail(fmt.Errorf("TOTAL_MIB %q: want a positive number", os.Args[2]))
	}
	count, err := strconv.Atoi(os.Args[3])
	if err != nil || count <= 0 {
		fail(fmt.Errorf("COUNT %q: want a positive number", os.Args[3]))
	}
	rng := rand.New(rand.NewSource(1))
	// Log-uniform sizes, scaled to the total.
	sizes := make([]float64, count)
	var sum float64
	for i := range sizes {
		sizes[i] = math.Exp(rng.Float64()*math.Log(8192) + math.Log(1024))
		sum += sizes[i]
	}
	words := []string{"Windows", "Mobile", "package", "driver", "kernel", "0x0040", "ImageUpdate", "MainOS", "resource", "\r\n", "    ", "DeviceLayout"}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	for i, s := range sizes {
		n := int64(s / sum * float64(total<<20))
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%05d.bin", i)))
		if err != nil {
			fail(err)
		}
		w := bufio.NewWriter(f)
		buf := make([]byte, 0, 4096)
		for written := int64(0); written < n; {
			buf = buf[:0]
			if rng.Intn(2) == 0 {
				for len(buf) < 2048 {
					buf = append(buf, words[rng.Intn(len(words))]...)
					buf = append(buf, ' ')
				}
			} else {
				buf = buf[:1024]
				rng.Read(buf)
			}
			if int64(len(buf)) > n-written {
				buf = buf[:n-written]
			}
			w.Write(buf)
			written += int64(len(buf))
		}
		if err := w.Flush(); err != nil {
			fail(err)
		}
		if err := f.Close(); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendata:", err)
	os.Exit(1)
}
