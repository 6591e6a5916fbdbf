package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// signingFlags are the flags that name a signing identity (pkggen, sign), and the optional
// RFC 3161 timestamp server that countersigns its signatures.
var signingFlags = []string{"cert", "key", "pfx", "password-file", "timestamp-url"}

// maxPasswordBytes bounds a --password-file.
const maxPasswordBytes = 4096

// loadSigner reads the signing identity the flags name: --cert=FILE --key=FILE (PEM) or
// --pfx=FILE [--password-file=FILE] (PKCS#12; the password is the file's first line), with
// an optional --timestamp-url=URL of an RFC 3161 timestamp server. It returns nil when no
// signing flag is given.
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
		return nil, usageError{"--timestamp-url= timestamps a signature: give a signing identity (--cert= and --key=, or --pfx=) with it"}
	}
	if err := catalog.CheckTimestampURL(u); err != nil {
		return nil, usageError{"--timestamp-url=: " + err.Error()}
	}
	s.TimestampURL = u
	return s, nil
}

func loadIdentity(c *cmdline) (*catalog.Signer, error) {
	v := map[string]string{}
	for _, name := range []string{"cert", "key", "pfx", "password-file"} {
		s, err := singleFlag(c, name, "a file")
		if err != nil {
			return nil, err
		}
		v[name] = s
	}
	switch {
	case v["cert"] == "" && v["key"] == "" && v["pfx"] == "" && v["password-file"] == "":
		return nil, nil
	case v["pfx"] != "" && (v["cert"] != "" || v["key"] != ""):
		return nil, usageError{"--pfx= and --cert=/--key= name two signing identities: give one"}
	case v["pfx"] != "":
		password := ""
		if v["password-file"] != "" {
			b, err := readfile.ReadRegular(v["password-file"], maxPasswordBytes)
			if err != nil {
				return nil, fmt.Errorf("--password-file: %v", err)
			}
			password, _, _ = strings.Cut(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		}
		return catalog.LoadPKCS12(v["pfx"], password)
	case v["password-file"] != "":
		return nil, usageError{"--password-file= goes with --pfx= (PEM keys are read unencrypted)"}
	case v["cert"] == "" || v["key"] == "":
		return nil, usageError{"--cert= and --key= go together"}
	}
	return catalog.LoadPEM(v["cert"], v["key"])
}

// runSign is `oemimage sign (--cert=FILE --key=FILE | --pfx=FILE [--password-file=FILE])
// [--timestamp-url=URL] <file.cat|package.spkg> [-o OUT | --out=OUT]`: it signs a catalog (its members kept, any old
// signature replaced) or a package's content.cat (every other file kept byte for byte), what
// Sign.cmd /pk does for OEM test signing. Without an output the input is replaced; either way
// the output is written whole or not at all.
func runSign(args []string, stdout, stderr io.Writer) error {
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-o" {
			if i+1 == len(args) {
				return usageError{"-o needs a file"}
			}
			rest = append(rest, "--out="+args[i+1])
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	c, err := parseCmdline(rest, cmdSpec{flags: append([]string{"out"}, signingFlags...)})
	if err != nil {
		return err
	}
	if len(c.positional) != 1 {
		return usageError{fmt.Sprintf("expected one catalog or package, got %d arguments", len(c.positional))}
	}
	in := c.positional[0]
	out, err := singleFlag(c, "out", "a file")
	if err != nil {
		return err
	}
	if out == "" {
		out = in
	}
	signer, err := loadSigner(c)
	if err != nil {
		return err
	}
	if signer == nil {
		return usageError{"sign needs a signing identity: --cert= and --key=, or --pfx="}
	}
	if strings.HasSuffix(strings.ToLower(in), ".cat") {
		der, err := readfile.ReadRegular(in, catalog.MaxBytes)
		if err != nil {
			return err
		}
		signed, err := catalog.Sign(der, signer)
		if err != nil {
			return fmt.Errorf("%s: %v", in, err)
		}
		var set atomicfile.Set
		defer set.Abort()
		f, err := set.Create(out)
		if err != nil {
			return err
		}
		if _, err := f.Write(signed); err != nil {
			return err
		}
		if err := set.Commit(); err != nil {
			return err
		}
	} else if err := spkg.SignFile(in, out, signer); err != nil {
		return err
	}
	if signer.TimestampURL != "" {
		fmt.Fprintf(stdout, "%s: signed by %q, timestamped by %s\n", out, signer.Chain[0].Subject.String(), signer.TimestampURL)
	} else {
		fmt.Fprintf(stdout, "%s: signed by %q\n", out, signer.Chain[0].Subject.String())
	}
	return nil
}
