package resolve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

const ns = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`

// baseOEMInput is the OEMInput of most tests; edit replaces text in it.
const baseOEMInput = `<?xml version="1.0"?>
<OEMInput ` + ns + `>
  <Description>test image</Description>
  <SOC>SOC8000</SOC>
  <SV>Vendor</SV>
  <Device>Phone1</Device>
  <ReleaseType>Test</ReleaseType>
  <BuildType>fre</BuildType>
  <SupportedLanguages>
    <UserInterface><Language>en-US</Language><Language>de-DE</Language></UserInterface>
    <Keyboard><Language>fr-FR</Language><Language>en-US</Language></Keyboard>
    <Speech><Language>en-US</Language></Speech>
  </SupportedLanguages>
  <BootUILanguage>de-DE</BootUILanguage>
  <BootLocale>fr-FR</BootLocale>
  <Resolutions><Resolution>720x1280</Resolution><Resolution>1080x1920</Resolution></Resolutions>
  <Features><Microsoft><Feature>TEST</Feature></Microsoft></Features>
  <!--more-->
</OEMInput>`

func edit(s string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("no " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// fixture is one selection run.
type fixture struct {
	oem      string
	fms      map[string]string // AdditionalFM file name -> XML
	core     string            // core FM file; default testdata/MicrosoftPhoneFM.xml
	cpu      string
	env      map[string]string
	packages locate.Locator
}

func (f fixture) input(t testing.TB) Input {
	o, err := manifest.ParseOEMInput("OEMInput.xml", []byte(f.oem))
	if err != nil {
		t.Fatal(err)
	}
	fms := map[string]*manifest.FeatureManifest{}
	for name, src := range f.fms {
		fm, err := manifest.ParseFeatureManifest(name, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		fms[strings.ToUpper(name)] = fm
	}
	return Input{
		OEMInput: o, CPUType: f.cpu, MSPackageRoot: `C:\Kit`, Env: f.env, Packages: f.packages,
		LoadFM: func(ref FMRef) (*manifest.FeatureManifest, error) {
			if fm, ok := fms[strings.ToUpper(winpath.Base(ref.Path))]; ok {
				return fm, nil
			}
			return nil, fmt.Errorf("no FM %s", ref.Path)
		},
		LoadCoreFM: func(ref CoreFMRef) (*manifest.FeatureManifest, error) {
			core := f.core
			if core == "" {
				core = "testdata/" + ref.FMName
			}
			return manifest.ReadFeatureManifest(core)
		},
	}
}

func (f fixture) run(t testing.TB) (*Selection, error) {
	return Resolve(f.input(t))
}

// summary is one line per package: "Name FEATUREID[,FEATUREID] [satellite-of/lang-or-res]".
func summary(s *Selection) []string {
	var out []string
	for _, p := range s.Packages {
		var ids []string
		for _, r := range p.Reasons {
			ids = append(ids, r.FeatureID)
		}
		line := p.Name + " " + strings.Join(ids, ",")
		if r := p.Reasons[0]; r.SatelliteOf != "" {
			line += " [" + r.SatelliteOf + "/" + r.Language + r.Resolution + "]"
		}
		out = append(out, line)
	}
	return out
}

// Every group of the core FM, every satellite rule, in the documented order.
func TestSelectionEveryGroup(t *testing.T) {
	s, err := fixture{oem: baseOEMInput}.run(t)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"MainOS.spkg BASE",
		"Res_Lang_en-US.spkg BASE [Res/en-US]", // NoBasePackage: satellites only
		"Res_Lang_de-DE.spkg BASE [Res/de-DE]",
		"Res_Res_720x1280.spkg BASE [Res/720x1280]",
		"Res_Res_1080x1920.spkg BASE [Res/1080x1920]",
		"Some.spkg BASE",
		"Some_Lang_DE-de.spkg BASE [Some.Id/DE-de]", // (list) keeps the list's order and spelling
		"Some_Res_1080x1920.spkg BASE [Some.Id/1080x1920]",
		"NotDe.spkg BASE",
		"NotDe_Lang_en-US.spkg BASE [NotDe/en-US]",
		"Cpu.Arm.spkg CPU_ARM",
		"Release.Test.spkg RELEASE_TEST",
		"Protected.spkg PRERELEASE_PROTECTED",
		"Sv.spkg SV_VENDOR",
		"Soc.A.spkg SOC_SOC8000",
		"Tuning.spkg DEVICE_PHONE1",
		"Layout.spkg DEVICELAYOUT_SOC8000",
		"Platform.spkg OEMDEVICEPLATFORM_PHONE1",
		"BootLocale_fr-FR.spkg BOOTLOCALE_FR-FR",
		"BootUI_de-DE.spkg BOOTUI_DE-DE",
		"Keyboard_Lang_en-US.spkg KEYBOARD_EN-US [Keyboard/en-US]",
		"Keyboard_Lang_fr-FR.spkg KEYBOARD_FR-FR [Keyboard/fr-FR]",
		"Speech_Lang_en-US.spkg SPEECH_EN-US [Speech/en-US]",
		"Test.spkg MS_TEST",
		"Test_Lang_en-US.spkg MS_TEST [Test/en-US]",
	}
	if got := summary(s); !reflect.DeepEqual(got, want) {
		t.Errorf("selection:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	byName := map[string]*Package{}
	for _, p := range s.Packages {
		byName[p.Name] = p
	}
	checks := []struct{ name, path, id string }{
		{"MainOS.spkg", `C:\Kit\Retail\arm\fre\MainOS.spkg`, "MainOS"},
		{"Some_Lang_DE-de.spkg", `C:\Kit\Lang\Some_Lang_DE-de.spkg`, "Some.Id_Lang_DE-de"}, // LangPath
		{"Some_Res_1080x1920.spkg", `C:\Kit\Retail\Some_Res_1080x1920.spkg`, "Some.Id_Res_1080x1920"},
		{"BootUI_de-DE.spkg", `C:\Kit\Boot\BootUI_de-DE.spkg`, "BootUI_de-DE"},
		{"Keyboard_Lang_fr-FR.spkg", `C:\Kit\Input\Keyboard_Lang_fr-FR.spkg`, "Keyboard_Lang_fr-FR"},
	}
	for _, c := range checks {
		p := byName[c.name]
		if p == nil || p.Path != c.path || p.ID != c.id {
			t.Errorf("%s = %+v, want path %s id %s", c.name, p, c.path, c.id)
		}
	}
	if p := byName["MainOS.spkg"]; !p.FeatureIdentifierPackage || p.Partition != "MainOS" || p.HostPath != "" {
		t.Errorf("MainOS = %+v", p)
	}
	if r := byName["Some_Lang_DE-de.spkg"].Reasons[0]; r.Source != (manifest.Pos{File: "testdata/MicrosoftPhoneFM.xml", Line: 7, Col: 5}) || r.Group != manifest.GroupBase {
		t.Errorf("satellite reason %+v", r)
	}
	if s.Product != "Windows Phone" || s.CPUType != "arm" || s.BuildType != "fre" || s.ReleaseType != "Test" || len(s.FMs) != 1 || s.FMs[0].Role != "core" {
		t.Errorf("selection header %+v", s)
	}
}

// Variations of the OEMInput and the command line, by what each changes in the selection.
func TestSelectionVariations(t *testing.T) {
	tests := []struct {
		name     string
		f        fixture
		has, not []string // package names present / absent
	}{
		{"x86 image", fixture{oem: baseOEMInput, cpu: "X86"},
			[]string{"X86Only.spkg", "Cpu.X86.spkg", "Soc.X86.spkg"},
			[]string{"Cpu.Arm.spkg", "Soc.A.spkg", "Layout.spkg"}}, // SOC packages without CPUType are ARM only
		{"production", fixture{oem: edit(baseOEMInput, "<ReleaseType>Test", "<ReleaseType>Production", "<Feature>TEST</Feature>", "<Feature>CODEINTEGRITY_PROD</Feature>")},
			[]string{"Release.Production.spkg", "CodeIntegrity.Prod.spkg"}, []string{"Release.Test.spkg", "Test.spkg"}},
		{"exclude prerelease", fixture{oem: edit(baseOEMInput, "<!--more-->", "<ExcludePrereleaseFeatures>true</ExcludePrereleaseFeatures>")},
			[]string{"Replacement.spkg"}, []string{"Protected.spkg"}},
		{"include prerelease", fixture{oem: edit(baseOEMInput, "<!--more-->", "<ExcludePrereleaseFeatures>false</ExcludePrereleaseFeatures>")},
			[]string{"Protected.spkg"}, []string{"Replacement.spkg"}},
		{"other SOC and device", fixture{oem: edit(baseOEMInput, "<SOC>SOC8000", "<SOC>soc9000", "<Device>Phone1", "<Device>phone2")},
			[]string{"Soc.B.spkg", "Platform2.spkg"}, []string{"Soc.A.spkg", "Layout.spkg", "Platform.spkg", "Tuning.spkg"}},
		{"no SV", fixture{oem: edit(baseOEMInput, "<SV>Vendor</SV>", "")}, nil, []string{"Sv.spkg"}},
		{"one resolution", fixture{oem: edit(baseOEMInput, "<Resolution>1080x1920</Resolution>", "")},
			[]string{"Res_Res_720x1280.spkg"}, []string{"Some_Res_1080x1920.spkg", "Res_Res_1080x1920.spkg"}},
		{"no resolutions", fixture{oem: edit(baseOEMInput, "<Resolutions><Resolution>720x1280</Resolution><Resolution>1080x1920</Resolution></Resolutions>", "")},
			[]string{"Some.spkg"}, []string{"Res_Res_720x1280.spkg", "Some_Res_1080x1920.spkg"}},
		{"languages", fixture{oem: edit(baseOEMInput, "<Language>en-US</Language><Language>de-DE</Language></UserInterface>", "<Language>ja-JP</Language><Language>de-DE</Language></UserInterface>")},
			[]string{"Some_Lang_ja-JP.spkg", "Some_Lang_DE-de.spkg", "Res_Lang_ja-JP.spkg", "NotDe_Lang_ja-JP.spkg"}, []string{"Test_Lang_en-US.spkg", "NotDe_Lang_de-DE.spkg"}},
		{"keyboard and speech", fixture{oem: edit(baseOEMInput, "<Keyboard><Language>fr-FR</Language><Language>en-US</Language></Keyboard>", "<Keyboard><Language>ja-JP</Language></Keyboard>",
			"<Speech><Language>en-US</Language></Speech>", "<Speech><Language>en-US</Language><Language>zh-CN</Language></Speech>")},
			[]string{"Keyboard_Lang_ja-JP.spkg", "Speech_Lang_zh-CN.spkg"}, []string{"Keyboard_Lang_en-US.spkg", "Keyboard.spkg", "Speech.spkg"}},
		{"no keyboard or speech", fixture{oem: edit(baseOEMInput, "<Keyboard><Language>fr-FR</Language><Language>en-US</Language></Keyboard>", "", "<Speech><Language>en-US</Language></Speech>", "")},
			nil, []string{"Keyboard_Lang_en-US.spkg", "Speech_Lang_en-US.spkg"}},
		{"boot languages", fixture{oem: edit(baseOEMInput, "<BootUILanguage>de-DE", "<BootUILanguage>en-US", "<BootLocale>fr-FR", "<BootLocale>ja-JP")},
			[]string{"BootUI_en-US.spkg", "BootLocale_ja-JP.spkg"}, []string{"BootUI_de-DE.spkg", "BootLocale_fr-FR.spkg"}},
		{"feature alias", fixture{oem: edit(baseOEMInput, "<Feature>TEST</Feature>", "<Feature>test_tools</Feature><Feature>PRODUCTION_CORE</Feature>")}, []string{"Test.spkg"}, nil},
		{"MMOS", fixture{oem: edit(baseOEMInput, "<!--more-->", "<Product>Manufacturing OS</Product>", "<Features><Microsoft><Feature>TEST</Feature></Microsoft></Features>", "")},
			[]string{"MMOS.Core.spkg"}, []string{"MainOS.spkg"}},
		{"phone MMOS", fixture{oem: edit(baseOEMInput, "<!--more-->", "<Product>phone manufacturing os</Product>", "<Features><Microsoft><Feature>TEST</Feature></Microsoft></Features>", "")},
			[]string{"MMOS.Core.spkg"}, nil},
		{"back-compat optional features", fixture{oem: edit(baseOEMInput, "<Features><Microsoft><Feature>TEST</Feature></Microsoft></Features>", "<MSOptionalFeatures><OptionalFeature>TEST</OptionalFeature></MSOptionalFeatures>")},
			[]string{"Test.spkg"}, nil},
		{"build type from environment", fixture{oem: edit(baseOEMInput, "<BuildType>fre", "<BuildType>%BUILDTYPE%"), env: map[string]string{"buildtype": "chk"}},
			nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.f.run(t)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, p := range s.Packages {
				names[p.Name] = true
			}
			for _, n := range tt.has {
				if !names[n] {
					t.Errorf("%s not selected:\n%s", n, strings.Join(summary(s), "\n"))
				}
			}
			for _, n := range tt.not {
				if names[n] {
					t.Errorf("%s selected", n)
				}
			}
		})
	}
}

func TestBuildType(t *testing.T) {
	o := edit(baseOEMInput, "<BuildType>fre", "<BuildType>%BUILDTYPE%")
	for _, tt := range []struct {
		env  map[string]string
		want string
		err  string
	}{
		{map[string]string{"BUILDTYPE": "chk"}, "chk", ""},
		{map[string]string{"BuildType": "FRE"}, "fre", ""},
		{map[string]string{"BUILDTYPE": ""}, "fre", ""},
		{map[string]string{"BUILDTYPE": "", "_BUILDTYPE": "chk"}, "chk", ""},
		{nil, "", "OEMInput.xml:8:3: BuildType %BUILDTYPE%: environment variable %BUILDTYPE% is not set"},
		{map[string]string{"BUILDTYPE": "debug"}, "", `OEMInput.xml:8:3: BuildType %BUILDTYPE% expands to "debug"; expected fre or chk`},
	} {
		s, err := fixture{oem: o, env: tt.env}.run(t)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("env %v: error %v, want %q", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || s.BuildType != tt.want || s.Packages[0].Path != `C:\Kit\Retail\arm\`+tt.want+`\MainOS.spkg` {
			t.Errorf("env %v: %v, %+v", tt.env, err, s)
		}
	}
}

const contosoFM = `<FeatureManifest ` + ns + ` OwnerType="OEM" ReleaseType="Production" ID="Contoso">
  <BasePackages><PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Settings.spkg"/></BasePackages>
  <Features>
    <OEMFeatureGroups>
      <FeatureGroup Name="CameraKind" Constraint="ZeroOrOne"><FeatureIDs><FeatureID>OEM_CAMERA</FeatureID><FeatureID>OEM_CAMERA_LITE</FeatureID></FeatureIDs></FeatureGroup>
    </OEMFeatureGroups>
    <OEM>
      <PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Camera.spkg"><FeatureIDs><FeatureID>CAMERA</FeatureID></FeatureIDs></PackageFile>
      <PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.CameraLite.spkg"><FeatureIDs><FeatureID>CAMERA_LITE</FeatureID></FeatureIDs></PackageFile>
      <PackageFile Path="$(mspackageroot)\Retail\$(cputype)\$(buildtype)" Name="MainOS.spkg"><FeatureIDs><FeatureID>CAMERA</FeatureID></FeatureIDs></PackageFile>
    </OEM>
  </Features>
