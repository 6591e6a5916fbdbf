package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// signer runs `oemimage imagesigner ARGS...` in process.
func signer(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"imagesigner"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func mustSign(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := signer(t, args...)
	if code != 0 {
		t.Fatalf("imagesigner %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testCert is a self-signed certificate made for the test run (never a checked-in key).
func testCert(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// The catalog's PKCS#7 layers, as far as adding certificates needs them.
type testContentInfo struct {
	Type    asn1.ObjectIdentifier
	Content asn1.RawValue // [0] EXPLICIT, taken apart and put together by hand
}

type testSignedData struct {
	Version      int
	Digests      asn1.RawValue
	Content      asn1.RawValue
	Certificates asn1.RawValue `asn1:"optional,tag:0"`
	Signers      asn1.RawValue
}

// withCerts returns the catalog with the certificates in its SignedData: as big as a signed
// catalog, the same member (what sign checks; the signature is ffu verify's business).
func withCerts(t *testing.T, catalog []byte, certs ...[]byte) []byte {
	t.Helper()
	var ci testContentInfo
	if _, err := asn1.Unmarshal(catalog, &ci); err != nil {
		t.Fatal(err)
	}
	var sd testSignedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	sd.Certificates = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: bytes.Join(certs, nil)}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	ci.Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}
	out, err := asn1.Marshal(ci)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signerFixture writes the test image to dir/name and returns its path and reader.
func signerFixture(t *testing.T, dir, name string) (string, *ffu.Reader) {
	t.Helper()
	b := validFFU(t)
	return writeFile(t, dir, name, b), openFFUBytes(t, b)
}

// cmpFrom runs cmp(1) on a from offset oa and b from ob to their ends: the independent check
// that the stores and payload are the same bytes.
func cmpFrom(t *testing.T, a string, oa int64, b string, ob int64) { cmpN(t, a, oa, b, ob, -1) }

// cmpN is cmpFrom for n bytes (n < 0: to the end).
func cmpN(t *testing.T, a string, oa int64, b string, ob int64, n int64) {
	t.Helper()
	path, err := exec.LookPath("cmp")
	if err != nil {
		t.Log("cmp not on PATH: byte comparison only")
		ra, rb := readBytes(t, a)[oa:], readBytes(t, b)[ob:]
		if n >= 0 {
			ra, rb = ra[:min(n, int64(len(ra)))], rb[:min(n, int64(len(rb)))]
		}
		if !bytes.Equal(ra, rb) {
			t.Errorf("%s from %d and %s from %d differ", a, oa, b, ob)
		}
		return
	}
	args := []string{"-i", fmt.Sprintf("%d:%d", oa, ob)}
	if n >= 0 {
		args = append(args, "-n", fmt.Sprint(n))
	}
	out, err := exec.Command(path, append(args, a, b)...).CombinedOutput()
	if err != nil {
		t.Errorf("cmp -i %d:%d %s %s: %v\n%s", oa, ob, a, b, err, out)
	}
}

func TestImageSignerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "OEM.ffu")
	orig := readBytes(t, img)
	cat := filepath.Join(dir, "OEM.cat")
	if out := mustSign(t, "GETCATALOG", img, cat); out != "Platform ID: Contoso.Test.Device\nSuccessfully extracted catalog.\n" {
		t.Errorf("getcatalog printed %q", out)
	}
	if !bytes.Equal(readBytes(t, cat), r.Catalog()) {
		t.Fatal("getcatalog wrote another catalog")
	}
	t.Run("openssl", func(t *testing.T) {
		// The unsigned catalog is PKCS#7 SignedData openssl reads (no certificates to print).
		checker.Run(t, "", checker.Find(t, "openssl"), "pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in", cat)
	})
	if out := mustSign(t, "sign", img, cat); out != "Successfully signed image.\n" {
		t.Errorf("sign printed %q", out)
	}
	if !bytes.Equal(readBytes(t, img), orig) {
		t.Fatal("signing with the FFU's own catalog changed it")
	}
	cmpFrom(t, img, 0, writeFile(t, dir, "orig.ffu", orig), 0)
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestImageSignerGrow: a catalog that no longer fits the security header's chunk moves the
// rest by a chunk; ffu verify passes, and cmp finds the stores unchanged at their new offset.
// Signing with the first catalog again gives the original bytes.
func TestImageSignerGrow(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "OEM.ffu")
	orig := writeFile(t, dir, "orig.ffu", readBytes(t, img))
	chunk := int64(r.Security.ChunkSizeKB) * 1024
	cert := testCert(t, "rules_oemimage test signer")
	room := r.ImageOffset - 32 - int64(len(r.HashTable())) - int64(len(r.Catalog()))
	n := int(room)/len(cert) + 2
	certs := make([][]byte, n)
	for i := range certs {
		certs[i] = cert
	}
	big := withCerts(t, r.Catalog(), certs...)
	if int64(32+len(big)+len(r.HashTable())) <= r.ImageOffset {
		t.Fatalf("catalog of %d bytes still fits before %d", len(big), r.ImageOffset)
	}
	bigCat := writeFile(t, dir, "signed.cat", big)
	out := mustSign(t, "sign", img, bigCat)
	if !strings.Contains(out, fmt.Sprintf("moved by +%d bytes", chunk)) || !strings.HasSuffix(out, "Successfully signed image.\n") {
		t.Errorf("sign printed %q", out)
	}
	s := openFFUBytes(t, readBytes(t, img))
	if s.ImageOffset != r.ImageOffset+chunk || s.Security.CatalogSize != uint32(len(big)) {
		t.Fatalf("image header at %d, catalog %d bytes; want %d, %d", s.ImageOffset, s.Security.CatalogSize, r.ImageOffset+chunk, len(big))
	}
	var o, e bytes.Buffer
	if code := run([]string{"ffu", "verify", img}, &o, &e); code != 0 {
		t.Fatalf("ffu verify of the signed image: exit %d\n%s%s", code, o.String(), e.String())
	}
	cmpFrom(t, orig, r.ImageOffset, img, s.ImageOffset)
	cmpFrom(t, orig, r.Stores[0].HeaderOffset, img, s.Stores[0].HeaderOffset)

	// The catalog getcatalog gives back is the one put in; openssl reads its certificates.
	back := filepath.Join(dir, "back.cat")
	mustSign(t, "getcatalog", img, back)
	if !bytes.Equal(readBytes(t, back), big) {
		t.Fatal("getcatalog of the signed image is not the catalog signed with")
	}
	t.Run("openssl", func(t *testing.T) {
		path := checker.Find(t, "openssl")
		out := checker.Run(t, "", path, "pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in", back)
		if strings.Count(out, "subject=") != n || !strings.Contains(out, "rules_oemimage test signer") {
			t.Errorf("openssl pkcs7 -print_certs: %d subjects, want %d\n%.500s", strings.Count(out, "subject="), n, out)
		}
	})

	// The unsigned catalog shrinks it back to the original bytes.
	mustSign(t, "sign", img, writeFile(t, dir, "unsigned.cat", r.Catalog()))
	cmpFrom(t, orig, 0, img, 0)
	if st, err := os.Stat(img); err != nil || st.Size() != int64(len(readBytes(t, orig))) {
		t.Errorf("back to %v bytes, want the original's", st.Size())
	}
}

// TestImageSignerTruncate: the truncated FFU is the head ImageSigner keeps (security region,
// image header and manifest chunks, the first store header's chunk), a prefix of the image;
// getcatalog reads it, sign refuses it.
func TestImageSignerTruncate(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "OEM.ffu")
	trunc := filepath.Join(dir, "OEM.trunc")
	if out := mustSign(t, "TRUNCATE", img, trunc); out != "Platform ID: Contoso.Test.Device\n" {
		t.Errorf("truncate printed %q", out)
	}
	chunk := int64(r.Security.ChunkSizeKB) * 1024
	imageChunks := (24 + int64(r.Image.ManifestLength) + chunk - 1) / chunk
	want := r.ImageOffset + imageChunks*chunk + chunk
	got := readBytes(t, trunc)
	if int64(len(got)) != want || want != r.Stores[0].HeaderOffset+chunk {
		t.Fatalf("truncated FFU of %d bytes; want %d (security region %d, %d image chunks, one store header chunk of %d)", len(got), want, r.ImageOffset, imageChunks, chunk)
	}
	cmpN(t, img, 0, trunc, 0, want)
	cat := filepath.Join(dir, "OEM.cat")
	if out := mustSign(t, "getcatalog", trunc, cat); out != "Platform ID: Contoso.Test.Device\nSuccessfully extracted catalog.\n" {
		t.Errorf("getcatalog of the truncated FFU printed %q", out)
	}
	if !bytes.Equal(readBytes(t, cat), r.Catalog()) {
		t.Fatal("the truncated FFU's catalog differs")
	}
	if code, _, stderr := signer(t, "sign", trunc, cat); code != 1 || !strings.Contains(stderr, trunc+": not a valid FFU") {
		t.Errorf("sign of a truncated FFU: exit %d, %s", code, stderr)
	}
}

// TestImageSignerRefuses: each refusal exits 1 (2 for usage), names the file at fault and
// leaves the FFU as it was, with no temporary file beside it.
func TestImageSignerRefuses(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "OEM.ffu")
	orig := readBytes(t, img)
	otherPath, err := testimage.FFU(filepath.Join(dir, "other"), "another image", testimage.Options{EditPackages: func(p []testimage.Package) []testimage.Package {
		p[0].Data = "another kernel"
		return p
	}})
	if err != nil {
		t.Fatal(err)
	}
	otherR := openFFUBytes(t, readBytes(t, otherPath))
	otherCat := writeFile(t, dir, "other.cat", otherR.Catalog())
	ownCat := writeFile(t, dir, "OEM.cat", r.Catalog())
	corrupt := bytes.Clone(orig)
	corrupt[len(corrupt)-10] ^= 1
	corruptFFU := writeFile(t, dir, "corrupt.ffu", corrupt)
	headBad := bytes.Clone(orig)
	headBad[r.Stores[0].HeaderOffset+100] ^= 1 // a platform ID byte: the hash table catches it
	headBadFFU := writeFile(t, dir, "headbad.ffu", headBad)
	short := writeFile(t, dir, "short.ffu", orig[:len(orig)-4096])
	readOnly := writeFile(t, dir, "ro.ffu", orig)
	if err := os.Chmod(readOnly, 0o444); err != nil {
		t.Fatal(err)
	}
	tableSHA1 := fmt.Sprintf("%x", sha1Of(r.HashTable()))
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"another image's catalog", []string{"sign", img, otherCat}, 1, []string{"catalog file " + otherCat + " does not match FFU " + img, "HashTable.blob member has SHA-1 " + fmt.Sprintf("%x", sha1Of(otherR.HashTable())), "hash table has SHA-1 " + tableSHA1}},
		{"not a catalog", []string{"sign", img, writeFile(t, dir, "junk.cat", []byte("not DER"))}, 1, []string{"catalog file " + filepath.Join(dir, "junk.cat") + ": catalog: not a PKCS#7"}},
		{"missing catalog", []string{"sign", img, filepath.Join(dir, "none.cat")}, 1, []string{"none.cat does not exist"}},
		{"corrupt payload", []string{"sign", corruptFFU, ownCat}, 1, []string{corruptFFU + ": not a valid FFU: chunk", "the image is corrupt, not signed"}},
		{"truncated FFU", []string{"sign", short, ownCat}, 1, []string{short + ": not a valid FFU"}},
		{"read-only FFU", []string{"sign", readOnly, ownCat}, 1, []string{readOnly + ": read-only"}},
		{"getcatalog of a changed head", []string{"getcatalog", headBadFFU, filepath.Join(dir, "x.cat")}, 1, []string{headBadFFU + ": not a valid FFU: chunk", "store 1 header): SHA-256 does not match"}},
		{"truncate of a changed head", []string{"truncate", headBadFFU, filepath.Join(dir, "x.trunc")}, 1, []string{headBadFFU + ": not a valid FFU"}},
		{"getcatalog onto the FFU", []string{"getcatalog", img, img}, 1, []string{"catalog file " + img + " is the FFU itself"}},
		{"truncate onto the FFU", []string{"truncate", img, img}, 1, []string{"truncated FFU " + img + " is the FFU itself"}},
		{"getcatalog onto a directory", []string{"getcatalog", img, dir}, 1, []string{"is a directory"}},
		{"drive path", []string{"sign", `C:\images\OEM.ffu`, ownCat}, 1, []string{`FFU C:\images\OEM.ffu: a drive path has no host equivalent`}},
		{"missing FFU", []string{"getcatalog", filepath.Join(dir, "none.ffu"), filepath.Join(dir, "x.cat")}, 1, []string{"FFU " + filepath.Join(dir, "none.ffu") + " does not exist"}},
		{"unknown action", []string{"verify", img, ownCat}, 2, []string{`unknown action "verify"`}},
		{"two arguments", []string{"sign", img}, 2, []string{"got 2 argument(s)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := signer(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stdout, "Successfully") {
				t.Errorf("stdout claims success: %s", stdout)
			}
		})
	}
	for _, f := range []string{img, readOnly} {
		if !bytes.Equal(readBytes(t, f), orig) {
			t.Errorf("%s changed", f)
		}
	}
	if !bytes.Equal(readBytes(t, corruptFFU), corrupt) {
		t.Error("the corrupt FFU changed")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	for _, f := range []string{"x.cat", "x.trunc"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written by a failed run", f)
		}
	}
}

