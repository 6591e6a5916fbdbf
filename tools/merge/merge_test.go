package merge

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/cab/cabtest"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

type pkgSpec struct {
	owner, comp, sub, partition, culture, release string
	binary                                        bool
	files                                         map[string]string
	compress                                      bool
}

func writePkg(t *testing.T, dir string, s pkgSpec) string {
	t.Helper()
	if s.partition == "" {
		s.partition = "MainOS"
	}
	if s.release == "" {
		s.release = "Production"
	}
	if s.owner == "" {
		s.owner = "Contoso"
	}
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: s.owner, Component: s.comp, SubComponent: s.sub, Version: spkg.Version{Major: 1}},
		ReleaseType: s.release, OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: s.partition, Culture: s.culture,
		IsBinaryPartition: s.binary,
	}
	var paths []string
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var payload []spkg.Payload
	for _, p := range paths {
		data := s.files[p]
		pl := spkg.Payload{DevicePath: p, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}
		if s.binary {
			pl.FileType = "BinaryPartition" // the partition image, as pkggen writes it
		}
		payload = append(payload, pl)
	}
	comp := cab.None
	if s.compress {
		comp = cab.MSZIP
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{Compression: comp}); err != nil {
		t.Fatal(err)
	}
	return path
}

const ns = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`

// fixture is a source FM over packages covering every merged group, satellites and a binary
// partition package that passes through.
func fixture(t *testing.T) (dir string, fm *manifest.FeatureManifest, loc locate.Locator) {
	dir = t.TempDir()
	specs := []pkgSpec{
		{comp: "BaseOS", sub: "Settings", files: map[string]string{`\Windows\System32\settings.txt`: "settings"}},
		{comp: "BaseOS", sub: "Fonts", compress: true, files: map[string]string{`\Windows\Fonts\a.ttf`: strings.Repeat("font ", 20000)}},
		{comp: "BaseOS", sub: "Boot", partition: "EFIESP", files: map[string]string{`\efi\boot.txt`: "boot"}},
		{comp: "SOC", sub: "Gpu", files: map[string]string{`\Windows\System32\gpu.sys`: "gpu"}},
		{comp: "SOC", sub: "Layout", files: map[string]string{`\Windows\ImageUpdate\DeviceLayout.xml`: "<DeviceLayout/>"}},
		{comp: "Phone1", sub: "Platform", files: map[string]string{`\Windows\ImageUpdate\OEMDevicePlatform.xml`: "<OEMDevicePlatform/>"}},
		{comp: "Phone1", sub: "Tuning", files: map[string]string{`\Windows\System32\tuning.dat`: "tuning"}},
		{comp: "Apps", sub: "Camera", files: map[string]string{`\Programs\Camera\camera.exe`: "camera"}},
		{comp: "Apps", sub: "Camera", culture: "en-US", files: map[string]string{`\Programs\Camera\en-US\camera.mui`: "en"}},
		{comp: "Apps", sub: "Camera", culture: "de-DE", files: map[string]string{`\Programs\Camera\de-DE\camera.mui`: "de"}},
		{comp: "Release", sub: "Prod", files: map[string]string{`\Windows\System32\release.txt`: "prod"}},
		{comp: "Firmware", sub: "Modem", partition: "MODEM", binary: true, files: map[string]string{`\modem.bin`: "modem image"}},
	}
	var paths []string
	for _, s := range specs {
		paths = append(paths, writePkg(t, dir, s))
	}
	xml := `<FeatureManifest ` + ns + ` ID="ContosoFM" OwnerType="OEM" ReleaseType="Production">
  <BasePackages>
    <PackageFile Path="%PKGS%" Name="Contoso.BaseOS.Settings.spkg"/>
    <PackageFile Path="%PKGS%" Name="Contoso.BaseOS.Fonts.spkg"/>
    <PackageFile Path="%PKGS%" Name="Contoso.BaseOS.Boot.spkg"/>
    <PackageFile Path="%PKGS%" Name="Contoso.Firmware.Modem.spkg"/>
  </BasePackages>
  <SOCPackages><PackageFile Path="%PKGS%" Name="Contoso.SOC.Gpu.spkg" SOC="SOC8000"/></SOCPackages>
  <DeviceLayoutPackages><PackageFile Path="%PKGS%" Name="Contoso.SOC.Layout.spkg" SOC="SOC8000"/></DeviceLayoutPackages>
  <OEMDevicePlatformPackages><PackageFile Path="%PKGS%" Name="Contoso.Phone1.Platform.spkg" Device="Phone1"/></OEMDevicePlatformPackages>
  <DeviceSpecificPackages><PackageFile Path="%PKGS%" Name="Contoso.Phone1.Tuning.spkg" Device="Phone1"/></DeviceSpecificPackages>
  <ReleasePackages><PackageFile Path="%PKGS%" Name="Contoso.Release.Prod.spkg" ReleaseType="Production"/></ReleasePackages>
  <Features><OEM>
    <PackageFile Path="%PKGS%" Name="Contoso.Apps.Camera.spkg" Language="*"><FeatureIDs><FeatureID>CAMERA</FeatureID></FeatureIDs></PackageFile>
  </OEM></Features>
