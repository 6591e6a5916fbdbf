//go:build pkcs11 && cgo

package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/p11"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// softHSMModule returns the path of SoftHSM2's PKCS#11 module; without it the test is skipped,
// or fails where checkers are required (CI, tests/test_all.sh).
func softHSMModule(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if os.Getenv("OEMIMAGE_REQUIRE_CHECKERS") == "1" {
		t.Fatal("libsofthsm2.so not found: the bootstrap (tools/bootstrap/setup.sh) installs softhsm2")
	}
	t.Skip("softhsm2 not installed")
	return ""
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// putCertificate stores cert on the token as a CKO_CERTIFICATE with id and label, as a
// provisioning tool (pkcs11-tool --write-object) would: softhsm2-util imports keys only.
func putCertificate(t *testing.T, module, token, pin, label string, id []byte, cert *x509.Certificate) {
	t.Helper()
	ctx := pkcs11.New(module)
	if ctx == nil {
		t.Fatal("cannot load " + module)
	}
	defer ctx.Destroy()
	if err := ctx.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ctx.Finalize()
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if info, err := ctx.GetTokenInfo(s); err != nil || strings.TrimRight(info.Label, " \x00") != token {
			continue
		}
		sh, err := ctx.OpenSession(s, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		defer ctx.CloseSession(sh)
		if err := ctx.Login(sh, pkcs11.CKU_USER, pin); err != nil {
			t.Fatal(err)
		}
		defer ctx.Logout(sh)
		if _, err := ctx.CreateObject(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
			pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
		}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("token %q not found", token)
}

// TestPKCS11Sign signs catalogs and packages with keys on a SoftHSM2 token through
// `oemimage sign`: an RSA key whose certificate is on the token and an ECDSA P-256 key whose
// certificate is given with --cert=. osslsigncode and catalog.Verify check the catalogs
// against the test root; the RSA signature is the same bytes as with the key in a PEM file.
// Then the refusals: wrong PIN, unknown token, unknown key, missing module, wrong certificate.
func TestPKCS11Sign(t *testing.T) {
	module := softHSMModule(t)
	util := checker.Find(t, "softhsm2-util")
	osslsigncode := checker.Find(t, "osslsigncode")
	pki := catalogtest.New(t)
	dir := t.TempDir()

	// A token in a directory of its own.
	tokens := filepath.Join(dir, "tokens")
	os.Mkdir(tokens, 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	checker.Run(t, "", util, "--init-token", "--free", "--label", "t", "--pin", "1234", "--so-pin", "5678")

	// The RSA key: the test PKI's leaf, its certificate on the token with the same CKA_ID.
	_, keyFile := pki.Leaf.Files(t, dir, "leaf")
	leafOnly := filepath.Join(dir, "leafonly.crt")
	writePEM(t, leafOnly, "CERTIFICATE", pki.Leaf.Cert.Raw)
	checker.Run(t, "", util, "--import", keyFile, "--token", "t", "--label", "k", "--id", "01", "--pin", "1234")
	putCertificate(t, module, "t", "1234", "k", []byte{1}, pki.Leaf.Cert)

	// The ECDSA key: P-256, issued by the test root, its certificate in a file.
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "Token EC Signer", Organization: []string{"rules_oemimage tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, BasicConstraintsValid: true}
	ecDER, err := x509.CreateCertificate(rand.Reader, tmpl, pki.Root.Cert, &ecKey.PublicKey, pki.Root.Key)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := filepath.Join(dir, "ec.crt")
	writePEM(t, ecCert, "CERTIFICATE", ecDER)
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecKeyFile := filepath.Join(dir, "ec.key")
	writePEM(t, ecKeyFile, "PRIVATE KEY", ecPKCS8)
	checker.Run(t, "", util, "--import", ecKeyFile, "--token", "t", "--label", "e", "--id", "02", "--pin", "1234")

	pinFile := filepath.Join(dir, "pin.txt")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	unsigned, err := catalog.Build(catalog.List{Entries: []catalog.Entry{catalog.FileEntry("a.txt", []byte("a"))}})
	if err != nil {
		t.Fatal(err)
	}
	catFile := filepath.Join(dir, "x.cat")
	os.WriteFile(catFile, unsigned, 0o644)
	root := pki.Root.CertFile(t, dir, "root")
	token := []string{"--pkcs11-module=" + module, "--pkcs11-token=t"}

	for _, tc := range []struct {
		name, subject string
		flags         []string
	}{
		{"rsa", "Test Signer", append(token[:2:2], "--pkcs11-key=k", "--pkcs11-pin-file="+pinFile)},
		{"ecdsa", "Token EC Signer", append(token[:2:2], "--pkcs11-key=e", "--cert="+ecCert, "--pkcs11-pin-file="+pinFile)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".cat")
			var stdout, stderr bytes.Buffer
			if code := run(append(append([]string{"sign"}, tc.flags...), catFile, "-o", out), &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.subject) {
				t.Errorf("stdout: %s", stdout.String())
			}
			b, _ := os.ReadFile(out)
			sig, err := catalog.Verify(b, pki.Pool())
			if err != nil || sig.Subject != "CN="+tc.subject+",O=rules_oemimage tests" {
				t.Fatalf("catalog.Verify: %+v %v", sig, err)
			}
			v := checker.Run(t, "", osslsigncode, "verify", "-in", out, "-CAfile", root)
			if !strings.Contains(v, "Signature verification: ok") {
				t.Errorf("osslsigncode:\n%s", v)
			}
			for _, line := range strings.Split(v, "\n") {
				if strings.Contains(line, "verification") || strings.Contains(line, "Signer's certificate") || strings.Contains(line, "Subject:") {
					t.Logf("osslsigncode %s: %s", tc.name, strings.TrimSpace(line))
				}
			}

			// A package, the PIN from the environment this time.
			t.Setenv(pinEnv, "1234")
			var flags []string
			for _, f := range tc.flags {
				if !strings.HasPrefix(f, "--pkcs11-pin-file=") {
					flags = append(flags, f)
				}
			}
			pkg := signTestPackage(t, t.TempDir())
			signed := filepath.Join(dir, tc.name+".spkg")
			if code := run(append(append([]string{"sign"}, flags...), pkg, "-o", signed), io.Discard, &stderr); code != 0 {
				t.Fatalf("package: exit %d: %s", code, stderr.String())
			}
			p, err := spkg.Open(signed)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if c, err := p.CheckCatalog(pki.Pool()); err != nil || !strings.Contains(c.Signature.Subject, tc.subject) {
				t.Fatalf("package: %+v %v", c, err)
			}
		})
	}

	// pkggen signs every package it writes with the token key (one session for the verb).
	project := filepath.Join(dir, "p.pkg.xml")
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644)
	os.WriteFile(project, []byte(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Token" OwnerType="OEM" ReleaseType="Production">
  <Components><OSComponent><Files><File Source="a.txt" DestinationDir="$(runtime.system32)"/></Files></OSComponent></Components>
</Package>`), 0o644)
	pkgOut := filepath.Join(dir, "pkggen")
	var stderr bytes.Buffer
	if code := run(append([]string{"pkggen", project, "/output:" + pkgOut, "--pkcs11-key=e", "--cert=" + ecCert, "--pkcs11-pin-file=" + pinFile}, token...), io.Discard, &stderr); code != 0 {
		t.Fatalf("pkggen: exit %d: %s", code, stderr.String())
	}
	if p, err := spkg.Open(filepath.Join(pkgOut, "Contoso.Token.spkg")); err != nil {
		t.Fatal(err)
	} else {
		c, err := p.CheckCatalog(pki.Pool())
		p.Close()
		if err != nil || !strings.Contains(c.Signature.Subject, "Token EC Signer") {
			t.Fatalf("pkggen's package: %+v %v", c, err)
		}
	}

	// RSA PKCS#1 v1.5 is deterministic: the token's signature is the PEM key's, byte for byte
	// (same key, same certificate embedded).
	pemOut, tokOut := filepath.Join(dir, "pem.cat"), filepath.Join(dir, "tok.cat")
	if code := run([]string{"sign", "--cert=" + leafOnly, "--key=" + keyFile, catFile, "-o", pemOut}, io.Discard, io.Discard); code != 0 {
		t.Fatal("PEM signing failed")
	}
	if code := run(append(append([]string{"sign"}, token...), "--pkcs11-key=k", "--cert="+leafOnly, "--pkcs11-pin-file="+pinFile, catFile, "-o", tokOut), io.Discard, io.Discard); code != 0 {
		t.Fatal("token signing failed")
	}
	if a, b := mustRead(t, pemOut), mustRead(t, tokOut); !bytes.Equal(a, b) {
		t.Errorf("the token's RSA signature (%d bytes) differs from the PEM key's (%d bytes)", len(b), len(a))
	}

	// Two sessions on one token: closing one leaves the other logged in and signing.
	first, err := p11.Open(p11.Config{Module: module, Token: "t", Key: "k", PIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := p11.Open(p11.Config{Module: module, Token: "t", Key: "e", PIN: "1234", Chain: []*x509.Certificate{mustParse(t, ecDER)}})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	digest := sha256.Sum256([]byte("after the first session closed"))
	if sig, err := second.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil || !ecdsa.VerifyASN1(&ecKey.PublicKey, digest[:], sig) {
		t.Errorf("the second session after the first closed: %v", err)
	}
	if _, err := first.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a closed Signer signed: %v", err)
	}
	second.Close()

	// Refusals, each naming what is wrong; the PIN never shows.
	wrongPIN := filepath.Join(dir, "wrong.txt")
	os.WriteFile(wrongPIN, []byte("wrongPIN-qzx\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong PIN", append(token[:2:2], "--pkcs11-key=k", "--pkcs11-pin-file="+wrongPIN), `token "t": the PIN is wrong`},
		{"unknown token", []string{"--pkcs11-module=" + module, "--pkcs11-token=nosuch", "--pkcs11-key=k", "--pkcs11-pin-file=" + pinFile}, `--pkcs11-token=nosuch: no token with that label`},
		{"unknown key", append(token[:2:2], "--pkcs11-key=nokey", "--pkcs11-pin-file="+pinFile), `token "t" has no private key labelled "nokey"`},
		{"missing module", []string{"--pkcs11-module=" + filepath.Join(dir, "nosuch.so"), "--pkcs11-token=t", "--pkcs11-key=k", "--pkcs11-pin-file=" + pinFile}, "--pkcs11-module=" + filepath.Join(dir, "nosuch.so") + ": no such file"},
		{"not a module", []string{"--pkcs11-module=" + pinFile, "--pkcs11-token=t", "--pkcs11-key=k", "--pkcs11-pin-file=" + pinFile}, "cannot load it as a PKCS#11 module"},
		{"no certificate", append(token[:2:2], "--pkcs11-key=e", "--pkcs11-pin-file="+pinFile), `the token has no certificate with the key's CKA_ID 02 or label "e": give it with --cert=`},
		{"certificate of another type", append(token[:2:2], "--pkcs11-key=e", "--cert="+leafOnly, "--pkcs11-pin-file="+pinFile), `key "e" on token "t" is an ECDSA key, the certificate "CN=Test Signer`},
		{"certificate of another key", append(token[:2:2], "--pkcs11-key=k", "--cert="+pki.OtherLeaf.CertFile(t, dir, "other"), "--pkcs11-pin-file="+pinFile), `key "k" on token "t" does not belong to the certificate "CN=Other Signer`},
	} {
		var stderr bytes.Buffer
		out := filepath.Join(dir, "refused.cat")
		code := run(append(append([]string{"sign"}, tc.args...), catFile, "-o", out), io.Discard, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.name, code, stderr.String(), tc.want)
		}
		if strings.Contains(stderr.String(), "wrongPIN-qzx") {
			t.Errorf("%s: the PIN shows in the error: %q", tc.name, stderr.String())
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: a refused signing wrote %s", tc.name, out)
		}
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
