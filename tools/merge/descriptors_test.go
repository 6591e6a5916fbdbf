package merge

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// TestMergeBeyondOpenFileLimit merges more packages into one than the process may hold open
// files: every source stays needed until the merged package is written, and featuremerger
// held a descriptor for each (a 20,000-package kit failed with "too many open files"). The
// package pool (readfile.Packages) keeps few open; the output is the same whatever its limit.
func TestMergeBeyondOpenFileLimit(t *testing.T) {
	const n = 300
	dir := t.TempDir()
	var paths []string
	var list strings.Builder
	for i := range n {
		paths = append(paths, writePkg(t, dir, pkgSpec{comp: "Many", sub: fmt.Sprintf("P%03d", i), compress: i%2 == 0,
			files: map[string]string{fmt.Sprintf(`\Windows\Many\f%03d.txt`, i): strings.Repeat(fmt.Sprintf("file %d ", i), 50+i)}}))
		fmt.Fprintf(&list, "    <PackageFile Path=\"%%PKGS%%\" Name=\"Contoso.Many.P%03d.spkg\"/>\n", i)
	}
	fmPath := filepath.Join(dir, "ManyFM.xml")
	xml := `<FeatureManifest ` + ns + ` ID="ManyFM" OwnerType="OEM" ReleaseType="Production">
  <BasePackages>
` + list.String() + `  </BasePackages>
</FeatureManifest>`
	if err := os.WriteFile(fmPath, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	fm, err := manifest.ReadFeatureManifest(fmPath)
	if err != nil {
		t.Fatal(err)
	}
	loc := locate.Index{Names: locate.NewNames(paths)}
	merge := func(name string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), name)
		res, err := Merge(fm, loc, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), options())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Merged) != 1 {
			t.Fatalf("merged %v, want one package", res.Merged)
		}
		b, err := os.ReadFile(res.Merged[0])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := merge("default")

	// Now with the soft limit of open files just above what the process holds (the test
	// binary's own descriptors), and a pool of 8.
	held, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = uint64(len(held) + 64)
	if lim.Cur >= n || lim.Cur > old.Max {
		t.Skipf("cannot set a limit of open files below %d (holding %d, hard limit %d)", n, len(held), old.Max)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	defer func(l int) { readfile.Packages.Limit = l }(readfile.Packages.Limit)
	readfile.Packages.Limit = 8
	got := merge("pooled")
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	if !bytes.Equal(got, want) {
		t.Errorf("the merged package differs with a pool of 8 descriptors (%d bytes, want %d)", len(got), len(want))
	}
	if h := readfile.Packages.Held(); h > 8 {
		t.Errorf("the package pool holds %d descriptors after the run, limit 8", h)
	}
}
