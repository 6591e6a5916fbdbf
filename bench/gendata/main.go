// Command gendata writes deterministic input files for the benchmarks. Contents alternate
// text-like runs (words of a small vocabulary, as in resources and manifests) and random runs
// (as in compressed or code sections), so that deflate and XPRESS compress them about 2:1 as
// they do program binaries.
//
//	gendata DIR TOTAL_MIB COUNT   COUNT files in DIR, log-distributed sizes (1 KiB to 8 MiB)
//	                              adding up to about TOTAL_MIB (cab_vs_gcab.sh)
//	gendata -tree DIR TOTAL_MIB   files of 256 bytes to 4 MiB in directories up to four levels
//	                              deep; one file in twenty repeats an earlier one (WIM
//	                              deduplication), a few are empty (wim_vs_wimlib.sh, lzx_vs_wimlib.sh)
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	args := os.Args[1:]
	tree := len(args) > 0 && args[0] == "-tree"
	if tree {
		args = args[1:]
	}
	if (tree && len(args) != 2) || (!tree && len(args) != 3) {
		fmt.Fprintln(os.Stderr, "usage: gendata DIR TOTAL_MIB COUNT | gendata -tree DIR TOTAL_MIB")
		os.Exit(2)
	}
	total, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || total <= 0 {
		fail(fmt.Errorf("TOTAL_MIB %q: want a positive number", args[1]))
	}
	if tree {
		err = generateTree(args[0], total<<20)
	} else {
		count, cerr := strconv.Atoi(args[2])
		if cerr != nil || count <= 0 {
			fail(fmt.Errorf("COUNT %q: want a positive number", args[2]))
		}
		err = generateFlat(args[0], total<<20, count)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendata:", err)
	os.Exit(1)
}

var (
	flatWords = []string{"Windows", "Mobile", "package", "driver", "kernel", "0x0040", "ImageUpdate", "MainOS", "resource", "\r\n", "    ", "DeviceLayout"}
	treeWords = append(flatWords[:len(flatWords):len(flatWords)], "<File Source=\"", "\" />", "System32", "Microsoft")
)

// fill writes n bytes of alternating 2 KiB text-like and 1 KiB random runs.
func fill(w io.Writer, rng *rand.Rand, n int64, words []string, buf []byte) error {
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
		if _, err := w.Write(buf); err != nil {
			return err
		}
		left -= int64(len(buf))
	}
	return nil
}

func writeFile(path string, rng *rand.Rand, n int64, words []string, buf []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if err := fill(w, rng, n, words, buf); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func generateFlat(dir string, total int64, count int) error {
	rng := rand.New(rand.NewSource(1))
	// Log-uniform sizes, scaled to the total.
	sizes := make([]float64, count)
	var sum float64
	for i := range sizes {
		sizes[i] = math.Exp(rng.Float64()*math.Log(8192) + math.Log(1024))
		sum += sizes[i]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	buf := make([]byte, 0, 4096)
	for i, s := range sizes {
		n := int64(s / sum * float64(total))
		if err := writeFile(filepath.Join(dir, fmt.Sprintf("f%05d.bin", i)), rng, n, flatWords, buf); err != nil {
			return err
		}
	}
	return nil
}

func generateTree(root string, total int64) error {
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
		if err := writeFile(path, rng, n, treeWords, buf); err != nil {
			return err
		}
		written += n
		earlier = append(earlier, path)
	}
	return nil
}
