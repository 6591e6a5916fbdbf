package spkg

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
)

// Payload is a file to put into a package.
type Payload struct {
	DevicePath string // \Windows\System32\a.dll
	Size       int64
	Open       func() (io.ReadCloser, error)
	Attributes string // "ReadOnly Hidden ..." as in a package project; empty means Normal
	FileType   string // the DSM's FileType: empty means Regular; BinaryPartition for a partition image
}

// fileAttributes maps project/DSM attribute names to cabinet attribute bits.
var fileAttributes = map[string]uint16{
	"Normal": 0, "Archive": cab.AttrArchive, "Hidden": cab.AttrHidden, "ReadOnly": cab.AttrReadOnly,
	"System": cab.AttrSystem, "Offline": 0, "Temporary": 0, "SparseFile": 0, "NotContentIndexed": 0,
}

// CheckAttributes validates a space-separated attribute list.
func CheckAttributes(attrs string) error {
	for _, a := range strings.Fields(attrs) {
		if _, ok := fileAttributes[a]; !ok {
			return fmt.Errorf("file attribute %q: expected Archive, Hidden, Offline, ReadOnly, System, Temporary, SparseFile or NotContentIndexed", a)
		}
	}
	return nil
}

func cabAttributes(attrs string) uint16 {
	var bits uint16
	for _, a := range strings.Fields(attrs) {
		bits |= fileAttributes[a]
	}
	return bits
}

// Write writes a package: m gives identity and properties (its Files are filled in here from
// payload, in the given order), payload the files. It returns the manifest as written.
//
// content.cat is an unsigned catalog (tools/catalog) with a member for every file of the
// package but itself: each payload file and the DSM, named by device path, with its SHA-1
// digest: the Authenticode PE image hash of a PE image, the hash of the whole file otherwise
// (catalog.Hasher, docs/signing.md). A file that begins as a PE image but whose headers are
// inconsistent is an error naming it. WriteSigned signs it.
func Write(w io.WriteSeeker, m Manifest, payload []Payload, opt cab.Options) (*Manifest, error) {
	return WriteSigned(w, m, payload, opt, nil)
}

// WriteSigned is Write with content.cat signed by signer (nil: unsigned).
func WriteSigned(w io.WriteSeeker, m Manifest, payload []Payload, opt cab.Options, signer *catalog.Signer) (*Manifest, error) {
	m.Files = nil
	var sources []cab.FileSource
	var entries []catalog.Entry
	for i, p := range payload {
		if err := CheckAttributes(p.Attributes); err != nil {
			return nil, fmt.Errorf("%s: %v", p.DevicePath, err)
		}
		name := cabName(p.DevicePath, i)
		attrs := p.Attributes
		if attrs == "" {
			attrs = "Normal"
		}
		typ := p.FileType
		if typ == "" {
			typ = "Regular"
		}
		m.Files = append(m.Files, FileEntry{FileType: typ, DevicePath: p.DevicePath, CabPath: name, Attributes: attrs, FileSize: p.Size})
		sources = append(sources, cab.FileSource{Name: name, Size: p.Size, Open: p.Open, Attributes: cabAttributes(p.Attributes)})
		e, err := hashPayload(p)
		if err != nil {
			return nil, fmt.Errorf("package %s: %v", m.Name(), err)
		}
		entries = append(entries, e)
	}
	meta, err := m.finish(entries, signer)
	if err != nil {
		return nil, err
	}
	if _, err := cab.Write(w, append(meta, sources...), opt); err != nil {
		return nil, fmt.Errorf("package %s: %v", m.Name(), err)
	}
	return &m, nil
}

// hashPayload reads p once for its catalog entry (named by device path: the PE image hash of a
// PE image, else the flat SHA-1; catalog.Hasher), checking its size.
func hashPayload(p Payload) (catalog.Entry, error) {
	r, err := p.Open()
	if err != nil {
		return catalog.Entry{}, fmt.Errorf("%s: %v", p.DevicePath, err)
	}
	defer r.Close()
	h := catalog.NewHasher(crypto.SHA1)
	n, err := io.Copy(h, r)
	if err != nil {
		return catalog.Entry{}, fmt.Errorf("%s: %v", p.DevicePath, err)
	}
	if n != p.Size {
		return catalog.Entry{}, fmt.Errorf("%s: %d bytes read, %d expected", p.DevicePath, n, p.Size)
	}
	return h.Entry(p.DevicePath)
}

