// Command wimgen writes a deterministic directory tree for the WIM benchmark
// (bench/wim_vs_wimlib.sh): `wimgen DIR TOTAL_MIB` writes files of log-distributed sizes
// (256 bytes to 4 MiB) adding up to about TOTAL_MIB, in directories up to four levels deep.
// Contents alternate text-like runs (words of a small vocabulary, as in resources and
// manifests) and random runs (as in compressed or code sections), so that XPRESS
// compresses them about 2:1; one file in twenty repeats an earlier one, to exercise
// deduplication, and a few files and directories are empty.
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
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: wimgen DIR TOTAL_MIB")
		os.Exit(2)
	}
	total, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil || total <= 0 {
		fmt.Fprintln(os.Stderr, "wimgen: TOTAL_MIB must be a positive number")
		os.Exit(2)
	}
	if err := generate(os.Args[1], total<<20); err != nil {
		fmt.Fprintln(os.Stderr, "wimgen:", err)
		os.Exit(1)
	}
}

var words = []string{"Windows", "Mobile", "package", "driver", "kernel", "0x0040", "ImageUpdate", "MainOS",
	"resource", "\r\n", "    ", "DeviceLayout", "<File Source=\"", "\" />", "System32", "Microsoft"}

func generate(root string, total int64) error {
	rng := rand.New(rand.NewSource(1))
	dirs := []string{root}
	depth := []int{0}
	for i := 1; i < 60; i++ {
		p := rng.Intn(len(dirs))
		for depth[p] >= 4 {
			p = rng.Intn(len(dirs))
		}
		dirs = append(dirs, filepath.Join(dirs[p], fmt.Sprintf("dir%02d", i)))
		depth = append(depth, depth[p]+1)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var written int64
	var earlier []string
	buf := make([]byte, 0, 4096)
	for i := 0; written < total; i++ {
		path := filepath.Join(dirs[rng.Intn(len(dirs))], fmt.Sprintf("file%05d.bin", i))
		if i%20 == 19 && len(earlier) > 0 {
			b, err := os.ReadFile(earlier[rng.Intn(len(earlier))])
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			written += int64(len(b))
			continue
		}
		n := int64(math.Exp(rng.Float64()*math.Log(16384)) * 256)
		if i%97 == 0 {
			n = 0
		}
		n = min(n, total-written)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<16)
		for left := n; left > 0; {
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
			buf = buf[:min(int64(len(buf)), left)]
			w.Write(buf)
			left -= int64(len(buf))
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		written += n
		earlier = append(earlier, path)
	}
	return nil
}
