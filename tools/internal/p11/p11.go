// Package p11 signs with a private key held by a PKCS#11 token (a hardware security module,
// a smart card, SoftHSM), through the token's PKCS#11 module (a shared library such as
// libsofthsm2.so). The key never leaves the token: Sign sends it the digest (RSA: with its
// DigestInfo prefix, CKM_RSA_PKCS; ECDSA: CKM_ECDSA) and gets the signature back.
//
// It needs cgo (the module is loaded with dlopen, through github.com/miekg/pkcs11), so it is
// built only with the build tag pkcs11 and cgo enabled:
//
//	go build -tags pkcs11 ./tools/oemimage
//	bazel build --@io_bazel_rules_go//go/config:tags=pkcs11 //tools/oemimage
//
// Without them Open returns ErrUnsupported and the default build stays pure Go.
package p11

import (
	"crypto"
	"crypto/x509"
)

// Config names a key on a token.
type Config struct {
	// Module is the path of the token's PKCS#11 module (LIB.so).
	Module string
	// Token is the label of the token (CKA_LABEL of its token info).
	Token string
	// Key is the CKA_LABEL of the private key.
	Key string
	// PIN is the user PIN. It never appears in an error.
	PIN string
	// Chain, if not empty, is the key's certificate and its issuers, leaf first (--cert=).
	// Empty: the certificate is the token's CKO_CERTIFICATE with the key's CKA_ID (or, if
	// none has it, its label).
	Chain []*x509.Certificate
}

// Signer is an open session on a token with its key found: a crypto.Signer whose Public is
// the certificate's key, the certificate chain to embed, and Close to end the session.
type Signer interface {
	crypto.Signer
	// Chain is Config.Chain, or the token's certificate alone.
	Chain() []*x509.Certificate
	// Close closes the session (the last one of the process logs out); the Signer cannot sign
	// afterwards.
	Close() error
}

// Supported reports whether this build can open tokens (built with cgo and -tags pkcs11).
const Supported = supported

// ErrUnsupported is Open's error in a build without PKCS#11 support.
var ErrUnsupported = errUnsupported{}

type errUnsupported struct{}

func (errUnsupported) Error() string {
	return "this oemimage was built without PKCS#11 support; build it with cgo and -tags pkcs11 (bazel: --@io_bazel_rules_go//go/config:tags=pkcs11)"
}