</FeatureManifest>`
	fmPath := filepath.Join(dir, "ContosoFM.xml")
	os.WriteFile(fmPath, []byte(xml), 0o644)
	fm, err := manifest.ReadFeatureManifest(fmPath)
	if err != nil {
		t.Fatal(err)
	}
	return dir, fm, locate.Index{Names: locate.NewNames(paths)}
}

func options() Options {
	return Options{FMID: "Phone", OwnerName: "Contoso", Version: spkg.Version{Major: 10, QFE: 1}, Languages: []string{"en-US", "de-DE"},
		CPU: "arm", BuildType: "fre", ReleaseType: "production"}
}

func TestMerge(t *testing.T) {
	dir, fm, locate := fixture(t)
	out := t.TempDir()
	res, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), options())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Merged {
		names = append(names, filepath.Base(p))
	}
	want := []string{
		"Contoso.Base.Phone.MainOS.spkg", "Contoso.Base.Phone.EFIESP.spkg", "Contoso.SOC_SOC8000.Phone.MainOS.spkg",
		"Contoso.DEVICE_PHONE1.Phone.MainOS.spkg", "Contoso.RELEASE_PRODUCTION.Phone.MainOS.spkg",
		"Contoso.OEM_CAMERA.Phone.MainOS.spkg", "Contoso.OEM_CAMERA.Phone.MainOS_Lang_en-US.spkg", "Contoso.OEM_CAMERA.Phone.MainOS_Lang_de-DE.spkg",
	}
	sort.Strings(names)
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("merged\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	if len(res.PassThrough) != 1 || filepath.Base(res.PassThrough[0]) != "Contoso.Firmware.Modem.spkg" {
		t.Errorf("passed through %v, want the binary partition package", res.PassThrough)
	} else {
		// Copied unchanged: the same bytes, still a binary partition package.
		got, _ := os.ReadFile(res.PassThrough[0])
		src, _ := os.ReadFile(filepath.Join(dir, "Contoso.Firmware.Modem.spkg"))
		if !bytes.Equal(got, src) || len(got) == 0 {
			t.Errorf("the passed-through binary partition package differs from its source")
		}
	}

	// The merged base holds both sources' files, each with its source, at the merge's version.
	p, err := spkg.Open(filepath.Join(out, "pkgs", "Contoso.Base.Phone.MainOS.spkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Manifest.Version != (spkg.Version{Major: 10, QFE: 1}) || p.Manifest.ReleaseType != "Production" || p.Manifest.Owner != "Contoso" {
		t.Errorf("merged identity %+v", p.Manifest)
	}
	got := map[string]string{}
	sources := map[string]string{}
	err = p.Walk(func(fe spkg.FileEntry, r io.Reader) error {
		b, _ := io.ReadAll(r)
		if fe.FileType == "Regular" {
			got[fe.DevicePath] = string(b)
			sources[fe.DevicePath] = fe.SourcePackage
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[`\Windows\System32\settings.txt`] != "settings" || got[`\Windows\Fonts\a.ttf`] != strings.Repeat("font ", 20000) || len(got) != 2 {
		t.Errorf("merged content %v", got)
	}
	if sources[`\Windows\Fonts\a.ttf`] != "Contoso.BaseOS.Fonts" {
		t.Errorf("SourcePackage %v", sources)
	}

	// The new FM references the merged packages and parses; it selects the same groups.
	nfm, err := manifest.ReadFeatureManifest(res.FM)
	if err != nil {
		t.Fatal(err)
	}
	camera := nfm.OEMFeatures[0]
	if camera.Name != "Contoso.OEM_CAMERA.Phone.MainOS.spkg" || camera.Language != "*" || camera.FeatureIDs[0] != "CAMERA" {
		t.Errorf("camera %+v", camera)
	}
	if nfm.DeviceLayoutPackages[0].Name != "Contoso.SOC_SOC8000.Phone.MainOS.spkg" || nfm.DeviceLayoutPackages[0].SOC != "SOC8000" {
		t.Errorf("device layout %+v", nfm.DeviceLayoutPackages[0])
	}
	if nfm.OEMDevicePlatformPackages[0].Device != "Phone1" || len(nfm.BasePackages) != 3 {
		t.Errorf("device platform %+v, base %d", nfm.OEMDevicePlatformPackages[0], len(nfm.BasePackages))
	}
}

func TestMergeDeterministicAndIncremental(t *testing.T) {
	_, fm, locate := fixture(t)
	a, b := t.TempDir(), t.TempDir()
	o := options()
	o.Incremental = true // writes the state file, compared below too
	for _, out := range []string{a, b} {
		if _, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), o); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"pkgs/Contoso.Base.Phone.MainOS.spkg", "pkgs/" + StateFile} {
		da, _ := os.ReadFile(filepath.Join(a, name))
		db, _ := os.ReadFile(filepath.Join(b, name))
		if string(da) != string(db) || len(da) == 0 {
			t.Errorf("%s differs between two merges", name)
		}
	}
	res, err := Merge(fm, locate, filepath.Join(a, "pkgs"), filepath.Join(a, "fms"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kept) != len(res.Merged) {
		t.Errorf("+Incremental remade %d of %d unchanged packages", len(res.Merged)-len(res.Kept), len(res.Merged))
	}
}

func TestMergeErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest
		want string
	}{
		{"FMID too long", func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest { o.FMID = "Phone1234"; return nil }, "1 to 8"},
		{"production FMID", func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest { o.FMID = "Custom"; return nil }, "Phone or Variant"},
		{"bad cpu", func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest { o.CPU = "mips"; return nil }, "_cputype"},
		{"cpu mismatch", func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest {
			o.CPU = "x86"
			o.ReleaseType = "test"
			return nil
		}, "built for CPU ARM"},
		{"test package in production", func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest {
			writePkg(t, dir, pkgSpec{comp: "BaseOS", sub: "Settings", release: "Test", files: map[string]string{`\a.txt`: "a"}})
			return nil
		}, "every source must be Production"},
		{"device path in two packages", func(t *testing.T, dir string, o *Options) *manifest.FeatureManifest {
			writePkg(t, dir, pkgSpec{comp: "BaseOS", sub: "Fonts", files: map[string]string{`\WINDOWS\System32\SETTINGS.TXT`: "clash"}})
			return nil
		}, "is in two packages: Contoso.BaseOS.Settings.spkg and Contoso.BaseOS.Fonts.spkg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, fm, locate := fixture(t)
			o := options()
			tt.edit(t, dir, &o)
			out := t.TempDir()
			_, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(out, "pkgs")); len(entries) != 0 {
				t.Errorf("a failed merge left %d files", len(entries))
			}
		})
	}
}

// listing is every path below dir, for all-or-nothing checks.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// The new FM carries the merge's version on every merged package (the documentation: "the
// updated version of the feature manifest file contains the names of the merged packages and
// the provided version number"), and the FM parser reads it.
func TestMergeFMVersion(t *testing.T) {
	_, fm, locate := fixture(t)
	out := t.TempDir()
	res, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), options())
	if err != nil {
		t.Fatal(err)
	}
	nfm, err := manifest.ReadFeatureManifest(res.FM)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range manifest.Groups {
		for _, pf := range nfm.Packages(g) {
			if pf.Name == "Contoso.Firmware.Modem.spkg" {
				if pf.Version != "" {
					t.Errorf("passed-through %s got Version %q; the source FM gave none", pf.Name, pf.Version)
				}
				continue
			}
			n++
			if pf.Version != "10.0.1.0" {
				t.Errorf("%s (%s): Version %q, want 10.0.1.0", pf.Name, g, pf.Version)
			}
		}
	}
	if n == 0 {
		t.Fatal("no merged package listed")
	}
}

// Every merged package is a cabinet cabextract, which nobody here wrote, tests clean.
func TestMergedPackagesCabextract(t *testing.T) {
	cabextract := checker.Find(t, "cabextract")
	_, fm, locate := fixture(t)
	out := t.TempDir()
	o := options()
	o.Compress = true
	res, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(res.Merged, res.PassThrough...) {
		if got := checker.Run(t, "", cabextract, "-t", p); !strings.Contains(got, "All done, no errors") {
			t.Errorf("cabextract -t %s:\n%s", filepath.Base(p), got)
		}
	}
}

// A source whose cabinet data is corrupt (a checksum error, or with the checksums cleared a
// block that does not decode) fails the merge naming the package and the file; nothing is
// left, not even the output directories the merge made.
func TestMergeCorruptSource(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pkg       string
		clearSums bool
		want      []string
	}{
		{"checksum", "Contoso.BaseOS.Fonts.spkg", false, []string{`Contoso.BaseOS.Fonts.spkg (\Windows\Fonts\a.ttf)`, "checksum"}},
		{"decode", "Contoso.BaseOS.Fonts.spkg", true, []string{`Contoso.BaseOS.Fonts.spkg (\Windows\Fonts\a.ttf)`, "MSZIP"}},
		{"passed through", "Contoso.Firmware.Modem.spkg", false, []string{"Contoso.Firmware.Modem.spkg", "0_modem.bin", "checksum"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, fm, locate := fixture(t)
			path := filepath.Join(dir, tt.pkg)
			if tt.pkg == "Contoso.Firmware.Modem.spkg" {
				// Rewrite the modem package with a payload of several blocks.
				writePkg(t, dir, pkgSpec{comp: "Firmware", sub: "Modem", partition: "MODEM", binary: true, compress: true, files: map[string]string{`\modem.bin`: strings.Repeat("modem image ", 10000)}})
			}
			data, _ := os.ReadFile(path)
			bad, err := cabtest.CorruptBlock(data, 0, 1, tt.clearSums)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, bad, 0o644)
			out := t.TempDir()
			_, err = Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), options())
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
			if left := listing(t, out); len(left) != 0 {
				t.Errorf("a failed merge left %v", left)
			}
		})
	}
}

// One run over two FMs is all or nothing: the second failing leaves nothing of the first, and
// a file that was there before stays as it was.
func TestRunAllOrNothing(t *testing.T) {
	_, fm, locate := fixture(t)
	out := t.TempDir()
	pkgs := filepath.Join(out, "pkgs")
	os.MkdirAll(pkgs, 0o755)
	os.WriteFile(filepath.Join(pkgs, "Contoso.Base.Phone.MainOS.spkg"), []byte("previous"), 0o644)
	run := NewRun()
	if _, err := run.Merge(fm, locate, pkgs, filepath.Join(out, "fms", "sub"), options()); err != nil {
		t.Fatal(err)
	}
	bad := options()
	bad.FMID = "Custom" // production needs Phone or Variant
	if _, err := run.Merge(fm, locate, pkgs, filepath.Join(out, "fms", "sub"), bad); err == nil || !strings.Contains(err.Error(), "Phone or Variant") {
		t.Fatalf("err = %v", err)
	}
	run.Abort()
	if left := listing(t, out); strings.Join(left, " ") != "pkgs pkgs/Contoso.Base.Phone.MainOS.spkg" {
		t.Errorf("after Abort: %v, want only the earlier file", left)
	}
	if b, _ := os.ReadFile(filepath.Join(pkgs, "Contoso.Base.Phone.MainOS.spkg")); string(b) != "previous" {
		t.Errorf("the earlier file was changed: %q", b)
	}

	// Committed, both FMs' outputs are in place.
	run = NewRun()
	defer run.Abort()
	other := options()
	other.FMID = "Variant"
	for _, o := range []Options{options(), other} {
		if _, err := run.Merge(fm, locate, pkgs, filepath.Join(out, "fms", o.FMID), o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(pkgs, "Contoso.Base.Variant.MainOS.spkg")); err == nil {
		t.Error("an output is in place before Commit")
	}
	if err := run.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"pkgs/Contoso.Base.Phone.MainOS.spkg", "pkgs/Contoso.Base.Variant.MainOS.spkg", "fms/Phone/ContosoFM.xml", "fms/Variant/ContosoFM.xml"} {
		if _, err := spkgOrFM(filepath.Join(out, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// spkgOrFM opens a committed output as what it is.
func spkgOrFM(path string) (any, error) {
	if strings.HasSuffix(path, ".xml") {
		return manifest.ReadFeatureManifest(path)
	}
	p, err := spkg.Open(path)
	if err == nil {
		p.Close()
	}
	return p, err
}

// +Incremental keeps a merged package only when its recorded bytes are still there: a
// truncated or edited output is remade, and the state of another layout is no state.
func TestIncrementalChecksOutputs(t *testing.T) {
	_, fm, locate := fixture(t)
	out := t.TempDir()
	pkgs, fms := filepath.Join(out, "pkgs"), filepath.Join(out, "fms")
	o := options()
	o.Incremental = true
	if _, err := Merge(fm, locate, pkgs, fms, o); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(pkgs, "Contoso.Base.Phone.MainOS.spkg")
	good, _ := os.ReadFile(target)
	for _, tt := range []struct {
		name  string
		spoil func()
	}{
		{"truncated", func() { os.Truncate(target, int64(len(good)/2)) }},
		{"same size, other bytes", func() {
			b := append([]byte(nil), good...)
			b[len(b)-1] ^= 0xFF
			os.WriteFile(target, b, 0o644)
		}},
		{"state of an older layout", func() {
			os.WriteFile(filepath.Join(pkgs, StateFile), []byte(`{"Contoso.Base.Phone.MainOS.spkg": "abc"}`), 0o644)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.spoil()
			res, err := Merge(fm, locate, pkgs, fms, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range res.Kept {
				if k == filepath.Base(target) {
					t.Errorf("%s reported up to date", k)
				}
			}
			if b, _ := os.ReadFile(target); !bytes.Equal(b, good) {
				t.Errorf("remade package differs from the first (%d bytes, want %d)", len(b), len(good))
			}
			// And now it is kept again.
			res, err = Merge(fm, locate, pkgs, fms, o)
			if err != nil || len(res.Kept) != len(res.Merged) {
				t.Errorf("second run kept %d of %d (%v)", len(res.Kept), len(res.Merged), err)
			}
		})
	}
}

// With +Incremental, one run over two FMs sharing an output directory keeps both FMs'
// entries in the state file (each FM used to rewrite it with its own only), so a second run
// keeps everything.
func TestIncrementalTwoFMs(t *testing.T) {
	_, fm, locate := fixture(t)
	out := t.TempDir()
	pkgs := filepath.Join(out, "pkgs")
	run2 := func() (kept, merged int) {
		run := NewRun()
		defer run.Abort()
		for _, id := range []string{"Phone", "Variant"} {
			o := options()
			o.FMID, o.Incremental = id, true
			res, err := run.Merge(fm, locate, pkgs, filepath.Join(out, "fms", id), o)
			if err != nil {
				t.Fatal(err)
			}
			kept, merged = kept+len(res.Kept), merged+len(res.Merged)
		}
		if err := run.Commit(); err != nil {
			t.Fatal(err)
		}
		return kept, merged
	}
	run2()
	if kept, merged := run2(); kept != merged || merged == 0 {
		t.Errorf("second run kept %d of %d", kept, merged)
	}
}

// With a Signer, every merged package's catalog is signed: spkg's check (signature, chain to
// the test root, each member against its file) passes, and osslsigncode verifies the catalog;
// the pass-through package keeps its bytes. +Incremental remakes the packages for another
// signer, and keeps them for the same one.
func TestMergeSigned(t *testing.T) {
	dir, fm, locate := fixture(t)
	pki := catalogtest.New(t)
	out := t.TempDir()
	o := options()
	o.Signer = pki.Leaf.Signer()
	o.Incremental = true
	res, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), o)
	if err != nil {
		t.Fatal(err)
	}
	root := pki.Root.CertFile(t, t.TempDir(), "root")
	for _, path := range res.Merged {
		p, err := spkg.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.CheckCatalog(pki.Pool()); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		cat, err := p.Catalog()
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "content.cat")
		if err := os.WriteFile(f, cat, 0o644); err != nil {
			t.Fatal(err)
		}
		if o := checker.Run(t, "", checker.Find(t, "osslsigncode"), "verify", "-CAfile", root, "-in", f); !strings.Contains(o, "Succeeded") {
			t.Errorf("osslsigncode verify of %s:\n%s", filepath.Base(path), o)
		}
	}
	got, _ := os.ReadFile(res.PassThrough[0])
	src, _ := os.ReadFile(filepath.Join(dir, "Contoso.Firmware.Modem.spkg"))
	if !bytes.Equal(got, src) {
		t.Error("signing changed the passed-through package")
	}
	again, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Kept) != len(again.Merged) {
		t.Errorf("the same signer: +Incremental remade %d of %d", len(again.Merged)-len(again.Kept), len(again.Merged))
	}
	o.Signer = pki.OtherLeaf.Signer()
	other, err := Merge(fm, locate, filepath.Join(out, "pkgs"), filepath.Join(out, "fms"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Kept) != 0 {
		t.Errorf("another signer: +Incremental kept %d packages signed by the first", len(other.Kept))
	}
	p, err := spkg.Open(other.Merged[0])
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.CheckCatalog(pki.Pool()); err == nil {
		t.Error("a package signed by the other root's leaf verifies against the test root")
	}
}