</FeatureManifest>`

const contosoTestFM = `<FeatureManifest ` + ns + ` OwnerType="OEM" ReleaseType="Test" ID="ContosoTest">
  <Features><OEM>
    <PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Diag.spkg"><FeatureIDs><FeatureID>DIAG</FeatureID></FeatureIDs></PackageFile>
    <PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Settings.spkg"><FeatureIDs><FeatureID>DIAG</FeatureID></FeatureIDs></PackageFile>
  </OEM></Features>
</FeatureManifest>`

var withContoso = edit(baseOEMInput, "<!--more-->", `<AdditionalFMs>
    <AdditionalFM>%OEM_ROOT%\FMFiles\ContosoFM.xml</AdditionalFM>
    <AdditionalFM>%OEM_ROOT%\FMFiles\ContosoTestFM.xml</AdditionalFM>
    <AdditionalFM>%OEM_ROOT%\FMFILES\contosofm.XML</AdditionalFM>
  </AdditionalFMs>
  <PackageFiles><PackageFile>%OEM_ROOT%\AdHoc\Fix.spkg</PackageFile></PackageFiles>`,
	"<Features><Microsoft><Feature>TEST</Feature></Microsoft></Features>",
	"<Features><Microsoft><Feature>TEST</Feature></Microsoft><OEM><Feature>Camera</Feature><Feature>DIAG</Feature></OEM></Features>")

var contosoFMs = map[string]string{"ContosoFM.xml": contosoFM, "ContosoTestFM.xml": contosoTestFM}

// AdditionalFMs in OEMInput order, then the core FM, then PackageFiles; a package selected
// twice keeps its first place and gathers the reasons.
func TestSelectionOrderAndDuplicates(t *testing.T) {
	s, err := fixture{oem: withContoso, fms: contosoFMs, env: map[string]string{"OEM_ROOT": `D:\Contoso`}}.run(t)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(s)
	want := []string{
		"Contoso.Settings.spkg BASE,OEM_DIAG",
		"Contoso.Camera.spkg OEM_CAMERA",
		"MainOS.spkg OEM_CAMERA,BASE",
		"Contoso.Diag.spkg OEM_DIAG",
	}
	if !reflect.DeepEqual(got[:4], want) {
		t.Errorf("first packages:\n%s\nwant\n%s", strings.Join(got[:4], "\n"), strings.Join(want, "\n"))
	}
	if last := got[len(got)-1]; last != "Fix.spkg PACKAGEFILE" {
		t.Errorf("last = %s", last)
	}
	if len(s.FMs) != 3 || s.FMs[0].File != "ContosoFM.xml" || s.FMs[1].File != "ContosoTestFM.xml" || s.FMs[2].Role != "core" {
		t.Errorf("FMs = %+v", s.FMs)
	}
	if p := s.Packages[0]; p.Path != `D:\Contoso\Packages\Contoso.Settings.spkg` {
		t.Errorf("path = %s", p.Path)
	}
	for _, p := range s.Packages {
		if strings.EqualFold(p.Name, "MainOS.spkg") && p.Path != `C:\Kit\Retail\arm\fre\MainOS.spkg` {
			t.Errorf("MainOS path %s", p.Path)
		}
	}
	seen := map[string]bool{}
	for _, p := range s.Packages {
		if seen[strings.ToUpper(p.Name)] {
			t.Errorf("%s twice", p.Name)
		}
		seen[strings.ToUpper(p.Name)] = true
	}
}

func TestSelectionErrors(t *testing.T) {
	prod := func(s string) string {
		return edit(s, "<ReleaseType>Test", "<ReleaseType>Production", "<Feature>TEST</Feature>", "<Feature>CODEINTEGRITY_PROD</Feature>")
	}
	env := map[string]string{"OEM_ROOT": `D:\Contoso`}
	tests := []struct {
		name string
		f    fixture
		want []string // substrings; the first is the start of the message
	}{
		{"production chk", fixture{oem: edit(prod(baseOEMInput), "<BuildType>fre", "<BuildType>chk")},
			[]string{"OEMInput.xml:8:3: BuildType chk in a Production image; expected fre"}},
		{"production package files", fixture{oem: edit(prod(baseOEMInput), "<!--more-->", "<PackageFiles><PackageFile>x.spkg</PackageFile></PackageFiles>")},
			[]string{"OEMInput.xml:18:3: PackageFiles in a Production image; expected every package to come from a feature manifest"}},
		{"production test FM", fixture{oem: prod(edit(withContoso, "<PackageFiles><PackageFile>%OEM_ROOT%\\AdHoc\\Fix.spkg</PackageFile></PackageFiles>", "",
			"<Feature>Camera</Feature><Feature>DIAG</Feature>", "<Feature>DIAG</Feature>")), fms: contosoFMs, env: env},
			[]string{"ContosoTestFM.xml:3:5: package Contoso.Diag.spkg is a Test package (from ContosoTestFM.xml, a feature manifest with ReleaseType=\"Test\"); expected only Production packages in a Production image (ReleaseType at OEMInput.xml:7:3)"}},
		{"unknown feature", fixture{oem: edit(baseOEMInput, "<Feature>TEST</Feature>", "<Feature>PRODUCTIONCORE</Feature>")},
			[]string{"OEMInput.xml:17:24: Microsoft feature PRODUCTIONCORE is not defined by any feature manifest (searched testdata/MicrosoftPhoneFM.xml); nearest: PRODUCTION_CORE"}},
		{"unknown feature, no near name", fixture{oem: edit(baseOEMInput, "<Feature>TEST</Feature>", "<Feature>XYZZY_QUUX_FROB</Feature>")},
			[]string{"OEMInput.xml:17:24: Microsoft feature XYZZY_QUUX_FROB is not defined by any feature manifest", "expected a feature defined under <Features><Microsoft> of an FM"}},
		{"OEM feature listed as Microsoft", fixture{oem: edit(withContoso, "<Feature>TEST</Feature>", "<Feature>TEST</Feature><Feature>CAMERA</Feature>"), fms: contosoFMs, env: env},
			[]string{"OEMInput.xml:17:47: Microsoft feature CAMERA is not defined by any feature manifest (searched ContosoFM.xml, ContosoTestFM.xml, testdata/MicrosoftPhoneFM.xml); it is an OEM feature of ContosoFM.xml: expected it under <Features><OEM>"}},
		{"unknown OEM feature", fixture{oem: edit(withContoso, "<Feature>DIAG</Feature>", "<Feature>DIAGS</Feature>"), fms: contosoFMs, env: env},
			[]string{"OEMInput.xml:17:89: OEM feature DIAGS is not defined", "nearest: DIAG"}},
		{"OneAndOnlyOne none", fixture{oem: edit(baseOEMInput, "<Feature>TEST</Feature>", "<Feature>CODEINTEGRITY_PROD</Feature>")},
			[]string{"testdata/MicrosoftPhoneFM.xml:15:7: feature group CoreType (Constraint OneAndOnlyOne): none selected by OEMInput.xml; expected exactly one of RELEASE_PRODUCTION, MS_PRODUCTION_CORE, MS_TEST"}},
		{"OneAndOnlyOne two", fixture{oem: edit(baseOEMInput, "<Feature>TEST</Feature>", "<Feature>TEST</Feature><Feature>PRODUCTION_CORE</Feature>")},
			[]string{"testdata/MicrosoftPhoneFM.xml:15:7: feature group CoreType (Constraint OneAndOnlyOne): MS_PRODUCTION_CORE, MS_TEST selected by OEMInput.xml; expected exactly one of"}},
		{"OneAndOnlyOne release", fixture{oem: edit(baseOEMInput, "<ReleaseType>Test", "<ReleaseType>Production")},
			[]string{"testdata/MicrosoftPhoneFM.xml:15:7: feature group CoreType (Constraint OneAndOnlyOne): RELEASE_PRODUCTION, MS_TEST selected"}},
		{"ZeroOrOne", fixture{oem: edit(withContoso, "<Feature>Camera</Feature>", "<Feature>Camera</Feature><Feature>camera_lite</Feature>"), fms: contosoFMs, env: env},
			[]string{"ContosoFM.xml:5:7: feature group CameraKind (Constraint ZeroOrOne): OEM_CAMERA, OEM_CAMERA_LITE are all selected by OEMInput.xml; expected at most one"}},
		{"missing FM", fixture{oem: withContoso, fms: map[string]string{"ContosoFM.xml": contosoFM}, env: env},
			[]string{"OEMInput.xml:20:5: AdditionalFM %OEM_ROOT%\\FMFiles\\ContosoTestFM.xml: no FM D:\\Contoso\\FMFiles\\ContosoTestFM.xml"}},
		{"unknown product", fixture{oem: edit(baseOEMInput, "<!--more-->", "<Product>Windows Desktop</Product>")},
			[]string{`OEMInput.xml:18:3: Product "Windows Desktop" has no core feature manifest; expected "Windows Phone" (the default), "Manufacturing OS" or "Phone Manufacturing OS"`}},
		{"IoT Core product", fixture{oem: edit(baseOEMInput, "<!--more-->", "<Product>Windows 10 IoT Core</Product>")},
			[]string{`OEMInput.xml:18:3: Product "Windows 10 IoT Core" is not supported: these tools build Windows 10 Mobile images, whose core feature manifest is MicrosoftPhoneFM.xml in Microsoft.PhoneFM.spkg`,
				"IoTUAPFM.xml from the CBS package Microsoft.IoTUAP.IoTUAPFM.cab"}},
		{"core not Microsoft", fixture{oem: baseOEMInput, core: "testdata/oem_core/MicrosoftPhoneFM.xml"},
			[]string{`testdata/oem_core/MicrosoftPhoneFM.xml:1:1: core feature manifest MicrosoftPhoneFM.xml has OwnerType "OEM"; expected OwnerType="Microsoft"`}},
		{"boot UI language", fixture{oem: edit(baseOEMInput, "<BootUILanguage>de-DE", "<BootUILanguage>fr-FR")},
			[]string{"OEMInput.xml:14:3: BootUILanguage fr-FR is not one of the SupportedLanguages/UserInterface languages (en-US, de-DE); expected one of them"}},
		{"bad CPU", fixture{oem: baseOEMInput, cpu: "mips"}, []string{`CPU type "mips" is not known; expected one of arm, arm64, x86, amd64`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.run(t)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			for i, w := range tt.want {
				if i == 0 && strings.Contains(w, ".xml:") && !strings.HasPrefix(err.Error(), w) || !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant %q", err, w)
				}
			}
		})
	}
}

// A Production FM that lists the same file as a Test FM vouches for it; alone, the Test FM's
// base package fails a Production image.
func TestProductionVouchedByProductionFM(t *testing.T) {
	testFM := `<FeatureManifest ` + ns + ` OwnerType="OEM" ReleaseType="Test">
  <BasePackages><PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Settings.spkg"/></BasePackages>
