package main

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
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

// signedCatalog returns cat signed by the test PKI's leaf (keys made at test time, never
// checked in) with extra more copies of the root certificate embedded, to make it as big as
// a test needs.
func signedCatalog(t *testing.T, cat []byte, extra int) []byte {
	t.Helper()
	pki := catalogtest.New(t)
	chain := append([]*x509.Certificate{}, pki.Leaf.Chain...)
	for range extra {
		chain = append(chain, pki.Root.Cert)
	}
	out, err := catalog.Sign(cat, &catalog.Signer{Key: pki.Leaf.Key, Chain: chain})
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
	pki := catalogtest.New(t)
	room := r.ImageOffset - 32 - int64(len(r.HashTable())) - int64(len(r.Catalog()))
	n := int(room)/len(pki.Root.Cert.Raw) + 1
	big := signedCatalog(t, r.Catalog(), n)
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
	if code := run([]string{"ffu", "verify", "--trusted-root=" + pki.Root.CertFile(t, dir, "root"), img}, &o, &e); code != 0 {
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
		if strings.Count(out, "subject=") != n+2 || !strings.Contains(out, "Test Signer") {
			t.Errorf("openssl pkcs7 -print_certs: %d subjects, want %d\n%.500s", strings.Count(out, "subject="), n+2, out)
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
	big := signedCatalog(t, r.Catalog(), 2)
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

// TestFFUVerifyTrustedRoot is the retail flow end to end: truncate, getcatalog from the
// truncated FFU, sign the catalog (here with the test PKI's leaf, as Microsoft would with
// its), sign the FFU with it, then ffu verify --trusted-root checks signature, chain, the
// hash of the hash table and every chunk. Another root, an unsigned or expired catalog and a
// hash table edited after signing are refused, naming the image.
func TestFFUVerifyTrustedRoot(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "OEM.ffu")
	pki := catalogtest.New(t)
	root := pki.Root.CertFile(t, dir, "root")
	otherRoot := pki.Other.CertFile(t, dir, "other")

	trunc, cat := filepath.Join(dir, "OEM.trunc"), filepath.Join(dir, "OEM.cat")
	mustSign(t, "truncate", img, trunc)
	mustSign(t, "getcatalog", trunc, cat)
	signedCat, err := catalog.Sign(readBytes(t, cat), pki.Leaf.Signer())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "OEM.cat", signedCat)
	mustSign(t, "sign", img, cat)

	verify := func(args ...string) (int, string, string) {
		var o, e bytes.Buffer
		code := run(append([]string{"ffu", "verify"}, args...), &o, &e)
		return code, o.String(), e.String()
	}
	code, stdout, stderr := verify("--trusted-root="+root, img)
	if code != 0 || !strings.Contains(stdout, img+": OK: catalog signed by \""+pki.Leaf.Cert.Subject.String()+"\" (chain to \""+pki.Root.Cert.Subject.String()+"\")") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// Independent checks of the catalog getcatalog gives back: openssl lists the embedded
	// chain, osslsigncode verifies the signature against the root.
	back := filepath.Join(dir, "back.cat")
	mustSign(t, "getcatalog", img, back)
	if !bytes.Equal(readBytes(t, back), signedCat) {
		t.Fatal("getcatalog of the signed image is not the signed catalog")
	}
	t.Run("openssl", func(t *testing.T) {
		out := checker.Run(t, "", checker.Find(t, "openssl"), "pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in", back)
		for _, id := range []*catalogtest.Identity{pki.Leaf, pki.Root} {
			if !strings.Contains(out, id.Cert.Subject.CommonName) {
				t.Errorf("openssl does not list %q:\n%s", id.Cert.Subject.CommonName, out)
			}
		}
	})

	t.Run("osslsigncode", func(t *testing.T) {
		out := checker.Run(t, "", checker.Find(t, "osslsigncode"), "verify", "-CAfile", root, "-in", back)
		if !strings.Contains(out, "Signature verification: ok") || !strings.Contains(out, "Succeeded") || !strings.Contains(out, "CN=Test Signer") {
			t.Errorf("osslsigncode verify:\n%s", out)
		}
	})

	unsignedFFU := writeFile(t, dir, "unsigned.ffu", validFFU(t))
	expiredCat, err := catalog.Sign(r.Catalog(), pki.Expired.Signer())
	if err != nil {
		t.Fatal(err)
	}
	expiredFFU := writeFile(t, dir, "expired.ffu", validFFU(t))
	mustSign(t, "sign", expiredFFU, writeFile(t, dir, "expired.cat", expiredCat))
	edited := readBytes(t, img)
	s := openFFUBytes(t, edited)
	edited[32+int(s.Security.CatalogSize)+5] ^= 1 // a hash table byte
	editedFFU := writeFile(t, dir, "edited.ffu", edited)
	corrupt := readBytes(t, img)
	corrupt[len(corrupt)-3] ^= 1
	corruptFFU := writeFile(t, dir, "corrupt.ffu", corrupt)
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"another root", []string{"--trusted-root=" + otherRoot, img}, 1, []string{img + ": catalog against --trusted-root=" + otherRoot, "is not trusted"}},
		{"unsigned", []string{"--trusted-root=" + root, unsignedFFU}, 1, []string{unsignedFFU + ": catalog against", "catalog is not signed"}},
		{"expired signer", []string{"--trusted-root=" + root, expiredFFU}, 1, []string{expiredFFU + ": catalog against", "is not trusted"}},
		{"hash table edited after signing", []string{"--trusted-root=" + root, editedFFU}, 1, []string{editedFFU + ": catalog against", "the signed catalog does not match the hash table: the catalog's HashTable.blob member has SHA-1"}},
		{"payload changed", []string{"--trusted-root=" + root, corruptFFU}, 1, []string{corruptFFU + ": not a valid FFU: chunk", "SHA-256 does not match the hash table"}},
		{"root missing", []string{"--trusted-root=" + filepath.Join(dir, "none.pem"), img}, 1, []string{"none.pem"}},
		{"root not a certificate", []string{"--trusted-root=" + cat, img}, 1, []string{"trusted root " + cat}},
		{"twice", []string{"--trusted-root=" + root, "--trusted-root=" + root, img}, 2, []string{"--trusted-root given twice"}},
		{"empty", []string{"--trusted-root=", img}, 2, []string{"--trusted-root= needs a certificate file"}},
		{"unknown flag", []string{"--root=" + root, img}, 2, []string{"unknown flag --root="}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := verify(c.args...)
			if code != c.code || strings.Contains(stdout, "OK") {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
	// Without --trusted-root, verify checks the hashes only, as before: the unsigned image passes.
	if code, stdout, stderr := verify(unsignedFFU); code != 0 {
		t.Errorf("ffu verify without a root: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestImageSignerOutput: SIGN --output=FILE writes the signed image there and leaves the FFU,
// read-only as a Bazel output is, byte for byte as it was; the result verifies against the
// root and equals an in-place signing of a writable copy.
func TestImageSignerOutput(t *testing.T) {
	dir := t.TempDir()
	img, r := signerFixture(t, dir, "OEM.ffu")
	orig := readBytes(t, img)
	if err := os.Chmod(img, 0o444); err != nil {
		t.Fatal(err)
	}
	pki := catalogtest.New(t)
	signedCat, err := catalog.Sign(r.Catalog(), pki.Leaf.Signer())
	if err != nil {
		t.Fatal(err)
	}
	cat := writeFile(t, dir, "OEM.cat", signedCat)
	out := filepath.Join(dir, "signed.ffu")
	if got := mustSign(t, "sign", img, cat, "--output="+out); got != "Successfully signed image.\n" {
		t.Errorf("sign --output printed %q", got)
	}
	cmpFrom(t, img, 0, writeFile(t, dir, "orig.ffu", orig), 0)
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("output: %v %v", st, err)
	}
	inPlace := writeFile(t, dir, "copy.ffu", orig)
	mustSign(t, "sign", inPlace, cat)
	cmpFrom(t, out, 0, inPlace, 0)
	var o, e bytes.Buffer
	if code := run([]string{"ffu", "verify", "--trusted-root=" + pki.Root.CertFile(t, dir, "root"), out}, &o, &e); code != 0 {
		t.Errorf("ffu verify of the --output image: exit %d\n%s%s", code, o.String(), e.String())
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"output is the FFU", []string{"sign", img, cat, "--output=" + img}, 1, "is the FFU itself"},
		{"output on getcatalog", []string{"getcatalog", img, filepath.Join(dir, "x.cat"), "--output=" + out}, 2, "--output= is for SIGN"},
		{"output twice", []string{"sign", img, cat, "--output=" + out, "--output=" + out}, 2, "--output given twice"},
		{"output is a directory", []string{"sign", img, cat, "--output=" + dir}, 1, "is a directory"},
		{"read-only in place", []string{"sign", img, cat}, 1, "read-only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := signer(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want %d and %q\n%s%s", code, c.code, c.want, stdout, stderr)
			}
		})
	}
	cmpFrom(t, img, 0, writeFile(t, dir, "orig2.ffu", orig), 0)
}

