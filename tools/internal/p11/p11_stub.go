//go:build !(pkcs11 && cgo)

package p11

const supported = false

// Open returns ErrUnsupported: this build has no PKCS#11 support (see the package doc).
func Open(Config) (Signer, error) { return nil, ErrUnsupported }
