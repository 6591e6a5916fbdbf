package spkg

import (
	"bytes"
	"crypto/sha1"
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
