package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// A snapshot of the example workspace's XML (examples/contoso), so that these tests pin the
// selection of known inputs; tools/manifest parses the live examples.
const contoso = "testdata/resolve/contoso/"

// contosoPackages makes an empty file for every package the example workspace's FMs name and
// returns --package= flags for them, as Bazel would pass the built packages.
func contosoPackages(t *testing.T) (dir string, flags []string) {
	dir = t.TempDir()
	for _, n := range []string{"Microsoft.MainOS.Production", "Microsoft.EFIESP.Production", "Microsoft.Resources_Lang_en-US",
		"Microsoft.Resources_Lang_de-DE", "Microsoft.BootUI_Lang_en-US", "Microsoft.Release.Test", "Microsoft.Release.Production",
		"Microsoft.ProductionCore", "Microsoft.CodeIntegrity.Test", "Contoso.Apps.Camera_Lang_en-US", "Contoso.Apps.Camera_Lang_de-DE", "Microsoft.CodeIntegrity.Prod", "Microsoft.BootKeyActions.Retail",
		"Microsoft.MobileCore.Test", "Microsoft.PerfTracing", "Microsoft.MMOS.Loader.Test", "Microsoft.MMOS.Core",
		"Contoso.BaseOS.Settings", "Contoso.Apps.Camera", "SoCVendor.SOC8000.Graphics", "SoCVendor.SOC8000.UEFI",
		"SoCVendor.SOC8000.DeviceLayout", "Contoso.ContosoPhone1.OEMDevicePlatform", "Contoso.ContosoPhone1.CameraTuning",
		"Contoso.Test.Diagnostics", "Contoso.MMOS.FactoryTests", "Contoso.Test.AdHocFix"} {
		p := filepath.Join(dir, n+".spkg")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		flags = append(flags, "--package="+p)
	}
	return dir, flags
}

var contosoFMs = []string{"--fm=" + contoso + "kit/fm/MSOptionalFeatures.xml", "--fm=" + contoso + "oem/fm/ContosoFM.xml", "--fm=" + contoso + "oem/fm/ContosoTestFM.xml"}

// Every OEMInput of the example workspace resolves as Bazel would run it.
func TestResolveContoso(t *testing.T) {
	dir, pkgs := contosoPackages(t)
	tests := []struct {
		image, core string
		want        []string // package names, in order
	}{
		{"Retail", "MicrosoftPhoneFM.xml", []string{"Microsoft.CodeIntegrity.Prod", "Microsoft.BootKeyActions.Retail", "Contoso.BaseOS.Settings",
			"SoCVendor.SOC8000.Graphics", "SoCVendor.SOC8000.UEFI", "Contoso.ContosoPhone1.CameraTuning", "SoCVendor.SOC8000.DeviceLayout",
			"Contoso.ContosoPhone1.OEMDevicePlatform", "Contoso.Apps.Camera", "Contoso.Apps.Camera_Lang_en-US", "Microsoft.MainOS.Production",
			"Microsoft.EFIESP.Production", "Microsoft.Resources_Lang_en-US", "Microsoft.Release.Production", "Microsoft.BootUI_Lang_en-US"}},
		{"Test", "MicrosoftPhoneFM.xml", []string{"Microsoft.CodeIntegrity.Test", "Microsoft.MobileCore.Test", "Contoso.BaseOS.Settings",
			"SoCVendor.SOC8000.Graphics", "SoCVendor.SOC8000.UEFI", "Contoso.ContosoPhone1.CameraTuning", "SoCVendor.SOC8000.DeviceLayout",
			"Contoso.ContosoPhone1.OEMDevicePlatform", "Contoso.Apps.Camera", "Contoso.Apps.Camera_Lang_en-US", "Contoso.Test.Diagnostics", "Microsoft.MainOS.Production",
			"Microsoft.EFIESP.Production", "Microsoft.Resources_Lang_en-US", "Microsoft.Release.Test", "Microsoft.BootUI_Lang_en-US",
			"Contoso.Test.AdHocFix"}},
		{"Production", "MicrosoftPhoneFM.xml", nil},
		{"Health", "MicrosoftPhoneFM.xml", nil},
		{"Mfg", "MMOSFM.xml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			args := append([]string{"/cputype:ARM", contoso + "images/" + tt.image + "OEMInput.xml", "MSPackages", "--json",
				"--core-fm=" + contoso + "kit/fm/" + tt.core}, contosoFMs...)
			args = append(args, pkgs...)
			var out, errb bytes.Buffer
			if err := runResolve(args, &out, &errb); err != nil {
				t.Fatal(err)
			}
			var sel struct {
				CPUType  string `json:"cpuType"`
				Packages []struct {
					ID       string `json:"id"`
					HostPath string `json:"hostPath"`
					Reasons  []struct {
						Text string `json:"text"`
					} `json:"reasons"`
				} `json:"packages"`
			}
			if err := json.Unmarshal(out.Bytes(), &sel); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range sel.Packages {
				got = append(got, p.ID)
				if filepath.Dir(p.HostPath) != dir || len(p.Reasons) == 0 || p.Reasons[0].Text == "" {
					t.Errorf("package %+v", p)
				}
			}
			if tt.want != nil && strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("packages\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if sel.CPUType != "arm" {
				t.Errorf("cpu %q", sel.CPUType)
			}
		})
	}
}

