// Package readfile is the one implementation of "open only what is meant to be opened" for
// host files: a file a verb reads (whole or streamed) must be a regular file, and one read
// whole must be at most a size the caller states. A named pipe or a device would hang the run
// or never end (@/dev/zero), a huge file would exhaust memory; each is an error naming the
// file instead (docs/reliability.md, rules 1 and 5).
//
// Every message has one form: "<path>: <what it is>; expected <what was expected>".
package readfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Check returns the information of path (symbolic links followed, as opening does) if it is
// a regular file or, with dirOK, a directory; otherwise an error naming path and what it is.
// Nothing is opened, so a named pipe or a device is refused before anything can block on it.
func Check(path string, dirOK bool) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, statErr(path, err, want(dirOK))
	}
	if m := st.Mode(); m.IsRegular() || dirOK && m.IsDir() {
		return st, nil
	}
	return nil, kindErr(path, st.Mode(), want(dirOK))
}

// Regular is Check(path, false): path must be a regular file.
func Regular(path string) (fs.FileInfo, error) { return Check(path, false) }

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

// Open opens a regular file for reading. The file is checked by name first (so a device is
// never opened), then opened without blocking (a named pipe swapped in after the check cannot
// hang the open) and checked again through the descriptor: it must still be a regular file,
// and the one checked (os.SameFile), so what is read is what was checked. The information
// returned is the descriptor's.
func Open(path string) (*os.File, fs.FileInfo, error) {
	st, err := Regular(path)
	if err != nil {
		return nil, nil, err
	}
	if testHookOpen != nil {
		testHookOpen(path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, statErr(path, err, want(false))
	}
	fst, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("%s: %w", path, unwrap(err))
	case !fst.Mode().IsRegular():
		err = kindErr(path, fst.Mode(), want(false))
	case !os.SameFile(st, fst):
		err = fmt.Errorf("%s: replaced while it was opened; expected a file that stays in place", path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fst, nil
}

// OpenSized is Open for a file whose size the caller took earlier (to state it in an output
// before the content is copied): the file must still be size bytes.
func OpenSized(path string, size int64) (*os.File, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	if st.Size() != size {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes, changed from %d since it was checked; expected it to stay as it was", path, st.Size(), size)
	}
	return f, nil
}

// testHookOpen runs between Open's check and its open: tests swap the file there.
var testHookOpen func(path string)

// ReadRegular reads path whole if it is a regular file of at most max bytes (opened as Open
// does). The buffer is the size the descriptor states, plus one byte to notice a file that
// grows while it is read: the bound holds whatever happens to the file.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkSize(path, st.Size(), max); err != nil {
		return nil, err
	}
	data := make([]byte, st.Size()+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == nil:
		return nil, fmt.Errorf("%s: grew past its %d bytes while it was read; expected a file that does not change", path, st.Size())
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, fmt.Errorf("%s: %w", path, unwrap(err))
	}
	return data[:n], nil
}

// Kind names what a file of mode m is, for messages: "a regular file", "a named pipe"...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file (mode " + m.String() + ")"
}

func want(dirOK bool) string {
	if dirOK {
		return "a regular file or a directory"
	}
	return "a regular file"
}

func kindErr(path string, m fs.FileMode, want string) error {
	return fmt.Errorf("%s: %s; expected %s", path, Kind(m), want)
}

// statErr words a failed stat or open: a missing file as such (errors.Is(err,
// fs.ErrNotExist) still holds), anything else as the system's reason.
func statErr(path string, err error, want string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return notExist(fmt.Sprintf("%s: does not exist; expected %s", path, want))
	}
	return fmt.Errorf("%s: %w", path, unwrap(err))
}

// notExist is the message of a missing file that is still fs.ErrNotExist to errors.Is.
type notExist string

func (e notExist) Error() string        { return string(e) }
func (e notExist) Is(target error) bool { return target == fs.ErrNotExist }

// unwrap drops the operation and path of an *fs.PathError: messages name the path once.
func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func checkSize(path string, size, max int64) error {
	if size > max {
		return fmt.Errorf("%s: %d bytes; expected at most %d, the limit on a file read whole", path, size, max)
	}
	return nil
}
