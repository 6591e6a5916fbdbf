package main

// Hostile packages (tools/cab, tools/spkg) and FeatureMerger runs (tools/merge): decompression
// bombs in members read whole, members longer than their folder, corrupt sources, and
// FMFileLists whose later FM fails. Case names start with "cab/".

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/cab/cabtest"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

const imageUpdateNS = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`

// hostileManifest is the identity of the packages these cases write.
func hostileManifest(owner, component string) spkg.Manifest {
	return spkg.Manifest{
		Identity:    spkg.Identity{Owner: owner, Component: component, Version: spkg.Version{Major: 10}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS",
	}
}

// goodPackage writes a valid package of one file and returns its file name.
func goodPackage(t *testing.T, dir, component string, data []byte, comp cab.Compression) string {
	t.Helper()
	m := hostileManifest("Contoso", component)
	name := m.Name() + ".spkg"
	payload := []spkg.Payload{{DevicePath: `\Windows\System32\` + component + ".dll", Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
	if _, err := spkg.WriteFile(filepath.Join(dir, name), m, payload, cab.Options{Compression: comp}); err != nil {
		t.Fatal(err)
	}
	return name
}

// metaPackage writes a package whose one file (devicePath, cabinet name 0_member) is given as
// cabinet bytes by build, which receives the DSM and the catalog as its first files and the
// size the DSM states for the member.
func metaPackage(t *testing.T, dir string, m spkg.Manifest, devicePath string, size int64, build func(small []cab.FileSource) ([]byte, error)) string {
	t.Helper()
	m.Files = []spkg.FileEntry{
		{FileType: "Regular", DevicePath: devicePath, CabPath: "0_member", Attributes: "Normal", FileSize: size},
		{FileType: "Manifest", DevicePath: m.ManifestPath(), CabPath: spkg.ManifestCabName, Attributes: "Normal"},
		{FileType: "Catalog", DevicePath: m.CatalogPath(), CabPath: spkg.CatalogCabName, Attributes: "Normal"},
	}
	dsm, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	data, err := build([]cab.FileSource{
		{Name: spkg.ManifestCabName, Size: int64(len(dsm)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(dsm)), nil }},
		{Name: spkg.CatalogCabName, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nil)), nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	name := m.Name() + ".spkg"
	writeFile(t, dir, name, data)
	return name
}

// bombFMPackage writes Microsoft.PhoneFM.spkg whose core FM decodes to nearly 2 GiB.
func bombFMPackage(t *testing.T, dir string, comp cab.Compression) string {
	m := hostileManifest("Microsoft", "PhoneFM")
	m.OwnerType = "Microsoft"
	const fm = `\Windows\ImageUpdate\FeatureManifest\Microsoft\MicrosoftPhoneFM.xml`
	// The member's size depends on the DSM's, which states it: iterate until it settles.
	size := int64(cab.MaxFolderBytes)
	for range 3 {
		var small int64
		metaPackage(t, dir, m, fm, size, func(files []cab.FileSource) ([]byte, error) {
			small = files[0].Size
			return nil, nil
		})
		size = cab.MaxFolderBytes - small
	}
	return metaPackage(t, dir, m, fm, size, func(files []cab.FileSource) ([]byte, error) {
		return cabtest.Bomb(files, "0_member", cab.MaxFolderBytes, comp)
	})
}

// featureMergerArgs merges fm (one FM or an FMFileList) with the packages in dir.
func featureMergerArgs(dir, fm string, extra ...string) []string {
	args := []string{"featuremerger", fm, "out", "1.2.3.4", "fms", "/FMID:Phone", "/OwnerName:Contoso", "/Variables:_cputype=arm;buildtype=fre"}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".spkg" {
			args = append(args, "--package="+e.Name())
		}
	}
	return append(args, extra...)
}

// baseFM is an FM listing the named packages as BasePackages.
func baseFM(t *testing.T, dir, file string, packages ...string) {
	t.Helper()
	xml := `<FeatureManifest ` + imageUpdateNS + ` ID="ContosoFM" OwnerType="OEM" ReleaseType="Test"><BasePackages>`
	for _, p := range packages {
		xml += `<PackageFile Path="%PKGS%" Name="` + p + `"/>`
	}
	writeFile(t, dir, file, []byte(xml+`</BasePackages></FeatureManifest>`))
}

func init() {
	for _, comp := range []cab.Compression{cab.LZX, cab.MSZIP} {
		comp := comp
		addHostile(hostileCase{
			// man.dsm.xml of 2 GiB from 6-12 MB: featuremerger reads every source's DSM whole.
			name: "cab/" + comp.String() + "-bomb-dsm/featuremerger",
			setup: func(t *testing.T, dir string) []string {
				data, err := cabtest.Bomb(nil, spkg.ManifestCabName, cab.MaxFolderBytes, comp)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, "Contoso.Bomb.spkg", data)
				baseFM(t, dir, "fm.xml", "Contoso.Bomb.spkg")
				return featureMergerArgs(dir, "fm.xml")
			},
			want: []string{"Contoso.Bomb.spkg", "man.dsm.xml", "at most 16777216"},
		}, hostileCase{
			// The core FM of 2 GiB: resolve reads it whole out of Microsoft.PhoneFM.spkg.
			name: "cab/" + comp.String() + "-bomb-core-fm/resolve",
			setup: func(t *testing.T, dir string) []string {
				pkg := bombFMPackage(t, dir, comp)
				writeFile(t, dir, "OEMInput.xml", []byte(`<OEMInput `+imageUpdateNS+`><Description>bomb</Description><SOC>SOC8000</SOC>
  <Device>Phone1</Device><ReleaseType>Test</ReleaseType><BuildType>fre</BuildType>
  <SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface><Keyboard><Language>en-US</Language></Keyboard>
  <Speech><Language>en-US</Language></Speech></SupportedLanguages><BootUILanguage>en-US</BootUILanguage><BootLocale>en-US</BootLocale>
  <Resolutions><Resolution>720x1280</Resolution></Resolutions></OEMInput>`))
				return []string{"resolve", "OEMInput.xml", "MSPackages", "--package=" + pkg}
			},
			want: []string{"Microsoft.PhoneFM.spkg", "MicrosoftPhoneFM.xml", "at most 16777216"},
		})
	}

	addHostile(hostileCase{
		// The DSM and the CFFILE say 50,000 bytes; the folder's blocks hold 40,000.
		name: "cab/member-longer-than-folder/featuremerger",
		setup: func(t *testing.T, dir string) []string {
			payload := bytes.Repeat([]byte("driver "), 40000/7)
			pkg := metaPackage(t, dir, hostileManifest("Contoso", "Short"), `\Windows\System32\short.dll`, 50000, func(small []cab.FileSource) ([]byte, error) {
				var m cab.MemFile
				files := append(small, cab.FileSource{Name: "0_member", Size: int64(len(payload)), Open: func() (io.ReadCloser, error) {
					return io.NopCloser(bytes.NewReader(payload)), nil
				}})
				if _, err := cab.Write(&m, files, cab.Options{Compression: cab.MSZIP}); err != nil {
					return nil, err
				}
				return cabtest.SetFileSize(m.Bytes(), "0_member", 50000)
			})
			baseFM(t, dir, "fm.xml", pkg)
			return featureMergerArgs(dir, "fm.xml")
		},
		// The merged catalog's hashing pass reads the member first and finds the folder short.
		want: []string{"Contoso.Short.spkg", `\Windows\System32\short.dll`, "its folder's blocks end 10002 bytes short"},
	})

	for _, tt := range []struct {
		name      string
		comp      cab.Compression
		clearSums bool
	}{{"checksum", cab.MSZIP, false}, {"lzx-frame-unchecksummed", cab.LZX, true}} {
		tt := tt
		addHostile(hostileCase{
			// A source with a CFDATA checksum error, or a corrupt LZX frame in a folder without
			// checksums: the merged package would fail cabextract -t.
			name: "cab/corrupt-source-" + tt.name + "/featuremerger",
			setup: func(t *testing.T, dir string) []string {
				good := goodPackage(t, dir, "Settings", bytes.Repeat([]byte("settings data "), 20000), cab.None)
				bad := goodPackage(t, dir, "Kernel", x86Code(200000), tt.comp)
				data, _ := os.ReadFile(filepath.Join(dir, bad))
				data, err := cabtest.CorruptBlock(data, 0, 3, tt.clearSums)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, dir, bad, data)
				baseFM(t, dir, "fm.xml", good, bad)
				return featureMergerArgs(dir, "fm.xml")
			},
			want: []string{"Contoso.Kernel.spkg", `\Windows\System32\Kernel.dll`},
		})
	}

	fmList := func(second string) func(t *testing.T, dir string) []string {
		return func(t *testing.T, dir string) []string {
			baseFM(t, dir, "first.xml", goodPackage(t, dir, "Settings", []byte("settings"), cab.MSZIP))
			baseFM(t, dir, "second.xml", goodPackage(t, dir, "Apps", []byte("apps"), cab.MSZIP))
			writeFile(t, dir, "list.xml", []byte(`<FMCollectionManifest `+imageUpdateNS+`><FMs>
  <FM Path="$(FMDirectory)\first.xml" ReleaseType="Test" OwnerType="OEM" ID="Phone" OwnerName="Contoso"/>
  `+second+`
