//go:build pkcs11 && cgo

package p11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

const supported = true

// modules are the PKCS#11 modules this process has loaded and initialized, by path, with the
// number of open Signers using each: C_Initialize and C_Finalize are once per process and
// module, whatever the number of sessions.
var (
	modulesMu sync.Mutex
	modules   = map[string]*module{}
)

type module struct {
	ctx  *pkcs11.Ctx
	refs int
}

func acquire(path string) (*pkcs11.Ctx, error) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m := modules[path]; m != nil {
		m.refs++
		return m.ctx, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--pkcs11-module=%s: %v", path, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("--pkcs11-module=%s: not a regular file (a PKCS#11 module, LIB.so)", path)
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("--pkcs11-module=%s: cannot load it as a PKCS#11 module (dlopen failed, or it has no C_GetFunctionList)", path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("--pkcs11-module=%s: C_Initialize: %v", path, err)
	}
	modules[path] = &module{ctx: ctx, refs: 1}
	return ctx, nil
}

func release(path string) error {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	m := modules[path]
	if m == nil {
		return nil
	}
	if m.refs--; m.refs > 0 {
		return nil
	}
	delete(modules, path)
	err := m.ctx.Finalize()
	m.ctx.Destroy()
	return err
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// tokenKey is an open, logged-in session and the private key found in it.
type tokenKey struct {
	mu      sync.Mutex // a PKCS#11 session runs one operation at a time
	module  string
	ctx     *pkcs11.Ctx
	session pkcs11.SessionHandle
	key     pkcs11.ObjectHandle
	ecdsa   bool
	chain   []*x509.Certificate
	where   string // `key "k" on token "t"`, for errors
	closed  bool
}

// Open loads cfg.Module, finds the token labelled cfg.Token, logs in with cfg.PIN, finds the
// private key labelled cfg.Key and its certificate (cfg.Chain, or the token's), and checks
// that they belong together by signing a random digest and verifying it with the
// certificate's key. Errors name the flag or label that is wrong, never the PIN.
func Open(cfg Config) (Signer, error) {
	switch {
	case cfg.Module == "":
		return nil, errors.New("no PKCS#11 module: give --pkcs11-module=LIB.so")
	case cfg.Token == "":
		return nil, errors.New("no token label: give --pkcs11-token=LABEL")
	case cfg.Key == "":
		return nil, errors.New("no key label: give --pkcs11-key=LABEL")
	}
	ctx, err := acquire(cfg.Module)
	if err != nil {
		return nil, err
	}
	k := &tokenKey{module: cfg.Module, ctx: ctx, where: fmt.Sprintf("key %q on token %q", cfg.Key, cfg.Token)}
	if err := k.open(cfg); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

func (k *tokenKey) open(cfg Config) error {
	slot, err := findToken(k.ctx, cfg.Module, cfg.Token)
	if err != nil {
		return err
	}
	k.session, err = k.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		k.session = 0
		return fmt.Errorf("token %q: C_OpenSession: %v", cfg.Token, err)
	}
	if err := k.ctx.Login(k.session, pkcs11.CKU_USER, cfg.PIN); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		switch {
		case isCode(err, pkcs11.CKR_PIN_INCORRECT):
			return fmt.Errorf("token %q: the PIN is wrong (%v)", cfg.Token, err)
		case isCode(err, pkcs11.CKR_PIN_LOCKED):
			return fmt.Errorf("token %q: the PIN is locked (%v)", cfg.Token, err)
		}
		return fmt.Errorf("token %q: logging in: %v", cfg.Token, err)
	}
	keys, err := k.find([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, cfg.Key),
	})
	if err != nil {
		return fmt.Errorf("token %q: finding the private key %q: %v", cfg.Token, cfg.Key, err)
	}
	switch len(keys) {
	case 0:
		return fmt.Errorf("token %q has no private key labelled %q (--pkcs11-key=)", cfg.Token, cfg.Key)
	case 1:
	default:
		return fmt.Errorf("token %q has %d private keys labelled %q: relabel them so that one has it", cfg.Token, len(keys), cfg.Key)
	}
	k.key = keys[0]
	attrs, err := k.ctx.GetAttributeValue(k.session, k.key, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
	})
	if err != nil {
		return fmt.Errorf("%s: reading CKA_KEY_TYPE and CKA_ID: %v", k.where, err)
	}
	keyType, id := ulong(attrs[0].Value), attrs[1].Value
	switch keyType {
	case pkcs11.CKK_RSA:
	case pkcs11.CKK_EC:
		k.ecdsa = true
	default:
		return fmt.Errorf("%s: key type 0x%x is neither RSA (CKK_RSA) nor ECDSA (CKK_EC)", k.where, keyType)
	}
	k.chain = cfg.Chain
	if len(k.chain) == 0 {
		c, err := k.certificate(id, cfg.Key)
		if err != nil {
			return err
		}
		k.chain = []*x509.Certificate{c}
	}
	switch pub := k.chain[0].PublicKey.(type) {
	case *rsa.PublicKey:
		if k.ecdsa {
			return fmt.Errorf("%s is an ECDSA key, the certificate %q has an RSA key", k.where, k.chain[0].Subject)
		}
	case *ecdsa.PublicKey:
		if !k.ecdsa {
			return fmt.Errorf("%s is an RSA key, the certificate %q has an ECDSA key", k.where, k.chain[0].Subject)
		}
	default:
		return fmt.Errorf("the certificate %q has a %T key, neither RSA nor ECDSA", k.chain[0].Subject, pub)
	}
	return k.selfTest()
}

