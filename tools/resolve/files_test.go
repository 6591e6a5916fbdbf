package resolve

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// corePackage writes a core FM package named name holding fmXML at the core FM's device path.
func corePackage(t *testing.T, dir, name, ownerType, fmXML string) string {
	t.Helper()
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Microsoft", Component: strings.TrimSuffix(strings.TrimPrefix(name, "Microsoft."), ".spkg"), Version: spkg.Version{Major: 10}},
		ReleaseType: "Production", OwnerType: ownerType, BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	payload := []spkg.Payload{{DevicePath: `\Windows\ImageUpdate\FeatureManifest\Microsoft\MicrosoftPhoneFM.xml`, Size: int64(len(fmXML)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(fmXML)), nil }}}
	path := filepath.Join(dir, name)
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ResolveFiles: the loaders of the verbs, from files given or on disk.
func TestResolveFiles(t *testing.T) {
	// The packages testdata/MicrosoftPhoneFM.xml selects for this OEMInput (TestLocateOnDisk).
	oem, files := onDiskKit()
	kit := packageDir(t, files...)
	flat := t.TempDir() // the same packages, all in one directory: found by name
	var byName []string
	for _, f := range files {
		byName = append(byName, writeFile(t, filepath.Join(flat, filepath.Base(f)), ""))
	}
	dir := t.TempDir()
	oemPath := writeFile(t, filepath.Join(dir, "OEMInput.xml"), oem)
	withFM := writeFile(t, filepath.Join(dir, "WithFM.xml"), edit(oem, "<!--more-->", `<AdditionalFMs><AdditionalFM>%OEM_ROOT%\FMs\Extra.xml</AdditionalFM></AdditionalFMs>`))
	extra := writeFile(t, filepath.Join(dir, "fms", "EXTRA.xml"), `<FeatureManifest `+ns+` OwnerType="OEM" ReleaseType="Test"><BasePackages/></FeatureManifest>`)
	coreXML, err := os.ReadFile("testdata/MicrosoftPhoneFM.xml")
	if err != nil {
		t.Fatal(err)
	}
	phoneFM := corePackage(t, t.TempDir(), "Microsoft.PhoneFM.spkg", "Microsoft", string(coreXML))
	oemFM := corePackage(t, t.TempDir(), "Microsoft.PhoneFM.spkg", "OEM", string(coreXML))
	core := "testdata/MicrosoftPhoneFM.xml"
	tests := []struct {
		name    string
		r       Request
		hostDir string // every package found here, or
		wantErr string // a substring of the error
	}{
		{name: "on disk", r: Request{OEMInput: oemPath, MSPackageRoot: kit, CoreFM: core}, hostDir: kit},
		{name: "by name", r: Request{OEMInput: oemPath, MSPackageRoot: `C:\Kit`, Packages: byName, CoreFM: core}, hostDir: flat},
		{name: "core FM from its package", r: Request{OEMInput: oemPath, MSPackageRoot: `C:\Kit`, Packages: append([]string{phoneFM}, byName...)}, hostDir: flat},
		{name: "AdditionalFM by name among --fm", r: Request{OEMInput: withFM, Packages: byName, FMs: []string{extra}, CoreFM: core}, hostDir: flat},
		{name: "AdditionalFM on disk, any letter case", r: Request{OEMInput: withFM, Packages: byName, CoreFM: core, Env: map[string]string{"OEM_ROOT": dir}}, hostDir: flat},
		{name: "AdditionalFM not on disk", r: Request{OEMInput: withFM, Packages: byName, CoreFM: core, Env: map[string]string{"OEM_ROOT": kit}},
			wantErr: `AdditionalFM %OEM_ROOT%\FMs\Extra.xml: ` + filepath.Join(kit, "FMs", "Extra.xml") + " does not exist: no " + filepath.Join(kit, "FMs")},
		{name: "AdditionalFM not among --fm", r: Request{OEMInput: withFM, Packages: byName, FMs: []string{core}, CoreFM: core},
			wantErr: "no input file is named Extra.xml (case-insensitively); expected it among the --fm files"},
		{name: "core FM package not owned by Microsoft", r: Request{OEMInput: oemPath, Packages: append([]string{oemFM}, byName...)},
			wantErr: "Microsoft.PhoneFM.spkg: the core feature manifest's package must be owned by Microsoft (OwnerType OEM)"},
		{name: "no core FM package", r: Request{OEMInput: oemPath, Packages: byName},
			wantErr: `the core feature manifest of Product "Windows Phone": no input file is named Microsoft.PhoneFM.spkg`},
		{name: "--core-fm of another edition", r: Request{OEMInput: oemPath, Packages: byName, CoreFM: "testdata/MMOSFM.xml"},
			wantErr: `--core-fm=testdata/MMOSFM.xml: Product "Windows Phone" takes MicrosoftPhoneFM.xml as its core feature manifest`},
		{name: "no OEMInput", r: Request{OEMInput: filepath.Join(dir, "none.xml")}, wantErr: filepath.Join(dir, "none.xml")},
		{name: "an OEMInput that is a directory", r: Request{OEMInput: dir}, wantErr: dir + ": a directory; expected a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ResolveFiles(tt.r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Packages) != len(files) {
				t.Errorf("%d packages, want %d:\n%s", len(s.Packages), len(files), strings.Join(summary(s), "\n"))
			}
			for _, p := range s.Packages {
				if !strings.HasPrefix(p.HostPath, tt.hostDir+"/") {
					t.Errorf("%s found at %s; want it under %s", p.Name, p.HostPath, tt.hostDir)
				}
			}
			if s.OEMInput != tt.r.OEMInput || s.Device != "Phone1" {
				t.Errorf("OEMInput %q, Device %q", s.OEMInput, s.Device)
			}
		})
	}
}
