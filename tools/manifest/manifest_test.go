package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode/utf16"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func texts(v []Value) []string {
	out := []string{}
	for _, x := range v {
		out = append(out, x.Text)
	}
	return out
}

func TestParseOEMInputFull(t *testing.T) {
	o, err := ParseOEMInput("full_OEMInput.xml", read(t, "testdata/full_OEMInput.xml"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Product", o.Product, ProductManufacturingOS},
		{"Description", o.Description, "Every element"},
		{"SV", o.SV, "SoCVendor"},
		{"SOC", o.SOC, "SOC8000"},
		{"Device", o.Device, "ContosoPhone1"},
		{"ReleaseType", o.ReleaseType, ReleaseTest},
		{"BuildType", o.BuildType, "%BUILDTYPE%"},
		{"FormatDPP", o.FormatDPP, true},
		{"ExcludePrereleaseFeatures", o.ExcludePrereleaseFeatures, true},
		{"OEMDevicePlatform", o.OEMDevicePlatform, "ContosoPlatform"},
		{"UI", texts(o.UILanguages), []string{"en-US", "de-DE", "zh-Hans-CN"}},
		{"Keyboard", texts(o.KeyboardLanguages), []string{"en-US", "fr-FR"}},
		{"Speech", texts(o.SpeechLanguages), []string{"en-GB"}},
		{"BootUILanguage", o.BootUILanguage, "de-DE"},
		{"BootLocale", o.BootLocale, "fr-FR"},
		{"Resolutions", texts(o.Resolutions), []string{"720x1280", "1080x1920"}},
		{"MS features", texts(o.MicrosoftFeatures), []string{"PRODUCTION_CORE", "CODEINTEGRITY_TEST"}},
		{"OEM features", texts(o.OEMFeatures), []string{"CONTOSO_CAMERA"}},
		{"AdditionalFMs", texts(o.AdditionalFMs), []string{`%WPDKCONTENTROOT%\FMFiles\MSOptionalFeatures.xml`, `$(mspackageroot)\FMs\ContosoFM.xml`}},
		{"UserStoreMapData", *o.UserStoreMapData, UserStoreMapData{SourceDir: `C:\UserStore`, UserStoreDir: `\Data\Users`, Pos: Pos{"full_OEMInput.xml", 47, 3}}},
		{"PackageFiles", texts(o.PackageFiles), []string{`%OEM_ROOT%\Packages\Contoso.Test.AdHocFix.spkg`}},
		{"InternalOptionalFeatures", texts(o.InternalOptionalFeatures), []string{"INTERNAL_X"}},
		{"ProductionOptionalFeatures", texts(o.ProductionOptionalFeatures), []string{"PROD_X"}},
		{"MSOptionalFeatures", texts(o.MSOptionalFeatures), []string{"MSOPT_X"}},
		{"AdditionalSKUs", texts(o.AdditionalSKUs), []string{"SKU_X"}},
		{"root pos", o.Pos, Pos{"full_OEMInput.xml", 3, 1}},
		{"BuildType pos", o.PosOf("BuildType"), Pos{"full_OEMInput.xml", 10, 3}},
		{"missing element pos", o.PosOf("Nope"), o.Pos},
		{"feature pos", o.OEMFeatures[0].Pos, Pos{"full_OEMInput.xml", 40, 7}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// The ProductionOEMInput.xml sample of ImgGen's documentation (seed 000), verbatim.
func TestParseOEMInputSeed000(t *testing.T) {
	o, err := ParseOEMInput("seed000_ProductionOEMInput.xml", read(t, "testdata/seed000_ProductionOEMInput.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Product != ProductWindowsPhone || o.SOC != "{PROCESSOR_NAME}" || o.SV != "{SV_NAME}" || o.Device != "{DEVICE_NAME}" ||
		o.ReleaseType != "Test" || o.BuildType != "fre" || o.BootUILanguage != "en-US" || o.BootLocale != "en-US" {
		t.Errorf("scalars: %+v", o)
	}
	if got := texts(o.MicrosoftFeatures); !reflect.DeepEqual(got, []string{"CODEINTEGRITY_TEST", "PRODUCTION_CORE", "BOOTKEYACTIONS_RETAIL"}) {
		t.Errorf("features = %v", got)
	}
	if len(o.OEMFeatures) != 0 || len(o.PackageFiles) != 0 {
		t.Errorf("OEM features / package files: %v %v", o.OEMFeatures, o.PackageFiles)
	}
	if got := texts(o.AdditionalFMs); !reflect.DeepEqual(got, []string{`%WPDKCONTENTROOT%\FMFiles\MSOptionalFeatures.xml`}) {
		t.Errorf("AdditionalFMs = %v", got)
	}
	if got := texts(o.Resolutions); !reflect.DeepEqual(got, []string{"480x800"}) {
		t.Errorf("Resolutions = %v", got)
	}
}

func TestParseFeatureManifestAllGroups(t *testing.T) {
	fm, err := ParseFeatureManifest("all_groups_FM.xml", read(t, "testdata/all_groups_FM.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if fm.ID != "AllGroups" || fm.ReleaseType != "Test" || fm.OwnerType != "OEM" || fm.OwnerName != "Contoso" ||
		fm.Revision != "1" || fm.SchemaVersion != "1.2" || fm.OSVersion != "10.0.15063.0" || fm.BuildInfo != "build 1" || fm.BuildID == "" {
		t.Errorf("root attributes: %+v", fm)
	}
	counts := map[Group]int{GroupBase: 2, GroupCPU: 1, GroupRelease: 2, GroupPrerelease: 2, GroupSV: 1, GroupSOC: 2,
		GroupDevice: 1, GroupDeviceLayout: 1, GroupOEMDevicePlatform: 1, GroupBootLocale: 1, GroupBootUI: 1,
		GroupKeyboard: 1, GroupSpeech: 1, GroupMSFeature: 1, GroupOEMFeature: 1}
	for _, g := range Groups {
		ps := fm.Packages(g)
		if len(ps) != counts[g] {
			t.Errorf("%s: %d packages, want %d", g.Element(), len(ps), counts[g])
		}
		for _, p := range ps {
			if p.Group != g {
				t.Errorf("%s: package %s has group %s", g, p.Name, p.Group)
			}
		}
	}
	a := fm.BasePackages[0]
	want := PackageFile{Pos: Pos{"all_groups_FM.xml", 7, 5}, Group: GroupBase, Path: `$(mspackageroot)\Base`, LangPath: `$(mspackageroot)\Lang`,
		Name: "Base.A.spkg", ID: "Base.A", FeatureIdentifierPackage: true, Partition: "MainOS", Version: "1.2.3.4", CPUType: "arm;x86",
		PublicKey: "0123abcd", Resolution: "(720x1280;1080x1920)", Language: "!(fr-FR)", Wow: "*", LangWow: "arm64", ResWow: "amd64;arm64",
		LanguageFilter: &Filter{Exclude: true, Values: []string{"fr-FR"}}, ResolutionFilter: &Filter{Values: []string{"720x1280", "1080x1920"}}}
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("BasePackages[0] =\n%+v\nwant\n%+v", *a, want)
	}
	if !fm.BasePackages[1].NoBasePackage || !fm.BasePackages[1].LanguageFilter.All {
		t.Errorf("BasePackages[1] = %+v", fm.BasePackages[1])
	}
	if fm.BasePackages[1].PkgID() != "Base.Resources" {
		t.Errorf("default ID = %q", fm.BasePackages[1].PkgID())
	}
	sel := map[Group]string{GroupRelease: "Test", GroupPrerelease: "protected", GroupSOC: "SOC8000", GroupSV: "SoCVendor",
		GroupDeviceLayout: "SOC8000", GroupOEMDevicePlatform: "ContosoPhone1", GroupDevice: "ContosoPhone1", GroupBase: ""}
	for g, v := range sel {
		if got := fm.Packages(g)[0].Selector(); got != v {
			t.Errorf("%s selector = %q, want %q", g, got, v)
		}
	}
	if got := fm.MicrosoftFeatures[0].FeatureIDs; !reflect.DeepEqual(got, []string{"FAKEMODEM", "SUB"}) {
		t.Errorf("MS FeatureIDs = %v", got)
	}
	if got := fm.OEMFeatures[0].FeatureIDs; !reflect.DeepEqual(got, []string{"TEST_FEATURE1"}) {
		t.Errorf("OEM FeatureIDs = %v", got)
	}
	g := fm.MSFeatureGroups[0]
	if g.Name != "Modem" || g.Constraint != ConstraintOneAndOnlyOne || g.GroupingType != "MobileFeature" || g.FMID != "AllGroups" ||
		!reflect.DeepEqual(g.FeatureIDs, []string{"MS_FAKEMODEM", "MS_NOFAKEMODEM"}) || len(g.SubGroups) != 1 ||
		g.SubGroups[0].Constraint != ConstraintZeroOrMore {
		t.Errorf("MS feature group = %+v", g)
	}
	if og := fm.OEMFeatureGroups[0]; og.Constraint != ConstraintZeroOrOne || len(og.FeatureIDs) != 2 {
		t.Errorf("OEM feature group = %+v", og)
	}
	cf := fm.MSConditionalFeatures[0]
	if cf.FeatureID != "COND_X" || cf.UpdateAction != "Install" || len(cf.Conditions) != 1 || cf.Conditions[0].FeatureStatus != "Installed" ||
		len(cf.ConditionSets) != 1 || cf.ConditionSets[0].Operator != "OR" || len(cf.ConditionSets[0].Conditions) != 2 ||
		cf.ConditionSets[0].Conditions[0].RegistryKeyType != "REG_DWORD" || len(cf.ConditionSets[0].ConditionSets) != 1 {
		t.Errorf("conditional feature = %+v", cf)
	}
	if len(fm.OEMConditionalFeatures) != 1 {
		t.Fatalf("OEM conditional features = %+v", fm.OEMConditionalFeatures)
	}
	if ocf := fm.OEMConditionalFeatures[0]; ocf.FeatureID != "OEM_COND" || ocf.UpdateAction != "NoUpdate" || ocf.Pos.Line != 40 ||
		len(ocf.Conditions) != 1 || ocf.Conditions[0].FeatureStatus != "NotInstalled" || ocf.Conditions[0].Name != "OEM_TEST_FEATURE1" {
		t.Errorf("OEM conditional feature = %+v", ocf)
	}
	if fm.BootUILanguagePackageFile.Partition != "EFIESP" || fm.BootLocalePackageFile.Name != "BootLocale_$(bootlocale).spkg" {
		t.Errorf("boot packages: %+v %+v", fm.BootUILanguagePackageFile, fm.BootLocalePackageFile)
	}
	if f := fm.KeyboardPackages[0].LanguageFilter; !reflect.DeepEqual(f.Values, []string{"en-US", "fr-FR", "ja-JP"}) {
		t.Errorf("keyboard filter = %+v", f)
	}
}

// The sample FM of feature-manifest-file-contents.md.
func TestParseFeatureManifestDocExample(t *testing.T) {
	fm, err := ParseFeatureManifest("doc_example_FM.xml", read(t, "testdata/doc_example_FM.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fm.BasePackages) != 1 || len(fm.OEMFeatures) != 1 || len(fm.ReleasePackages) != 1 || len(fm.PrereleasePackages) != 1 ||
		len(fm.OEMDevicePlatformPackages) != 1 {
		t.Errorf("groups: %+v", fm)
	}
	if p := fm.PrereleasePackages[0]; p.Type != "replacement" || p.ID != "Contoso.MainOS.Protected_Replacement_Production" || !p.FeatureIdentifierPackage {
		t.Errorf("prerelease = %+v", p)
	}
}

// The FMFileList sample of FeatureMerger's documentation (seed 004), verbatim.
func TestParseFMFileListSeed004(t *testing.T) {
	l, err := ParseFMFileList("seed004_FMFileList.xml", read(t, "testdata/seed004_FMFileList.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.FMs) != 2 {
		t.Fatalf("FMs = %d", len(l.FMs))
	}
	want := FMEntry{Pos: Pos{"seed004_FMFileList.xml", 7, 5}, Path: `D:\FeatureMergeTest\OEMSampleFM1.xml`, ID: "FM1", ReleaseType: "Test", OwnerType: "OEM", OwnerName: "Contoso"}
	if !reflect.DeepEqual(*l.FMs[0], want) {
		t.Errorf("FM[0] = %+v, want %+v", *l.FMs[0], want)
	}
	if l.FMs[1].ID != "FM2" {
		t.Errorf("FM[1] = %+v", l.FMs[1])
	}
	if got := texts(l.SupportedResolutions); !reflect.DeepEqual(got, []string{"480x800", "720x1280", "768x1280"}) {
		t.Errorf("resolutions = %v", got)
	}
	if got := texts(l.SupportedLanguages); !reflect.DeepEqual(got, []string{"en-US"}) {
		t.Errorf("languages = %v", got)
	}
	if got := texts(l.SupportedLocales); !reflect.DeepEqual(got, []string{"en-US"}) {
		t.Errorf("locales = %v", got)
	}
}

func TestParseFMFileListFull(t *testing.T) {
	src := `<FMCollectionManifest xmlns="` + Namespace + `" Product="Windows Phone">
  <FMs>
    <FM Path="$(FMDirectory)\A.xml" ID="A" MicrosoftFMGUID="{1}" ReleaseType="Production" UserInstallable="true" SkipForPublishing="false"
        SkipForPRSSigning="1" ValidateAsMicrosoftPhoneFM="0" Critical="true" OwnerType="Microsoft" OwnerName="Microsoft" CPUType="arm;arm64"/>
  </FMs>
  <IsBuildFeatureEnabled>true</IsBuildFeatureEnabled>
  <ChunkMappingsFile>chunks.xml</ChunkMappingsFile>
  <FeatureIdentifierPackages>
    <FeatureIdentifierPackage FeatureID="X" ID="Pkg" FMID="A" Partition="MainOS" OwnerType="OEM" FixUpAction="Ignore" FixUpActionValue="v"/>
  </FeatureIdentifierPackages>
</FMCollectionManifest>`
	l, err := ParseFMFileList("l.xml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := l.FMs[0]
	if l.Product != "Windows Phone" || !l.IsBuildFeatureEnabled || l.ChunkMappingsFile != "chunks.xml" || !f.UserInstallable || f.SkipForPublishing ||
		!f.SkipForPRSSigning || f.ValidateAsMicrosoftPhoneFM || !f.Critical || f.CPUType != "arm;arm64" || f.MicrosoftFMGUID != "{1}" {
		t.Errorf("parsed %+v %+v", l, f)
	}
	if p := l.FeatureIdentifierPackages[0]; p.FixUpActionValue != "v" || p.FeatureID != "X" {
		t.Errorf("feature identifier package %+v", p)
	}
}

// Every XML file of the example workspace parses with the parser its root element calls for.
// The example lives outside this package: `go test` sees it, a Bazel sandbox does not.
func TestExamplesParse(t *testing.T) {
	if _, err := os.Stat("../../examples/contoso"); err != nil {
		t.Skip("examples/contoso is not visible from here (Bazel sandbox)")
	}
	files, _ := filepath.Glob("../../examples/contoso/*/*/*.xml")
	more, _ := filepath.Glob("../../examples/contoso/*/*.xml")
	files = append(files, more...)
	n := 0
	root := regexp.MustCompile(`<(OEMInput|FeatureManifest|FMCollectionManifest)[\s>]`)
	for _, f := range files {
		data := read(t, f)
		m := root.FindSubmatch(data)
		if m == nil {
			continue
		}
		n++
		var err error
		switch string(m[1]) {
		case "OEMInput":
			_, err = ParseOEMInput(f, data)
		case "FeatureManifest":
			_, err = ParseFeatureManifest(f, data)
		default:
			_, err = ParseFMFileList(f, data)
		}
		if err != nil {
			t.Errorf("%v", err)
		}
	}
	if n < 8 {
		t.Errorf("only %d example files found", n)
	}
}

const ns = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`

// oemInput builds a valid OEMInput with body replacing the line holding marker (or appended).
func oemInput(replace, with string) string {
	base := `<?xml version="1.0"?>
<OEMInput ` + ns + `>
  <SOC>SOC8000</SOC>
  <Device>Phone</Device>
  <ReleaseType>Test</ReleaseType>
  <BuildType>fre</BuildType>
  <SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface></SupportedLanguages>
  <BootUILanguage>en-US</BootUILanguage>
  <BootLocale>en-US</BootLocale>
  <!--extra-->
</OEMInput>`
	if replace == "" {
		replace = "<!--extra-->"
	}
	if !strings.Contains(base, replace) {
		panic("no " + replace)
	}
	return strings.Replace(base, replace, with, 1)
}

func TestOEMInputErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each a substring of the error, the first with its position
	}{
		{"malformed", "<OEMInput " + ns + "><SOC>x</Device></OEMInput>", []string{"x.xml:1:", "malformed XML", "expected well-formed XML"}},
		{"unclosed", "<OEMInput " + ns + ">\n<SOC>x</SOC>\n", []string{"x.xml:", "malformed XML"}},
		{"empty file", "", []string{"x.xml:1:1", "no root element"}},
		{"not xml", "hello", []string{"x.xml:1:1", "text outside the root element"}},
		{"two roots", "<OEMInput " + ns + "/>\n<OEMInput/>", []string{"x.xml:2:1", "second root element"}},
		{"wrong root", "<FeatureManifest " + ns + "/>", []string{"x.xml:1:1", "root element is <FeatureManifest>; expected <OEMInput>"}},
		{"no namespace", strings.Replace(oemInput("", ""), " "+ns, "", 1), []string{"x.xml:2:1", "in no namespace; expected namespace http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"}},
		{"wrong namespace", strings.Replace(oemInput("", ""), "http://", "https://", 1), []string{"x.xml:2:1", "in namespace https://schemas.microsoft.com/embedded/2004/10/ImageUpdate; expected namespace http://"}},
		{"child in other namespace", oemInput("", `<x:Foo xmlns:x="urn:x"/>`), []string{"x.xml:10:3", "<x:Foo> is in namespace urn:x"}},
		{"unknown element", oemInput("", "<Sock>x</Sock>"), []string{"x.xml:10:3", "unknown element <Sock> in <OEMInput>; expected one of Product,", "did you mean SOC?"}},
		{"case of element", oemInput("", "<description>x</description>"), []string{"x.xml:10:3", "did you mean Description? names are case-sensitive"}},
		{"duplicate element", oemInput("", "<SOC>y</SOC>"), []string{"x.xml:10:3", "<SOC> appears twice in <OEMInput> (first at line 3)"}},
		{"missing SOC", oemInput("<SOC>SOC8000</SOC>", ""), []string{"x.xml:2:1", "missing <SOC> in <OEMInput>; expected exactly one <SOC> element"}},
		{"missing Device", oemInput("<Device>Phone</Device>", ""), []string{"missing <Device>"}},
		{"missing ReleaseType", oemInput("<ReleaseType>Test</ReleaseType>", ""), []string{"missing <ReleaseType>"}},
		{"missing BuildType", oemInput("<BuildType>fre</BuildType>", ""), []string{"missing <BuildType>"}},
		{"missing languages", oemInput("<SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface></SupportedLanguages>", ""), []string{"missing <SupportedLanguages>"}},
		{"missing BootUILanguage", oemInput("<BootUILanguage>en-US</BootUILanguage>", ""), []string{"missing <BootUILanguage>"}},
		{"missing BootLocale", oemInput("<BootLocale>en-US</BootLocale>", ""), []string{"missing <BootLocale>"}},
		{"missing UserInterface", oemInput("<UserInterface><Language>en-US</Language></UserInterface>", "<Keyboard><Language>en-US</Language></Keyboard>"), []string{"x.xml:7:3", "missing <UserInterface> in <SupportedLanguages>"}},
		{"empty UserInterface", oemInput("<Language>en-US</Language></UserInterface>", "</UserInterface>"), []string{"x.xml:7:23", "<UserInterface> has no <Language>; expected at least one"}},
		{"bad language", oemInput("<Language>en-US</Language>", "<Language>en_US;x</Language>"), []string{"x.xml:7:38", `language "en_US;x" is not a language code`}},
		{"empty SOC", oemInput("<SOC>SOC8000</SOC>", "<SOC> </SOC>"), []string{"x.xml:3:3", "<SOC> is empty; expected the SoC name"}},
		{"release type", oemInput("<ReleaseType>Test</ReleaseType>", "<ReleaseType>Retail</ReleaseType>"), []string{"x.xml:5:3", `<ReleaseType> is "Retail"; expected Test or Production`}},
		{"release type case", oemInput("<ReleaseType>Test</ReleaseType>", "<ReleaseType>test</ReleaseType>"), []string{`"test"; expected Test or Production (values are case-sensitive)`}},
		{"build type", oemInput("<BuildType>fre</BuildType>", "<BuildType>debug</BuildType>"), []string{"x.xml:6:3", `<BuildType> is "debug"; expected one of fre, chk, a %VARIABLE%`}},
		{"FormatDPP", oemInput("", "<FormatDPP>yes</FormatDPP>"), []string{"x.xml:10:3", `<FormatDPP> is "yes"; expected true or false`}},
		{"ExcludePrereleaseFeatures", oemInput("", "<ExcludePrereleaseFeatures>1</ExcludePrereleaseFeatures>"), []string{`<ExcludePrereleaseFeatures> is "1"; expected true or false`}},
		{"resolution", oemInput("", "<Resolutions><Resolution>720*1280</Resolution></Resolutions>"), []string{"x.xml:10:16", `resolution "720*1280" is not WIDTHxHEIGHT`}},
		{"empty resolutions", oemInput("", "<Resolutions/>"), []string{"<Resolutions> has no <Resolution>"}},
		{"features order", oemInput("", "<Features><OEM><Feature>A</Feature></OEM><Microsoft><Feature>B</Feature></Microsoft></Features>"), []string{"<Microsoft> after <OEM> in <Features>; expected <Microsoft> first"}},
		{"feature element", oemInput("", "<Features><Microsoft><FeatureID>A</FeatureID></Microsoft></Features>"), []string{"unknown element <FeatureID> in <Microsoft>; expected Feature"}},
		{"empty feature", oemInput("", "<Features><OEM><Feature/></OEM></Features>"), []string{"<Feature> is empty; expected a value"}},
		{"empty AdditionalFMs", oemInput("", "<AdditionalFMs></AdditionalFMs>"), []string{"<AdditionalFMs> has no <AdditionalFM>; the schema requires at least one"}},
		{"empty PackageFiles", oemInput("", "<PackageFiles><!-- none --></PackageFiles>"), []string{"<PackageFiles> has no <PackageFile>"}},
		{"PackageFiles self-closed", oemInput("", "<PackageFiles />"), []string{"x.xml:", "<PackageFiles> has no <PackageFile>; the schema requires at least one in it: remove the empty <PackageFiles> element or list a <PackageFile> in it"}},
		{"text in container", oemInput("", "<Features>oops</Features>"), []string{`unexpected text "oops" in <Features>`}},
		{"element in text", oemInput("<SOC>SOC8000</SOC>", "<SOC><b>x</b></SOC>"), []string{"x.xml:3:8", "unexpected element <b> in <SOC>; expected only text"}},
		{"attribute on element", oemInput("<SOC>SOC8000</SOC>", `<SOC Name="x">SOC8000</SOC>`), []string{"x.xml:3:8", "unknown attribute Name on <SOC>"}},
		{"UserStoreMapData attribute", oemInput("", `<UserStoreMapData SourceDir="a" Target="b"/>`), []string{"x.xml:10:35", "unknown attribute Target on <UserStoreMapData>; expected SourceDir or UserStoreDir"}},
		{"empty product", oemInput("", "<Product/>"), []string{"<Product> is empty"}},
		{"duplicate attribute", oemInput("", `<UserStoreMapData SourceDir="a" SourceDir="b"/>`), []string{"attribute SourceDir appears twice"}},
		{"invalid utf8", "<OEMInput " + ns + ">\n<SOC>\xff</SOC></OEMInput>", []string{"x.xml:2:6", "invalid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOEMInput("x.xml", []byte(tt.src))
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", want)
	}
	msg := err.Error()
	for i, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error\n%s\ndoes not contain %q", msg, w)
		}
		if i == 0 && !strings.HasPrefix(msg, w) && strings.HasPrefix(w, "x.xml") {
			t.Errorf("error\n%s\ndoes not start with %q", msg, w)
		}
	}
	var e *Error
	if !errors.As(err, &e) || e.Pos.File == "" {
		t.Errorf("error %v carries no position", err)
	}
}

func fmDoc(body string) string {
	return "<?xml version=\"1.0\"?>\n<FeatureManifest " + ns + ">\n" + body + "\n</FeatureManifest>"
}

func TestFeatureManifestErrors(t *testing.T) {
	pf := func(attrs string) string {
		return `  <BasePackages><PackageFile Path="p" Name="a.spkg" ` + attrs + `/></BasePackages>`
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{"wrong root", "<OEMInput " + ns + "/>", []string{"x.xml:1:1", "root element is <OEMInput>; expected <FeatureManifest>"}},
		{"wrong namespace", `<FeatureManifest xmlns="urn:x"/>`, []string{"x.xml:1:1", "in namespace urn:x; expected namespace"}},
		{"root attribute", `<FeatureManifest ` + ns + ` OwnerTyp="x"/>`, []string{"x.xml:1:84", "unknown attribute OwnerTyp on <FeatureManifest>", "did you mean OwnerType?"}},
		{"release type", `<FeatureManifest ` + ns + ` ReleaseType="Retail"/>`, []string{"attribute ReleaseType of <FeatureManifest> is \"Retail\"; expected Production or Test"}},
		{"owner type", `<FeatureManifest ` + ns + ` OwnerType="Vendor"/>`, []string{"attribute OwnerType of <FeatureManifest> is \"Vendor\"; expected Microsoft or OEM"}},
		{"OS version", `<FeatureManifest ` + ns + ` OSVersion="10.0"/>`, []string{"attribute OSVersion of <FeatureManifest> is \"10.0\"; expected a version a.b.c.d"}},
		{"unknown group", fmDoc("  <BasPackages/>"), []string{"x.xml:3:3", "unknown element <BasPackages> in <FeatureManifest>", "did you mean BasePackages?"}},
		{"duplicate group", fmDoc("  <BasePackages/>\n  <BasePackages/>"), []string{"x.xml:4:3", "<BasePackages> appears twice"}},
		{"unknown child", fmDoc("  <BasePackages><Package Path=\"p\" Name=\"n\"/></BasePackages>"), []string{"x.xml:3:17", "unknown element <Package> in <BasePackages>; expected PackageFile"}},
		{"missing Name", fmDoc(`  <BasePackages><PackageFile Path="p"/></BasePackages>`), []string{"x.xml:3:17", "<PackageFile> has no Name attribute; expected the package's file name"}},
		{"missing Path", fmDoc(`  <BasePackages><PackageFile Name="a.spkg"/></BasePackages>`), []string{"has no Path attribute"}},
		{"empty Name", fmDoc(`  <BasePackages><PackageFile Path="p" Name=""/></BasePackages>`), []string{"x.xml:3:39", "attribute Name of <PackageFile> is empty"}},
		{"unknown attribute", fmDoc(pf(`Langauge="*"`)), []string{"x.xml:3:53", "unknown attribute Langauge on <PackageFile>", "did you mean Language?"}},
		{"group attribute elsewhere", fmDoc(pf(`SOC="x"`)), []string{"unknown attribute SOC on <PackageFile>"}},
		{"bool", fmDoc(pf(`NoBasePackage="yes"`)), []string{"x.xml:3:53", `attribute NoBasePackage of <PackageFile> is "yes"; expected true or false`}},
		{"version", fmDoc(pf(`Version="1.2"`)), []string{`attribute Version of <PackageFile> is "1.2"; expected a version a.b.c.d`}},
		{"cpu", fmDoc(pf(`CPUType="mips"`)), []string{`attribute CPUType of <PackageFile> is "mips"; expected CPU types from x86, arm, amd64, arm64`}},
		{"wow", fmDoc(pf(`Wow="z80"`)), []string{`attribute Wow of <PackageFile> is "z80"`}},
		{"language syntax", fmDoc(pf(`Language="en-US"`)), []string{`attribute Language of <PackageFile> is "en-US"; expected "*", "(a;b)" or "!(a;b)"`}},
		{"language star mixed", fmDoc(pf(`Language="(*;en-US)"`)), []string{`"*" cannot be mixed with a list`}},
		{"language bang inside", fmDoc(pf(`Language="(!en-US)"`)), []string{`list item "!en-US" is not valid`}},
		{"resolution syntax", fmDoc(pf(`Resolution="(720x1280;big)"`)), []string{`attribute Resolution of <PackageFile> is "(720x1280;big)"`, `list item "big"`}},
		{"release missing", fmDoc(`  <ReleasePackages><PackageFile Path="p" Name="a.spkg"/></ReleasePackages>`), []string{"<PackageFile> has no ReleaseType attribute; expected Test or Production"}},
		{"release value", fmDoc(`  <ReleasePackages><PackageFile Path="p" Name="a.spkg" ReleaseType="Retail"/></ReleasePackages>`), []string{`attribute ReleaseType of <PackageFile> is "Retail"; expected Test or Production`}},
		{"prerelease value", fmDoc(`  <PrereleasePackages><PackageFile Path="p" Name="a.spkg" Type="Protected"/></PrereleasePackages>`), []string{`attribute Type of <PackageFile> is "Protected"; expected protected or replacement (values are case-sensitive)`}},
		{"soc missing", fmDoc(`  <SOCPackages><PackageFile Path="p" Name="a.spkg"/></SOCPackages>`), []string{"has no SOC attribute"}},
		{"layout missing", fmDoc(`  <DeviceLayoutPackages><PackageFile Path="p" Name="a.spkg" Device="x"/></DeviceLayoutPackages>`), []string{"unknown attribute Device", "has no SOC attribute"}},
		{"sv missing", fmDoc(`  <SVPackages><PackageFile Path="p" Name="a.spkg"/></SVPackages>`), []string{"has no SV attribute"}},
		{"device missing", fmDoc(`  <DeviceSpecificPackages><PackageFile Path="p" Name="a.spkg"/></DeviceSpecificPackages>`), []string{"has no Device attribute"}},
		{"platform missing", fmDoc(`  <OEMDevicePlatformPackages><PackageFile Path="p" Name="a.spkg"/></OEMDevicePlatformPackages>`), []string{"has no Device attribute"}},
		{"keyboard resolution", fmDoc(`  <KeyboardPackages><PackageFile Path="p" Name="a.spkg" Resolution="*"/></KeyboardPackages>`), []string{"unknown attribute Resolution on <PackageFile>"}},
		{"bootui language", fmDoc(`  <BootUILanguagePackageFile Path="p" Name="a.spkg" Language="*"/>`), []string{"unknown attribute Language on <BootUILanguagePackageFile>"}},
		{"bootui child", fmDoc(`  <BootUILanguagePackageFile Path="p" Name="a.spkg"><X/></BootUILanguagePackageFile>`), []string{"unknown element <X> in <BootUILanguagePackageFile>; expected nothing here"}},
		{"feature without ids", fmDoc(`  <Features><OEM><PackageFile Path="p" Name="a.spkg"/></OEM></Features>`), []string{"x.xml:3:18", `feature <PackageFile> "a.spkg" has no <FeatureIDs>`}},
		{"feature ids empty", fmDoc(`  <Features><OEM><PackageFile Path="p" Name="a.spkg"><FeatureIDs/></PackageFile></OEM></Features>`), []string{"<FeatureIDs> has no <FeatureID>; expected at least one"}},
		{"feature ids elsewhere", fmDoc(`  <BasePackages><PackageFile Path="p" Name="a.spkg"><FeatureIDs/></PackageFile></BasePackages>`), []string{"unknown element <FeatureIDs> in <PackageFile>"}},
		{"group in Microsoft", fmDoc(`  <Features><Microsoft><FeatureGroup Constraint="OneAndOnlyOne"/></Microsoft></Features>`), []string{"x.xml:3:24", "<FeatureGroup> in <Features><Microsoft>; expected <FeatureGroup> in <Features><MSFeatureGroups>"}},
		{"unknown in Features", fmDoc(`  <Features><Optional/></Features>`), []string{"unknown element <Optional> in <Features>; expected one of MSConditionalFeatures"}},
		{"constraint", fmDoc(`  <Features><MSFeatureGroups><FeatureGroup Constraint="Exactly1"><FeatureIDs><FeatureID>A</FeatureID></FeatureIDs></FeatureGroup></MSFeatureGroups></Features>`), []string{`attribute Constraint of <FeatureGroup> is "Exactly1"; expected one of OneOrMore, ZeroOrOne, OneAndOnlyOne, ZeroOrMore`}},
		{"empty group", fmDoc(`  <Features><OEMFeatureGroups><FeatureGroup Name="G"/></OEMFeatureGroups></Features>`), []string{`<FeatureGroup> "G" has no <FeatureIDs> and no <SubGroups>`}},
		{"group child", fmDoc(`  <Features><OEMFeatureGroups><FeatureGroup><Members/></FeatureGroup></OEMFeatureGroups></Features>`), []string{"unknown element <Members> in <FeatureGroup>; expected FeatureIDs or SubGroups"}},
		{"conditional action", fmDoc(`  <Features><MSConditionalFeatures><ConditionalFeature FeatureID="X" UpdateAction="Add"/></MSConditionalFeatures></Features>`), []string{`attribute UpdateAction of <ConditionalFeature> is "Add"; expected one of Install, Remove, NoUpdate`}},
		{"OEM conditional action", fmDoc(`  <Features><OEMConditionalFeatures><ConditionalFeature FeatureID="X" UpdateAction="Install"/></OEMConditionalFeatures></Features>`),
			[]string{"x.xml:3:37", `OEM conditional feature X has UpdateAction "Install"; expected NoUpdate`}},
		{"OEM conditional child", fmDoc(`  <Features><OEMConditionalFeatures><Condition Type="Feature"/></OEMConditionalFeatures></Features>`),
			[]string{"x.xml:3:37", "unknown element <Condition> in <OEMConditionalFeatures>; expected ConditionalFeature"}},
		{"conditional id", fmDoc(`  <Features><MSConditionalFeatures><ConditionalFeature/></MSConditionalFeatures></Features>`), []string{"<ConditionalFeature> has no FeatureID attribute"}},
		{"condition type", fmDoc(`  <Features><MSConditionalFeatures><ConditionalFeature FeatureID="X"><Condition Type="Env"/></ConditionalFeature></MSConditionalFeatures></Features>`), []string{`attribute Type of <Condition> is "Env"; expected one of NameValuePair, Registry, Feature`}},
		{"condition operator", fmDoc(`  <Features><MSConditionalFeatures><ConditionalFeature FeatureID="X"><Condition Type="Feature" Operator="=="/></ConditionalFeature></MSConditionalFeatures></Features>`), []string{`attribute Operator of <Condition> is "=="`}},
		{"condition status", fmDoc(`  <Features><MSConditionalFeatures><ConditionalFeature FeatureID="X"><Condition Type="Feature" FeatureStatus="On"/></ConditionalFeature></MSConditionalFeatures></Features>`), []string{`expected Installed or NotInstalled`}},
		{"condition set op", fmDoc(`  <Features><MSConditionalFeatures><ConditionalFeature FeatureID="X"><ConditionSet Operator="XOR"/></ConditionalFeature></MSConditionalFeatures></Features>`), []string{`attribute Operator of <ConditionSet> is "XOR"; expected AND or OR`}},
		{"duplicate ID", fmDoc(`  <BasePackages>
    <PackageFile Path="p" Name="A.spkg"/>
    <PackageFile Path="q" Name="a.spkg"/>
  </BasePackages>`), []string{"x.xml:5:5", "duplicate package ID a in BasePackages (first at line 4); expected each package once per group"}},
		{"duplicate explicit ID", fmDoc(`  <SOCPackages>
    <PackageFile Path="p" Name="A.spkg" ID="X" SOC="S1"/>
    <PackageFile Path="p" Name="B.spkg" ID="x" SOC="s1"/>
  </SOCPackages>`), []string{"x.xml:5:5", "duplicate package ID x in SOCPackages SOC=s1 (first at line 4)"}},
		{"duplicate feature package", fmDoc(`  <Features><Microsoft>
    <PackageFile Path="p" Name="A.spkg"><FeatureIDs><FeatureID>F1</FeatureID></FeatureIDs></PackageFile>
    <PackageFile Path="p" Name="A.spkg"><FeatureIDs><FeatureID>F2</FeatureID></FeatureIDs></PackageFile>
  </Microsoft></Features>`), []string{"x.xml:5:5", "duplicate package ID A in Features/Microsoft"}},
		{"malformed attribute", fmDoc(`  <BasePackages><PackageFile Path="p Name="a"/></BasePackages>`), []string{"x.xml:3:", "malformed XML"}},
		{"utf16 error position", string(utf16le("<FeatureManifest " + ns + ">\n<Bogus/></FeatureManifest>")), []string{"x.xml:2:1", "unknown element <Bogus>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFeatureManifest("x.xml", []byte(tt.src))
			checkErr(t, err, tt.want)
		})
	}
}

// The same package in one group is allowed for different selectors or CPU types.
func TestFeatureManifestNotDuplicates(t *testing.T) {
	src := fmDoc(`  <SOCPackages>
    <PackageFile Path="p" Name="A.spkg" SOC="S1"/>
    <PackageFile Path="p" Name="A.spkg" SOC="S2"/>
  </SOCPackages>
  <CPUPackages>
    <PackageFile Path="p" Name="C.spkg" CPUType="arm"/>
    <PackageFile Path="p" Name="C.spkg" CPUType="x86"/>
  </CPUPackages>
  <BasePackages><PackageFile Path="p" Name="A.spkg"/></BasePackages>`)
	if _, err := ParseFeatureManifest("x.xml", []byte(src)); err != nil {
		t.Error(err)
	}
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func TestEncodings(t *testing.T) {
	src := oemInput("", "")
	for name, data := range map[string][]byte{
		"utf8 bom": append([]byte{0xEF, 0xBB, 0xBF}, src...),
		"utf16le":  utf16le(strings.Replace(src, `version="1.0"`, `version="1.0" encoding="utf-16"`, 1)),
		"utf16be": func() []byte {
			le := utf16le(src)
			for i := 0; i+1 < len(le); i += 2 {
				le[i], le[i+1] = le[i+1], le[i]
			}
			return le
		}(),
	} {
		o, err := ParseOEMInput(name, data)
		if err != nil || o.SOC != "SOC8000" || o.Pos.Line != 2 {
			t.Errorf("%s: %v %+v", name, err, o)
		}
	}
}

func TestFMFileListErrors(t *testing.T) {
	l := func(body string) string {
		return "<FMCollectionManifest " + ns + ">\n" + body + "\n</FMCollectionManifest>"
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{"wrong root", "<FMFileList " + ns + "/>", []string{"x.xml:1:1", "root element is <FMFileList>; expected <FMCollectionManifest>"}},
		{"no FMs", l(""), []string{"x.xml:1:1", "missing <FMs> in <FMCollectionManifest>"}},
		{"empty FMs", l("<FMs/>"), []string{"x.xml:2:1", "<FMs> has no <FM>"}},
		{"no path", l(`<FMs><FM ID="A"/></FMs>`), []string{"x.xml:2:6", "<FM> has no Path attribute"}},
		{"no id", l(`<FMs><FM Path="a.xml"/></FMs>`), []string{"<FM> has no ID attribute"}},
		{"release type", l(`<FMs><FM Path="a.xml" ID="A" ReleaseType="Retail"/></FMs>`), []string{`attribute ReleaseType of <FM> is "Retail"; expected Test or Production`}},
		{"owner type", l(`<FMs><FM Path="a.xml" ID="A" OwnerType="SV"/></FMs>`), []string{`attribute OwnerType of <FM> is "SV"`}},
		{"cpu", l(`<FMs><FM Path="a.xml" ID="A" CPUType="ppc"/></FMs>`), []string{`attribute CPUType of <FM> is "ppc"`}},
		{"bool", l(`<FMs><FM Path="a.xml" ID="A" Critical="maybe"/></FMs>`), []string{`attribute Critical of <FM> is "maybe"; expected true or false`}},
		{"unknown attr", l(`<FMs><FM Path="a.xml" ID="A" Owner="x"/></FMs>`), []string{"unknown attribute Owner on <FM>"}},
		{"duplicate id", l("<FMs>\n<FM Path=\"a.xml\" ID=\"A\"/>\n<FM Path=\"b.xml\" ID=\"a\"/>\n</FMs>"), []string{"x.xml:4:1", "duplicate FM ID a (first at line 3); expected a different ID for each FM"}},
		{"bad resolution", l(`<FMs><FM Path="a.xml" ID="A"/></FMs><SupportedResolutions><Resolution>HD</Resolution></SupportedResolutions>`), []string{`resolution "HD" is not WIDTHxHEIGHT`}},
		{"unknown element", l(`<FMs><FM Path="a.xml" ID="A"/></FMs><Languages/>`), []string{"unknown element <Languages> in <FMCollectionManifest>"}},
		{"unknown list item", l(`<FMs><FM Path="a.xml" ID="A"/></FMs><SupportedLocales><Language>en-US</Language></SupportedLocales>`), []string{"unknown element <Language> in <SupportedLocales>; expected Locale"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFMFileList("x.xml", []byte(tt.src))
			checkErr(t, err, tt.want)
		})
	}
}

func TestFilterSelect(t *testing.T) {
	supported := []string{"en-US", "de-DE", "fr-FR"}
	tests := []struct {
		attr string
		want []string
	}{
		{"*", []string{"en-US", "de-DE", "fr-FR"}},
		{"(fr-FR;EN-us;ja-JP)", []string{"fr-FR", "EN-us"}},
		{"!(de-de)", []string{"en-US", "fr-FR"}},
		{"!(en-US;de-DE;fr-FR)", nil},
		{"( en-US ; de-DE )", []string{"en-US", "de-DE"}},
	}
	for _, tt := range tests {
		f, msg := ParseFilter(tt.attr, languageRE)
		if msg != "" {
			t.Fatalf("%s: %s", tt.attr, msg)
		}
		if got := f.Select(supported); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Select = %v, want %v", tt.attr, got, tt.want)
		}
	}
	var none *Filter
	if none.Select(supported) != nil {
		t.Error("nil filter selects something")
	}
	for _, bad := range []string{"", "en-US", "()", "!*", "(a;;b)", "!(", "(*)"} {
		if _, msg := ParseFilter(bad, languageRE); msg == "" {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
}

func TestMatchesCPU(t *testing.T) {
	tests := []struct {
		g    Group
		cpu  string
		img  string
		want bool
	}{
		{GroupBase, "", "x86", true},
		{GroupBase, "*", "arm64", true},
		{GroupBase, "arm;x86", "X86", true},
		{GroupBase, "ARM", "arm", true},
		{GroupBase, "arm", "arm64", false},
		{GroupSOC, "", "arm", true},
		{GroupSOC, "", "x86", false}, // SOCPkgFile's default CPUType is ARM
		{GroupDeviceLayout, "", "amd64", false},
		{GroupSOC, "x86", "x86", true},
	}
	for _, tt := range tests {
		p := &PackageFile{Group: tt.g, CPUType: tt.cpu}
		if got := p.MatchesCPU(tt.img); got != tt.want {
			t.Errorf("%s CPUType=%q on %s: %v, want %v", tt.g, tt.cpu, tt.img, got, tt.want)
		}
	}
}

func TestPositionsFallback(t *testing.T) {
	// A CDATA section holding '<', a DOCTYPE with an internal subset and a '>' inside an attribute
	// value must not throw the start-tag scan off.
	src := "<?xml version=\"1.0\"?>\n<!DOCTYPE OEMInput [<!ENTITY e \"x\"> <!-- <c> -->]>\n" + oemInput("<SOC>SOC8000</SOC>", "<SOC><![CDATA[<SOC8000>]]></SOC>")[len("<?xml version=\"1.0\"?>\n"):]
	src = strings.Replace(src, "<!--extra-->", `<UserStoreMapData SourceDir="a>b"/><Bogus/>`, 1)
	_, err := ParseOEMInput("x.xml", []byte(src))
	checkErr(t, err, []string{"x.xml:11:38", "unknown element <Bogus>"})
	var e ErrorList
	if !errors.As(err, &e) || len(e) != 1 {
		t.Errorf("errors = %v", err)
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"PRODUCTION_CORE", "PRODUCTIONCORE", 1}} {
		if got := Distance(tt.a, tt.b); got != tt.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

func TestLimits(t *testing.T) {
	nested := func(n int) string {
		return strings.Repeat("<a>\n", n) + strings.Repeat("</a>", n)
	}
	tests := []struct {
		name string
		data string
		want string // "" for a file within the limits
	}{
		{"deepest allowed", nested(MaxDepth), ""},
		{"one level too deep", nested(MaxDepth + 1), "x.xml:257:1: elements nested more than 256 deep"},
		{"a million levels", nested(1_000_000), "x.xml:257:1: elements nested more than 256 deep"},
		{"deep empty elements", strings.Repeat("<a>", MaxDepth-1) + "<b/><b/>" + strings.Repeat("</a>", MaxDepth-1), ""},
		{"as many elements as allowed", "<a>" + strings.Repeat("<b/>", MaxElements-1) + "</a>", ""},
		{"too many elements", "<a>" + strings.Repeat("<b/>", MaxElements) + "</a>", "x.xml:1:4194304: more than 1048576 elements"},
		{"too large", "<a>" + strings.Repeat(" ", MaxFileSize) + "</a>", "x.xml: 67108871 bytes; expected an XML file of at most 67108864 bytes"},
		{"longest tag", `<a b="` + strings.Repeat("x", MaxTokenLen-9) + `"/>`, ""},
		{"huge attribute", "<a>\n <b c=\"" + strings.Repeat("x", MaxTokenLen) + "\"/></a>", "x.xml:2:2: a tag of 1048585 bytes; expected at most 1048576 bytes in one tag"},
		{"huge text", "<a>\n" + strings.Repeat("x", MaxTokenLen+1) + "</a>", "x.xml:1:4: 1048578 bytes of text without markup"},
		{"huge trailing text", "<a/>" + strings.Repeat(" ", MaxTokenLen+1), "x.xml:1:5: 1048577 bytes of text without markup"},
		{"huge comment", "<a><!--" + strings.Repeat("x", MaxTokenLen) + "--></a>", "x.xml:1:4: a comment, CDATA section or declaration of 1048583 bytes"},
		{"many newlines", "<a>" + strings.Repeat("\n<b/>", 200000) + "<c></a>", "x.xml:200001:12: malformed XML: element <c> closed by </a>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDoc("x.xml", []byte(tt.data), "")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReadXMLFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.xml")
	if err := os.WriteFile(file, []byte("<a/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.xml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.xml")
	if err := os.WriteFile(huge, nil, 0o644); err != nil || os.Truncate(huge, MaxFileSize+1) != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{file, ""},
		{huge, huge + ": 67108865 bytes; expected at most 67108864, the limit on a file read whole"},
		{fifo, fifo + ": a named pipe; expected a regular file"},
		{dir, dir + ": a directory; expected a regular file"},
		{filepath.Join(dir, "none.xml"), filepath.Join(dir, "none.xml") + ": does not exist; expected a regular file"},
	}
	for _, tt := range tests {
		data, err := ReadXMLFile(tt.path)
		switch {
		case tt.want == "" && (err != nil || string(data) != "<a/>"):
			t.Errorf("ReadXMLFile(%s) = %q, %v", tt.path, data, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ReadXMLFile(%s) error %v, want %q", tt.path, err, tt.want)
		}
	}
	if _, err := ReadOEMInput(fifo); err == nil || err.Error() != fifo+": a named pipe; expected a regular file" {
		t.Errorf("ReadOEMInput(fifo) = %v", err)
	}
}

// pos agrees with counting lines from the start, for short and long lines across the index's
// blocks.
func TestPos(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		b.WriteString(strings.Repeat("y", i%7*(i%5)*97))
		b.WriteByte('\n')
	}
	b.WriteString(strings.Repeat("z", 5000))
	src := []byte(b.String())
	d := &doc{file: "f", src: src, lines: newLineIndex(src)}
	for off := 0; off <= len(src); off += 37 {
		line := 1 + bytes.Count(src[:off], []byte{'\n'})
		col := off - (bytes.LastIndexByte(src[:off], '\n') + 1) + 1
		if got := d.pos(off); got.Line != line || got.Col != col {
			t.Fatalf("pos(%d) = %d:%d, want %d:%d", off, got.Line, got.Col, line, col)
		}
	}
}

func TestUTF16Surrogates(t *testing.T) {
	text := "<a b=\"\U0001F600 \u00e9\"/>"
	for _, be := range []bool{false, true} {
		var data []byte
		u := utf16.Encode([]rune(text))
		if be {
			data = []byte{0xFE, 0xFF}
		} else {
			data = []byte{0xFF, 0xFE}
		}
		for _, c := range u {
			if be {
				data = append(data, byte(c>>8), byte(c))
			} else {
				data = append(data, byte(c), byte(c>>8))
			}
		}
		if got := string(toUTF8(data)); got != text {
			t.Errorf("big endian %v: %q, want %q", be, got, text)
		}
	}
	// A lone surrogate reads as U+FFFD, as utf16.Decode has it.
	if got := string(toUTF8([]byte{0xFF, 0xFE, 0x00, 0xD8, 'a', 0})); got != "\uFFFDa" {
		t.Errorf("lone surrogate: %q", got)
	}
}