// finish adds the DSM and the catalog to m's files (they are files of the package too; the DSM
// cannot state its own size), validates m, and returns the two as cabinet sources. The
// catalog lists entries (the payload's) and the DSM, and is signed by signer unless it is nil.
func (m *Manifest) finish(entries []catalog.Entry, signer *catalog.Signer) ([]cab.FileSource, error) {
	m.Files = append(m.Files,
		FileEntry{FileType: "Manifest", DevicePath: m.ManifestPath(), CabPath: ManifestCabName, Attributes: "Normal"},
		FileEntry{FileType: "Catalog", DevicePath: m.CatalogPath(), CabPath: CatalogCabName, Attributes: "Normal"},
	)
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("package %s: %v", m.Name(), err)
	}
	dsm, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	entries = append(entries, catalog.FileEntry(m.ManifestPath(), dsm))
	cat, err := catalog.BuildSigned(catalog.List{Entries: entries}, signer)
	if err != nil {
		return nil, fmt.Errorf("package %s: %s: %v", m.Name(), CatalogCabName, err)
	}
	return []cab.FileSource{
		{Name: ManifestCabName, Size: int64(len(dsm)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(dsm)), nil }},
		{Name: CatalogCabName, Size: int64(len(cat)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cat)), nil }},
	}, nil
}

// WriteFile writes a package to path, all or nothing (tools/internal/atomicfile): a failure
// leaves nothing at path.
func WriteFile(path string, m Manifest, payload []Payload, opt cab.Options) (*Manifest, error) {
	return WriteFileSigned(path, m, payload, opt, nil)
}

