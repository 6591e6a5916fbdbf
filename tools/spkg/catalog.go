package spkg

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
)

// CatalogCheck is what CheckCatalog found, and the state of a check that OpenCatalog began and
// the caller finishes file by file (Hash, Check) as it reads the package's files anyway.
type CatalogCheck struct {
	Signature *catalog.Signature // nil when no roots were given
	Files     int                // files whose digest matched their catalog member

	p        *Package
	members  []catalog.Member
	byDigest map[string]bool
}

// CheckCatalog checks the package's content.cat: with roots, that it is signed by a certificate
// chaining to one of them (catalog.Verify); always, that every file of the package but the
// catalog (payload and DSM) has a catalog member, by device path or by digest, whose digest is
// the file's. Errors name the package file and the file that failed.
func (p *Package) CheckCatalog(roots *x509.CertPool) (*CatalogCheck, error) {
	return p.CheckCatalogTrust(catalog.Trust{Roots: roots})
}

// CheckCatalogTrust is CheckCatalog with the signature checked against tr (catalog.VerifyTrust:
// a timestamp's server chain against tr.TSARoots); without tr.Roots the signature is not
// checked.
func (p *Package) CheckCatalogTrust(tr catalog.Trust) (*CatalogCheck, error) {
	c, err := p.OpenCatalogTrust(tr)
	if err != nil {
		return nil, err
	}
	err = p.Walk(func(fe FileEntry, r io.Reader) error {
		if fe.FileType == "Catalog" {
			return nil
		}
		h := c.Hash(fe)
		if _, err := io.Copy(h, r); err != nil {
			return fmt.Errorf("%s: %v", fe.DevicePath, err)
		}
		return c.check(fe, h)
	})
	if err != nil {
		return nil, c.fail(err)
	}
	return c, nil
}

// OpenCatalog is the first half of CheckCatalog: it reads content.cat and, with roots, checks
// its signature. The caller then passes every file but the catalog through Hash and Check (as
// imggen does while it installs the files, so that they are decompressed once).
func (p *Package) OpenCatalog(roots *x509.CertPool) (*CatalogCheck, error) {
	return p.OpenCatalogTrust(catalog.Trust{Roots: roots})
}

// OpenCatalogTrust is OpenCatalog with the signature checked against tr (no tr.Roots: not
// checked).
func (p *Package) OpenCatalogTrust(tr catalog.Trust) (*CatalogCheck, error) {
	var catEntry *FileEntry
	for i, fe := range p.Manifest.Files {
		if fe.FileType == "Catalog" {
			catEntry = &p.Manifest.Files[i]
		}
	}
	if catEntry == nil {
		return nil, fmt.Errorf("%s: package %s has no catalog", p.path, p.Manifest.Name())
	}
	der, err := p.cab.ReadFile(catEntry.CabPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", p.path, catEntry.CabPath, err)
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%s: package %s: %s is empty (a package written before catalogs had content, or by another tool)", p.path, p.Manifest.Name(), CatalogCabName)
	}
	c := &CatalogCheck{p: p, byDigest: map[string]bool{}}
	if tr.Roots != nil {
		sig, err := catalog.VerifyTrust(der, tr)
		if errors.Is(err, catalog.ErrUnsigned) {
			return nil, fmt.Errorf("%s: package %s: %s is not signed", p.path, p.Manifest.Name(), CatalogCabName)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: package %s: %s: %v", p.path, p.Manifest.Name(), CatalogCabName, err)
		}
		c.Signature, c.members = sig, sig.Members
	} else if c.members, err = catalog.Parse(der); err != nil {
		return nil, fmt.Errorf("%s: package %s: %s: %v", p.path, p.Manifest.Name(), CatalogCabName, err)
	}
	for _, m := range c.members {
		c.byDigest[digestKey(m.Hash, m.PE, m.Digest)] = true
	}
	return c, nil
}

