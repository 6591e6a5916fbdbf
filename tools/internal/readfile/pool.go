package readfile

import (
	"container/list"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// Pool bounds the descriptors held by files that stay open for a whole run: featuremerger and
// imggen keep every package of an image open to copy or read its cabinet folders later, and a
// kit of 20,000 packages is past the usual limit of open files (1,024 by default on Linux).
// A pooled File holds a descriptor only while it is among the Limit most recently used; an
// idle one is closed and reopened at its next read, checked to be the file first opened
// (same file, size and modification time), so a file replaced or changed meanwhile is an error
// naming it, never other bytes.
type Pool struct {
	Limit int // descriptors held at most, beyond those in use at the same moment; <= 0 means 256

	mu   sync.Mutex
	idle list.List // *File holding a descriptor, none in use, least recently used first
	open int       // descriptors held (idle or in use)
}

// Packages is the pool of package files (tools/spkg): a quarter of the usual 1,024
// descriptors, which leaves the rest to outputs, temporary files and other readers.
var Packages = &Pool{Limit: 256}

// File is a file opened through a Pool: an io.ReaderAt that may be read from several
// goroutines at once, as os.File's ReadAt may.
type File struct {
	pool *Pool
	path string
	info fs.FileInfo // the descriptor's, at the first open

	f      *os.File      // nil while closed
	users  int           // ReadAt calls running
	elem   *list.Element // in pool.idle while held and unused
	closed bool
}

// Open opens path as readfile.Open does and puts its descriptor in the pool.
func (p *Pool) Open(path string) (*File, fs.FileInfo, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	pf := &File{pool: p, path: path, info: st, f: f}
	p.mu.Lock()
	p.open++
	pf.elem = p.idle.PushBack(pf)
	p.trimLocked()
	p.mu.Unlock()
	return pf, st, nil
}

// ReadAt reads from the file, reopening it if the pool closed it.
func (pf *File) ReadAt(b []byte, off int64) (int, error) {
	f, err := pf.acquire()
	if err != nil {
		return 0, err
	}
	n, err := f.ReadAt(b, off)
	pf.release()
	return n, err
}

// Close releases the file's descriptor; the File cannot be read afterwards.
func (pf *File) Close() error {
	p := pf.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if pf.closed {
		return nil
	}
	pf.closed = true
	if pf.elem != nil {
		p.idle.Remove(pf.elem)
		pf.elem = nil
	}
	if pf.f == nil {
		return nil
	}
	err := pf.f.Close() // a ReadAt running now fails with "file already closed", as os.File's would
	pf.f = nil
	p.open--
	return err
}

func (pf *File) acquire() (*os.File, error) {
	p := pf.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if pf.closed {
		return nil, fmt.Errorf("%s: %w", pf.path, os.ErrClosed)
	}
	if pf.f == nil {
		f, err := pf.reopen()
		if err != nil {
			return nil, err
		}
		pf.f = f
		p.open++
	}
	if pf.elem != nil {
		p.idle.Remove(pf.elem)
		pf.elem = nil
	}
	pf.users++
	p.trimLocked()
	return pf.f, nil
}

func (pf *File) release() {
	p := pf.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	pf.users--
	if pf.users == 0 && !pf.closed && pf.f != nil {
		pf.elem = p.idle.PushBack(pf)
		p.trimLocked()
	}
}

// reopen opens the file again and checks it is the one first opened, unchanged.
func (pf *File) reopen() (*os.File, error) {
	f, st, err := Open(pf.path)
	if err != nil {
		return nil, err
	}
	if !os.SameFile(pf.info, st) || st.Size() != pf.info.Size() || !st.ModTime().Equal(pf.info.ModTime()) {
		f.Close()
		return nil, fmt.Errorf("%s: changed since it was opened (%d bytes, modified %s; was %d bytes, modified %s); expected a file that does not change during the run",
			pf.path, st.Size(), st.ModTime().UTC().Format("2006-01-02 15:04:05.999999999"), pf.info.Size(), pf.info.ModTime().UTC().Format("2006-01-02 15:04:05.999999999"))
	}
	return f, nil
}

// trimLocked closes idle descriptors, least recently used first, until at most Limit are
// held (descriptors in use are never closed: they are bounded by the goroutines reading).
func (p *Pool) trimLocked() {
	limit := p.Limit
	if limit <= 0 {
		limit = 256
	}
	for p.open > limit && p.idle.Len() > 0 {
		pf := p.idle.Remove(p.idle.Front()).(*File)
		pf.elem = nil
		pf.f.Close()
		pf.f = nil
		p.open--
	}
}

// Held is the number of descriptors the pool holds now (for tests).
func (p *Pool) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}
