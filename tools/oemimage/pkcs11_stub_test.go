//go:build !(pkcs11 && cgo)

package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// A build without PKCS#11 support refuses a token key with the message that says how to build
// one with it.
func TestPKCS11Unsupported(t *testing.T) {
	t.Setenv(pinEnv, "1234")
	var stderr bytes.Buffer
	code := run([]string{"sign", "--pkcs11-module=/usr/lib/softhsm/libsofthsm2.so", "--pkcs11-token=t", "--pkcs11-key=k", "x.cat"}, io.Discard, &stderr)
	want := "oemimage sign: this oemimage was built without PKCS#11 support; build it with cgo and -tags pkcs11 (bazel: --@io_bazel_rules_go//go/config:tags=pkcs11)\n"
	if code != 1 || stderr.String() != want {
		t.Errorf("exit %d, stderr %q, want %q", code, stderr.String(), want)
	}
	if strings.Contains(stderr.String(), "1234") {
		t.Error("the PIN shows")
	}
}
