package gazelle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// largeTree writes a repository of nFM feature manifests, each referencing perFM packages of its
// own directory (half package projects with a source file, half checked-in .spkg files), by name
// under a Path that maps nowhere, plus OEMInputs and a package group at the root.
func largeTree(tb testing.TB, root string, nFM, perFM int) {
	tb.Helper()
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			tb.Fatal(err)
		}
	}
	write("WORKSPACE", "")
	write("BUILD.bazel", "# gazelle:oemimage_path %OEM_ROOT% oem\n# gazelle:oemimage_package_group all_packages\n")
	for i := 0; i < nFM; i++ {
		var fm strings.Builder
		fm.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<FeatureManifest xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate" OwnerType="OEM" OwnerName="Contoso" ReleaseType="Production">
  <BasePackages>
`)
		dir := fmt.Sprintf("oem/packages/g%02d/p%04d", i/100, i)
		for j := 0; j < perFM; j++ {
			name := fmt.Sprintf("Contoso.C%04d.S%02d", i, j)
			if j%2 == 0 {
				write(fmt.Sprintf("%s/%s.pkg.xml", dir, name), fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="C%04d" SubComponent="S%02d" ReleaseType="Production">
  <Components><OSComponent><Files><File Source="payload\s%02d.txt" DestinationDir="$(runtime.system32)" Name="s%02d.txt"/></Files></OSComponent></Components>
</Package>
`, i, j, j, j))
				write(fmt.Sprintf("%s/payload/s%02d.txt", dir, j), "x")
			} else {
				write(fmt.Sprintf("%s/%s.spkg", dir, name), "spkg")
			}
			fmt.Fprintf(&fm, "    <PackageFile Path=\"%%OEM_ROOT%%\\Packages\" Name=\"%s.spkg\"/>\n", name)
		}
		fm.WriteString("  </BasePackages>\n</FeatureManifest>\n")
		write(fmt.Sprintf("fm/g%02d/FM%04d.xml", i/100, i), fm.String())
	}
	for k := 0; k < 10; k++ {
		var fms strings.Builder
		for i := k; i < nFM; i += 10 {
			fmt.Fprintf(&fms, "    <AdditionalFM>%%OEM_ROOT%%\\FMFiles\\FM%04d.xml</AdditionalFM>\n", i)
		}
		write(fmt.Sprintf("images/Image%dOEMInput.xml", k), `<?xml version="1.0" encoding="utf-8"?>
<OEMInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Description>image</Description><SOC>SOC8000</SOC><Device>Phone</Device><ReleaseType>Production</ReleaseType><BuildType>fre</BuildType>
  <SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface><Keyboard><Language>en-US</Language></Keyboard><Speech><Language>en-US</Language></Speech></SupportedLanguages>
  <BootUILanguage>en-US</BootUILanguage><BootLocale>en-US</BootLocale><Resolutions><Resolution>720x1280</Resolution></Resolutions>
  <AdditionalFMs>
`+fms.String()+`  </AdditionalFMs>
</OEMInput>
`)
	}
}

// TestLargeTree runs gazelle on 1,000 FMs and 20,000 packages: every reference resolves, a second
// run changes nothing. With OEMGAZELLE_TREE=DIR it only writes the tree into DIR.
func TestLargeTree(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if dir := os.Getenv("OEMGAZELLE_TREE"); dir != "" {
		// bench/gazelle_large.sh times the real gazelle binary on this tree.
		largeTree(t, dir, 1000, 20)
		t.Skip("tree written to " + dir)
	}
	root := t.TempDir()
	largeTree(t, root, 1000, 20)

	start, cpu := time.Now(), cpuTime()
	stderr := runGazelle(t, root)
	first, firstCPU := time.Since(start), cpuTime()-cpu
	if stderr != "" {
		t.Fatalf("gazelle reported problems:\n%.2000s", stderr)
	}
	fm, err := os.ReadFile(filepath.Join(root, "fm/g07/BUILD.bazel"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name = "fm0777"`, `"//oem/packages/g07/p0777:Contoso.C0777.S19.spkg"`, `"//oem/packages/g07/p0777:s18"`} {
		if !strings.Contains(string(fm), want) {
			t.Errorf("fm/g07/BUILD.bazel lacks %s", want)
		}
	}
	if n := strings.Count(string(fm), `"//oem/packages/`); n != 100*20 {
		t.Errorf("fm/g07/BUILD.bazel: %d package labels, want %d", n, 100*20)
	}
	rootBuild, err := os.ReadFile(filepath.Join(root, "BUILD.bazel"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rootBuild), `"//oem/packages/`); n != 1000*20 {
		t.Errorf("all_packages: %d labels, want %d", n, 1000*20)
	}
	before := readBuildFiles(t, root)

	start, cpu = time.Now(), cpuTime()
	runGazelle(t, root)
	second, secondCPU := time.Since(start), cpuTime()-cpu
	compareBuildFiles(t, readBuildFiles(t, root), before)
	// Informational only: speed is measured by bench/gazelle_large.sh with the real binary,
	// not asserted by a test.
	t.Logf("1,000 FMs, 20,000 packages: first run %v (CPU %v), second run %v (CPU %v)", first, firstCPU, second, secondCPU)
}
