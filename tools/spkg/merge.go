package spkg

import (
	"crypto"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
)

// Source is a package whose files go into a merged package.
type Source struct {
	File    string // file name of the package, for messages and SourcePackage
	Package *Package
}

// WriteMerged writes a package holding the payload files of sources (their own DSMs and
// catalogs stay behind): m gives the merged identity; its Files are filled in, each with the
// SourcePackage it came from. The sources' cabinet folders are copied byte for byte, so
// nothing is decompressed and compressed again; opt.Compression applies to the new DSM.
// A device path in two sources is an error naming both. The merged package's content.cat
// lists every payload file with its SHA-1 digest (the PE image hash of a PE image, else of the
// whole content: catalog.Hasher), read (decompressed) from the sources for the purpose;
// WriteMergedSigned signs it.
func WriteMerged(w io.WriteSeeker, m Manifest, sources []Source, opt cab.Options) (*Manifest, error) {
	return WriteMergedSigned(w, m, sources, opt, nil)
}

// WriteMergedSigned is WriteMerged with content.cat signed by signer (nil: unsigned).
func WriteMergedSigned(w io.WriteSeeker, m Manifest, sources []Source, opt cab.Options, signer *catalog.Signer) (*Manifest, error) {
	m.Files = nil
	owner := map[string]string{} // upper-case device path -> source file
	var raws []cab.RawFolder
	i := 0
	for _, src := range sources {
		p := src.Package
		folders := map[int]*cab.RawFolder{}
		var order []int
		for _, fe := range p.Manifest.Files {
			if fe.FileType == "Manifest" || fe.FileType == "Catalog" {
				continue
			}
			key := strings.ToUpper(fe.DevicePath)
			if other, ok := owner[key]; ok {
				return nil, fmt.Errorf("%s is in two packages: %s and %s", fe.DevicePath, other, src.File)
			}
			owner[key] = src.File
			cf := p.cab.Lookup(fe.CabPath)
			rf := folders[cf.Folder]
			if rf == nil {
				rf = &cab.RawFolder{From: p.cab, Source: src.File, Index: cf.Folder}
				folders[cf.Folder] = rf
				order = append(order, cf.Folder)
			}
			name := cabName(fe.DevicePath, i)
			i++
			rf.Files = append(rf.Files, cab.RawFile{Name: name, Origin: fe.DevicePath, Offset: cf.Offset(), Size: cf.Size, Attributes: cf.Attributes})
			source := fe.SourcePackage
			if source == "" {
				source = strings.TrimSuffix(src.File, ".spkg")
			}
			m.Files = append(m.Files, FileEntry{FileType: fe.FileType, DevicePath: fe.DevicePath, CabPath: name,
				Attributes: fe.Attributes, SourcePackage: source, FileSize: cf.Size})
		}
		for _, f := range order {
			raws = append(raws, *folders[f])
		}
	}
	entries, err := payloadEntries(sources)
	if err != nil {
		return nil, fmt.Errorf("package %s: %v", m.Name(), err)
	}
	meta, err := m.finish(entries, signer)
	if err != nil {
		return nil, err
	}
	if _, err := cab.WriteWithRaw(w, meta, raws, opt); err != nil {
		return nil, fmt.Errorf("package %s: %v", m.Name(), err)
	}
	return &m, nil
}

// payloadEntries hashes the payload files of sources (all but their DSMs and catalogs), in the
// order WriteMerged lists them. Sources are read on all cores (each one's cabinet by one
// goroutine); the entries and the error reported (the first source's that fails) do not
// depend on it.
func payloadEntries(sources []Source) ([]catalog.Entry, error) {
	perSource := make([][]catalog.Entry, len(sources))
	errs := make([]error, len(sources))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(sources)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10) // one copy buffer a worker, not one a file
			for i := range next {
				perSource[i], errs[i] = sourceEntries(sources[i], buf)
			}
		}()
	}
	for i := range sources {
		next <- i
	}
	close(next)
	wg.Wait()
	var entries []catalog.Entry
	for i := range sources {
		if errs[i] != nil {
			return nil, errs[i]
		}
		entries = append(entries, perSource[i]...)
	}
	return entries, nil
}

// sourceEntries hashes the payload files of one source, copying through buf.
func sourceEntries(src Source, buf []byte) ([]catalog.Entry, error) {
	digests := map[string]catalog.Entry{}
	err := src.Package.Walk(func(fe FileEntry, r io.Reader) error {
		if fe.FileType == "Manifest" || fe.FileType == "Catalog" {
			return nil
		}
		h := catalog.NewHasher(crypto.SHA1)
		if _, err := io.CopyBuffer(h, r, buf); err != nil {
			return fmt.Errorf("%s (%s): %v", src.File, fe.DevicePath, err)
		}
		e, err := h.Entry(fe.DevicePath)
		if err != nil {
			return fmt.Errorf("%s: %v", src.File, err)
		}
		digests[strings.ToUpper(fe.DevicePath)] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	var entries []catalog.Entry
	for _, fe := range src.Package.Manifest.Files {
		if fe.FileType == "Manifest" || fe.FileType == "Catalog" {
			continue
		}
		e, ok := digests[strings.ToUpper(fe.DevicePath)]
		if !ok {
			return nil, fmt.Errorf("%s: %s was not read from the cabinet", src.File, fe.DevicePath)
		}
		e.File = fe.DevicePath
		entries = append(entries, e)
	}
	return entries, nil
}