// WriteFileSigned is WriteFile with content.cat signed by signer (nil: unsigned).
func WriteFileSigned(path string, m Manifest, payload []Payload, opt cab.Options, signer *catalog.Signer) (*Manifest, error) {
	var set atomicfile.Set
	defer set.Abort()
	f, err := set.Create(path)
	if err != nil {
		return nil, err
	}
	out, err := WriteSigned(f, m, payload, opt, signer)
	if err != nil {
		return nil, err
	}
	if err := set.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// Package is an opened .spkg.
type Package struct {
	Manifest *Manifest
	cab      *cab.Reader
	f        *readfile.File // through readfile.Packages: a kit of any size stays within the open-file limit
	path     string
}

// Open opens a package file and reads and validates its manifest. Only a regular file is
// opened (tools/internal/readfile): a named pipe given as a package would block the open.
func Open(path string) (*Package, error) {
	f, st, err := readfile.Packages.Open(path)
	if err != nil {
		return nil, err
	}
	p, err := newPackage(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	p.f = f
	return p, nil
}

func newPackage(r io.ReaderAt, size int64, path string) (*Package, error) {
	cr, err := cab.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if cr.Lookup(ManifestCabName) == nil {
		return nil, fmt.Errorf("%s: no %s in the cabinet (not a mobile package?)", path, ManifestCabName)
	}
	dsm, err := cr.ReadFile(ManifestCabName)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	m, err := ParseManifest(dsm, path+`\`+ManifestCabName)
	if err != nil {
		return nil, err
	}
	for _, fe := range m.Files {
		cf := cr.Lookup(fe.CabPath)
		if cf == nil {
			return nil, fmt.Errorf("%s: the manifest lists %s (cab path %s), which the cabinet does not hold", path, fe.DevicePath, fe.CabPath)
		}
		if (fe.FileType == "Regular" || fe.FileType == "BinaryPartition") && cf.Size != fe.FileSize {
			return nil, fmt.Errorf("%s: %s is %d bytes in the cabinet, the manifest says %d", path, fe.DevicePath, cf.Size, fe.FileSize)
		}
	}
	if err := checkAllListed(cr, m, path); err != nil {
		return nil, err
	}
	return &Package{Manifest: m, cab: cr, path: path}, nil
}

// checkAllListed refuses a cabinet holding a file the manifest does not list: never drop a
// file silently. Every entry of m was found in the cabinet under a distinct name (the
// manifest's cab paths differ case-insensitively, as cabinet lookups compare), so the
// cabinet holds no other file when the counts agree; the map naming the file is built only
// when they do not (no map per package: imggen and featuremerger open a kit's packages
// all at once).
func checkAllListed(cr *cab.Reader, m *Manifest, path string) error {
	if len(cr.Files) == len(m.Files) {
		return nil
	}
	listed := make(map[string]bool, len(m.Files))
	for _, fe := range m.Files {
		listed[strings.ToLower(fe.CabPath)] = true
	}
	for _, cf := range cr.Files {
		if !listed[strings.ToLower(cf.Name)] {
			return fmt.Errorf("%s: the cabinet holds %s, which the manifest does not list", path, cf.Name)
		}
	}
	return nil
}

// Close closes the package file.
func (p *Package) Close() error {
	if p.f == nil {
		return nil
	}
	return p.f.Close()
}

// Walk calls fn for each file the manifest lists, in cabinet order, with its content;
// fe.FileSize is the content's size.
func (p *Package) Walk(fn func(fe FileEntry, r io.Reader) error) error {
	entry := p.cabEntry()
	return p.cab.Walk(func(f *cab.File, r io.Reader) error { return fn(entry(f), r) })
}

// Entries calls fn with each entry Walk gives, in Walk's order, decompressing nothing: an
// image's file systems are laid out from it before their content is written.
func (p *Package) Entries(fn func(fe FileEntry) error) error {
	entry := p.cabEntry()
	return p.cab.Each(func(f *cab.File) error { return fn(entry(f)) })
}

// cabEntry returns the manifest's entry of a cabinet file, with the cabinet's size.
func (p *Package) cabEntry() func(f *cab.File) FileEntry {
	byCab := p.entriesByCab()
	return func(f *cab.File) FileEntry {
		fe := byCab(f.Name) // Open checked that the manifest lists every file
		// The reader yields the cabinet's bytes: say how many (the DSM's own entry says 0).
		fe.FileSize = f.Size
		return fe
	}
}

// scanEntries is the most manifest entries Walk finds by a scan rather than a map: most
// packages hold a few files, and Walk runs once for each of a kit's packages.
const scanEntries = 8

// entriesByCab returns the lookup of the manifest's entries by cab path, compared in lower
// case as the cabinet's names are.
func (p *Package) entriesByCab() func(name string) FileEntry {
	files := p.Manifest.Files
	if len(files) <= scanEntries {
		return func(name string) FileEntry {
			low := strings.ToLower(name)
			for _, fe := range files {
				if fe.CabPath == name || strings.ToLower(fe.CabPath) == low {
					return fe
				}
			}
			return FileEntry{}
		}
	}
	byCab := make(map[string]FileEntry, len(files))
	for _, fe := range files {
		byCab[strings.ToLower(fe.CabPath)] = fe
	}
	return func(name string) FileEntry { return byCab[strings.ToLower(name)] }
}

// ReadFile returns the content of the file the manifest lists at devicePath (compared
// case-insensitively, as on Windows). It is for metadata (a feature manifest, a policy):
// at most cab.MaxMetadataSize bytes; content is read with Walk.
func (p *Package) ReadFile(devicePath string) ([]byte, error) {
	fe, ok := p.entry(devicePath)
	if !ok {
		return nil, fmt.Errorf("%s: package %s has no file %s", p.path, p.Manifest.Name(), devicePath)
	}
	data, err := p.cab.ReadFile(fe.CabPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", p.path, fe.DevicePath, err)
	}
	return data, nil
}

// entry finds the file the manifest lists at devicePath, compared as upper case (the last
// such entry, as a map by upper-case path would keep). A scan, not a map kept per package:
// ReadFile reads a package's metadata, a few times in a run, while every package of a kit
// of 20,000 is open at once, and a map of a few entries costs a KiB each.
func (p *Package) entry(devicePath string) (FileEntry, bool) {
	want := strings.ToUpper(devicePath)
	files := p.Manifest.Files
	for i := len(files) - 1; i >= 0; i-- {
		if fe := files[i]; fe.DevicePath == devicePath || strings.ToUpper(fe.DevicePath) == want {
			return fe, true
		}
	}
	return FileEntry{}, false
}

// Verify checks the package's whole cabinet (cab.Reader.Verify): before it is copied
// unchanged, so that corruption is not passed on.
func (p *Package) Verify() error {
	if err := p.cab.Verify(); err != nil {
		return fmt.Errorf("%s: %v", p.path, err)
	}
	return nil
}

// InstalledBytes is the size of every file the package installs (its whole cabinet content).
func (p *Package) InstalledBytes() (bytes int64, files int) {
	for _, f := range p.cab.Files {
		bytes += f.Size
	}
	return bytes, len(p.cab.Files)
}
