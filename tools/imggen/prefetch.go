package imggen

import (
	"bytes"
	"io"
	"runtime"
	"sync"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Packages are decompressed on all cores while the file systems are written on one: the
// writing is sequential (cluster allocation follows install order, which fixes the bytes of the
// image), the inflating is not. A prefetcher decodes the packages ahead of the writer, each
// into memory, within a budget of bytes in flight; the writer takes them in selection order, so
// the image does not depend on the number of workers. A package larger than the budget, and a
// binary partition package, is not prefetched: the writer streams it itself, as before.

// prefetchBudget bounds the decoded bytes held at once (the peak memory of prefetching).
var prefetchBudget int64 = 64 << 20 // a variable for tests

// decodedFile is one file of a prefetched package: the bytes its reader yielded (at most its
// size) and the error that ended the reading, if any, so that the writer sees what it would
// have seen reading the package itself.
type decodedFile struct {
	entry spkg.FileEntry
	data  []byte
	err   error
	sum   *catalog.Hasher // data hashed for the package's catalog check; nil without one
}

// reader gives the file's bytes, then its error.
func (f *decodedFile) reader() io.Reader {
	if f.err == nil {
		return bytes.NewReader(f.data)
	}
	return io.MultiReader(bytes.NewReader(f.data), errReader{f.err})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// decoded is a package as the prefetcher left it: files and the error of its walk, or
// streamed (the writer walks it).
type decoded struct {
	files    []decodedFile
	err      error
	streamed bool
	size     int64 // budget held until the writer is done with it
}

// prefetcher decodes packages in order of need: dispatch takes budget in package order (so the
// package the writer waits for always gets it: no deadlock), workers decode, and next hands
// the writer package i once it is decoded.
type prefetcher struct {
	pkgs    []*spkg.Package
	results []chan *decoded
	stop    chan struct{}
	mu      sync.Mutex
	cond    *sync.Cond
	free    int64
	wg      sync.WaitGroup
}

// newPrefetcher starts decoding pkgs; stream reports the packages the writer reads itself;
// checks[i], when not nil, gives the hash each file of package i is fed to (on the worker, in
// parallel) for its catalog check.
func newPrefetcher(pkgs []*spkg.Package, checks []*spkg.CatalogCheck, stream func(i int) bool, workers int) *prefetcher {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pf := &prefetcher{pkgs: pkgs, results: make([]chan *decoded, len(pkgs)), stop: make(chan struct{}), free: prefetchBudget}
	pf.cond = sync.NewCond(&pf.mu)
	for i := range pf.results {
		pf.results[i] = make(chan *decoded, 1)
	}
	jobs := make(chan int)
	pf.wg.Add(1)
	go func() { // dispatch, in order
		defer pf.wg.Done()
		defer close(jobs)
		for i, p := range pkgs {
			size := budgetOf(p)
			if stream(i) || size > prefetchBudget {
				pf.results[i] <- &decoded{streamed: true}
				continue
			}
			if !pf.acquire(size) {
				return
			}
			select {
			case jobs <- i:
			case <-pf.stop:
				pf.release(size)
				return
			}
		}
	}()
	for range workers {
		pf.wg.Add(1)
		go func() {
			defer pf.wg.Done()
			for i := range jobs {
				pf.results[i] <- decode(pkgs[i], checks[i])
			}
		}()
	}
	return pf
}

// decode reads every file of p into memory, each at most its cabinet size, and with check
// hashes each (but the catalog) as the writer would have.
func decode(p *spkg.Package, check *spkg.CatalogCheck) *decoded {
	d := &decoded{size: budgetOf(p)}
	d.err = p.Walk(func(fe spkg.FileEntry, r io.Reader) error {
		data, err := readSized(r, fe.FileSize)
		f := decodedFile{entry: fe, data: data, err: err}
		if check != nil && fe.FileType != "Catalog" && err == nil {
			f.sum = check.Hash(fe)
			f.sum.Write(data)
		}
		d.files = append(d.files, f)
		return err
	})
	return d
}

// readSized reads up to size bytes of r into a buffer of that size: as io.ReadAll of
// io.LimitReader(r, size), without its growing copies. size is a cabinet member's size, and
// the package's members fit the prefetch budget (budgetOf), so the allocation is bounded.
func readSized(r io.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	n := 0
	for n < len(data) {
		k, err := r.Read(data[n:])
		n += k
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return data[:n], err
		}
	}
	return data, nil
}

// perFileBudget is what a decoded file holds besides its bytes (its entry, the decodedFile,
// its hash state), counted against the budget so that a package of many small files is not
// taken as nearly free.
const perFileBudget = 512

// budgetOf is the budget package p holds while decoded: its bytes and its files' overhead.
func budgetOf(p *spkg.Package) int64 {
	size, files := p.InstalledBytes()
	return size + int64(files)*perFileBudget
}

// acquire waits for n bytes of budget; false when the prefetcher is stopped.
func (pf *prefetcher) acquire(n int64) bool {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	for pf.free < n {
		select {
		case <-pf.stop:
			return false
		default:
		}
		pf.cond.Wait()
	}
	pf.free -= n
	return true
}

func (pf *prefetcher) release(n int64) {
	pf.mu.Lock()
	pf.free += n
	pf.mu.Unlock()
	pf.cond.Broadcast()
}

// next waits for package i, which the writer must take in order; done(d) returns its budget.
func (pf *prefetcher) next(i int) *decoded { return <-pf.results[i] }

func (pf *prefetcher) done(d *decoded) {
	if !d.streamed {
		d.files = nil
		pf.release(d.size)
	}
}

// forget drops the prefetcher's reference to package i, which the writer has installed (so
// that the package can be collected). The dispatcher and the workers are done with it: the
// result the writer took was sent after them.
func (pf *prefetcher) forget(i int) { pf.pkgs[i] = nil }

// close stops the prefetcher and waits for its goroutines (after an error, or at the end).
func (pf *prefetcher) close() {
	// Under the lock: acquire checks stop and waits atomically, so it cannot miss this.
	pf.mu.Lock()
	close(pf.stop)
	pf.mu.Unlock()
	pf.cond.Broadcast()
	// Workers never block on a result nobody takes: each channel has room for the one result
	// sent on it.
	pf.wg.Wait()
}
