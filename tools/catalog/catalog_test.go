package catalog_test

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"software.sslmate.com/src/go-pkcs12"
)

func testList() catalog.List {
	return catalog.List{Entries: []catalog.Entry{
		catalog.FileEntry(`\Windows\System32\a.dll`, []byte("aaa")),
		catalog.FileEntry(`\Windows\System32\b.txt`, []byte("bbb")),
		catalog.FileEntry(`\Windows\Packages\DsmFiles\X.dsm.xml`, []byte("<Package/>")),
	}}
}

func TestBuildParse(t *testing.T) {
	cat, err := catalog.Build(testList())
	if err != nil {
		t.Fatal(err)
	}
	members, err := catalog.Parse(cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Fatalf("%d members", len(members))
	}
	for i, data := range []string{"aaa", "bbb", "<Package/>"} {
		m := members[i]
		d := sha1.Sum([]byte(data))
		if m.Hash != crypto.SHA1 || !bytes.Equal(m.Digest, d[:]) || m.Tag != strings.ToUpper(hex.EncodeToString(d[:])) {
			t.Errorf("member %d: %+v, want SHA-1 %x tagged with its hex", i, m, d)
		}
		if m.Name != testList().Entries[i].File || m.File != m.Name {
			t.Errorf("member %d named %q (file %q)", i, m.Name, m.File)
		}
	}
	if m := catalog.Find(members, `\windows\system32\B.TXT`); m == nil || m != &members[1] {
		t.Errorf("Find is not case-insensitive: %v", m)
	}
	again, _ := catalog.Build(testList())
	if !bytes.Equal(again, cat) {
		t.Error("not deterministic")
	}
	if signed, err := catalog.IsSigned(cat); err != nil || signed {
		t.Errorf("IsSigned = %v, %v", signed, err)
	}
	// The same content twice: one member (a lookup is by hash), as MakeCat refuses duplicate tags.
	l := testList()
	l.Entries = append(l.Entries, catalog.FileEntry(`\Windows\copy.dll`, []byte("aaa")))
	dup, err := catalog.Build(l)
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := catalog.Parse(dup); len(ms) != 3 {
		t.Errorf("duplicate content: %d members", len(ms))
	}
	l.Entries = append(l.Entries, catalog.Entry{Tag: "X", Digest: make([]byte, 20)}, catalog.Entry{Tag: "x", Digest: make([]byte, 20)})
	if _, err := catalog.Build(l); err == nil || !strings.Contains(err.Error(), `tag "x" is also the tag`) {
		t.Errorf("duplicate tag: %v", err)
	}
	if _, err := catalog.Build(catalog.List{Entries: []catalog.Entry{{File: "f", Digest: []byte{1}}}}); err == nil || !strings.Contains(err.Error(), `("f"): digest of 1 bytes`) {
		t.Errorf("short digest: %v", err)
	}
}

func TestHashTable(t *testing.T) {
	table := bytes.Repeat([]byte{7}, 64)
	cat, err := catalog.HashTable(table, time.Time{}, catalog.HashTableMember)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := catalog.Parse(cat)
	d := sha1.Sum(table)
	if err != nil || len(ms) != 1 || ms[0].Name != "HashTable.blob" || ms[0].File != "" || !bytes.Equal(ms[0].Digest, d[:]) {
		t.Fatalf("%+v %v", ms, err)
	}
}

func TestParseRejects(t *testing.T) {
	cat, _ := catalog.Build(testList())
	for _, bad := range [][]byte{nil, {0x30, 0x00}, cat[:100], append(bytes.Clone(cat), 1), make([]byte, catalog.MaxBytes+1)} {
		if _, err := catalog.Parse(bad); err == nil {
			t.Errorf("Parse(% x...) succeeded", bad[:min(len(bad), 8)])
		}
	}
}

func FuzzParse(f *testing.F) {
	cat, _ := catalog.Build(testList())
	f.Add(cat)
	ht, _ := catalog.HashTable([]byte("x"), time.Time{}, catalog.HashTableMember)
	f.Add(ht)
	pki := catalogtest.New(f)
	signed, err := catalog.Sign(cat, pki.Leaf.Signer())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := catalog.Parse(b)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Hash != 0 && len(m.Digest) != m.Hash.Size() {
				t.Fatalf("member %+v: digest size", m)
			}
		}
		catalog.VerifyAt(b, pki.Pool(), time.Now()) // must not panic
	})
}