// findToken returns the slot holding the token labelled label.
func findToken(ctx *pkcs11.Ctx, module, label string) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("--pkcs11-module=%s: C_GetSlotList: %v", module, err)
	}
	var labels []string
	for _, s := range slots {
		info, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		l := strings.TrimRight(info.Label, " \x00")
		if l == label {
			return s, nil
		}
		labels = append(labels, fmt.Sprintf("%q", l))
	}
	if len(labels) == 0 {
		return 0, fmt.Errorf("--pkcs11-token=%s: the module %s has no token (no slot with a token present)", label, module)
	}
	return 0, fmt.Errorf("--pkcs11-token=%s: no token with that label in %s (its tokens: %s)", label, module, strings.Join(labels, ", "))
}

// find returns the objects matching template, at most 16.
func (k *tokenKey) find(template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := k.ctx.FindObjectsInit(k.session, template); err != nil {
		return nil, err
	}
	objs, _, err := k.ctx.FindObjects(k.session, 16)
	if ferr := k.ctx.FindObjectsFinal(k.session); err == nil {
		err = ferr
	}
	return objs, err
}

// certificate returns the token's X.509 certificate with the key's CKA_ID, or, if the key has
// none or no certificate has it, the certificate labelled as the key.
func (k *tokenKey) certificate(id []byte, label string) (*x509.Certificate, error) {
	templates := [][]*pkcs11.Attribute{}
	if len(id) > 0 {
		templates = append(templates, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
	}
	templates = append(templates, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	})
	for _, t := range templates {
		objs, err := k.find(t)
		if err != nil {
			return nil, fmt.Errorf("%s: finding its certificate: %v", k.where, err)
		}
		if len(objs) == 0 {
			continue
		}
		attrs, err := k.ctx.GetAttributeValue(k.session, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return nil, fmt.Errorf("%s: reading its certificate: %v", k.where, err)
		}
		c, err := x509.ParseCertificate(attrs[0].Value)
		if err != nil {
			return nil, fmt.Errorf("%s: its certificate on the token: %v", k.where, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s: the token has no certificate with the key's CKA_ID %x or label %q: give it with --cert=", k.where, id, label)
}

// selfTest signs a random SHA-256 digest and verifies it with the certificate's key.
func (k *tokenKey) selfTest() error {
	var digest [sha256.Size]byte
	if _, err := io.ReadFull(rand.Reader, digest[:]); err != nil {
		return err
	}
	sig, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	ok := false
	switch pub := k.chain[0].PublicKey.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, digest[:], sig)
	}
	if !ok {
		return fmt.Errorf("%s does not belong to the certificate %q", k.where, k.chain[0].Subject)
	}
	return nil
}

func ulong(b []byte) uint {
	// CK_ULONG, little-endian, of the host's size: what modules on amd64 and arm64 write.
	var v uint
	if len(b) == 8 || len(b) == 4 {
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint(b[i])
		}
		return v
	}
	return ^uint(0)
}

// digestInfoPrefixes are the DER DigestInfo headers (RFC 8017 section 9.2, note 1) that
// PKCS#1 v1.5 signing puts before the digest: CKM_RSA_PKCS signs what it is given.
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Public is the certificate's public key.
func (k *tokenKey) Public() crypto.PublicKey { return k.chain[0].PublicKey }

// Chain is the certificate chain, leaf first.
func (k *tokenKey) Chain() []*x509.Certificate { return k.chain }

// Sign signs digest on the token: RSA PKCS#1 v1.5 (opts.HashFunc's DigestInfo, then
// CKM_RSA_PKCS) or ECDSA (CKM_ECDSA, its r||s returned as an ASN.1 ECDSA-Sig-Value). RSA-PSS
// options are refused.
func (k *tokenKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	if h != 0 && len(digest) != h.Size() {
		return nil, fmt.Errorf("%s: a %v digest of %d bytes, want %d", k.where, h, len(digest), h.Size())
	}
	var mech *pkcs11.Mechanism
	data := digest
	if k.ecdsa {
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	} else {
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return nil, fmt.Errorf("%s: RSA-PSS is not supported (PKCS#1 v1.5 only)", k.where)
		}
		prefix, ok := digestInfoPrefixes[h]
		if !ok {
			return nil, fmt.Errorf("%s: digest algorithm %v not supported (SHA-1, SHA-256, SHA-384, SHA-512)", k.where, h)
		}
		data = append(append([]byte{}, prefix...), digest...)
		mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, fmt.Errorf("%s: the session is closed", k.where)
	}
	if err := k.ctx.SignInit(k.session, []*pkcs11.Mechanism{mech}, k.key); err != nil {
		return nil, fmt.Errorf("%s: C_SignInit: %v", k.where, err)
	}
	sig, err := k.ctx.Sign(k.session, data)
	if err != nil {
		return nil, fmt.Errorf("%s: C_Sign: %v", k.where, err)
	}
	if !k.ecdsa {
		return sig, nil
	}
	return ecdsaASN1(sig, k.where)
}

// ecdsaASN1 converts CKM_ECDSA's r||s (each half the length) to ECDSA-Sig-Value.
func ecdsaASN1(raw []byte, where string) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 || len(raw) > 2*66 {
		return nil, fmt.Errorf("%s: an ECDSA signature of %d bytes from the token, want r||s of two equal halves", where, len(raw))
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}

// Close closes the session and releases the module. There is no C_Logout: the login state is
// the token's, shared by every session of the process, and closing the last session logs out
// (PKCS#11 2.40, C_CloseSession), so another Signer on the same token stays logged in.
func (k *tokenKey) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	if k.session != 0 {
		k.ctx.CloseSession(k.session)
	}
	return release(k.module)
}