</FeatureManifest>`
	oem := edit(withContoso, "<ReleaseType>Test", "<ReleaseType>Production", "<Feature>TEST</Feature>", "<Feature>CODEINTEGRITY_PROD</Feature>",
		"<PackageFiles><PackageFile>%OEM_ROOT%\\AdHoc\\Fix.spkg</PackageFile></PackageFiles>", "",
		"<Feature>Camera</Feature><Feature>DIAG</Feature>", "<Feature>Camera</Feature>")
	env := map[string]string{"OEM_ROOT": "/x"}
	if _, err := (fixture{oem: oem, fms: map[string]string{"ContosoFM.xml": contosoFM, "ContosoTestFM.xml": testFM}, env: env}).run(t); err != nil {
		t.Error(err)
	}
	noBase := strings.Replace(contosoFM, `<BasePackages><PackageFile Path="%OEM_ROOT%\Packages" Name="Contoso.Settings.spkg"/></BasePackages>`, "", 1)
	_, err := fixture{oem: oem, fms: map[string]string{"ContosoFM.xml": noBase, "ContosoTestFM.xml": testFM}, env: env}.run(t)
	if err == nil || !strings.HasPrefix(err.Error(), "ContosoTestFM.xml:2:17: package Contoso.Settings.spkg is a Test package") {
		t.Errorf("error %v", err)
	}
}

// packageDir makes a kit on disk with every given file name (relative paths, '/' separated).
func packageDir(t *testing.T, names ...string) string {
	dir := t.TempDir()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// onDiskKit is an OEMInput (PRODUCTION_CORE, de-DE, 1080x1920 and so on) and the kit's file
// names, relative and '/' separated, in the case and folders a real kit has them: the packages
// testdata/MicrosoftPhoneFM.xml selects for it, found on disk.
func onDiskKit() (oem string, files []string) {
	oem = edit(baseOEMInput, "<Feature>TEST</Feature>", "<Feature>PRODUCTION_CORE</Feature>", "<Resolution>1080x1920</Resolution>", "",
		"<Language>en-US</Language><Language>de-DE</Language></UserInterface>", "<Language>de-DE</Language></UserInterface>",
		"<Keyboard><Language>fr-FR</Language><Language>en-US</Language></Keyboard>", "", "<Speech><Language>en-US</Language></Speech>", "")
	files = []string{"retail/ARM/FRE/mainos.SPKG", "Retail/Res_Lang_de-DE.spkg", "Retail/Res_Res_720x1280.spkg", "Retail/Some.spkg",
		"Lang/Some_Lang_DE-de.spkg", "Retail/NotDe.spkg", "CPU/Cpu.Arm.spkg", "Release/Release.Test.spkg", "Pre/Protected.spkg",
		"SV/Sv.spkg", "SOC/Soc.A.spkg", "Device/Tuning.spkg", "SOC/Layout.spkg", "Device/Platform.spkg", "Boot/BootLocale_fr-FR.spkg",
		"Boot/BootUI_de-DE.spkg", "Features/ProductionCore.spkg"}
	return oem, files
}

func TestLocateOnDisk(t *testing.T) {
	oem, files := onDiskKit()
	dir := packageDir(t, files...)
	in := fixture{oem: oem}.input(t)
	in.MSPackageRoot = dir
	in.Packages = locate.NewDisk(winpath.Mapper{})
	s, err := Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Packages[0].HostPath; got != filepath.Join(dir, "retail/ARM/FRE/mainos.SPKG") {
		t.Errorf("case-insensitive look-up found %q", got)
	}
	if len(s.Packages) != len(files) {
		t.Errorf("%d packages, want %d:\n%s", len(s.Packages), len(files), strings.Join(summary(s), "\n"))
	}
	var buf bytes.Buffer
	if err := s.WriteUpdateInput(&buf); err != nil || !strings.Contains(buf.String(), "<PackageFile>"+filepath.Join(dir, "Lang/Some_Lang_DE-de.spkg")+"</PackageFile>") {
		t.Errorf("UpdateInput: %v\n%s", err, buf.String())
	}

	// A missing base package and a missing satellite: each named with its FM line and path.
	if err := os.Remove(filepath.Join(dir, "Features/ProductionCore.spkg")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "Lang/Some_Lang_DE-de.spkg")); err != nil {
		t.Fatal(err)
	}
	in.Packages = locate.NewDisk(winpath.Mapper{})
	_, err = Resolve(in)
	want := []string{
		"testdata/MicrosoftPhoneFM.xml:7:5: satellite Some_Lang_DE-de.spkg of Some.Id (BASE) not found: expected " + dir + `\Lang\Some_Lang_DE-de.spkg: `,
		"testdata/MicrosoftPhoneFM.xml:20:7: package ProductionCore.spkg (MS_PRODUCTION_CORE) not found: expected " + dir + `\Features\ProductionCore.spkg: `,
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nwant %q", err, w)
		}
	}
	var list Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Errorf("want 2 errors, got %v", err)
	}
}

func TestLocateUnknownVariable(t *testing.T) {
	oem := edit(withContoso, "<PackageFiles><PackageFile>%OEM_ROOT%\\AdHoc\\Fix.spkg</PackageFile></PackageFiles>", "")
	dir := packageDir(t)
	in := fixture{oem: oem, fms: contosoFMs}.input(t)
	in.MSPackageRoot = dir
	in.Packages = locate.NewDisk(winpath.Mapper{})
	_, err := Resolve(in)
	if err == nil || !strings.Contains(err.Error(), "ContosoFM.xml:2:17: package Contoso.Settings.spkg (BASE) not found: expected %OEM_ROOT%\\Packages\\Contoso.Settings.spkg: environment variable %OEM_ROOT% is not set; expected it in the environment\n") {
		t.Errorf("error %v", err)
	}
	// By name, only the file name has to expand: Bazel replaces the directory.
	var paths []string
	for _, n := range []string{"Contoso.Settings.spkg", "contoso.camera.spkg", "Contoso.Diag.spkg", "MainOS.spkg", "x/Cpu.Arm.spkg"} {
		paths = append(paths, filepath.Join(dir, n))
	}
	in.Packages = locate.Index{Names: locate.NewNames(paths)}
	_, err = Resolve(in)
	if err == nil || strings.Contains(err.Error(), "Contoso.Settings") || !strings.Contains(err.Error(), "Res_Lang_en-US.spkg of Res (BASE) not found: expected "+dir+`\Retail\Res_Lang_en-US.spkg: no input file is named Res_Lang_en-US.spkg`) {
		t.Errorf("index error %v", err)
	}
}

// Two FMs naming one package file in different directories: on disk that is two files.
func TestSameNameTwoFiles(t *testing.T) {
	fm := `<FeatureManifest ` + ns + ` OwnerType="OEM" ReleaseType="Production">
  <BasePackages><PackageFile Path="$(mspackageroot)\Other" Name="MainOS.spkg"/></BasePackages>
