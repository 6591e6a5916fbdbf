package mcsf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxFileBytes bounds every file the customization flow reads whole: answer files, the files
// they import and the policy files of packages. These are XML documents of kilobytes; the bound
// keeps a mistaken or hostile path (a device, a log that grows, a disk image renamed .xml) from
// exhausting memory. Asset, application and data asset files are streamed, not read whole.
const MaxFileBytes = 16 << 20

// CheckHostPath reports whether path names what the customization flow may open: a regular
// file or, with dirOK, a directory. Symbolic links are followed, as opening does. The path is
// not opened, so a named pipe or a device is refused before anything can block on it or read
// it without end. Errors start with the path.
func CheckHostPath(path string, dirOK bool) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist; expected an existing file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPath(err))
	}
	if st.Mode().IsRegular() || dirOK && st.IsDir() {
		return st, nil
	}
	want := "a regular file"
	if dirOK {
		want = "a regular file or a directory"
	}
	return nil, fmt.Errorf("%s is %s; expected %s", path, fileKind(st.Mode()), want)
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (mode " + m.String() + ")"
}

// OpenHostFile opens a regular file for reading. The file is checked by name first, then
// opened without blocking (a named pipe swapped in after the check cannot hang the open) and
// checked again through the open descriptor, so what is read is what was checked.
func OpenHostFile(path string) (*os.File, fs.FileInfo, error) {
	st, err := CheckHostPath(path, false)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, unwrapPath(err))
	}
	fst, err := f.Stat()
	switch {
	case err != nil:
	case !fst.Mode().IsRegular():
		err = fmt.Errorf("%s is now %s; expected a regular file", path, fileKind(fst.Mode()))
	case !os.SameFile(st, fst):
		err = fmt.Errorf("%s was replaced while it was opened; expected it to stay in place", path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fst, nil
}

// ReadHostFile reads a regular file of at most max bytes whole.
func ReadHostFile(path string, max int64) ([]byte, error) {
	f, st, err := OpenHostFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, tooBig(path, st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPath(err))
	}
	if int64(len(data)) > max { // it grew since the Stat
		return nil, tooBig(path, int64(len(data)), max)
	}
	return data, nil
}

func tooBig(path string, size, max int64) error {
	return fmt.Errorf("%s is %d bytes; expected at most %d, the bound on a file read whole", path, size, max)
}
