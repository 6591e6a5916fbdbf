// Command ntfsdir writes a directory tree into a new NTFS volume image with tools/ntfs, for
// bench/ntfs_vs_cp.sh and for looking at volumes by hand:
//
//	ntfsdir [-size BYTES] [-cluster BYTES] [-label NAME] SRC IMAGE
//
// IMAGE is created sparse with the volume's size; files are added in lexical path order.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/ntfs"
)

func main() {
	size := flag.Int64("size", 8<<30, "volume size in bytes")
	cluster := flag.Int("cluster", 0, "cluster size in bytes (0: 4096)")
	label := flag.String("label", "", "volume label")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: ntfsdir [-size BYTES] [-cluster BYTES] [-label NAME] SRC IMAGE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *size, ntfs.Options{ClusterSize: *cluster, Label: *label}); err != nil {
		fmt.Fprintln(os.Stderr, "ntfsdir:", err)
		os.Exit(1)
	}
}

func run(src, image string, size int64, opt ntfs.Options) error {
	img, err := os.Create(image)
	if err != nil {
		return err
	}
	defer img.Close()
	if err := img.Truncate(size); err != nil {
		return err
	}
	w, err := ntfs.New(img, 0, size, opt)
	if err != nil {
		return err
	}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return w.Mkdir(rel)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return w.AddFile(rel, st.Size(), f, 0)
	})
	if err != nil {
		return err
	}
	ext, err := w.Close()
	if err != nil {
		return err
	}
	var used int64
	for _, e := range ext {
		used += e.Length
	}
	fmt.Printf("%s: %d bytes in %d extents\n", image, used, len(ext))
	return img.Close()
}