</FeatureManifest>`
	oem := edit(baseOEMInput, "<!--more-->", `<AdditionalFMs><AdditionalFM>Other.xml</AdditionalFM></AdditionalFMs>`)
	dir := packageDir(t, "Other/MainOS.spkg", "Retail/arm/fre/MainOS.spkg")
	in := fixture{oem: oem, fms: map[string]string{"Other.xml": fm}}.input(t)
	in.MSPackageRoot = dir
	in.Packages = locate.NewDisk(winpath.Mapper{})
	_, err := Resolve(in)
	if err == nil || !strings.Contains(err.Error(), "testdata/MicrosoftPhoneFM.xml:5:5: package name MainOS.spkg is selected from two different files: "+filepath.Join(dir, "Other/MainOS.spkg")+" (Other.xml:2:17) and "+filepath.Join(dir, "Retail/arm/fre/MainOS.spkg")) {
		t.Errorf("error %v", err)
	}
}

// The ProductionOEMInput.xml sample of ImgGen's documentation (seed 000) against an
// MSOptionalFeatures.xml shaped like the kit's.
func TestSeed000ProductionOEMInput(t *testing.T) {
	data, err := os.ReadFile("testdata/seed000_ProductionOEMInput.xml")
	if err != nil {
		t.Fatal(err)
	}
	optional := `<FeatureManifest ` + ns + ` OwnerType="Microsoft" ReleaseType="Production" ID="MSOptionalFeatures"><Features><Microsoft>
  <PackageFile Path="$(mspackageroot)\Retail\$(cputype)\$(buildtype)" Name="CodeIntegrity.Test.spkg"><FeatureIDs><FeatureID>CODEINTEGRITY_TEST</FeatureID></FeatureIDs></PackageFile>
  <PackageFile Path="$(mspackageroot)\Retail\$(cputype)\$(buildtype)" Name="BootKeyActions.Retail.spkg"><FeatureIDs><FeatureID>BOOTKEYACTIONS_RETAIL</FeatureID></FeatureIDs></PackageFile>
