package catalog

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/sassoftware/relic/v8/lib/pkcs7"
	"github.com/sassoftware/relic/v8/lib/x509tools"
	"software.sslmate.com/src/go-pkcs12"
)

var (
	oidSpcStatementType     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 11} // SPC_STATEMENT_TYPE_OBJID
	oidSpcSpOpusInfo        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 12} // SPC_SP_OPUS_INFO_OBJID
	oidSpcIndividualPurpose = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 21} // individual code signing
)

// maxKeyFileBytes bounds the certificate, key and PKCS#12 files LoadPEM and LoadPKCS12 read.
const maxKeyFileBytes = 1 << 20

// Signer is a private key and the certificates to embed with its signatures, leaf first, and
// optionally the URL of an RFC 3161 timestamp server that countersigns each signature.
type Signer struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
	// TimestampURL, if set, is an http:// or https:// RFC 3161 timestamp server: Sign asks it
	// for a token over each signature (one request, TimestampTimeout) and fails if it gets
	// none. Timestamped signatures need the network and differ each time.
	TimestampURL string
}

// NewSigner checks that key belongs to chain[0].
func NewSigner(key crypto.Signer, chain []*x509.Certificate) (*Signer, error) {
	if key == nil || len(chain) == 0 {
		return nil, errors.New("signer: a key and at least its certificate are needed")
	}
	if !x509tools.SameKey(key.Public(), chain[0].PublicKey) {
		return nil, fmt.Errorf("signer: the private key does not belong to the certificate %q", chain[0].Subject)
	}
	return &Signer{Key: key, Chain: chain}, nil
}

// readSmall reads a key, certificate or PKCS#12 file: a regular file of at most
// maxKeyFileBytes (readfile.ReadRegular: one open handle, a file that grows while read is
// refused); what names it in errors.
func readSmall(path, what string) ([]byte, error) {
	b, err := readfile.ReadRegular(path, maxKeyFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%s %v", what, err) // "certificate /path: ...", as the parse errors
	}
	return b, nil
}

// LoadPEM loads a signer from a certificate file (PEM CERTIFICATE blocks or one DER
// certificate; the leaf first, then any intermediates and the root, all of which are embedded
// in signatures) and a private key file (PEM "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" or "EC
// PRIVATE KEY", unencrypted). Keys are parsed with crypto/x509 and certificates and PKCS#12
// with go-pkcs12 rather than relic's certloader, whose OpenPGP and keyring support would add
// seven modules the tool does not use.
func LoadPEM(certFile, keyFile string) (*Signer, error) {
	certBlob, err := readSmall(certFile, "certificate")
	if err != nil {
		return nil, err
	}
	keyBlob, err := readSmall(keyFile, "key")
	if err != nil {
		return nil, err
	}
	certs, err := parseCertificates(certBlob)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %v", certFile, err)
	}
	key, err := parsePrivateKey(keyBlob)
	if err != nil {
		return nil, fmt.Errorf("key %s: %v", keyFile, err)
	}
	s, err := NewSigner(key, certs)
	if err != nil {
		return nil, fmt.Errorf("key %s, certificate %s: %v", keyFile, certFile, err)
	}
	return s, nil
}

// LoadCertificates reads a certificate file as LoadPEM does (PEM CERTIFICATE blocks, leaf
// first, or one DER certificate): the chain of a key held elsewhere, such as on a token.
func LoadCertificates(certFile string) ([]*x509.Certificate, error) {
	b, err := readSmall(certFile, "certificate")
	if err != nil {
		return nil, err
	}
	certs, err := parseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %v", certFile, err)
	}
	return certs, nil
}

func parseCertificates(b []byte) ([]*x509.Certificate, error) {
	if len(b) > 0 && b[0] == 0x30 {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block and not a DER certificate")
	}
	return certs, nil
}

func parsePrivateKey(b []byte) (crypto.Signer, error) {
	der := b
	if block, _ := pem.Decode(b); block != nil {
		if x509.IsEncryptedPEMBlock(block) || block.Type == "ENCRYPTED PRIVATE KEY" { //nolint:staticcheck // only to say so
			return nil, errors.New("the key is encrypted; give an unencrypted PEM key or a PKCS#12 file with a password file")
		}
		der = block.Bytes
	}
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			if key, err = x509.ParseECPrivateKey(der); err != nil {
				return nil, errors.New("not a PKCS#8, PKCS#1 or EC private key")
			}
		}
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", key)
	}
	return s, nil
}