</FMs></FMCollectionManifest>`))
			return featureMergerArgs(dir, "list.xml", "/InputFMDirPath:.", "--fm=first.xml", "--fm=second.xml")
		}
	}
	addHostile(hostileCase{
		// The first FM merges; the second is Production with an ID other than Phone or
		// Variant. Nothing of the first may stay.
		name:  "cab/fmfilelist-later-fm-fails/featuremerger",
		setup: fmList(`<FM Path="$(FMDirectory)\second.xml" ReleaseType="Production" OwnerType="OEM" ID="Custom" OwnerName="Contoso"/>`),
		want:  []string{"list.xml", "FM Custom", "Phone or Variant"},
	}, hostileCase{
		name:  "cab/fmfilelist-missing-fm/featuremerger",
		setup: fmList(`<FM Path="$(FMDirectory)\missing.xml" ReleaseType="Test" OwnerType="OEM" ID="Variant" OwnerName="Contoso"/>`),
		want:  []string{"list.xml", "missing.xml"},
	})
}

// x86Code is bytes that compress the way code does, with E8 calls for LZX's translation.
func x86Code(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		switch {
		case i%97 == 0:
			b[i] = 0xE8
		default:
			b[i] = byte(i*7/13) ^ byte(i>>9)
		}
	}
	return b
}