</Microsoft></Features></FeatureManifest>`
	s, err := fixture{oem: string(data), fms: map[string]string{"MSOptionalFeatures.xml": optional}, env: map[string]string{"WPDKCONTENTROOT": `C:\Kits\10`}}.run(t)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(s)
	for _, w := range []string{"CodeIntegrity.Test.spkg MS_CODEINTEGRITY_TEST", "BootKeyActions.Retail.spkg MS_BOOTKEYACTIONS_RETAIL",
		"ProductionCore.spkg MS_PRODUCTION_CORE", "Release.Test.spkg RELEASE_TEST", "BootUI_en-US.spkg BOOTUI_EN-US",
		"Keyboard_Lang_en-US.spkg KEYBOARD_EN-US [Keyboard/en-US]", "Res_Res_480x800.spkg BASE [Res/480x800]"} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	if s.FMs[0].File != "MSOptionalFeatures.xml" || s.Description != "Test FFU generation for {SOC TYPE} with build number XXXXX" {
		t.Errorf("%+v", s)
	}
}

func TestWriteUpdateInput(t *testing.T) {
	s, err := fixture{oem: withContoso, fms: contosoFMs, env: map[string]string{"OEM_ROOT": `D:\Contoso`}}.run(t)
	if err != nil {
		t.Fatal(err)
	}
	s.Description = "a -- b"
	var buf bytes.Buffer
	if err := s.WriteUpdateInput(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{
		`<?xml version="1.0" encoding="utf-8"?>`,
		`<UpdateOSInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">`,
		`<Description>a -- b</Description>`,
		`<!-- additional feature manifest ContosoFM.xml -->`,
		`<!-- core feature manifest testdata/MicrosoftPhoneFM.xml -->`,
		"    <!-- Contoso.Settings: BASE (BasePackages at ContosoFM.xml:2:17); OEM_DIAG (Features/OEM at ContosoTestFM.xml:4:5) -->\n    <PackageFile>D:\\Contoso\\Packages\\Contoso.Settings.spkg</PackageFile>",
		"<!-- Res_Lang_de-DE: BASE, satellite of Res (language de-DE) (BasePackages at testdata/MicrosoftPhoneFM.xml:6:5) -->",
		"<!-- Fix: PACKAGEFILE (OEMInput PackageFiles at OEMInput.xml:23:17) -->",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// The output is XML an UpdateOSInput reader takes: root, PackageFiles/PackageFile only.
	d := etree.NewDocument()
	if err := d.ReadFromString(out); err != nil {
		t.Fatal(err)
	}
	if n := len(d.FindElements("/UpdateOSInput/PackageFiles/PackageFile")); n != len(s.Packages) {
		t.Errorf("%d PackageFile elements, want %d", n, len(s.Packages))
	}
	var again bytes.Buffer
	if err := s.WriteUpdateInput(&again); err != nil || again.String() != out {
		t.Error("output is not deterministic")
	}
	if c := comment("x--y-"); c != " x- -y- " {
		t.Errorf("comment = %q", c)
	}
}