func TestSignVerify(t *testing.T) {
	pki := catalogtest.New(t)
	cat, _ := catalog.Build(testList())
	signed, err := catalog.Sign(cat, pki.Leaf.Signer())
	if err != nil {
		t.Fatal(err)
	}
	sig, err := catalog.Verify(signed, pki.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sig.Subject, "CN=Test Signer") || sig.Hash != crypto.SHA256 || len(sig.Members) != 3 || len(sig.Chain) != 2 {
		t.Errorf("signature %+v", sig)
	}
	// Members are the same signed and unsigned; signing again (RSA) gives the same bytes.
	ms, _ := catalog.Parse(signed)
	um, _ := catalog.Parse(cat)
	if len(ms) != len(um) || ms[0].Tag != um[0].Tag {
		t.Error("members differ after signing")
	}
	again, _ := catalog.Sign(signed, pki.Leaf.Signer())
	if !bytes.Equal(again, signed) {
		t.Error("signing is not deterministic (or re-signing a signed catalog differs)")
	}
	built, _ := catalog.BuildSigned(testList(), pki.Leaf.Signer())
	if !bytes.Equal(built, signed) {
		t.Error("BuildSigned differs from Build + Sign")
	}
	if s, _ := catalog.IsSigned(signed); !s {
		t.Error("IsSigned false")
	}
}