// Hash returns the hasher to feed fe's content to, of the algorithm of its catalog member
// (SHA-1 for a file the catalog lists by digest only). It computes the flat hash and, for a PE
// image, the PE image hash; Check compares the one of the member's form.
func (c *CatalogCheck) Hash(fe FileEntry) *catalog.Hasher {
	if m := catalog.Find(c.members, fe.DevicePath); m != nil && m.Hash == crypto.SHA256 {
		return catalog.NewHasher(crypto.SHA256)
	}
	return catalog.NewHasher(crypto.SHA1)
}

// Check compares fe's content, fed to h (from Hash), with the catalog; the error names the
// package file and the file.
func (c *CatalogCheck) Check(fe FileEntry, h *catalog.Hasher) error {
	if err := c.check(fe, h); err != nil {
		return c.fail(err)
	}
	return nil
}

// check compares a file's digests with its member: the PE image hash with a PE member, the
// flat hash with a flat one (a flat member of a PE image, as catalogs written before PE hashing
// have, still vouches for the file's bytes). A file found by digest only may match either form.
func (c *CatalogCheck) check(fe FileEntry, h *catalog.Hasher) error {
	alg := h.Hash()
	d, peErr := h.Sum()
	m := catalog.Find(c.members, fe.DevicePath)
	switch {
	case m != nil && m.PE && peErr != nil:
		return fmt.Errorf("file %s: the catalog's member is a PE image hash, but %v", fe.DevicePath, peErr)
	case m != nil && m.PE && d.PE == nil:
		return fmt.Errorf("file %s is not a PE image, but the catalog's member is a PE image hash (changed after the catalog was made?)", fe.DevicePath)
	case m != nil && m.PE && !bytes.Equal(m.Digest, d.PE):
		return fmt.Errorf("file %s: PE image hash %v %x, the catalog's member says %x (changed after the catalog was made?)", fe.DevicePath, alg, d.PE, m.Digest)
	case m != nil && !m.PE && !bytes.Equal(m.Digest, d.Flat):
		return fmt.Errorf("file %s: %v %x, the catalog's member says %x (changed after the catalog was made?)", fe.DevicePath, alg, d.Flat, m.Digest)
	case m == nil && !c.byDigest[digestKey(alg, false, d.Flat)] && (d.PE == nil || !c.byDigest[digestKey(alg, true, d.PE)]):
		if d.PE != nil {
			return fmt.Errorf("file %s (PE image hash %v %x) is not in the catalog", fe.DevicePath, alg, d.PE)
		}
		return fmt.Errorf("file %s (%v %x) is not in the catalog", fe.DevicePath, alg, d.Flat)
	}
	c.Files++
	return nil
}

func digestKey(alg crypto.Hash, pe bool, digest []byte) string {
	return fmt.Sprintf("%v|%v|%s", alg, pe, digest)
}

func (c *CatalogCheck) fail(err error) error {
	return fmt.Errorf("%s: package %s: %s: %v", c.p.path, c.p.Manifest.Name(), CatalogCabName, err)
}