func TestWriteJSON(t *testing.T) {
	s, err := fixture{oem: baseOEMInput}.run(t)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var j jsonSelection
	if err := json.Unmarshal(buf.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.Product != "Windows Phone" || len(j.Packages) != len(s.Packages) || j.FeatureManifests[0].Role != "core" {
		t.Errorf("%+v", j)
	}
	r := j.Packages[1].Reasons[0]
	want := jsonReason{FeatureID: "BASE", Group: "BASE", Element: "BasePackages", File: "testdata/MicrosoftPhoneFM.xml", Line: 6, Column: 5,
		SatelliteOf: "Res", Language: "en-US", Text: "BASE, satellite of Res (language en-US) (BasePackages at testdata/MicrosoftPhoneFM.xml:6:5)"}
	if r != want {
		t.Errorf("reason %+v, want %+v", r, want)
	}
}

func TestEditionOf(t *testing.T) {
	for p, fm := range map[string]string{"Windows Phone": "MicrosoftPhoneFM.xml", "windows phone": "MicrosoftPhoneFM.xml",
		"Manufacturing OS": "MMOSFM.xml", "Phone Manufacturing OS": "MMOSFM.xml"} {
		if e, ok := EditionOf(p); !ok || e.FMName != fm {
			t.Errorf("%s: %+v", p, e)
		}
	}
	if _, ok := EditionOf("Windows Desktop"); ok {
		t.Error("Windows Desktop has an edition")
	}
	var ref CoreFMRef
	in := fixture{oem: baseOEMInput}.input(t)
	in.LoadCoreFM = func(r CoreFMRef) (*manifest.FeatureManifest, error) { ref = r; return nil, errors.New("stop") }
	if _, err := Resolve(in); err == nil || !strings.Contains(err.Error(), "core feature manifest: stop") {
		t.Errorf("error %v", err)
	}
	want := CoreFMRef{Product: "Windows Phone", PackagePath: `C:\Kit\Merged\arm\fre\Microsoft.PhoneFM.spkg`, PackageName: "Microsoft.PhoneFM.spkg",
		FMPath: `\Windows\ImageUpdate\FeatureManifest\Microsoft\MicrosoftPhoneFM.xml`, FMName: "MicrosoftPhoneFM.xml"}
	if ref != want {
		t.Errorf("core ref %+v, want %+v", ref, want)
	}
}

func TestCheckDevicePlatformOwner(t *testing.T) {
	for _, tt := range []struct{ product, owner, want string }{
		{"Windows Phone", "OEM", ""},
		{"windows phone", "Microsoft", `device platform package P.spkg has OwnerType "Microsoft"; a windows phone image takes its OEMDevicePlatform.xml from an OEM-owned package (OwnerType="OEM")`},
		{"Phone Manufacturing OS", "MobileOperator", `OwnerType "MobileOperator"`},
		{"Phone Manufacturing OS", "", `OwnerType ""`},
		{"Manufacturing OS", "Microsoft", ""},
	} {
		err := CheckDevicePlatformOwner(tt.product, "P.spkg", tt.owner)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s, %s: %v, want %q", tt.product, tt.owner, err, tt.want)
		}
	}
}

