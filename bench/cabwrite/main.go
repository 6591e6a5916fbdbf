// Command cabwrite writes the files of a directory into a cabinet with tools/cab, for
// bench/cab_vs_gcab.sh: `cabwrite [-z] [-level N] OUT.cab DIR`.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

func main() {
	z := flag.Bool("z", false, "MSZIP compression (like gcab -z)")
	level := flag.Int("level", 0, "deflate level 1-9 (0: the writer's default)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: cabwrite [-z] [-level N] OUT.cab DIR")
		os.Exit(2)
	}
	out, dir := flag.Arg(0), flag.Arg(1)
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var files []cab.FileSource
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		files = append(files, cab.FileSource{Name: e.Name(), Size: info.Size(), Open: func() (io.ReadCloser, error) { return os.Open(path) }})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	opt := cab.Options{Level: *level}
	if *z {
		opt.Compression = cab.MSZIP
	}
	f, err := os.Create(out)
	if err == nil {
		_, err = cab.Write(f, files, opt)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.Remove(out)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