// Catalog returns the bytes of the package's content.cat.
func (p *Package) Catalog() ([]byte, error) {
	for _, fe := range p.Manifest.Files {
		if fe.FileType == "Catalog" {
			b, err := p.cab.ReadFile(fe.CabPath)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", p.path, fe.CabPath, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s: package %s has no catalog", p.path, p.Manifest.Name())
}

// SignFile writes to out the package at in with its content.cat signed by signer: the catalog's
// members are kept (a catalog written before catalogs had content, empty, is made anew from the
// package's files); every other file keeps its bytes, attributes and order, its folder its
// compression. The catalog's members must match the files (CheckCatalog without roots), so a
// package is not signed over content it does not hold. out is written all or nothing.
func SignFile(in, out string, signer *catalog.Signer) error {
	p, err := Open(in)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Verify(); err != nil {
		return err
	}
	old, err := p.Catalog()
	if err != nil {
		return err
	}
	var signed []byte
	if len(old) == 0 {
		signed, err = p.freshCatalog(signer)
	} else {
		if _, err = p.CheckCatalog(nil); err != nil {
			return err
		}
		signed, err = catalog.Sign(old, signer)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %v", in, CatalogCabName, err)
	}
	var set atomicfile.Set
	defer set.Abort()
	f, err := set.Create(out)
	if err != nil {
		return err
	}
	if err := p.rewriteWith(f, signed); err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	return set.Commit()
}

// freshCatalog makes the catalog of the package's files, signed by signer.
func (p *Package) freshCatalog(signer *catalog.Signer) ([]byte, error) {
	var entries []catalog.Entry
	var dsm []catalog.Entry
	err := p.Walk(func(fe FileEntry, r io.Reader) error {
		if fe.FileType == "Catalog" {
			return nil
		}
		h := catalog.NewHasher(crypto.SHA1)
		if _, err := io.Copy(h, r); err != nil {
			return fmt.Errorf("%s: %v", fe.DevicePath, err)
		}
		e, err := h.Entry(fe.DevicePath)
		if err != nil {
			return err
		}
		if fe.FileType == "Manifest" {
			dsm = append(dsm, e)
		} else {
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return catalog.BuildSigned(catalog.List{Entries: append(entries, dsm...)}, signer)
}

// rewriteWith writes the package to w with cat as its catalog: a first folder holds the DSM
// (its bytes, time and attributes unchanged) and cat, compressed as the DSM's folder was; the
// payload files follow in the folders they were in, copied byte for byte (cab.WriteWithRaw;
// the old DSM and catalog stay behind in their folder unlisted, as in a merged package).
func (p *Package) rewriteWith(w io.WriteSeeker, cat []byte) error {
	var dsmFile, catFile *cab.File
	skip := map[string]bool{}
	for _, fe := range p.Manifest.Files {
		switch fe.FileType {
		case "Manifest":
			dsmFile = p.cab.Lookup(fe.CabPath)
			skip[strings.ToLower(fe.CabPath)] = true
		case "Catalog":
			catFile = p.cab.Lookup(fe.CabPath)
			skip[strings.ToLower(fe.CabPath)] = true
		}
	}
	if dsmFile == nil || catFile == nil {
		return fmt.Errorf("package %s: no DSM or no catalog in the cabinet", p.Manifest.Name())
	}
	dsm, err := p.cab.ReadFile(dsmFile.Name)
	if err != nil {
		return err
	}
	meta := []cab.FileSource{
		{Name: dsmFile.Name, Size: int64(len(dsm)), ModTime: dsmFile.ModTime, Attributes: dsmFile.Attributes,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(dsm)), nil }},
		{Name: catFile.Name, Size: int64(len(cat)), ModTime: catFile.ModTime, Attributes: catFile.Attributes,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cat)), nil }},
	}
	byFolder := map[int]*cab.RawFolder{}
	var order []int
	for _, f := range p.cab.Files {
		if skip[strings.ToLower(f.Name)] {
			continue
		}
		rf := byFolder[f.Folder]
		if rf == nil {
			rf = &cab.RawFolder{From: p.cab, Source: p.path, Index: f.Folder}
			byFolder[f.Folder] = rf
			order = append(order, f.Folder)
		}
		rf.Files = append(rf.Files, cab.RawFile{Name: f.Name, Offset: f.Offset(), Size: f.Size, ModTime: f.ModTime, Attributes: f.Attributes})
	}
	sort.Ints(order)
	raws := make([]cab.RawFolder, 0, len(order))
	for _, i := range order {
		raws = append(raws, *byFolder[i])
	}
	_, err = cab.WriteWithRaw(w, meta, raws, cab.Options{Compression: p.cab.Folders[dsmFile.Folder].Compression})
	return err
}