// A mistyped <SOC> or <Device> selects no layout or platform package: the selection says so,
// with the values the FMs offer and the nearest.
func TestNotes(t *testing.T) {
	tests := []struct {
		name  string
		oem   string
		notes int
		want  []string
	}{
		{"matched", baseOEMInput, 0, nil},
		// The fixture's FMs have SOC9000 packages but no SOC9000 layout, and a phone2 platform.
		{"other SOC and device", edit(baseOEMInput, "<SOC>SOC8000", "<SOC>soc9000", "<Device>Phone1", "<Device>phone2"), 1,
			[]string{`<SOC> "soc9000" matches no SOC of DeviceLayoutPackages (the feature manifests offer SOC8000)`}},
		{"mistyped", edit(baseOEMInput, "<SOC>SOC8000", "<SOC>SOC800", "<Device>Phone1", "<Device>Phon1"), 2, []string{
			`the OEMInput's <SOC> "SOC800" matches no SOC of DeviceLayoutPackages (the feature manifests offer `, "did you mean SOC8000?",
			`the OEMInput's <Device> "Phon1" matches no Device of OEMDevicePlatformPackages`, "did you mean Phone1?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fixture{oem: tt.oem}.run(t)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(s.Notes, "\n")
			if len(s.Notes) != tt.notes {
				t.Errorf("notes %q: %d, want %d", got, len(s.Notes), tt.notes)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("notes %q lack %q", got, w)
				}
			}
		})
	}
}
