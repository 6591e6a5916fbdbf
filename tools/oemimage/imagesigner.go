package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runImageSigner is `oemimage imagesigner sign|getcatalog|truncate <FFU> <catalog file>|<truncated FFU>`,
// ImageSigner.exe's command line (Sign a full flash update (FFU) image; docs/signing.md). The
// action is case-insensitive (the documentation writes SIGN, the usage sign); paths may be
// written the Windows way (backslashes, any letter case for existing files). `--output=FILE`
// (ours, for SIGN) writes the signed image there and leaves the FFU as it is: a build signs
// its read-only output that way, without a copy first.
func runImageSigner(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{flags: []string{"output"}})
	if err != nil {
		return err
	}
	output, err := singleFlag(c, "output", "a file")
	if err != nil {
		return err
	}
	if len(c.positional) != 3 {
		return usageError{fmt.Sprintf("expected SIGN, GETCATALOG or TRUNCATE, the FFU and a catalog file or truncated FFU, got %d argument(s)", len(c.positional))}
	}
	action, ffuArg, other := strings.ToLower(c.positional[0]), c.positional[1], c.positional[2]
	switch action {
	case "sign", "getcatalog", "truncate":
	default:
		return usageError{fmt.Sprintf("unknown action %q: expected SIGN, GETCATALOG or TRUNCATE", c.positional[0])}
	}
	if output != "" && action != "sign" {
		return usageError{fmt.Sprintf("--output= is for SIGN; %s writes to its last argument", strings.ToUpper(action))}
	}
	find := winpath.NewFinder()
	ffuPath, err := signerInput(find, ffuArg, "FFU")
	if err != nil {
		return err
	}
	switch action {
	case "sign":
		catPath, err := signerInput(find, other, "catalog file")
		if err != nil {
			return err
		}
		if output != "" {
			if output, err = signerOutput(find, output, "--output", ffuPath); err != nil {
				return err
			}
		}
		return signFFU(ffuPath, catPath, output, stdout, stderr)
	case "getcatalog":
		out, err := signerOutput(find, other, "catalog file", ffuPath)
		if err != nil {
			return err
		}
		return getCatalog(ffuPath, out, stdout)
	default:
		out, err := signerOutput(find, other, "truncated FFU", ffuPath)
		if err != nil {
			return err
		}
		return truncateFFU(ffuPath, out, stdout)
	}
}

// signerHost maps a path of the command line to the host: backslashes are separators, as on
// Windows. A drive letter has no host meaning here (the verb takes no --var=C:=DIR).
func signerHost(p, what string) (string, error) {
	if len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') {
		return "", fmt.Errorf("%s %s: a drive path has no host equivalent; expected a host path (relative, or absolute from /; backslashes work)", what, p)
	}
	h, err := winpath.Mapper{}.ToHost(p)
	if err != nil {
		return "", fmt.Errorf("%s %s: %v", what, p, err)
	}
	return h, nil
}

// signerInput finds an existing input case-insensitively, as Windows would.
func signerInput(find *winpath.Finder, p, what string) (string, error) {
	h, err := signerHost(p, what)
	if err != nil {
		return "", err
	}
	found, err := find.Find(h)
	if err != nil {
		return "", fmt.Errorf("%s %v", what, err)
	}
	return found, nil
}

// signerOutput maps an output path (its directory found case-insensitively) and refuses the
// FFU itself: writing the catalog or the head over it would lose the image.
func signerOutput(find *winpath.Finder, p, what, ffuPath string) (string, error) {
	h, err := signerHost(p, what)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Split(h)
	if dir != "" {
		d, err := find.Find(dir)
		if err != nil {
			return "", fmt.Errorf("%s %s: the directory %v", what, p, err)
		}
		h = filepath.Join(d, base)
	}
	if st, err := os.Stat(h); err == nil {
		if st.IsDir() {
			return "", fmt.Errorf("%s %s is a directory; expected the path of the file to write", what, h)
		}
		if fst, err := os.Stat(ffuPath); err == nil && os.SameFile(st, fst) {
			return "", fmt.Errorf("%s %s is the FFU itself; expected another file (it would replace the image)", what, h)
		}
	}
	return h, nil
}
