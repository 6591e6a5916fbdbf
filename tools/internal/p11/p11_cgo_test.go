//go:build pkcs11 && cgo

package p11

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
)

// CKM_ECDSA's r||s becomes an ECDSA-Sig-Value that crypto/ecdsa verifies; odd or empty
// lengths are refused.
func TestPKCS11ECDSAConversion(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("catalog"))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	der, err := ecdsaASN1(raw, "key")
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], der) {
		t.Fatalf("converted signature does not verify: %v", err)
	}
	// Swapped halves must not verify (the conversion keeps r first).
	swapped := append(append([]byte{}, raw[32:]...), raw[:32]...)
	if der, _ := ecdsaASN1(swapped, "key"); ecdsa.VerifyASN1(&key.PublicKey, digest[:], der) && r.Cmp(s) != 0 {
		t.Error("swapped r and s verified")
	}
	for _, n := range []int{0, 63, 134} {
		if _, err := ecdsaASN1(make([]byte, n), `key "e"`); err == nil || !strings.Contains(err.Error(), `key "e"`) {
			t.Errorf("%d bytes: err %v", n, err)
		}
	}
}

// Open refuses an incomplete Config before loading anything, naming the flag.
func TestPKCS11OpenConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Token: "t", Key: "k"}, "--pkcs11-module="},
		{Config{Module: "/x.so", Key: "k"}, "--pkcs11-token="},
		{Config{Module: "/x.so", Token: "t"}, "--pkcs11-key="},
		{Config{Module: "/nonexistent/lib.so", Token: "t", Key: "k", PIN: "s3cr3t"}, "--pkcs11-module=/nonexistent/lib.so: no such file"},
	} {
		_, err := Open(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%+v: err %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
