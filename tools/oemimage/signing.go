package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/p11"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
)

// The signing identity every signing verb takes (pkggen, featuremerger, customizationgen, imggen,
// sign): a certificate and key (PEM), a PKCS#12 file, or a key on a PKCS#11 token.

// signingFlags are the flags that name a signing identity (pkggen, sign, ...), and the
// optional RFC 3161 timestamp server that countersigns its signatures.
var signingFlags = []string{"cert", "key", "pfx", "password-file", "pkcs11-module", "pkcs11-token", "pkcs11-key", "pkcs11-pin-file", "timestamp-url"}

// maxPasswordBytes bounds a --password-file and a --pkcs11-pin-file.
const maxPasswordBytes = 4096

// pinEnv is the environment variable a token's PIN is read from without --pkcs11-pin-file=.
const pinEnv = "OEMIMAGE_PKCS11_PIN"

func closeTokens() {
	for _, t := range openTokens {
		t.Close()
	}
	openTokens = nil
}

// loadSigner reads the signing identity the flags name: --cert=FILE --key=FILE (PEM),
// --pfx=FILE [--password-file=FILE] (PKCS#12; the password is the file's first line), or a key
// on a PKCS#11 token (--pkcs11-module= --pkcs11-token= --pkcs11-key= [--pkcs11-pin-file=]
// [--cert=]), with an optional --timestamp-url=URL of an RFC 3161 timestamp server. It returns
// nil when no signing flag is given.
func loadSigner(c *cmdline) (*catalog.Signer, error) {
	s, err := loadIdentity(c)
	if err != nil {
		return nil, err
	}
	u, err := singleFlag(c, "timestamp-url", "a URL")
	if err != nil {
		return nil, err
	}
	if u == "" {
		return s, nil
	}
	if s == nil {
		return nil, usageError{"--timestamp-url= timestamps a signature: give a signing identity (--cert= and --key=, --pfx=, or --pkcs11-key=) with it"}
	}
	if err := catalog.CheckTimestampURL(u); err != nil {
		return nil, usageError{"--timestamp-url=: " + err.Error()}
	}
	s.TimestampURL = u
	return s, nil
}

// secretLine reads the first line of a small secret file (a password or PIN), flag naming it
// in errors; the secret itself never appears in one.
func secretLine(flag, path string) (string, error) {
	b, err := readfile.ReadRegular(path, maxPasswordBytes)
	if err != nil {
		return "", fmt.Errorf("--%s: %v", flag, err)
	}
	line, _, _ := strings.Cut(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	return line, nil
}

func loadIdentity(c *cmdline) (*catalog.Signer, error) {
	v := map[string]string{}
	for _, name := range []string{"cert", "key", "pfx", "password-file", "pkcs11-module", "pkcs11-token", "pkcs11-key", "pkcs11-pin-file"} {
		s, err := singleFlag(c, name, "a file")
		if name == "pkcs11-token" || name == "pkcs11-key" {
			s, err = singleFlag(c, name, "a label")
		}
		if err != nil {
			return nil, err
		}
		v[name] = s
	}
	token := v["pkcs11-module"] != "" || v["pkcs11-token"] != "" || v["pkcs11-key"] != "" || v["pkcs11-pin-file"] != ""
	switch {
	case token:
		return loadToken(v)
	case v["cert"] == "" && v["key"] == "" && v["pfx"] == "" && v["password-file"] == "":
		return nil, nil
	case v["pfx"] != "" && (v["cert"] != "" || v["key"] != ""):
		return nil, usageError{"--pfx= and --cert=/--key= name two signing identities: give one"}
	case v["pfx"] != "":
		password := ""
		if v["password-file"] != "" {
			var err error
			if password, err = secretLine("password-file", v["password-file"]); err != nil {
				return nil, err
			}
		}
		return catalog.LoadPKCS12(v["pfx"], password)
	case v["password-file"] != "":
		return nil, usageError{"--password-file= goes with --pfx= (PEM keys are read unencrypted)"}
	case v["cert"] == "" || v["key"] == "":
		return nil, usageError{"--cert= and --key= go together"}
	}
	return catalog.LoadPEM(v["cert"], v["key"])
}

// loadToken opens the key on a PKCS#11 token that the --pkcs11-* flags name; --cert=, if
// given, is its certificate chain (else the token's certificate of the key is used).
func loadToken(v map[string]string) (*catalog.Signer, error) {
	for _, other := range []string{"key", "pfx", "password-file"} {
		if v[other] != "" {
			return nil, usageError{fmt.Sprintf("--%s= and --pkcs11-key= name two signing identities: give one (--cert= may go with a token key, as its certificate chain)", other)}
		}
	}
	for _, need := range []struct{ flag, what string }{
		{"pkcs11-module", "the token's PKCS#11 module (LIB.so)"},
		{"pkcs11-token", "the token's label"},
		{"pkcs11-key", "the private key's label"},
	} {
		if v[need.flag] == "" {
			return nil, usageError{fmt.Sprintf("a PKCS#11 key needs --%s=, %s (with --pkcs11-module=, --pkcs11-token= and --pkcs11-key=)", need.flag, need.what)}
		}
	}
	if !p11.Supported {
		return nil, p11.ErrUnsupported
	}
	var pin string
	if f := v["pkcs11-pin-file"]; f != "" {
		var err error
		if pin, err = secretLine("pkcs11-pin-file", f); err != nil {
			return nil, err
		}
	} else if e, ok := os.LookupEnv(pinEnv); ok {
		pin = e
	} else {
		return nil, usageError{"a PKCS#11 key needs its token's PIN: give --pkcs11-pin-file=FILE (the PIN on its first line) or set " + pinEnv}
	}
	cfg := p11.Config{Module: v["pkcs11-module"], Token: v["pkcs11-token"], Key: v["pkcs11-key"], PIN: pin}
	if v["cert"] != "" {
		chain, err := catalog.LoadCertificates(v["cert"])
		if err != nil {
			return nil, err
		}
		cfg.Chain = chain
	}
	t, err := p11.Open(cfg)
	if err != nil {
		return nil, err
	}
	openTokens = append(openTokens, t)
	s, err := catalog.NewSigner(t, t.Chain())
	if err != nil {
		return nil, fmt.Errorf("--pkcs11-key=%s: %v", v["pkcs11-key"], err)
	}
	return s, nil
}
