package spkg

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// content.cat lists every payload file and the DSM by device path with the SHA-1 of its content.
func TestCatalogContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Contoso.Apps.Camera.spkg")
	m, err := WriteFile(path, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	der, err := p.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	members, err := catalog.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != len(testFiles)+1 {
		t.Fatalf("%d members, want %d", len(members), len(testFiles)+1)
	}
	for dp, data := range testFiles {
		mm := catalog.Find(members, dp)
		d := sha1.Sum([]byte(data))
		if mm == nil || !bytes.Equal(mm.Digest, d[:]) {
			t.Errorf("%s: member %+v, want SHA-1 %x", dp, mm, d)
		}
	}
	if catalog.Find(members, m.ManifestPath()) == nil {
		t.Errorf("no member for the DSM %s", m.ManifestPath())
	}
	check, err := p.CheckCatalog(nil)
	if err != nil || check.Files != len(testFiles)+1 {
		t.Fatalf("CheckCatalog: %+v, %v", check, err)
	}
	if _, err := p.CheckCatalog(catalogtest.New(t).Pool()); err == nil || !strings.Contains(err.Error(), "content.cat is not signed") {
		t.Errorf("unsigned catalog with a root: %v", err)
	}
}

func TestSignedPackage(t *testing.T) {
	pki := catalogtest.New(t)
	dir := t.TempDir()
	unsigned := filepath.Join(dir, "Contoso.Apps.Camera.spkg")
	if _, err := WriteFile(unsigned, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	// Written signed, and signed afterwards: the same catalog.
	direct := filepath.Join(dir, "direct.spkg")
	if _, err := WriteFileSigned(direct, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP}, pki.Leaf.Signer()); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.spkg")
	if err := SignFile(unsigned, signed, pki.Leaf.Signer()); err != nil {
		t.Fatal(err)
	}
	catOf := func(path string) []byte {
		p, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		c, err := p.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if !bytes.Equal(catOf(direct), catOf(signed)) {
		t.Error("the catalog signed by SignFile differs from the one WriteFileSigned writes")
	}
	for _, path := range []string{direct, signed} {
		p, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		check, err := p.CheckCatalog(pki.Pool())
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(check.Signature.Subject, "Test Signer") || check.Files != len(testFiles)+1 {
			t.Errorf("%s: %+v", path, check)
		}
	}
	// Every file but the catalog keeps its bytes.
	a, _ := Open(unsigned)
	defer a.Close()
	b, _ := Open(signed)
	defer b.Close()
	for _, fe := range a.Manifest.Files {
		if fe.FileType == "Catalog" || fe.FileType == "Regular" && fe.FileSize > 1<<20 {
			continue
		}
		x, err1 := a.ReadFile(fe.DevicePath)
		y, err2 := b.ReadFile(fe.DevicePath)
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs after signing (%v, %v)", fe.DevicePath, err1, err2)
		}
	}
	if err := b.Verify(); err != nil {
		t.Error(err)
	}
	// Signing a signed package again gives the same bytes (RSA, no signing time).
	again := filepath.Join(dir, "again.spkg")
	if err := SignFile(signed, again, pki.Leaf.Signer()); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(signed)
	y, _ := os.ReadFile(again)
	if !bytes.Equal(x, y) {
		t.Error("signing twice differs")
	}
}

