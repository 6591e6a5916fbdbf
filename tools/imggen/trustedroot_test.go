package imggen_test

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// productionPackages writes the fixture's packages under dir as a Production selection, their
// catalogs signed by signers[i] (nil: left unsigned).
func productionPackages(t *testing.T, dir string, sign func(name string) *catalog.Signer) *resolve.Selection {
	t.Helper()
	sel, err := testimage.Packages(dir, "signed image", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sel.ReleaseType = "Production"
	for _, p := range sel.Packages {
		if s := sign(p.Name); s != nil {
			if err := spkg.SignFile(p.HostPath, p.HostPath, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sel
}

// With a trusted root, a Production image is built only from packages whose catalogs are
// signed by a certificate chaining to it; without one it is built with a warning.
func TestTrustedRoot(t *testing.T) {
	pki := catalogtest.New(t)
	all := func(string) *catalog.Signer { return pki.Leaf.Signer() }
	build := func(sel *resolve.Selection, roots bool) (string, error) {
		var log bytes.Buffer
		opt := imggen.Options{Output: filepath.Join(t.TempDir(), "image.ffu"), Progress: &log}
		if roots {
			opt.TrustedRoots = pki.Pool()
		}
		err := imggen.Build(sel, opt)
		return log.String(), err
	}
	log, err := build(productionPackages(t, t.TempDir(), all), true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "catalogs of 4 packages verified against the trusted root: signatures and 8 file hashes") || strings.Contains(log, "warning") {
		t.Errorf("log:\n%s", log)
	}
	log, err = build(productionPackages(t, t.TempDir(), all), false)
	if err != nil || !strings.Contains(log, "warning: Production image built without a trusted root (--trusted-root): the packages' catalog signatures and file hashes were not checked") {
		t.Errorf("without a root: %v\n%s", err, log)
	}
	for _, tc := range []struct {
		name string
		sign func(string) *catalog.Signer
		want string
	}{
		{"unsigned", func(n string) *catalog.Signer {
			if strings.Contains(n, "EFIESP") {
				return nil
			}
			return pki.Leaf.Signer()
		}, "Contoso.EFIESP.spkg: package Contoso.EFIESP: content.cat is not signed"},
		{"untrusted", func(n string) *catalog.Signer {
			if strings.Contains(n, "Platform") {
				return pki.OtherLeaf.Signer()
			}
			return pki.Leaf.Signer()
		}, `Contoso.Platform.spkg: package Contoso.Platform: content.cat: catalog: signing certificate "CN=Other Signer,O=rules_oemimage tests" is not trusted`},
		{"expired", func(n string) *catalog.Signer {
			if strings.Contains(n, "MainOS") {
				return pki.Expired.Signer()
			}
			return pki.Leaf.Signer()
		}, `Contoso.MainOS.spkg: package Contoso.MainOS: content.cat: catalog: signing certificate "CN=Expired Signer,O=rules_oemimage tests" is not trusted`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(productionPackages(t, t.TempDir(), tc.sign), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Production image") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// A payload changed after signing fails while it is installed, whether the prefetcher
	// decoded the package (hashed on a worker) or the writer streamed it (hashed as written).
	for _, budget := range []int64{64 << 20, 1} {
		sel := productionPackages(t, t.TempDir(), func(string) *catalog.Signer { return pki.Leaf.Signer() })
		for _, p := range sel.Packages {
			if strings.Contains(p.Name, "MainOS") {
				data, err := os.ReadFile(p.HostPath)
				if err != nil {
					t.Fatal(err)
				}
				// The payload is stored: change it in place and drop every data block's
				// checksum (0: none, which readers accept), so that only the catalog can tell.
				if bytes.Count(data, []byte("kernel")) != 1 {
					t.Fatalf("%s: expected the payload \"kernel\" once, stored", p.HostPath)
				}
				data = bytes.Replace(data, []byte("kernel"), []byte("KERNEL"), 1)
				clearBlockChecksums(t, data)
				if err := os.WriteFile(p.HostPath, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		restore := imggen.SetPrefetchBudget(budget)
		_, err := build(sel, true)
		restore()
		want := `Contoso.MainOS.spkg: package Contoso.MainOS: content.cat: file \Windows\System32\ntoskrnl.exe: SHA-1`
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Production image") {
			t.Fatalf("budget %d: err = %v, want %q", budget, err, want)
		}
	}
	// A Test image is not checked.
	sel := productionPackages(t, t.TempDir(), func(string) *catalog.Signer { return nil })
	sel.ReleaseType = "Test"
	if _, err := build(sel, true); err != nil {
		t.Errorf("Test image of unsigned packages with a root: %v", err)
	}
}

// clearBlockChecksums zeroes the checksum of every CFDATA block of a cabinet without reserve
// fields (CFHEADER: cFolders at 26, flags at 30, CFFOLDER entries from 36: coffCabStart u32,
// cCFData u16, typeCompress u16; CFDATA: csum u32, cbData u16, cbUncomp u16, data).
func clearBlockChecksums(t *testing.T, cab []byte) {
	t.Helper()
	le := binary.LittleEndian
	if le.Uint16(cab[30:])&4 != 0 {
		t.Fatal("cabinet has reserve fields")
	}
	for f := 0; f < int(le.Uint16(cab[26:])); f++ {
		entry := cab[36+8*f:]
		off := int(le.Uint32(entry))
		for b := 0; b < int(le.Uint16(entry[4:])); b++ {
			copy(cab[off:off+4], []byte{0, 0, 0, 0})
			off += 8 + int(le.Uint16(cab[off+4:]))
		}
	}
}

// A PE payload (ntoskrnl.exe as a PE image) is checked by its Authenticode PE image hash: the
// image builds, an image whose CheckSum alone changed builds too, and one changed in a
// section fails while it is installed, whether hashed on a prefetch worker or as written.
func TestTrustedRootPE(t *testing.T) {
	pki := catalogtest.New(t)
	img := catalogtest.PE(catalogtest.PESpec{Sections: [][]byte{[]byte("kernelPE code")}})
	packages := func() *resolve.Selection {
		sel, err := testimage.Packages(t.TempDir(), "signed image", testimage.Options{EditPackages: func(ps []testimage.Package) []testimage.Package {
			for i := range ps {
				if ps[i].Component == "MainOS" {
					ps[i].Data = string(img)
				}
			}
			return ps
		}})
		if err != nil {
			t.Fatal(err)
		}
		sel.ReleaseType = "Production"
		for _, p := range sel.Packages {
			if err := spkg.SignFile(p.HostPath, p.HostPath, pki.Leaf.Signer()); err != nil {
				t.Fatal(err)
			}
		}
		return sel
	}
	// edit changes the stored PE image of the MainOS package in place, its cabinet checksums
	// cleared, so that only the catalog can tell.
	edit := func(sel *resolve.Selection, change func(image []byte)) {
		for _, p := range sel.Packages {
			if !strings.Contains(p.Name, "MainOS") {
				continue
			}
			data, err := os.ReadFile(p.HostPath)
			if err != nil {
				t.Fatal(err)
			}
			at := bytes.Index(data, img[:catalogtest.PEHeaderOffset]) // the DOS header and stub
			if at < 0 {
				t.Fatalf("%s: the PE image is not stored", p.HostPath)
			}
			change(data[at : at+len(img)])
			clearBlockChecksums(t, data)
			if err := os.WriteFile(p.HostPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	build := func(sel *resolve.Selection, budget int64) error {
		restore := imggen.SetPrefetchBudget(budget)
		defer restore()
		return imggen.Build(sel, imggen.Options{Output: filepath.Join(t.TempDir(), "image.ffu"), Progress: &bytes.Buffer{}, TrustedRoots: pki.Pool()})
	}
	for _, budget := range []int64{64 << 20, 1} {
		sel := packages()
		if err := build(sel, budget); err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		edit(sel, func(b []byte) { binary.LittleEndian.PutUint32(b[catalogtest.PECheckSum:], 0xc0ffee) })
		if err := build(sel, budget); err != nil {
			t.Errorf("budget %d, CheckSum changed: %v", budget, err)
		}
		edit(sel, func(b []byte) { b[0x200] = 'K' })
		err := build(sel, budget)
		want := `Contoso.MainOS.spkg: package Contoso.MainOS: content.cat: file \Windows\System32\ntoskrnl.exe: PE image hash SHA-1`
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Production image") {
			t.Errorf("budget %d, a section changed: err = %v, want %q", budget, err, want)
		}
	}
}

// With TSARoots, the packages' timestamps must chain to them: a Production image of
// timestamped packages builds with the TSA's root and fails with another.
func TestTrustedRootTSA(t *testing.T) {
	pki := catalogtest.New(t)
	tsa := catalogtest.NewTSA(t)
	stamped := func(string) *catalog.Signer {
		s := pki.Leaf.Signer()
		s.TimestampURL = tsa.URL
		return s
	}
	tsaPool := x509.NewCertPool()
	tsaPool.AddCert(tsa.Root)
	for _, c := range []struct {
		tsaRoots *x509.CertPool
		want     string
	}{
		{tsaPool, ""},
		{pki.Pool(), `content.cat: catalog: the timestamp's server certificate "CN=Test TSA,O=rules_oemimage tests" is not trusted at`},
	} {
		sel := productionPackages(t, t.TempDir(), stamped)
		err := imggen.Build(sel, imggen.Options{Output: filepath.Join(t.TempDir(), "image.ffu"), Progress: &bytes.Buffer{}, TrustedRoots: pki.Pool(), TSARoots: c.tsaRoots})
		if (c.want == "" && err != nil) || (c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want))) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}