// TestFFUVerifyTimestamped: an FFU whose catalog `oemimage sign --timestamp-url` signed (a TSA
// run by openssl ts -reply) verifies, and ffu verify prints the timestamp and the TSA.
func TestFFUVerifyTimestamped(t *testing.T) {
	dir := t.TempDir()
	img, _ := signerFixture(t, dir, "OEM.ffu")
	pki := catalogtest.New(t)
	tsa := catalogtest.NewTSA(t)
	certFile, keyFile := pki.Leaf.Files(t, dir, "leaf")
	cat := filepath.Join(dir, "OEM.cat")
	mustSign(t, "getcatalog", img, cat)
	var o, e bytes.Buffer
	if code := run([]string{"sign", "--cert=" + certFile, "--key=" + keyFile, "--timestamp-url=" + tsa.URL, cat}, &o, &e); code != 0 {
		t.Fatalf("sign: exit %d: %s", code, e.String())
	}
	mustSign(t, "sign", img, cat)
	o.Reset()
	if code := run([]string{"ffu", "verify", "--trusted-root=" + pki.Root.CertFile(t, dir, "root"), img}, &o, &e); code != 0 {
		t.Fatalf("ffu verify: exit %d: %s", code, e.String())
	}
	t.Log(o.String())
	want := regexp.MustCompile(`: OK: catalog signed by "CN=Test Signer,O=rules_oemimage tests" \(chain to "CN=Test Root,O=rules_oemimage tests"\), timestamped 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ by "CN=Test TSA,O=rules_oemimage tests", catalog and`)
	if !want.MatchString(o.String()) {
		t.Errorf("ffu verify printed %q, want %v", o.String(), want)
	}
	// With the TSA's root the timestamp's chain is checked, and the signing chain at its time
	// (catalog.TestTimestampTrust verifies at a time the signing certificate has expired).
	root := pki.Root.CertFile(t, dir, "root")
	o.Reset()
	if code := run([]string{"ffu", "verify", "--trusted-root=" + root, "--tsa-root=" + tsa.RootFile, img}, &o, &e); code != 0 {
		t.Fatalf("ffu verify --tsa-root: exit %d: %s", code, e.String())
	}
	want = regexp.MustCompile(`timestamped 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ by "CN=Test TSA,O=rules_oemimage tests" \(chain to "CN=Test TSA Root,O=rules_oemimage tests"; the signing chain checked at that time\), catalog and`)
	if !want.MatchString(o.String()) {
		t.Errorf("ffu verify --tsa-root printed %q, want %v", o.String(), want)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--trusted-root=" + root, "--tsa-root=" + root}, 1, `catalog against --trusted-root=` + root + ` --tsa-root=` + root + `: catalog: the timestamp's server certificate "CN=Test TSA,O=rules_oemimage tests" is not trusted at`},
		{[]string{"--tsa-root=" + tsa.RootFile}, 2, "--tsa-root needs --trusted-root"},
		{[]string{"--trusted-root=" + root, "--tsa-root="}, 2, "--tsa-root= needs a certificate file"},
		{[]string{"--trusted-root=" + root, "--tsa-root=" + root, "--tsa-root=" + root}, 2, "--tsa-root given twice"},
	} {
		o.Reset()
		e.Reset()
		if code := run(append(append([]string{"ffu", "verify"}, c.args...), img), &o, &e); code != c.code || !strings.Contains(e.String(), c.want) {
			t.Errorf("ffu verify %v: exit %d, want %d and %q: %s", c.args, code, c.code, c.want, e.String())
		}
	}
}
