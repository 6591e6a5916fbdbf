package resolve

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// benchFMs generates feature manifests listing n packages in all, a quarter each as base
// packages (every tenth with language satellites), OEM feature packages (one feature per ten
// packages), SOC packages over two SOCs and release packages, and the index of every package
// file they can select.
func benchFMs(n int) (core, oem string, files []string) {
	q := n / 4
	var c, o strings.Builder
	c.WriteString(`<FeatureManifest ` + ns + ` OwnerType="Microsoft" ReleaseType="Production" ID="Core">` + "\n<BasePackages>\n")
	add := func(name string) { files = append(files, "bazel-out/k8-fastbuild/bin/kit/"+name) }
	for i := 0; i < q; i++ {
		if i%10 == 0 {
			fmt.Fprintf(&c, `<PackageFile Path="$(mspackageroot)\Retail\$(cputype)\$(buildtype)" Name="Base%d.spkg" Language="*"/>`+"\n", i)
			add(fmt.Sprintf("Base%d_Lang_en-US.spkg", i))
			add(fmt.Sprintf("Base%d_Lang_de-DE.spkg", i))
		} else {
			fmt.Fprintf(&c, `<PackageFile Path="$(mspackageroot)\Retail\$(cputype)\$(buildtype)" Name="Base%d.spkg"/>`+"\n", i)
		}
		add(fmt.Sprintf("Base%d.spkg", i))
	}
	c.WriteString("</BasePackages>\n<SOCPackages>\n")
	for i := 0; i < q; i++ {
		fmt.Fprintf(&c, `<PackageFile Path="$(mspackageroot)\SOC" Name="Soc%d.spkg" SOC="SOC%d"/>`+"\n", i, 8000+i%2)
		add(fmt.Sprintf("Soc%d.spkg", i))
	}
	c.WriteString("</SOCPackages>\n<ReleasePackages>\n")
	for i := 0; i < q; i++ {
		rt := []string{"Test", "Production"}[i%2]
		fmt.Fprintf(&c, `<PackageFile Path="$(mspackageroot)\Release" Name="Rel%d.spkg" ReleaseType="%s"/>`+"\n", i, rt)
		add(fmt.Sprintf("Rel%d.spkg", i))
	}
	c.WriteString("</ReleasePackages>\n</FeatureManifest>\n")

	o.WriteString(`<FeatureManifest ` + ns + ` OwnerType="OEM" ReleaseType="Production" ID="OEM">` + "\n<Features><OEM>\n")
	for i := 0; i < n-3*q; i++ {
		fmt.Fprintf(&o, `<PackageFile Path="%%OEM_ROOT%%\Packages" Name="Oem%d.spkg"><FeatureIDs><FeatureID>F%d</FeatureID></FeatureIDs></PackageFile>`+"\n", i, i/10)
		add(fmt.Sprintf("Oem%d.spkg", i))
	}
	o.WriteString("</OEM></Features>\n</FeatureManifest>\n")
	return c.String(), o.String(), files
}

func benchOEMInput(n int) string {
	var f strings.Builder
	for i := 0; i < n/4/10; i += 2 { // half the OEM features
		fmt.Fprintf(&f, "<Feature>F%d</Feature>", i)
	}
	return edit(baseOEMInput, "<Features><Microsoft><Feature>TEST</Feature></Microsoft></Features>",
		"<Features><OEM>"+f.String()+"</OEM></Features>",
		"<!--more-->", `<AdditionalFMs><AdditionalFM>%OEM_ROOT%\FMFiles\OEM.xml</AdditionalFM></AdditionalFMs>`)
}

func benchInput(b testing.TB, n int) (Input, int) {
	coreXML, oemXML, files := benchFMs(n)
	core, err := manifest.ParseFeatureManifest("Core.xml", []byte(coreXML))
	if err != nil {
		b.Fatal(err)
	}
	oem, err := manifest.ParseFeatureManifest("OEM.xml", []byte(oemXML))
	if err != nil {
		b.Fatal(err)
	}
	o, err := manifest.ParseOEMInput("OEMInput.xml", []byte(benchOEMInput(n)))
	if err != nil {
		b.Fatal(err)
	}
	return Input{
		OEMInput: o, MSPackageRoot: "MSPackages",
		LoadFM:     func(FMRef) (*manifest.FeatureManifest, error) { return oem, nil },
		LoadCoreFM: func(CoreFMRef) (*manifest.FeatureManifest, error) { return core, nil },
		Packages:   locate.Index{Names: locate.NewNames(files)},
	}, len(coreXML) + len(oemXML)
}

// BenchmarkResolve resolves an OEMInput against FMs listing n packages, FMs already parsed,
// every selected package located among n+ indexed files.
func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10000, 20000} {
		b.Run(fmt.Sprintf("packages=%d", n), func(b *testing.B) {
			in, _ := benchInput(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			var s *Selection
			for i := 0; i < b.N; i++ {
				var err error
				if s, err = Resolve(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(s.Packages)), "selected")
		})
	}
}

// BenchmarkParseAndResolve adds parsing the FM XML (etree plus the position scan) and building
// the package index: the whole work of `oemimage resolve` but reading files.
func BenchmarkParseAndResolve(b *testing.B) {
	for _, n := range []int{10000, 20000} {
		b.Run(fmt.Sprintf("packages=%d", n), func(b *testing.B) {
			coreXML, oemXML, files := benchFMs(n)
			oemInput := []byte(benchOEMInput(n))
			b.SetBytes(int64(len(coreXML) + len(oemXML)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o, err := manifest.ParseOEMInput("OEMInput.xml", oemInput)
				if err != nil {
					b.Fatal(err)
				}
				in := Input{
					OEMInput: o, MSPackageRoot: "MSPackages",
					LoadFM: func(FMRef) (*manifest.FeatureManifest, error) {
						return manifest.ParseFeatureManifest("OEM.xml", []byte(oemXML))
					},
					LoadCoreFM: func(CoreFMRef) (*manifest.FeatureManifest, error) {
						return manifest.ParseFeatureManifest("Core.xml", []byte(coreXML))
					},
					Packages: locate.Index{Names: locate.NewNames(files)},
				}
				if _, err := Resolve(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The benchmark's inputs select what they should: kept as a test so that `go test` runs it.
func TestBenchInputs(t *testing.T) {
	in, _ := benchInput(t, 400)
	s, err := Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	// 100 base + 10 x 2 satellites, 50 SOC8000, 50 Test release, 5 features x 10 packages.
	if want := 100 + 20 + 50 + 50 + 50; len(s.Packages) != want {
		t.Errorf("%d packages selected, want %d", len(s.Packages), want)
	}
}