// LoadPKCS12 loads a signer from a PKCS#12 (.pfx) file and its password (empty for none).
// The file's certificates are embedded in signatures, leaf first.
func LoadPKCS12(pfxFile, password string) (*Signer, error) {
	blob, err := readSmall(pfxFile, "PKCS#12 file")
	if err != nil {
		return nil, err
	}
	key, leaf, chain, err := pkcs12.DecodeChain(blob, password)
	if err != nil {
		return nil, fmt.Errorf("PKCS#12 file %s: %v", pfxFile, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("PKCS#12 file %s: a %T cannot sign", pfxFile, key)
	}
	s, err := NewSigner(signer, append([]*x509.Certificate{leaf}, chain...))
	if err != nil {
		return nil, fmt.Errorf("PKCS#12 file %s: %v", pfxFile, err)
	}
	return s, nil
}

type spcSpOpusInfo struct {
	ProgramName asn1.RawValue `asn1:"optional,explicit,tag:0"`
	MoreInfo    asn1.RawValue `asn1:"optional,explicit,tag:1"`
}

// Sign returns catalog signed by s: the CTL of catalog (signed or not; an old signature is
// replaced) in a PKCS#7 SignedData with one SignerInfo, SHA-256 digests, s's certificates
// embedded and the authenticated attributes signtool writes for a catalog (content type,
// message digest, SPC_STATEMENT_TYPE individual, an empty SPC_SP_OPUS_INFO). There is no
// signing time, so without a timestamp the bytes depend only on the catalog and the key: with
// an RSA key (PKCS#1 v1.5) the same inputs give the same bytes; ECDSA signatures differ each
// time. With s.TimestampURL the signature is countersigned by an RFC 3161 token from that
// server (timestamp.go), as signtool /tr does; the token holds the server's time and nonce, so
// the bytes differ each time, and any failure of the server fails Sign.
func Sign(catalog []byte, s *Signer) ([]byte, error) {
	p, err := parse(catalog)
	if err != nil {
		return nil, err
	}
	return signCTL(p.ctl, s)
}

func signCTL(ctl []byte, s *Signer) ([]byte, error) {
	if s == nil || s.Key == nil || len(s.Chain) == 0 {
		return nil, errors.New("catalog: no signer")
	}
	b := pkcs7.NewBuilder(s.Key, s.Chain, crypto.SHA256)
	if err := b.SetContent(oidCTL, asn1.RawValue{FullBytes: ctl}); err != nil {
		return nil, fmt.Errorf("catalog: %v", err)
	}
	// SpcStatementType ::= SEQUENCE OF OBJECT IDENTIFIER.
	if err := b.AddAuthenticatedAttribute(oidSpcStatementType, []asn1.ObjectIdentifier{oidSpcIndividualPurpose}); err != nil {
		return nil, fmt.Errorf("catalog: %v", err)
	}
	if err := b.AddAuthenticatedAttribute(oidSpcSpOpusInfo, spcSpOpusInfo{}); err != nil {
		return nil, fmt.Errorf("catalog: %v", err)
	}
	psd, err := b.Sign()
	if err != nil {
		return nil, fmt.Errorf("catalog: signing with %q: %v", s.Chain[0].Subject, err)
	}
	if s.TimestampURL != "" {
		return timestamp(psd, s.TimestampURL)
	}
	return psd.Marshal()
}

// BuildSigned is Build, then Sign with s when s is not nil.
func BuildSigned(l List, s *Signer) ([]byte, error) {
	ctl, err := BuildCTL(l)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return wrapUnsigned(ctl), nil
	}
	return signCTL(ctl, s)
}

// Signature is what Verify found: who signed, with what.
type Signature struct {
	Subject string              // the signing certificate's subject
	Leaf    *x509.Certificate   // the signing certificate
	Chain   []*x509.Certificate // the verified chain, leaf first, ending at a trusted root
	Hash    crypto.Hash         // the signature's digest algorithm
	Members []Member            // the catalog's members
	// Timestamp is the signature's timestamp, nil without one. Its token's signature and
	// imprint are always checked; its server's chain only against Trust.TSARoots.
	Timestamp *Timestamp
	// At is the time the signing chain was checked at: Trust.Time, or the timestamp's time
	// when the timestamp's chain verified against Trust.TSARoots.
	At time.Time
}

// ErrUnsigned is the error of Verify for a catalog without a signature.
var ErrUnsigned = errors.New("catalog is not signed")

// Trust is what VerifyTrust checks a catalog's signature against.
type Trust struct {
	Roots *x509.CertPool // the roots the signing chain must end at
	// TSARoots, when set, are the roots a timestamp server's chain must end at, valid at the
	// timestamp's time. A timestamp that chains to them moves the check of the signing chain
	// to the timestamp's time, so that a certificate expired since still verifies (what a
	// timestamp is for, and what Windows does); one that does not is an error. Without
	// TSARoots a timestamp is checked and reported but does not change the time.
	TSARoots *x509.CertPool
	Time     time.Time // the verification time; zero: now
}

// Verify checks the signature of a catalog and its certificate chain to roots as of now:
// an expired certificate is refused, as a device refuses a catalog signed without a timestamp
// by a certificate expired since (a timestamp is checked and reported in Signature.Timestamp,
// but its server's chain is not checked, so it does not extend the validity: VerifyTrust with
// TSARoots does).
func Verify(der []byte, roots *x509.CertPool) (*Signature, error) {
	return VerifyTrust(der, Trust{Roots: roots})
}

// VerifyAt is Verify at time t.
func VerifyAt(der []byte, roots *x509.CertPool, t time.Time) (*Signature, error) {
	return VerifyTrust(der, Trust{Roots: roots, Time: t})
}

