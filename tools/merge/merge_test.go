package merge

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
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
		payload = append(payload, spkg.Payload{DevicePath: p, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }})
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
func fixture(t *testing.T) (dir string, fm *manifest.FeatureManifest, locate Locator) {
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
	return dir, fm, resolve.IndexLocator{Index: winpath.NewIndex(paths)}
}

func options() Options {
	return Options{FMID: "Phone", OwnerName: "Contoso", Version: spkg.Version{Major: 10, QFE: 1}, Languages: []string{"en-US", "de-DE"},
		CPU: "arm", BuildType: "fre", ReleaseType: "production"}
}

func TestMerge(t *testing.T) {
	_, fm, locate := fixture(t)
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
