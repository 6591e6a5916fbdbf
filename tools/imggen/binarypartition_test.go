package imggen

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	volread "github.com/oemimage/rules_oemimage/tools/volume"
)

// testMBRRawLayout is testMBRLayout with a raw partition PLAT (no FileSystem) of 2048 sectors.
var testMBRRawLayout = strings.Replace(testMBRLayout, "<Partition><Name>MainOS</Name>",
	"<Partition><Name>PLAT</Name><Type>0xDA</Type><TotalSectors>2048</TotalSectors></Partition>\n    <Partition><Name>MainOS</Name>", 1)

// addBinaryPackage writes a binary partition package of image for partition into dir, as
// pkggen builds one (IsBinaryPartition, one BinaryPartition file at \<partition>.bin), and
// selects it.
func addBinaryPackage(t *testing.T, sel *resolve.Selection, dir, comp, partition string, image []byte) string {
	t.Helper()
	m := spkg.Manifest{
		Identity:    spkg.Identity{Owner: "Contoso", Component: comp, Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: partition,
		IsBinaryPartition: true,
	}
	path := filepath.Join(dir, m.Name()+".spkg")
	payload := []spkg.Payload{{DevicePath: `\` + partition + ".bin", Size: int64(len(image)), FileType: "BinaryPartition",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(image)), nil }}}
	if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name, HostPath: path,
		Reasons: []resolve.Reason{{FeatureID: "BASE", Group: manifest.GroupBase}}})
	return name
}

func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// A binary partition package's image is at the start of its raw partition in the FFU's disk,
// the rest of the partition zeros, for a GPT and an MBR layout, for an image of an odd size
// and one of exactly the partition's size. Checked independently: fdisk gives the partition's
// start in the disk extracted from the FFU, dd reads the bytes there.
func TestBuildBinaryPartition(t *testing.T) {
	fdisk, dd := checker.Find(t, "fdisk"), checker.Find(t, "dd")
	const partBytes = 2048 * 512
	for _, lay := range []struct {
		name, xml string
		mbr       bool
	}{{"GPT", testLayout, false}, {"MBR", testMBRRawLayout, true}} {
		for _, size := range []int{300007, partBytes} {
			t.Run(fmt.Sprintf("%s/%d", lay.name, size), func(t *testing.T) {
				src, out := t.TempDir(), t.TempDir()
				sel := selection(t, src, "Test", lay.xml)
				image := randomBytes(int64(size), size)
				name := addBinaryPackage(t, sel, src, "Plat", "PLAT", image)
				ffuPath := filepath.Join(out, "image.ffu")
				if err := Build(sel, Options{Output: ffuPath}); err != nil {
					t.Fatal(err)
				}
				disk := filepath.Join(out, "disk.img")
				extract(t, ffuPath, disk)
				parts := readTable(t, fdisk, disk, 512, lay.mbr)
				if lay.mbr {
					parts = mbrNames(t, ffuPath, parts)
				}
				plat, ok := parts["PLAT"]
				if !ok || plat.Size*512 != partBytes {
					t.Fatalf("PLAT as fdisk lists it: %+v (%v); want %d sectors", plat, ok, partBytes/512)
				}
				got := run(t, dd, "if="+disk, "iflag=skip_bytes,count_bytes", "bs=65536", "status=none",
					"skip="+strconv.FormatInt(plat.Start*512, 10), "count="+strconv.Itoa(partBytes))
				if len(got) != partBytes {
					t.Fatalf("dd read %d bytes of PLAT, want %d", len(got), partBytes)
				}
				if !bytes.Equal([]byte(got[:size]), image) {
					t.Errorf("PLAT does not start with the %d-byte image", size)
				}
				if rest := got[size:]; strings.Trim(rest, "\x00") != "" {
					t.Errorf("PLAT after the image is not zeros")
				}
				// Its DSM is in MainOS, where the original's image reader looks for it.
				im, err := volread.OpenImage(ffuPath, false)
				if err != nil {
					t.Fatal(err)
				}
				defer im.Close()
				vol, err := im.Volume(im.Partition("MainOS"))
				if err != nil {
					t.Fatal(err)
				}
				dsm, err := vol.ReadFile(`\Windows\Packages\DsmFiles\Contoso.Plat.dsm.xml`)
				if err != nil || !strings.Contains(string(dsm), "<IsBinaryPartition>true</IsBinaryPartition>") {
					t.Errorf("MainOS DSM of the binary partition package: %v\n%s", err, dsm)
				}
				// The side files list the package as installed, a binary partition one.
				for _, side := range []string{"UpdateOutput.xml", "UpdateHistory.xml"} {
					data, err := os.ReadFile(filepath.Join(out, "image."+side))
					if err != nil {
						t.Fatal(err)
					}
					s := string(data)
					i := strings.Index(s, "<PackageIdentity>Contoso.Plat</PackageIdentity>")
					if !strings.Contains(s, name) || i < 0 || !strings.Contains(s[i:], "<IsBinaryPartition>true</IsBinaryPartition>") {
						t.Errorf("%s does not list %s as an installed binary partition package:\n%s", side, name, s)
					}
				}
			})
		}
	}
}

// What a binary partition package cannot do is an error naming the package and the partition.
func TestBuildBinaryPartitionRefused(t *testing.T) {
	tests := []struct {
		name string
		add  func(t *testing.T, sel *resolve.Selection, dir string)
		want []string
	}{
		{"too large", func(t *testing.T, sel *resolve.Selection, dir string) {
			addBinaryPackage(t, sel, dir, "Plat", "PLAT", make([]byte, 2048*512+1))
		}, []string{"Contoso.Plat.spkg: the 1048577-byte image \\PLAT.bin does not fit partition PLAT (1048576 bytes)"}},
		{"file system partition", func(t *testing.T, sel *resolve.Selection, dir string) {
			addBinaryPackage(t, sel, dir, "Esp", "EFIESP", []byte("image"))
		}, []string{"Contoso.Esp.spkg is a binary partition package for partition EFIESP, which has file system FAT in the device layout"}},
		{"two for one partition", func(t *testing.T, sel *resolve.Selection, dir string) {
			addBinaryPackage(t, sel, dir, "Plat", "PLAT", []byte("one"))
			addBinaryPackage(t, sel, dir, "Plat2", "PLAT", []byte("two"))
		}, []string{"are both binary partition packages for partition PLAT", "Contoso.Plat.spkg", "Contoso.Plat2.spkg"}},
		{"image in a package not marked IsBinaryPartition", func(t *testing.T, sel *resolve.Selection, dir string) {
			name := addBinaryPackage(t, sel, dir, "Plat", "MainOS", []byte("image"))
			// The same package rewritten without IsBinaryPartition.
			p, err := spkg.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			m := *p.Manifest
			p.Close()
			m.IsBinaryPartition = false
			payload := []spkg.Payload{{DevicePath: `\MainOS.bin`, Size: 5, FileType: "BinaryPartition",
				Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("image")), nil }}}
			if _, err := spkg.WriteFile(filepath.Join(dir, name), m, payload, cab.Options{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"Contoso.Plat.spkg holds the partition image \\MainOS.bin but its DSM does not say IsBinaryPartition"}},
		{"binary partition package with another file", func(t *testing.T, sel *resolve.Selection, dir string) {
			name := addBinaryPackage(t, sel, dir, "Plat", "PLAT", []byte("image"))
			m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Plat", Version: spkg.Version{Major: 1}},
				ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "PLAT", IsBinaryPartition: true}
			open := func(s string) func() (io.ReadCloser, error) {
				return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
			}
			payload := []spkg.Payload{{DevicePath: `\PLAT.bin`, Size: 5, FileType: "BinaryPartition", Open: open("image")},
				{DevicePath: `\readme.txt`, Size: 2, Open: open("hi")}}
			if _, err := spkg.WriteFile(filepath.Join(dir, name), m, payload, cab.Options{}); err != nil {
				t.Fatal(err)
			}
		}, []string{"Contoso.Plat.spkg is a binary partition package but holds \\readme.txt of FileType Regular"}},
		{"partition not in the layout", func(t *testing.T, sel *resolve.Selection, dir string) {
			addBinaryPackage(t, sel, dir, "Plat", "NOPE", []byte("image"))
		}, []string{"Contoso.Plat.spkg installs into partition NOPE, which the device layout does not define"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, out := t.TempDir(), t.TempDir()
			sel := selection(t, src, "Test", testLayout)
			tt.add(t, sel, src)
			err := Build(sel, Options{Output: filepath.Join(out, "image.ffu")})
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want it to say %q", err, w)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("a failed build left %d files", len(entries))
			}
		})
	}
}