// VerifyTrust checks: one SignerInfo, whose digest of the CTL and signature over the
// authenticated attributes hold (lib/pkcs7); a digest algorithm of SHA-256 or better (SHA-1
// is accepted, as the device does, for catalogs signed elsewhere); a timestamp, if there is
// one, signed by a timestamping certificate it embeds over this signature's value, and with
// tr.TSARoots, that certificate's chain to one of them at the timestamp's time; a chain from
// the signing certificate through the embedded certificates to one of tr.Roots, valid at
// tr.Time (at the timestamp's time when its chain verified); and a signing certificate usable
// for code signing (no extended key usage, or codeSigning, anyExtendedKeyUsage, or a Microsoft
// code-integrity usage 1.3.6.1.4.1.311.10.3.* / 1.3.6.1.4.1.311.76.*, and if it has key
// usages, digitalSignature).
func VerifyTrust(der []byte, tr Trust) (*Signature, error) {
	t := tr.Time
	if t.IsZero() {
		t = time.Now()
	}
	p, err := parse(der)
	if err != nil {
		return nil, err
	}
	if p.signers == 0 {
		return nil, ErrUnsigned
	}
	if p.signers != 1 {
		return nil, fmt.Errorf("catalog: %d signer infos, expected 1", p.signers)
	}
	if tr.Roots == nil {
		return nil, errors.New("catalog: no trusted roots to verify against")
	}
	psd, err := pkcs7.Unmarshal(der)
	if err != nil {
		return nil, fmt.Errorf("catalog: bad PKCS#7: %v", err)
	}
	content, err := psd.Content.ContentInfo.Bytes()
	if err != nil || content == nil || !bytes.Equal(content, ctlContents(p.ctl)) {
		return nil, errors.New("catalog: the signed content is not the catalog's CTL")
	}
	si := psd.Content.SignerInfos[0]
	hash, err := x509tools.PkixDigestToHashE(si.DigestAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("catalog: signature digest algorithm: %v", err)
	}
	if hash != crypto.SHA1 && hash != crypto.SHA256 && hash != crypto.SHA384 && hash != crypto.SHA512 {
		return nil, fmt.Errorf("catalog: signature digest algorithm %v, expected SHA-256 (or SHA-1, SHA-384, SHA-512)", hash)
	}
	sig, err := psd.Content.Verify(nil, false)
	if err != nil {
		return nil, fmt.Errorf("catalog: signature does not verify: %v", err)
	}
	subject := sig.Certificate.Subject.String()
	ts, err := verifyTimestamp(sig)
	if err != nil {
		return nil, err
	}
	when := ""
	if ts != nil && tr.TSARoots != nil {
		if err := ts.verifyChain(tr.TSARoots); err != nil {
			return nil, err
		}
		t, when = ts.Time, " (the timestamp's time)"
	}
	pool := x509.NewCertPool()
	for _, c := range sig.Intermediates {
		pool.AddCert(c)
	}
	chains, err := sig.Certificate.Verify(x509.VerifyOptions{
		Intermediates: pool,
		Roots:         tr.Roots,
		CurrentTime:   t,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: signing certificate %q is not trusted at %s%s: %v", subject, t.UTC().Format(time.RFC3339), when, err)
	}
	if err := codeSigningUsage(sig.Certificate); err != nil {
		return nil, fmt.Errorf("catalog: signing certificate %q: %v", subject, err)
	}
	return &Signature{Subject: subject, Leaf: sig.Certificate, Chain: chains[0], Hash: hash, Members: p.members, Timestamp: ts, At: t}, nil
}

// ctlContents is the contents octets of the CTL's DER (PKCS#7 digests the content without
// its tag and length).
func ctlContents(ctl []byte) []byte {
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(ctl, &v); err != nil {
		return nil
	}
	return v.Bytes
}

var (
	oidMicrosoftCodeIntegrity = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3}
	oidMicrosoftOEM           = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 76}
)

func codeSigningUsage(c *x509.Certificate) error {
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return errors.New("its key usage lacks digitalSignature")
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		if hasPrefix(u, oidMicrosoftCodeIntegrity) || hasPrefix(u, oidMicrosoftOEM) {
			return nil
		}
	}
	var names []string
	for _, u := range c.ExtKeyUsage {
		names = append(names, fmt.Sprint(u))
	}
	for _, u := range c.UnknownExtKeyUsage {
		names = append(names, u.String())
	}
	return fmt.Errorf("its extended key usages (%s) do not include code signing", strings.Join(names, ", "))
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}

// IsSigned says whether a catalog has signer infos (without checking them).
func IsSigned(der []byte) (bool, error) {
	p, err := parse(der)
	if err != nil {
		return false, err
	}
	return p.signers > 0, nil
}

// LoadRoots reads the trusted root certificates of a file (PEM CERTIFICATE blocks, or one DER
// certificate) into a pool, for Verify.
func LoadRoots(path string) (*x509.CertPool, error) {
	b, err := readSmall(path, "trusted root")
	if err != nil {
		return nil, err
	}
	certs, err := parseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %v", path, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