// A package whose catalog does not hold: refused naming the package and the file.
func TestCheckCatalogRefuses(t *testing.T) {
	pki := catalogtest.New(t)
	dir := t.TempDir()
	write := func(name string, files map[string]string, m Manifest, s *catalog.Signer) string {
		path := filepath.Join(dir, name)
		if _, err := WriteFileSigned(path, m, payload(files), cab.Options{}, s); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("Contoso.Apps.Camera.spkg", testFiles, testManifest(), pki.Leaf.Signer())
	other := testManifest()
	other.SubComponent = "Other"
	otherPkg := write("Contoso.Apps.Other.spkg", testFiles, other, pki.Leaf.Signer())

	catOf := func(path string) []byte {
		p, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		c, _ := p.Catalog()
		return c
	}
	// withCatalog writes the package at path with cat as its catalog.
	withCatalog := func(path, name string, cat []byte) string {
		p, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		out := filepath.Join(dir, name)
		f, _ := os.Create(out)
		defer f.Close()
		if err := p.rewriteWith(f, cat); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// A payload file changed after signing (same size, so the DSM is the same), with the
	// signed catalog of the original.
	files := map[string]string{}
	for k, v := range testFiles {
		files[k] = v
	}
	files[`\Programs\ContosoCamera\camera.exe`] = "CAMERA APP"
	changedPath := withCatalog(write("changed-src.spkg", files, testManifest(), nil), "changed.spkg", catOf(good))
	// The other package's signed catalog in this one.
	swapped := withCatalog(good, "swapped.spkg", catOf(otherPkg))

	untrusted := write("untrusted.spkg", testFiles, testManifest(), pki.OtherLeaf.Signer())
	expired := write("expired.spkg", testFiles, testManifest(), pki.Expired.Signer())
	for _, tc := range []struct {
		path, want string
	}{
		{changedPath, `file \Programs\ContosoCamera\camera.exe: SHA-1`},
		{swapped, `file \Windows\Packages\DsmFiles\Contoso.Apps.Camera.dsm.xml (SHA-1`},
		{untrusted, `"CN=Other Signer,O=rules_oemimage tests" is not trusted`},
		{expired, `"CN=Expired Signer,O=rules_oemimage tests" is not trusted`},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			p, err := Open(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			_, err = p.CheckCatalog(pki.Pool())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), "package Contoso.Apps.Camera") {
				t.Fatalf("err = %v, want %q with the package named", err, tc.want)
			}
		})
	}
	if err := SignFile(changedPath, filepath.Join(dir, "resigned.spkg"), pki.Leaf.Signer()); err == nil || !strings.Contains(err.Error(), "camera.exe") {
		t.Errorf("signing a package whose catalog does not match its files: %v", err)
	}
}

// The catalog's members are recomputed independently: cabextract extracts the files, openssl
// hashes them, and openssl asn1parse must show each SHA-1 in content.cat.
func TestCatalogIndependent(t *testing.T) {
	cabextract := checker.Find(t, "cabextract")
	openssl := checker.Find(t, "openssl")
	pki := catalogtest.New(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "Contoso.Apps.Camera.spkg")
	if _, err := WriteFileSigned(path, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP}, pki.Leaf.Signer()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x")
	checker.Run(t, "", cabextract, "-q", "-d", out, path)
	asn := checker.Run(t, "", openssl, "asn1parse", "-inform", "DER", "-in", filepath.Join(out, "content.cat"))
	for _, name := range []string{"0_camera.exe", "1_setting.xml", "2_contoso.dll", "man.dsm.xml"} {
		dgst := checker.Run(t, "", openssl, "dgst", "-sha1", "-r", filepath.Join(out, name))
		sum := strings.Fields(dgst)[0]
		if _, err := hex.DecodeString(sum); err != nil {
			t.Fatalf("openssl dgst: %q", dgst)
		}
		if !strings.Contains(asn, strings.ToUpper(sum)) {
			t.Errorf("content.cat lacks %s's SHA-1 %s", name, sum)
		}
	}
	root := pki.Root.CertFile(t, dir, "root")
	v := checker.Run(t, "", checker.Find(t, "osslsigncode"), "verify", "-CAfile", root, "-in", filepath.Join(out, "content.cat"))
	if !strings.Contains(v, "Signature verification: ok") {
		t.Errorf("osslsigncode verify:\n%s", v)
	}
}

