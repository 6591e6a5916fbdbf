// Package catalogtest makes test certificates and keys at test time, for the tests of
// catalog signing: a root CA, a code-signing leaf it issued, an expired leaf, a leaf without
// code-signing usage and an unrelated root with its own leaf. Nothing here is checked in: the
// keys are generated afresh in each test run (RSA 2048, which signs deterministically).
package catalogtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/catalog"
)

// Identity is a certificate with its key and issuer chain.
type Identity struct {
	Cert  *x509.Certificate
	Key   *rsa.PrivateKey
	Chain []*x509.Certificate // Cert first, then its issuers up to and including the root
}

// Signer is the identity as a catalog.Signer (its whole chain embedded).
func (id *Identity) Signer() *catalog.Signer {
	return &catalog.Signer{Key: id.Key, Chain: id.Chain}
}

// PKI is a set of test identities.
type PKI struct {
	Root      *Identity // self-signed CA "Test Root"
	Leaf      *Identity // code signing, issued by Root, valid now
	Expired   *Identity // code signing, issued by Root, expired a year ago
	NoCodeSig *Identity // issued by Root, server authentication only
	Other     *Identity // self-signed CA "Other Root", not trusted by Pool
	OtherLeaf *Identity // code signing, issued by Other
}

// Pool is a pool holding Root only.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root.Cert)
	return pool
}

var (
	once   sync.Once
	shared *PKI
	err    error
)

// New returns the test PKI, made once per test binary (key generation is the slow part).
func New(t testing.TB) *PKI {
	t.Helper()
	once.Do(func() { shared, err = generate() })
	if err != nil {
		t.Fatal(err)
	}
	return shared
}

func generate() (*PKI, error) {
	now := time.Now()
	root, err := issue(nil, "Test Root", true, now.Add(-3*365*24*time.Hour), now.Add(24*time.Hour), nil)
	if err != nil {
		return nil, err
	}
	codeSigning := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	leaf, err := issue(root, "Test Signer", false, now.Add(-time.Hour), now.Add(24*time.Hour), codeSigning)
	if err != nil {
		return nil, err
	}
	expired, err := issue(root, "Expired Signer", false, now.Add(-2*365*24*time.Hour), now.Add(-365*24*time.Hour), codeSigning)
	if err != nil {
		return nil, err
	}
	noCode, err := issue(root, "Server Only", false, now.Add(-time.Hour), now.Add(24*time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	if err != nil {
		return nil, err
	}
	other, err := issue(nil, "Other Root", true, now.Add(-time.Hour), now.Add(24*time.Hour), nil)
	if err != nil {
		return nil, err
	}
	otherLeaf, err := issue(other, "Other Signer", false, now.Add(-time.Hour), now.Add(24*time.Hour), codeSigning)
	if err != nil {
		return nil, err
	}
	return &PKI{Root: root, Leaf: leaf, Expired: expired, NoCodeSig: noCode, Other: other, OtherLeaf: otherLeaf}, nil
}

var serial int64

func issue(parent *Identity, cn string, ca bool, from, to time.Time, eku []x509.ExtKeyUsage) (*Identity, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"rules_oemimage tests"}},
		NotBefore:             from,
		NotAfter:              to,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	id := &Identity{Cert: cert, Key: key, Chain: []*x509.Certificate{cert}}
	if parent != nil {
		id.Chain = append(id.Chain, parent.Chain...)
	}
	return id, nil
}

// Files writes id's chain (PEM, leaf first) and key (PEM PKCS#8) into dir and returns their paths.
func (id *Identity) Files(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	var certs []byte
	for _, c := range id.Chain {
		certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	k, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certs, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// CertFile writes id's certificate alone (PEM) into dir and returns its path (a trusted root
// file for --trusted-root).
func (id *Identity) CertFile(t testing.TB, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
