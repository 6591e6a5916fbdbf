package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
)

// The three operations of ImageSigner on an FFU: SIGN (replace its catalog), GETCATALOG and
// TRUNCATE (the head for a retail signing submission).

// signFFU replaces the catalog of the FFU with the catalog file's, in place: the new image is
// written beside it and renamed over it once complete (a failure leaves the FFU as it was).
// The FFU must be writable, as for the original, which opens it for writing: a read-only
// file (a Bazel output) is refused rather than replaced behind the build's back. With an
// output path the signed image is written there instead (mode 0644) and the FFU is only read.
func signFFU(ffuPath, catPath, output string, stdout, stderr io.Writer) error {
	cat, err := readfile.ReadRegular(catPath, ffu.MaxCatalogBytes)
	if err != nil {
		return err
	}
	// The image is replaced where it lies: through a symbolic link, the file it points to.
	real, err := filepath.EvalSymlinks(ffuPath)
	if err != nil {
		return err
	}
	f, st, err := readfile.Open(real)
	if err != nil {
		return err
	}
	defer f.Close()
	dest, mode := real, st.Mode().Perm()
	if output != "" {
		dest, mode = output, 0o644
	} else if st.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("%s: read-only (mode %04o); expected a writable FFU: ImageSigner signs in place, so sign a copy (Bazel outputs are read-only)", ffuPath, st.Mode().Perm())
	}
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %v", ffuPath, err)
	}
	if _, err := ffu.MatchCatalog(cat, rd.HashTable()); err != nil {
		var mm *ffu.CatalogMismatchError
		if errors.As(err, &mm) {
			return fmt.Errorf("catalog file %s does not match FFU %s: %v", catPath, ffuPath, err)
		}
		return fmt.Errorf("catalog file %s: %v", catPath, err)
	}
	var set atomicfile.Set
	defer set.Abort()
	out, err := set.Create(dest)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	layout, err := rd.ReplaceCatalog(bw, cat)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("%s: %v", ffuPath, err)
	}
	if err := set.Commit(); err != nil {
		return err
	}
	if err := os.Chmod(dest, mode); err != nil {
		return err
	}
	for _, w := range rd.Warnings() {
		fmt.Fprintf(stderr, "oemimage imagesigner: warning: %s: %s\n", catPath, w)
	}
	if signed, err := catalog.IsSigned(cat); err == nil && !signed {
		fmt.Fprintf(stderr, "oemimage imagesigner: warning: %s is not signed: a device with secure boot refuses the image until a signed catalog is put in\n", catPath)
	}
	if layout.Shift != 0 {
		fmt.Fprintf(stdout, "%s: catalog of %d bytes (was %d): the image from its header on moved by %+d bytes\n", dest, len(cat), rd.Security.CatalogSize, layout.Shift)
	}
	fmt.Fprintln(stdout, "Successfully signed image.")
	return nil
}

// openHead opens the FFU and reads its head (ffu.ReadHead): a truncated FFU will do.
func openHead(ffuPath string) (*os.File, *ffu.Head, error) {
	f, st, err := readfile.Open(ffuPath)
	if err != nil {
		return nil, nil, err
	}
	h, err := ffu.ReadHead(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %v", ffuPath, err)
	}
	return f, h, nil
}

// printPlatformIDs prints the first store header's platform IDs as ImageSigner does, one
// "Platform ID: " line each: the OEM checks its OEM ID there before submitting for signing.
func printPlatformIDs(h *ffu.Head, ffuPath string, stdout io.Writer) {
	if len(h.Store.PlatformIDs) == 0 {
		fmt.Fprintf(stdout, "%s: the store header lists no platform ID\n", ffuPath)
	}
	for _, id := range h.Store.PlatformIDs {
		fmt.Fprintf(stdout, "Platform ID: %s\n", id)
	}
}

// getCatalog writes the FFU's catalog (checked against the hash table, the head's chunks
// against the hash table) to out.
func getCatalog(ffuPath, out string, stdout io.Writer) error {
	f, h, err := openHead(ffuPath)
	if err != nil {
		return err
	}
	f.Close()
	if err := atomicfile.WriteFile(out, h.Catalog); err != nil {
		return err
	}
	printPlatformIDs(h, ffuPath, stdout)
	fmt.Fprintln(stdout, "Successfully extracted catalog.")
	return nil
}

// truncateFFU writes the head of the FFU to out: what ImageSigner truncate keeps for a retail
// signing request (security header, catalog, hash table and padding; image header and
// manifest; the chunk holding the first store header). It prints the platform IDs, as the
// original does, and nothing else.
func truncateFFU(ffuPath, out string, stdout io.Writer) error {
	f, h, err := openHead(ffuPath)
	if err != nil {
		return err
	}
	defer f.Close()
	err = atomicfile.Write(out, func(w io.Writer) error {
		n, err := io.Copy(w, io.NewSectionReader(f, 0, h.End))
		if err == nil && n != h.End {
			err = fmt.Errorf("%s: read %d of its first %d bytes", ffuPath, n, h.End)
		}
		return err
	})
	if err != nil {
		return err
	}
	printPlatformIDs(h, ffuPath, stdout)
	return nil
}