func TestVerifyRefuses(t *testing.T) {
	pki := catalogtest.New(t)
	cat, _ := catalog.Build(testList())
	sign := func(id *catalogtest.Identity) []byte {
		b, err := catalog.Sign(cat, id.Signer())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := sign(pki.Leaf)
	// Change one byte of the CTL (a member's digest) after signing.
	d := sha1.Sum([]byte("bbb"))
	i := bytes.Index(good, d[:])
	if i < 0 {
		t.Fatal("digest not found in the signed catalog")
	}
	tampered := bytes.Clone(good)
	tampered[i] ^= 1
	// A signature by another key with the leaf's certificate.
	wrongKey := &catalog.Signer{Key: pki.OtherLeaf.Key, Chain: pki.Leaf.Chain}
	for _, tc := range []struct {
		name string
		der  []byte
		want string
	}{
		{"unsigned", cat, "catalog is not signed"},
		{"expired", sign(pki.Expired), `"CN=Expired Signer,O=rules_oemimage tests" is not trusted at`},
		{"untrusted root", sign(pki.OtherLeaf), `"CN=Other Signer,O=rules_oemimage tests" is not trusted`},
		{"no code signing", sign(pki.NoCodeSig), "do not include code signing"},
		{"tampered", tampered, "signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := catalog.Verify(tc.der, pki.Pool())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := catalog.Verify(cat, pki.Pool()); !errors.Is(err, catalog.ErrUnsigned) {
		t.Errorf("unsigned: %v is not ErrUnsigned", err)
	}
	if _, err := catalog.Sign(cat, wrongKey); err == nil || !strings.Contains(err.Error(), "must match private key") {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := catalog.NewSigner(pki.OtherLeaf.Key, pki.Leaf.Chain); err == nil || !strings.Contains(err.Error(), `does not belong to the certificate "CN=Test Signer`) {
		t.Errorf("NewSigner with the wrong key: %v", err)
	}
	// The expired certificate verifies at a time it was valid: the time is what refuses it.
	if _, err := catalog.VerifyAt(sign(pki.Expired), pki.Pool(), pki.Expired.Cert.NotBefore.Add(time.Hour)); err != nil {
		t.Errorf("expired certificate at a time it was valid: %v", err)
	}
}

func TestLoad(t *testing.T) {
	pki := catalogtest.New(t)
	dir := t.TempDir()
	certFile, keyFile := pki.Leaf.Files(t, dir, "leaf")
	s, err := catalog.LoadPEM(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Chain) != 2 || !s.Chain[0].Equal(pki.Leaf.Cert) {
		t.Fatalf("chain of %d", len(s.Chain))
	}
	_, otherKey := pki.OtherLeaf.Files(t, dir, "other")
	if _, err := catalog.LoadPEM(certFile, otherKey); err == nil || !strings.Contains(err.Error(), "does not belong to the certificate") || !strings.Contains(err.Error(), otherKey) {
		t.Errorf("mismatched key: %v", err)
	}
	if _, err := catalog.LoadPEM(keyFile, keyFile); err == nil || !strings.Contains(err.Error(), "certificate "+keyFile) {
		t.Errorf("key as certificate: %v", err)
	}
	// Files that are not small regular files are refused before they are parsed, naming the
	// role and the path.
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cert, key, want string }{
		{dir, keyFile, "certificate " + dir + ": "},
		{certFile, big, "key " + big + ": "},
	} {
		if _, err := catalog.LoadPEM(c.cert, c.key); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "expected") {
			t.Errorf("LoadPEM(%s, %s): %v; want %q and what was expected", c.cert, c.key, err, c.want)
		}
	}
	pfx, err := pkcs12.Modern.Encode(pki.Leaf.Key, pki.Leaf.Cert, []*x509.Certificate{pki.Root.Cert}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	pfxFile := filepath.Join(dir, "leaf.pfx")
	os.WriteFile(pfxFile, pfx, 0o600)
	s2, err := catalog.LoadPKCS12(pfxFile, "secret")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := catalog.Build(testList())
	a, _ := catalog.Sign(cat, s)
	b, _ := catalog.Sign(cat, s2)
	if !bytes.Equal(a, b) {
		t.Error("PEM and PKCS#12 signers sign differently")
	}
	if _, err := catalog.LoadPKCS12(pfxFile, "wrong"); err == nil || !strings.Contains(err.Error(), pfxFile) {
		t.Errorf("wrong password: %v", err)
	}
	roots, err := catalog.LoadRoots(pki.Root.CertFile(t, dir, "root"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Verify(a, roots); err != nil {
		t.Error(err)
	}
}

// TestOpenSSL has openssl parse a signed catalog: its structure and embedded certificates.
func TestOpenSSL(t *testing.T) {
	openssl := checker.Find(t, "openssl")
	pki := catalogtest.New(t)
	signed, _ := catalog.BuildSigned(testList(), pki.Leaf.Signer())
	path := filepath.Join(t.TempDir(), "x.cat")
	os.WriteFile(path, signed, 0o644)
	out, err := exec.Command(openssl, "pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-noout").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs7: %v\n%s", err, out)
	}
	for _, want := range []string{"subject=O = rules_oemimage tests, CN = Test Signer", "subject=O = rules_oemimage tests, CN = Test Root"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("openssl pkcs7 -print_certs lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", path).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, out)
	}
	d := sha1.Sum([]byte("aaa"))
	for _, want := range []string{"pkcs7-signedData", ":1.3.6.1.4.1.311.10.1", ":1.3.6.1.4.1.311.12.1.1", ":1.3.6.1.4.1.311.12.2.1",
		":1.3.6.1.4.1.311.12.2.2", "sha256", "messageDigest", strings.ToUpper(hex.EncodeToString(d[:]))} {
		if !strings.Contains(string(out), want) {
			t.Errorf("asn1parse output lacks %q", want)
		}
	}
}

// TestOsslsigncode has osslsigncode verify signed catalogs against the test root: the good one
// passes, a tampered one and one by an untrusted signer fail.
func TestOsslsigncode(t *testing.T) {
	tool := checker.Find(t, "osslsigncode")
	pki := catalogtest.New(t)
	dir := t.TempDir()
	root := pki.Root.CertFile(t, dir, "root")
	verify := func(der []byte) (string, error) {
		path := filepath.Join(dir, "x.cat")
		os.WriteFile(path, der, 0o644)
		out, err := exec.Command(tool, "verify", "-CAfile", root, "-in", path).CombinedOutput()
		return string(out), err
	}
	signed, _ := catalog.BuildSigned(testList(), pki.Leaf.Signer())
	out, err := verify(signed)
	if err != nil || !strings.Contains(out, "Signature verification: ok") {
		t.Fatalf("osslsigncode verify: %v\n%s", err, out)
	}
	t.Logf("osslsigncode verify:\n%s", out)
	d := sha1.Sum([]byte("bbb"))
	tampered := bytes.Clone(signed)
	tampered[bytes.Index(tampered, d[:])] ^= 1
	if out, err := verify(tampered); err == nil {
		t.Errorf("osslsigncode accepted a tampered catalog:\n%s", out)
	}
	other, _ := catalog.BuildSigned(testList(), pki.OtherLeaf.Signer())
	if out, err := verify(other); err == nil {
		t.Errorf("osslsigncode accepted a catalog of an untrusted signer:\n%s", out)
	}
}