// PE files in a package get the Authenticode PE image hash: osslsigncode finds each extracted
// PE file in the extracted content.cat, CheckCatalog accepts the package and an image whose
// CheckSum alone changed, and refuses one changed in a section, naming the package and the
// file. A file with a PE signature but lying headers is not packaged.
func TestCatalogPE(t *testing.T) {
	pki := catalogtest.New(t)
	dir := t.TempDir()
	const sys, dll = `\Windows\System32\drivers\contoso.sys`, `\Windows\System32\contoso.dll`
	files := map[string]string{}
	for k, v := range testFiles {
		files[k] = v
	}
	files[sys] = string(catalogtest.PE(catalogtest.PESpec{Sections: [][]byte{[]byte("driver code"), []byte("driver data")}}))
	files[dll] = string(catalogtest.PE(catalogtest.PESpec{PE32: true, Sections: [][]byte{[]byte("dll code")}, Trailer: []byte("odd")}))
	write := func(name string, files map[string]string, s *catalog.Signer) (string, error) {
		path := filepath.Join(dir, name)
		_, err := WriteFileSigned(path, testManifest(), payload(files), cab.Options{Compression: cab.MSZIP}, s)
		return path, err
	}
	good, err := write("Contoso.Apps.Camera.spkg", files, pki.Leaf.Signer())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	check, err := p.CheckCatalog(pki.Pool())
	if err != nil || check.Files != len(files)+1 {
		t.Fatalf("CheckCatalog: %+v, %v", check, err)
	}
	for dp := range files {
		m := catalog.Find(check.Signature.Members, dp)
		if wantPE := dp == sys || dp == dll; m == nil || m.PE != wantPE {
			t.Errorf("%s: member %+v, PE expected %v", dp, m, wantPE)
		}
	}

	// osslsigncode hashes the extracted PE files itself.
	t.Run("osslsigncode", func(t *testing.T) {
		tool := checker.Find(t, "osslsigncode")
		out := filepath.Join(dir, "x")
		checker.Run(t, "", checker.Find(t, "cabextract"), "-q", "-d", out, good)
		root := pki.Root.CertFile(t, dir, "root")
		for _, fe := range p.Manifest.Files {
			if fe.DevicePath != sys && fe.DevicePath != dll {
				continue
			}
			res := checker.Run(t, "", tool, "verify", "-CAfile", root, "-catalog", filepath.Join(out, CatalogCabName), "-in", filepath.Join(out, fe.CabPath))
			if !strings.Contains(res, "Signature verification: ok") {
				t.Errorf("%s: osslsigncode:\n%s", fe.DevicePath, res)
			}
		}
	})

	// withGoodCatalog packages files with the good package's signed catalog.
	withGoodCatalog := func(name string, files map[string]string) *Package {
		src, err := write(name+"-src.spkg", files, nil)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		cat, _ := p.Catalog()
		path := filepath.Join(dir, name+".spkg")
		f, _ := os.Create(path)
		if err := sp.rewriteWith(f, cat); err != nil {
			t.Fatal(err)
		}
		f.Close()
		q, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		return q
	}
	edited := func(dp string, change func([]byte)) map[string]string {
		out := map[string]string{}
		for k, v := range files {
			out[k] = v
		}
		b := []byte(files[dp])
		change(b)
		out[dp] = string(b)
		return out
	}
	checksum := withGoodCatalog("checksum", edited(sys, func(b []byte) { binary.LittleEndian.PutUint32(b[catalogtest.PECheckSum:], 0x12345678) }))
	if _, err := checksum.CheckCatalog(pki.Pool()); err != nil {
		t.Errorf("an image with only its CheckSum changed: %v", err)
	}
	section := withGoodCatalog("section", edited(sys, func(b []byte) { b[0x200] ^= 1 }))
	_, err = section.CheckCatalog(pki.Pool())
	if err == nil || !strings.Contains(err.Error(), `file `+sys+`: PE image hash SHA-1`) || !strings.Contains(err.Error(), "package Contoso.Apps.Camera") || !strings.Contains(err.Error(), "section.spkg") {
		t.Errorf("an image changed in a section: %v", err)
	}
	notPE := withGoodCatalog("notpe", edited(dll, func(b []byte) { b[0] = 'X' }))
	if _, err = notPE.CheckCatalog(pki.Pool()); err == nil || !strings.Contains(err.Error(), `file `+dll+` is not a PE image`) {
		t.Errorf("an image whose MZ was overwritten: %v", err)
	}

	// A merged package hashes its sources' files the same way.
	mm := testManifest()
	mm.Component = "Merged"
	mergedPath := filepath.Join(dir, "Contoso.Merged.Camera.spkg")
	mf, _ := os.Create(mergedPath)
	if _, err := WriteMergedSigned(mf, mm, []Source{{File: filepath.Base(good), Package: p}}, cab.Options{}, pki.Leaf.Signer()); err != nil {
		t.Fatal(err)
	}
	mf.Close()
	merged, err := Open(mergedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	mc, err := merged.CheckCatalog(pki.Pool())
	if err != nil {
		t.Fatalf("merged: %v", err)
	}
	if m := catalog.Find(mc.Signature.Members, sys); m == nil || !m.PE || !bytes.Equal(m.Digest, catalog.Find(check.Signature.Members, sys).Digest) {
		t.Errorf("merged: member %+v, expected the source's PE member", m)
	}

	lying := edited(sys, func(b []byte) { binary.LittleEndian.PutUint16(b[catalogtest.PEHeaderOffset+6:], 500) })
	if _, err := write("lying.spkg", lying, nil); err == nil || !strings.Contains(err.Error(), sys+": PE image: NumberOfSections 500") {
		t.Errorf("packaging a PE file with 500 sections: %v", err)
	}
}