// TestImageSignerWindowsPaths: the documented command lines work as typed on Windows:
// upper-case actions, backslashes, another letter case than the files have.
func TestImageSignerWindowsPaths(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "Images")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	_, r := signerFixture(t, sub, "oem.ffu")
	t.Chdir(dir)
	if out := mustSign(t, "TRUNCATE", `images\OEM.FFU`, `IMAGES\OEM.trunc`); out != "Platform ID: Contoso.Test.Device\n" {
		t.Errorf("truncate printed %q", out)
	}
	mustSign(t, "GetCatalog", `Images\OEM.trunc`, `images\OEM.cat`)
	if !bytes.Equal(readBytes(t, filepath.Join(sub, "OEM.cat")), r.Catalog()) {
		t.Fatal("catalog not written to Images/OEM.cat")
	}
	if out := mustSign(t, "SIGN", `images\oem.FFU`, `Images\oem.CAT`); out != "Successfully signed image.\n" {
		t.Errorf("sign printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(sub, "OEM.FFU")); err == nil {
		t.Error("sign wrote OEM.FFU beside oem.ffu instead of replacing it")
	}
}

// TestImageSignerSymlink: signing through a symbolic link replaces the file it points to and
// keeps the link.
func TestImageSignerSymlink(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "real.ffu")
	link := filepath.Join(dir, "link.ffu")
	if err := os.Symlink("real.ffu", link); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(img, 0o640); err != nil {
		t.Fatal(err)
	}
	big := withCerts(t, r.Catalog(), testCert(t, "a"), testCert(t, "b"))
	mustSign(t, "sign", link, writeFile(t, dir, "s.cat", big))
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	st, err := os.Stat(img)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept: %v", st.Mode(), err)
	}
	if s := openFFUBytes(t, readBytes(t, img)); !bytes.Equal(s.Catalog(), big) {
		t.Error("the linked file does not hold the new catalog")
	}
}

func sha1Of(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}
