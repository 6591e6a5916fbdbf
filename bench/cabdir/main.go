// Command cabdir writes every file under a directory into one cabinet, for the LZX
// benchmark (bench/lzx_vs_wimlib.sh): `cabdir [-compress none|mszip|lzx|lzx:BITS] OUT.cab DIR`.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

func main() {
	compress := flag.String("compress", "lzx", "none, mszip, lzx (window 2^21) or lzx:BITS (15 to 21)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: cabdir [-compress none|mszip|lzx|lzx:BITS] OUT.cab DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *compress); err != nil {
		fmt.Fprintln(os.Stderr, "cabdir:", err)
		os.Exit(1)
	}
}

func run(out, dir, compress string) error {
	var opt cab.Options
	switch {
	case compress == "none":
	case compress == "mszip":
		opt.Compression = cab.MSZIP
	case compress == "lzx":
		opt.Compression = cab.LZX
	case strings.HasPrefix(compress, "lzx:"):
		bits, err := strconv.Atoi(compress[4:])
		if err != nil {
			return fmt.Errorf("-compress %s: %v", compress, err)
		}
		opt.Compression = cab.LZXWindow(bits)
	default:
		return fmt.Errorf("unknown compression %q", compress)
	}
	var files []cab.FileSource
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, cab.FileSource{Name: strings.ReplaceAll(rel, "/", `\`), Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := cab.Write(f, files, opt); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
