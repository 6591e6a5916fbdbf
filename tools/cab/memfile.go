package cab

import "io"

// MemFile is a file in memory (io.WriteSeeker, io.ReaderAt and Truncate), for cabinets and
// other images built in memory.
type MemFile struct {
	buf []byte
	pos int64
}

func (m *MemFile) Write(p []byte) (int, error) {
	end := m.pos + int64(len(p))
	if end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	copy(m.buf[m.pos:], p)
	m.pos = end
	return len(p), nil
}

func (m *MemFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.pos = off
	case io.SeekCurrent:
		m.pos += off
	case io.SeekEnd:
		m.pos = int64(len(m.buf)) + off
	}
	return m.pos, nil
}

// ReadAt reads what was written at off.
func (m *MemFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.buf)) {
		return 0, io.EOF
	}
	n := copy(p, m.buf[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Truncate cuts the file to size bytes or extends it with zeros; the position stays.
func (m *MemFile) Truncate(size int64) error {
	if size <= int64(len(m.buf)) {
		m.buf = m.buf[:size]
	} else {
		m.buf = append(m.buf, make([]byte, size-int64(len(m.buf)))...)
	}
	return nil
}

// Reset empties the file and rewinds it, keeping its memory for reuse.
func (m *MemFile) Reset() { m.buf, m.pos = m.buf[:0], 0 }

// Bytes returns what was written.
func (m *MemFile) Bytes() []byte { return m.buf }
