// Package readfile reads the files a verb takes whole (params files, XML inputs): only regular
// files, and only up to a size the caller states. A named pipe or a device would hang the run
// or never end (@/dev/zero), a huge file would exhaust memory; each is an error naming the
// file instead (docs/reliability.md, rules 1 and 5).
package readfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Regular returns the information of path (symbolic links followed) if it is a regular file,
// and otherwise an error that names path and says what it is.
func Regular(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			pe.Op = "open" // what the caller is about to do, as os.ReadFile would say
		}
		return nil, err
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	return st, nil
}

// CheckRegular is the check ReadRegular makes before it opens path, for callers that read the
// file themselves: a regular file of at most max bytes.
func CheckRegular(path string, max int64) (fs.FileInfo, error) {
	st, err := Regular(path)
	if err != nil {
		return nil, err
	}
	if err := checkSize(path, st.Size(), max); err != nil {
		return nil, err
	}
	return st, nil
}

// ReadRegular reads path whole if it is a regular file of at most max bytes. The file is
// checked before it is opened (so a device is never opened), and again once open: a file
// swapped for a pipe in between does not block (it is opened non-blocking), and one that grows
// past max is refused rather than read on.
func ReadRegular(path string, max int64) ([]byte, error) {
	if _, err := CheckRegular(path, max); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	if err := checkSize(path, st.Size(), max); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: grew past the limit of %d bytes for this file while it was read", path, max)
	}
	return data, nil
}

func checkRegular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	}
	return fmt.Errorf("%s: %s; expected a regular file", path, what)
}

func checkSize(path string, size, max int64) error {
	if size > max {
		return fmt.Errorf("%s: %d bytes, over the limit of %d bytes for this file", path, size, max)
	}
	return nil
}
