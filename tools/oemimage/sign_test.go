package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/p11"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"software.sslmate.com/src/go-pkcs12"
)

func signTestPackage(t *testing.T, dir string) string {
	t.Helper()
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Signed", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	path := filepath.Join(dir, "Contoso.Signed.spkg")
	data := "signed payload"
	if _, err := spkg.WriteFile(path, m, []spkg.Payload{{DevicePath: `\Windows\System32\s.dll`, Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}}, cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSignVerb(t *testing.T) {
	pki := catalogtest.New(t)
	dir := t.TempDir()
	certFile, keyFile := pki.Leaf.Files(t, dir, "leaf")
	pkg := signTestPackage(t, dir)
	signed := filepath.Join(dir, "signed.spkg")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"sign", "--cert=" + certFile, "--key=" + keyFile, pkg, "-o", signed}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `signed.spkg: signed by "CN=Test Signer,O=rules_oemimage tests"`) {
		t.Errorf("stdout: %s", stdout.String())
	}
	p, err := spkg.Open(signed)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.CheckCatalog(pki.Pool()); err != nil {
		t.Fatal(err)
	}
	// A catalog, signed in place with a PKCS#12 file, then verified by osslsigncode.
	cat, _ := p.Catalog()
	unsigned, _ := catalog.Build(catalog.List{Entries: []catalog.Entry{catalog.FileEntry("a.txt", []byte("a"))}})
	catFile := filepath.Join(dir, "x.cat")
	os.WriteFile(catFile, unsigned, 0o644)
	pfx, err := pkcs12.Modern.Encode(pki.Leaf.Key, pki.Leaf.Cert, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	pfxFile := filepath.Join(dir, "leaf.pfx")
	os.WriteFile(pfxFile, pfx, 0o600)
	pwFile := filepath.Join(dir, "pw.txt")
	os.WriteFile(pwFile, []byte("pw\n"), 0o600)
	stdout.Reset()
	if code := run([]string{"sign", "--pfx=" + pfxFile, "--password-file=" + pwFile, catFile}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, _ := os.ReadFile(catFile)
	if sig, err := catalog.Verify(b, pki.Pool()); err != nil || !strings.Contains(sig.Subject, "Test Signer") {
		t.Fatalf("signed catalog: %v", err)
	}
	if len(cat) == 0 {
		t.Fatal("the package's catalog is empty")
	}
	root := pki.Root.CertFile(t, dir, "root")
	out := checker.Run(t, "", checker.Find(t, "osslsigncode"), "verify", "-CAfile", root, "-in", catFile)
	if !strings.Contains(out, "Signature verification: ok") {
		t.Errorf("osslsigncode:\n%s", out)
	}

	// Refusals: a wrong key, a wrong password, no identity, two identities.
	_, otherKey := pki.OtherLeaf.Files(t, dir, "other")
	wrongPW := filepath.Join(dir, "wrong.txt")
	os.WriteFile(wrongPW, []byte("nope"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sign", "--cert=" + certFile, "--key=" + otherKey, pkg}, 1, "does not belong to the certificate"},
		{[]string{"sign", "--pfx=" + pfxFile, "--password-file=" + wrongPW, catFile}, 1, "leaf.pfx"},
		{[]string{"sign", pkg}, 2, "sign needs a signing identity"},
		{[]string{"sign", "--pfx=" + pfxFile, "--cert=" + certFile, pkg}, 2, "two signing identities"},
		{[]string{"sign", "--cert=" + certFile, pkg}, 2, "--cert= and --key= go together"},
	} {
		stderr.Reset()
		if code := run(tc.args, io.Discard, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d; stderr %q, want %q", tc.args[1:], code, tc.code, stderr.String(), tc.want)
		}
	}
	if a, _ := os.ReadFile(pkg); bytes.Contains(a, pki.Leaf.Cert.Raw[:64]) {
		t.Error("a refused signing changed the input package")
	}
}

// pkggen --cert= --key= writes packages whose catalogs verify against the root.
func TestPkggenSigns(t *testing.T) {
	pki := catalogtest.New(t)
	dir := t.TempDir()
	certFile, keyFile := pki.Leaf.Files(t, dir, "leaf")
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644)
	project := filepath.Join(dir, "p.pkg.xml")
	os.WriteFile(project, []byte(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Apps" OwnerType="OEM" ReleaseType="Production">
  <Components><OSComponent><Files><File Source="a.txt" DestinationDir="$(runtime.system32)"/></Files></OSComponent></Components>
</Package>`), 0o644)
	out := filepath.Join(dir, "out")
	var stderr bytes.Buffer
	if code := run([]string{"pkggen", project, "/output:" + out, "--cert=" + certFile, "--key=" + keyFile}, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p, err := spkg.Open(filepath.Join(out, "Contoso.Apps.spkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	check, err := p.CheckCatalog(pki.Pool())
	if err != nil || check.Files != 2 || !strings.Contains(check.Signature.Subject, "Test Signer") {
		t.Fatalf("%+v %v", check, err)
	}
}

// sign --timestamp-url= countersigns with a token from a TSA (openssl ts -reply in the test);
// a failing TSA writes nothing; --timestamp-url without an identity is a usage error.
func TestSignTimestamp(t *testing.T) {
	pki := catalogtest.New(t)
	tsa := catalogtest.NewTSA(t)
	dir := t.TempDir()
	certFile, keyFile := pki.Leaf.Files(t, dir, "leaf")
	unsigned, _ := catalog.Build(catalog.List{Entries: []catalog.Entry{catalog.FileEntry("a.txt", []byte("a"))}})
	catFile := filepath.Join(dir, "x.cat")
	os.WriteFile(catFile, unsigned, 0o644)
	signedFile := filepath.Join(dir, "signed.cat")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"sign", "--cert=" + certFile, "--key=" + keyFile, "--timestamp-url=" + tsa.URL, catFile, "-o", signedFile}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "signed.cat: signed by \"CN=Test Signer,O=rules_oemimage tests\", timestamped by " + tsa.URL + "\n"; !strings.HasSuffix(stdout.String(), want) {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	b, _ := os.ReadFile(signedFile)
	sig, err := catalog.Verify(b, pki.Pool())
	if err != nil || sig.Timestamp == nil || !strings.Contains(sig.Timestamp.Subject, "CN=Test TSA,") {
		t.Fatalf("signed catalog: %v, %+v", err, sig)
	}
	out := checker.Run(t, "", checker.Find(t, "osslsigncode"), "verify", "-CAfile", pki.Root.CertFile(t, dir, "root"), "-TSA-CAfile", tsa.RootFile, "-in", signedFile)
	if !strings.Contains(out, "Timestamp Server Signature verification: ok") || !strings.Contains(out, "Signature verification: ok") {
		t.Errorf("osslsigncode:\n%s", out)
	}

	pkg := signTestPackage(t, dir)
	before, _ := os.ReadFile(pkg)
	tsa.SetMode(catalogtest.TSAHTTP500)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sign", "--timestamp-url=" + tsa.URL, catFile, "-o", filepath.Join(dir, "no.cat")}, 2, "--timestamp-url= timestamps a signature: give a signing identity"},
		{[]string{"sign", "--cert=" + certFile, "--key=" + keyFile, "--timestamp-url=tsa.example", catFile, "-o", filepath.Join(dir, "no.cat")}, 2, `expected an http:// or https:// URL`},
		{[]string{"sign", "--cert=" + certFile, "--key=" + keyFile, "--timestamp-url=", catFile, "-o", filepath.Join(dir, "no.cat")}, 2, "--timestamp-url= needs a URL"},
		{[]string{"sign", "--cert=" + certFile, "--key=" + keyFile, "--timestamp-url=" + tsa.URL, catFile, "-o", filepath.Join(dir, "no.cat")}, 1, "timestamp server " + tsa.URL + ": HTTP 500 Internal Server Error"},
		{[]string{"sign", "--cert=" + certFile, "--key=" + keyFile, "--timestamp-url=" + tsa.URL, pkg}, 1, "timestamp server " + tsa.URL + ": HTTP 500"},
		{[]string{"pkggen", "--timestamp-url=" + tsa.URL, "p.pkg.xml"}, 2, "give a signing identity"},
	} {
		stderr.Reset()
		if code := run(tc.args, io.Discard, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d; stderr %q, want %q", tc.args[1:], code, tc.code, stderr.String(), tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "no.cat")); err == nil {
		t.Error("a refused signing wrote its output")
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(before, after) {
		t.Error("a refused signing in place changed the package")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".*")); len(entries) != 0 {
		t.Errorf("staging files left: %v", entries)
	}
}

// The --pkcs11-* flags' usage errors, the same with or without PKCS#11 support: a token key
// with another identity, a missing flag, no PIN, a PIN on the command line (not echoed).
func TestPKCS11Flags(t *testing.T) {
	t.Setenv(pinEnv, "unset below")
	os.Unsetenv(pinEnv)
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin.txt")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	cat := filepath.Join(dir, "x.cat")
	mod, tok, key := "--pkcs11-module=/usr/lib/softhsm/libsofthsm2.so", "--pkcs11-token=t", "--pkcs11-key=k"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{mod, tok, key, "--key=k.pem"}, "--key= and --pkcs11-key= name two signing identities"},
		{[]string{mod, tok, key, "--pfx=k.pfx"}, "--pfx= and --pkcs11-key= name two signing identities"},
		{[]string{mod, tok, key, "--password-file=" + pinFile}, "--password-file= and --pkcs11-key= name two signing identities"},
		{[]string{tok, key}, "a PKCS#11 key needs --pkcs11-module=, the token's PKCS#11 module"},
		{[]string{mod, key}, "a PKCS#11 key needs --pkcs11-token=, the token's label"},
		{[]string{mod, tok}, "a PKCS#11 key needs --pkcs11-key=, the private key's label"},
		{[]string{"--pkcs11-pin-file=" + pinFile}, "a PKCS#11 key needs --pkcs11-module="},
		{[]string{mod, tok, "--pkcs11-key="}, "--pkcs11-key= needs a label"},
		{[]string{mod, tok, key, "--pkcs11-pin=s3cr3t-pin"}, "--pkcs11-pin is not a flag: a PIN or password is never given on the command line"},
	} {
		var stderr bytes.Buffer
		if code := run(append(append([]string{"sign"}, tc.args...), cat), io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr.String(), tc.want)
		}
		if strings.Contains(stderr.String(), "s3cr3t") {
			t.Errorf("%v: the PIN shows in the error", tc.args)
		}
	}
	if p11.Supported {
		// No PIN: the usage error comes before the module is opened.
		var stderr bytes.Buffer
		if code := run([]string{"sign", mod, tok, key, cat}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "needs its token's PIN: give --pkcs11-pin-file=FILE") {
			t.Errorf("no PIN: exit %d, stderr %q", code, stderr.String())
		}
	}
}
