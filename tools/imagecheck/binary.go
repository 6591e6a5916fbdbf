package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// checkBinary checks a binary partition package the image lists: its partition is raw (no
// file system) and, as dd reads the raw disk, starts with the package's image byte for byte;
// its DSM and catalog are in MainOS (read with mainOS: mtype or ntfscat) with the package's
// content. Any other file is an error.
func checkBinary(im *volume.Image, dir, file string, p *spkg.Package, mainOS func(devicePath string) (string, error)) (int, error) {
	name := p.Manifest.Partition
	e := im.Partition(name)
	if e == nil {
		return 0, fmt.Errorf("%s is a binary partition package for %s, which the disk lacks (it has %s)", file, name, im.Names())
	}
	if im.IsFAT(e) || im.IsNTFS(e) {
		return 0, fmt.Errorf("%s is a binary partition package for %s, which holds a file system", file, name)
	}
	off, size := im.Extent(e)
	images := 0
	err := p.Walk(func(fe spkg.FileEntry, r io.Reader) error {
		switch fe.FileType {
		case "Manifest", "Catalog":
			want, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			got, err := mainOS(fe.DevicePath)
			if err != nil {
				return fmt.Errorf("%s: %v", file, err)
			}
			if got != string(want) {
				return fmt.Errorf("%s: MainOS\\%s differs from the package's (%d bytes, want %d)", file, fe.DevicePath[1:], len(got), len(want))
			}
			return nil
		case "BinaryPartition":
		default:
			return fmt.Errorf("%s is a binary partition package but holds %s of FileType %s", file, fe.DevicePath, fe.FileType)
		}
		if images++; images > 1 {
			return fmt.Errorf("%s holds more than one partition image", file)
		}
		if fe.FileSize > size {
			return fmt.Errorf("%s: the %d-byte image is larger than partition %s (%d bytes)", file, fe.FileSize, name, size)
		}
		got := filepath.Join(dir, name+".bin")
		defer os.Remove(got)
		disk, err := im.Disk()
		if err != nil {
			return err
		}
		if _, err := run("dd", "if="+disk.Name(), "of="+got, "iflag=skip_bytes,count_bytes", "bs=65536", "status=none",
			"skip="+strconv.FormatInt(off, 10), "count="+strconv.FormatInt(fe.FileSize, 10)); err != nil {
			return err
		}
		f, err := os.Open(got)
		if err != nil {
			return err
		}
		defer f.Close()
		if at, err := firstDifference(f, r); err != nil {
			return err
		} else if at >= 0 {
			return fmt.Errorf("%s: partition %s differs from the package's %d-byte image at byte %d", file, name, fe.FileSize, at)
		}
		return nil
	})
	if err == nil && images == 0 {
		err = fmt.Errorf("%s is marked IsBinaryPartition but holds no partition image", file)
	}
	return images, err
}

// firstDifference compares two streams and returns the offset of their first difference
// (a shorter stream differs where it ends), or -1.
func firstDifference(a, b io.Reader) (int64, error) {
	bufA, bufB := make([]byte, 1<<16), make([]byte, 1<<16)
	var pos int64
	for {
		na, errA := io.ReadFull(a, bufA)
		nb, errB := io.ReadFull(b, bufB)
		if errA != nil && errA != io.EOF && errA != io.ErrUnexpectedEOF {
			return 0, errA
		}
		if errB != nil && errB != io.EOF && errB != io.ErrUnexpectedEOF {
			return 0, errB
		}
		n := min(na, nb)
		if i := bytesDiff(bufA[:n], bufB[:n]); i >= 0 {
			return pos + int64(i), nil
		}
		if na != nb {
			return pos + int64(n), nil
		}
		if na < len(bufA) {
			return -1, nil
		}
		pos += int64(na)
	}
}

func bytesDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
