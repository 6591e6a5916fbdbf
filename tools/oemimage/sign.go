package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/p11"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// openTokens are the PKCS#11 sessions loadSigner opened for the running verb; run closes
// them (logs out) when the verb returns.
var openTokens []p11.Signer

// runSign is `oemimage sign (--cert=FILE --key=FILE | --pfx=FILE [--password-file=FILE] |
// --pkcs11-module=LIB.so --pkcs11-token=LABEL --pkcs11-key=LABEL [--pkcs11-pin-file=FILE] [--cert=FILE])
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
		return usageError{"sign needs a signing identity: --cert= and --key=, --pfx=, or --pkcs11-module= --pkcs11-token= --pkcs11-key="}
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
