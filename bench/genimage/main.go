// Command genimage writes a synthetic image definition for the benchmarks:
//
//	genimage [-compress=none|mszip|lzx] [-mainos=fat32|ntfs] DIR TOTAL_MIB COUNT [DISK_GIB]
//
// DIR/packages: COUNT MainOS packages holding about TOTAL_MIB of payload (mixed sizes, half
// compressible), a device layout package (EFIESP FAT, MainOS with MinFreeSectors in -mainos's
// file system, Data FAT32 using all space), a device platform package (MinSectorCount =
// DISK_GIB, default 8) and the core FM package Microsoft.PhoneFM.spkg; DIR/fm/BenchFM.xml lists
// them; DIR/OEMInput.xml selects them. Packages are written with -compress (default none).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

const ns = `xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"`

// cabOptions are the options every package is written with (-compress).
var cabOptions cab.Options

func main() {
	compress := flag.String("compress", "none", "package compression: none, mszip or lzx")
	mainOSFS := flag.String("mainos", "fat32", "MainOS file system: fat32 or ntfs")
	flag.Parse()
	args := flag.Args()
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: genimage [-compress=none|mszip|lzx] [-mainos=fat32|ntfs] DIR TOTAL_MIB COUNT [DISK_GIB]")
		os.Exit(2)
	}
	switch *compress {
	case "none":
		cabOptions.Compression = cab.None
	case "mszip":
		cabOptions.Compression = cab.MSZIP
	case "lzx":
		cabOptions.Compression = cab.LZX
	default:
		fail(fmt.Errorf("-compress=%s: expected none, mszip or lzx", *compress))
	}
	fsName := map[string]string{"fat32": "FAT32", "ntfs": "NTFS"}[*mainOSFS]
	if fsName == "" {
		fail(fmt.Errorf("-mainos=%s: expected fat32 or ntfs", *mainOSFS))
	}
	dir := args[0]
	total, _ := strconv.ParseInt(args[1], 10, 64)
	count, _ := strconv.Atoi(args[2])
	diskGiB := int64(8)
	if len(args) > 3 {
		diskGiB, _ = strconv.ParseInt(args[3], 10, 64)
	}
	pkgs := filepath.Join(dir, "packages")
	for _, d := range []string{pkgs, filepath.Join(dir, "fm")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fail(err)
		}
	}
	rng := rand.New(rand.NewSource(1))
	sizes := make([]float64, count)
	var sum float64
	for i := range sizes {
		sizes[i] = math.Exp(rng.Float64()*math.Log(64) + math.Log(64<<10))
		sum += sizes[i]
	}
	var base strings.Builder
	for i, s := range sizes {
		n := int64(s / sum * float64(total<<20))
		data := content(rng, n)
		name := write(pkgs, "Bench", fmt.Sprintf("Pkg%05d", i), "MainOS", map[string][]byte{
			fmt.Sprintf(`\Windows\System32\Bench\%03d\file%05d.dll`, i%100, i): data,
		})
		fmt.Fprintf(&base, "    <PackageFile Path=\"%%BENCH%%\" Name=\"%s\"/>\n", name)
	}
	layout := fmt.Sprintf(`<DeviceLayout %s><Partitions>
<Partition><Name>EFIESP</Name><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><TotalSectors>65536</TotalSectors><FileSystem>FAT</FileSystem></Partition>
<Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>262144</MinFreeSectors><FileSystem>%s</FileSystem></Partition>
<Partition><Name>Data</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><UseAllSpace>true</UseAllSpace><FileSystem>FAT32</FileSystem></Partition>
</Partitions><SectorSize>512</SectorSize><ChunkSize>128</ChunkSize></DeviceLayout>`, ns, fsName)
	platform := fmt.Sprintf(`<OEMDevicePlatform %s><MinSectorCount>%d</MinSectorCount><DevicePlatformID>Bench.Device</DevicePlatformID></OEMDevicePlatform>`, ns, diskGiB<<30/512)
	lname := write(pkgs, "Bench", "Layout", "MainOS", map[string][]byte{`\Windows\ImageUpdate\DeviceLayout.xml`: []byte(layout)})
	pname := write(pkgs, "Bench", "Platform", "MainOS", map[string][]byte{`\Windows\ImageUpdate\OEMDevicePlatform.xml`: []byte(platform)})
	core := fmt.Sprintf(`<FeatureManifest %s OwnerType="Microsoft" ReleaseType="Production" ID="MicrosoftPhoneFM"/>`, ns)
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Microsoft", Component: "PhoneFM", Version: spkg.Version{Major: 10}},
		ReleaseType: "Production", OwnerType: "Microsoft", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	writeManifest(pkgs, m, map[string][]byte{`\Windows\ImageUpdate\FeatureManifest\Microsoft\MicrosoftPhoneFM.xml`: []byte(core)})
	fm := fmt.Sprintf(`<FeatureManifest %s ID="BenchFM" OwnerType="OEM" ReleaseType="Production">
  <BasePackages>
%s  </BasePackages>
  <DeviceLayoutPackages><PackageFile Path="%%BENCH%%" Name="%s" SOC="BENCH"/></DeviceLayoutPackages>
  <OEMDevicePlatformPackages><PackageFile Path="%%BENCH%%" Name="%s" Device="BenchDevice"/></OEMDevicePlatformPackages>
</FeatureManifest>
`, ns, base.String(), lname, pname)
	oemInput := fmt.Sprintf(`<OEMInput %s><Description>benchmark image</Description><SOC>BENCH</SOC><Device>BenchDevice</Device>
<ReleaseType>Production</ReleaseType><BuildType>fre</BuildType>
<SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface></SupportedLanguages>
<BootUILanguage>en-US</BootUILanguage><BootLocale>en-US</BootLocale><Resolutions><Resolution>720x1280</Resolution></Resolutions>
<AdditionalFMs><AdditionalFM>%%BENCH%%\BenchFM.xml</AdditionalFM></AdditionalFMs></OEMInput>
`, ns)
	if err := os.WriteFile(filepath.Join(dir, "fm", "BenchFM.xml"), []byte(fm), 0o644); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "OEMInput.xml"), []byte(oemInput), 0o644); err != nil {
		fail(err)
	}
}

// content is n bytes, half text-like runs (compressible) and half random.
func content(rng *rand.Rand, n int64) []byte {
	var b bytes.Buffer
	line := []byte("Windows 10 Mobile benchmark payload, text-like and compressible. ")
	chunk := make([]byte, 4096)
	for int64(b.Len()) < n {
		if rng.Intn(2) == 0 {
			for i := 0; i < 4096/len(line); i++ {
				b.Write(line)
			}
		} else {
			rng.Read(chunk)
			b.Write(chunk)
		}
	}
	return b.Bytes()[:n]
}

func write(dir, owner, comp, partition string, files map[string][]byte) string {
	m := spkg.Manifest{Identity: spkg.Identity{Owner: owner, Component: comp, Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: partition}
	return writeManifest(dir, m, files)
}

func writeManifest(dir string, m spkg.Manifest, files map[string][]byte) string {
	var payload []spkg.Payload
	for path, data := range files {
		d := data
		payload = append(payload, spkg.Payload{DevicePath: path, Size: int64(len(d)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(d)), nil }})
	}
	name := m.Name() + ".spkg"
	if _, err := spkg.WriteFile(filepath.Join(dir, name), m, payload, cabOptions); err != nil {
		fail(err)
	}
	return name
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
