package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/ffudiff"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
)

// runFFU is `oemimage ffu info|verify|extract FILE.ffu [OUTPUT]`, `oemimage ffu verify
// --trusted-root=CERT [--tsa-root=CERT] FILE.ffu` and `oemimage ffu diff A.ffu B.ffu [--json]`.
func runFFU(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && strings.EqualFold(args[0], "diff") {
		return ffuDiff(args[1:], stdout)
	}
	var trustedRoot, tsaRoot string
	if len(args) > 0 && strings.EqualFold(args[0], "verify") {
		rest := []string{args[0]}
		for _, a := range args[1:] {
			name, v, _ := strings.Cut(a, "=")
			dst := map[string]*string{"--trusted-root": &trustedRoot, "--tsa-root": &tsaRoot}[name]
			switch {
			case dst != nil && *dst != "":
				return usageError{name + " given twice (one file may hold several certificates)"}
			case dst != nil && v == "":
				return usageError{name + "= needs a certificate file (PEM or DER)"}
			case dst != nil:
				*dst = v
			case strings.HasPrefix(a, "--"):
				return usageError{fmt.Sprintf("verify: unknown flag %s; expected --trusted-root=CERT or --tsa-root=CERT", a)}
			default:
				rest = append(rest, a)
			}
		}
		if tsaRoot != "" && trustedRoot == "" {
			return usageError{"--tsa-root needs --trusted-root (the timestamp server's roots extend the check of the catalog's signature)"}
		}
		args = rest
	}
	if len(args) < 2 {
		return usageError{"expected info, verify, extract or diff, and an FFU file"}
	}
	cmd, path := strings.ToLower(args[0]), args[1]
	switch {
	case cmd == "extract" && len(args) != 3:
		return usageError{"extract needs FILE.ffu and OUTPUT (the raw disk, written as a sparse file)"}
	case cmd != "extract" && len(args) != 2:
		return usageError{fmt.Sprintf("%s takes one FFU file", cmd)}
	}
	// Opening a named pipe would wait for a writer: only regular files are opened.
	f, st, err := readfile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	switch cmd {
	case "verify":
		signed := ""
		if trustedRoot != "" {
			// The order of a flashing tool: signature and chain, the hash of the hash table,
			// then the chunks.
			tr := catalog.Trust{}
			var err error
			if tr.Roots, err = catalog.LoadRoots(trustedRoot); err != nil {
				return err
			}
			against := "--trusted-root=" + trustedRoot
			if tsaRoot != "" {
				if tr.TSARoots, err = catalog.LoadRoots(tsaRoot); err != nil {
					return err
				}
				against += " --tsa-root=" + tsaRoot
			}
			sig, err := rd.VerifySignatureTrust(tr)
			if err != nil {
				return fmt.Errorf("%s: catalog against %s: %v", path, against, err)
			}
			signed = fmt.Sprintf("catalog signed by %q (chain to %q), ", sig.Subject, sig.Chain[len(sig.Chain)-1].Subject.String())
			if ts := sig.Timestamp; ts != nil && ts.Chain != nil {
				signed += fmt.Sprintf("timestamped %s by %q (chain to %q; the signing chain checked at that time), ", ts.Time.UTC().Format(time.RFC3339), ts.Subject, ts.Chain[len(ts.Chain)-1].Subject.String())
			} else if ts != nil {
				// The token's signature is checked, not the TSA's chain (no --tsa-root).
				signed += fmt.Sprintf("timestamped %s by %q, ", ts.Time.UTC().Format(time.RFC3339), ts.Subject)
			}
		}
		if err := rd.Verify(); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		for _, w := range rd.Warnings() {
			fmt.Fprintf(stderr, "oemimage ffu: warning: %s: %s\n", path, w)
		}
		fmt.Fprintf(stdout, "%s: OK: %scatalog and %d chunk hashes of %d KB match\n", path, signed, len(rd.HashTable())/32, rd.Security.ChunkSizeKB)
		return nil
	case "extract":
		return extractFFU(rd, args[2])
	case "info":
		return ffuInfo(rd, path, stdout)
	}
	return usageError{fmt.Sprintf("unknown ffu command %q: expected info, verify, extract or diff", args[0])}
}

// ffuDiff is `ffu diff A.ffu B.ffu [--json]`: exit status 0 when the images are identical, 1
// when they differ, 2 when the comparison fails, as diff(1)'s.
func ffuDiff(args []string, stdout io.Writer) error {
	var files []string
	asJSON := false
	for _, a := range args {
		switch {
		case a == "--json":
			asJSON = true
		case strings.HasPrefix(a, "--"):
			return usageError{fmt.Sprintf("diff: unknown flag %s; expected --json", a)}
		default:
			files = append(files, a)
		}
	}
	if len(files) != 2 {
		return usageError{"diff takes two FFU files, A.ffu B.ffu, and optionally --json"}
	}
	r, err := ffudiff.Compare(files[0], files[1])
	if err != nil {
		return exitStatus{2, err}
	}
	write := r.WriteText
	if asJSON {
		write = r.WriteJSON
	}
	if err := write(stdout); err != nil {
		return exitStatus{2, err}
	}
	if !r.Identical {
		return exitStatus{code: 1}
	}
	return nil
}

// extractFFU writes the raw disk to out, all or nothing. An existing directory is refused
// before the disk is written (the rename at the end would fail after all the work).
func extractFFU(rd *ffu.Reader, out string) error {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return fmt.Errorf("OUTPUT %s is a directory; expected the path of the raw disk file to write", out)
	}
	var set atomicfile.Set
	defer set.Abort()
	f, err := set.Create(out)
	if err != nil {
		return err
	}
	if err := rd.Extract(f); err != nil {
		return fmt.Errorf("%s: %v", out, err)
	}
	return set.Commit()
}
