//go:build !(pkcs11 && cgo)

package p11

import (
	"errors"
	"testing"
)

func TestPKCS11Stub(t *testing.T) {
	if Supported {
		t.Fatal("Supported in a build without pkcs11 and cgo")
	}
	if _, err := Open(Config{Module: "x.so", Token: "t", Key: "k"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("err %v, want ErrUnsupported", err)
	}
}
