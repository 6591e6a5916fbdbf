// Command wimcapture writes a directory tree to a WIM with tools/wim, for the benchmark
// against wimlib-imagex (bench/wim_vs_wimlib.sh):
//
//	wimcapture [-compress none|xpress] [-workers N] [-name NAME] [-cpuprofile FILE] DIR OUT.wim
//
// Directories and regular files are added in lexical order; other files are skipped.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/oemimage/rules_oemimage/tools/wim"
)

func main() {
	compress := flag.String("compress", "none", "none, xpress or lzx")
	workers := flag.Int("workers", 0, "chunk compressors; 0 means one per core")
	name := flag.String("name", "", "image name (default: DIR's base name)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(pf)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "wimcapture:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: wimcapture [-compress none|xpress] [-workers N] [-name NAME] DIR OUT.wim")
		os.Exit(2)
	}
	if err := capture(flag.Arg(0), flag.Arg(1), *compress, *workers, *name); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "wimcapture:", err)
		os.Exit(1)
	}
}

func capture(dir, out, compress string, workers int, name string) error {
	opt := wim.Options{Workers: workers, Name: name}
	switch compress {
	case "none":
	case "xpress":
		opt.Compression = wim.XPRESS
	case "lzx":
		opt.Compression = wim.LZX
	default:
		return fmt.Errorf("unknown compression %q", compress)
	}
	if opt.Name == "" {
		opt.Name = filepath.Base(dir)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := wim.NewWriter(f, opt)
	if err != nil {
		return err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return w.AddDir(rel, 0)
		case d.Type().IsRegular():
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			defer src.Close()
			st, err := src.Stat()
			if err != nil {
				return err
			}
			return w.AddFile(rel, st.Size(), src, 0)
		}
		return nil
	})
	if err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}
