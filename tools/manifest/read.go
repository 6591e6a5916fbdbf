package manifest

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// ReadXMLFile reads an input XML file: a regular file of at most MaxFileSize bytes. A named
// pipe, device or directory is refused by name before anything is read from it (opening
// without blocking, so a pipe with no writer cannot hang the run).
func ReadXMLFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s); expected an XML file", path, st.Mode().Type())
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes; expected an XML file of at most %d bytes", path, st.Size(), MaxFileSize)
	}
	// One buffer of the size Stat gave, plus a byte to notice a file that grew meanwhile: the
	// bound holds whatever happens to the file.
	data := make([]byte, st.Size()+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == nil:
		return nil, fmt.Errorf("%s: grew while it was read; expected a file that does not change", path)
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return data[:n], nil
}