func TestResolveXMLOutput(t *testing.T) {
	_, pkgs := contosoPackages(t)
	args := append([]string{contoso + "images/RetailOEMInput.xml", "MSPackages", "--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"}, contosoFMs...)
	var out bytes.Buffer
	if err := runResolve(append(args, pkgs...), &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`<UpdateOSInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">`,
		`<Description>ContosoPhone1 retail image</Description>`,
		`<!-- Microsoft.Resources_Lang_en-US: BASE, satellite of Microsoft.Resources (language en-US) (BasePackages at ` + contoso + `kit/fm/MicrosoftPhoneFM.xml:9:5) -->`,
		`Microsoft.Release.Production.spkg</PackageFile>`,
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

// Without --package and --fm, files are looked up on disk, case-insensitively, under
// MSPackageRoot and %VAR% from the environment.
func TestResolveOnDisk(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"kit/Retail/ARM/FRE/microsoft.mmos.core.spkg":         "",
		"kit/Retail/arm/fre/Microsoft.EFIESP.Production.spkg": "",
		"kit/Retail/arm/fre/Microsoft.Release.Test.spkg":      "",
		"oem/FMFiles/MyFM.xml": `<FeatureManifest xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate" ReleaseType="Test">
  <BasePackages><PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Tool.spkg"/></BasePackages>
</FeatureManifest>`,
		"oem/packages/contoso.tool.SPKG": "",
		"OEMInput.xml": `<OEMInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Product>Manufacturing OS</Product><SOC>S</SOC><Device>D</Device><ReleaseType>Test</ReleaseType><BuildType>fre</BuildType>
  <SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface></SupportedLanguages>
  <BootUILanguage>en-US</BootUILanguage><BootLocale>en-US</BootLocale>
  <AdditionalFMs><AdditionalFM>%OEM_ROOT%\fmfiles\myfm.xml</AdditionalFM></AdditionalFMs>
</OEMInput>`,
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("OEM_ROOT", filepath.Join(root, "oem"))
	var out bytes.Buffer
	err := runResolve([]string{filepath.Join(root, "OEMInput.xml"), filepath.Join(root, "kit"), "--core-fm=" + contoso + "kit/fm/MMOSFM.xml"}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{filepath.Join(root, "oem/packages/contoso.tool.SPKG"), filepath.Join(root, "kit/Retail/ARM/FRE/microsoft.mmos.core.spkg")} {
		if !strings.Contains(out.String(), "<PackageFile>"+w+"</PackageFile>") {
			t.Errorf("output lacks %s:\n%s", w, out.String())
		}
	}
}

func TestResolveErrors(t *testing.T) {
	_, pkgs := contosoPackages(t)
	core := "--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"
	retail := contoso + "images/RetailOEMInput.xml"
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no arguments", nil, true, "expected OEMInput.xml and MSPackageRoot, got 0 argument(s)"},
		{"one argument", []string{retail}, true, "got 1 argument(s)"},
		{"bad cpu", []string{retail, "kit", "/CPUType:mips"}, true, "/CPUType:mips: expected one of arm, arm64, x86, amd64"},
		{"unknown switch", []string{retail, "kit", "/Foo:bar"}, true, "unknown switch /Foo"},
		{"unknown flag", []string{retail, "kit", "--xml"}, true, `unknown flag "--xml"`},
		{"empty flag", []string{retail, "kit", "--package="}, true, "--package= needs a path"},
		{"two core FMs", []string{retail, "kit", core, core}, true, "--core-fm given twice"},
		{"no core FM", append(append([]string{retail, "kit"}, contosoFMs...), pkgs...), false,
			`RetailOEMInput.xml:3:1: core feature manifest: the core feature manifest of Product "Windows Phone": no input file is named Microsoft.PhoneFM.spkg (case-insensitively)`},
		{"wrong core FM", append(append([]string{retail, "kit", "--core-fm=" + contoso + "kit/fm/MMOSFM.xml"}, contosoFMs...), pkgs...), false,
			`--core-fm=` + contoso + `kit/fm/MMOSFM.xml: Product "Windows Phone" takes MicrosoftPhoneFM.xml as its core feature manifest; expected a file of that name`},
		{"missing OEMInput", []string{"nope.xml", "kit"}, false, "nope.xml"},
		{"FM not among --fm", append([]string{retail, "kit", core, "--fm=" + contoso + "kit/fm/MSOptionalFeatures.xml"}, pkgs...), false,
			`RetailOEMInput.xml:28:5: AdditionalFM %OEM_ROOT%\FMFiles\ContosoFM.xml: no input file is named ContosoFM.xml (case-insensitively); expected it among the --fm files`},
		{"package not among --package", append(append([]string{retail, "kit", core}, contosoFMs...), pkgs[1:]...), false,
			`MicrosoftPhoneFM.xml:7:5: package Microsoft.MainOS.Production.spkg (BASE) not found: expected kit\Retail\arm\fre\Microsoft.MainOS.Production.spkg: no input file is named Microsoft.MainOS.Production.spkg`},
		{"ambiguous package", append(append(append([]string{retail, "kit", core}, contosoFMs...), pkgs...), "--package=other/microsoft.mainos.production.SPKG"), false,
			"2 input files are named Microsoft.MainOS.Production.spkg (case-insensitively):"},
		{"FM on disk without %VAR%", []string{retail, "kit", core}, false,
			`RetailOEMInput.xml:27:5: AdditionalFM %WPDKCONTENTROOT%\FMFiles\MSOptionalFeatures.xml: environment variable %WPDKCONTENTROOT% is not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WPDKCONTENTROOT", "")
			os.Unsetenv("WPDKCONTENTROOT")
			var out bytes.Buffer
			err := runResolve(tt.args, &out, &out)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			var ue usageError
			if errors.As(err, &ue) != tt.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tt.usage, tt.usage, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\nwant %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("output on error: %s", out.String())
			}
		})
	}
}

// corePackage writes the edition's core FM package as the kit has it.
func corePackage(t *testing.T, dir, component, fm, ownerType string) string {
	t.Helper()
	data, err := os.ReadFile(contoso + "kit/fm/" + fm)
	if err != nil {
		t.Fatal(err)
	}
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: "Microsoft", Component: component, Version: spkg.Version{Major: 10}},
		ReleaseType: "Production", OwnerType: ownerType, BuildType: "Retail", CpuType: "ARM", Partition: "MainOS",
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	payload := []spkg.Payload{{DevicePath: `\Windows\ImageUpdate\FeatureManifest\Microsoft\` + fm, Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	return path
}

// The core FM is read from Microsoft.PhoneFM.spkg among the packages, as ImageApp reads it.
func TestResolveCoreFMFromPackage(t *testing.T) {
	dir, pkgs := contosoPackages(t)
	pkgs = append(pkgs, "--package="+corePackage(t, dir, "PhoneFM", "MicrosoftPhoneFM.xml", "Microsoft"))
	retail := contoso + "images/RetailOEMInput.xml"
	var fromPackage, fromFlag bytes.Buffer
	if err := runResolve(append(append([]string{retail, "MSPackages"}, contosoFMs...), pkgs...), &fromPackage, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := runResolve(append(append([]string{retail, "MSPackages", "--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"}, contosoFMs...), pkgs...), &fromFlag, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fromPackage.String(), "Microsoft.MainOS.Production.spkg") {
		t.Errorf("core FM packages missing:\n%s", fromPackage.String())
	}
	// The reasons name the FM's source; the selected package files must be the same.
	files := func(s string) (out []string) {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "<PackageFile>") {
				out = append(out, strings.TrimSpace(l))
			}
		}
		return out
	}
	if a, b := files(fromPackage.String()), files(fromFlag.String()); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("from the package:\n%v\nfrom --core-fm:\n%v", a, b)
	}

	other := t.TempDir()
	_, pkgs = contosoPackages(t)
	pkgs = append(pkgs, "--package="+corePackage(t, other, "PhoneFM", "MicrosoftPhoneFM.xml", "OEM"))
	err := runResolve(append(append([]string{retail, "MSPackages"}, contosoFMs...), pkgs...), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "must be owned by Microsoft") {
		t.Errorf("OEM-owned core FM package: err = %v", err)
	}
}

// Under Bazel the rule names its target and the attribute of each input role before the verb
// (--bazel-target, --bazel-attr): a missing core FM package names ms_packages of the target;
// without the flags the message stays the tool's own.
func TestResolveBazelOrigin(t *testing.T) {
	_, pkgs := contosoPackages(t)
	retail := contoso + "images/RetailOEMInput.xml"
	verbArgs := append(append([]string{"resolve", retail, "kit"}, contosoFMs...), pkgs...)
	core := "--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"
	tests := []struct {
		name   string
		before []string
		code   int
		want   string
		not    string
	}{
		{"under Bazel", []string{"--bazel-target=//images:retail", "--bazel-attr=kit=ms_packages"}, 1,
			`no input file is named Microsoft.PhoneFM.spkg (case-insensitively); add it to ms_packages of //images:retail`, ""},
		{"outside Bazel", nil, 1, `no input file is named Microsoft.PhoneFM.spkg (case-insensitively)`, "add it to"},
		{"bad role", []string{"--bazel-attr=nope=x"}, 2, `unknown role "nope"`, ""},
		{"kit package missing", []string{"--bazel-target=//images:retail", "--bazel-attr=kit=ms_packages"}, 1,
			`no input file is named Microsoft.MainOS.Production.spkg (case-insensitively); add it to ms_packages of //images:retail`, "feature_manifest of"},
		{"FM package missing", []string{"--bazel-target=//images:retail", "--bazel-attr=kit=ms_packages"}, 1,
			`; add a target that provides it to packages of the feature_manifest of ` + contoso + `oem/fm/ContosoFM.xml (in feature_manifests of //images:retail)`, ""},
		{"unknown --bazel flag", []string{"--bazel-nope=x"}, 2, "unknown flag --bazel-nope=x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(append([]string(nil), tt.before...), verbArgs...)
			if tt.name == "kit package missing" {
				args = append(append(append([]string(nil), tt.before...), verbArgs[:3+len(contosoFMs)]...), append([]string{core}, pkgs[1:]...)...)
			}
			if tt.name == "FM package missing" {
				args = append(append(append([]string(nil), tt.before...), verbArgs[:3+len(contosoFMs)]...), core)
				for _, p := range pkgs {
					if !strings.Contains(p, "Contoso.Apps.Camera") {
						args = append(args, p)
					}
				}
			}
			code := run(args, &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("code %d, stderr\n%s\nwant %d and %q", code, errOut.String(), tt.code, tt.want)
			}
			if tt.not != "" && strings.Contains(errOut.String(), tt.not) {
				t.Errorf("stderr %q has %q", errOut.String(), tt.not)
			}
		})
	}
}
