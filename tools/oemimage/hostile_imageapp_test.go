package main

import (
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Hostile inputs of `oemimage imageapp`: corrupt FFUs and volumes (the FAT and NTFS shapes of
// hostile_fat_test.go and hostile_ntfs_test.go), update input files that are not one, named
// pipes, and an image whose DSM is garbage. Each fails naming the file; nothing is written.

// updateInputXML is an update input naming one package, written by writeUpdateInput.
const updateInputXML = `<?xml version="1.0" encoding="utf-8"?>
<UpdateOSInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Description>hostile update</Description>
  <PackageFiles>
    <PackageFile>C:\Program Files\Windows Kits\10\Packages\Contoso.Hostile.spkg</PackageFile>
  </PackageFiles>
</UpdateOSInput>
`

// writeUpdateInput writes u.xml, the package it names (into MainOS) and, for image (its file
// name), the side file that says it is a Test image; it returns the arguments after the image.
func writeUpdateInput(t *testing.T, dir, image string) []string {
	t.Helper()
	writeFile(t, dir, "u.xml", []byte(updateInputXML))
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Hostile", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	data := "hostile"
	payload := []spkg.Payload{{DevicePath: `\Windows\hostile.txt`, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(data)), nil
	}}}
	if _, err := spkg.WriteFile(filepath.Join(dir, "Contoso.Hostile.spkg"), m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	side := strings.TrimSuffix(image, ".ffu") + ".UpdateInput.xml"
	writeFile(t, dir, side, []byte("<UpdateOSInput><!-- oemimage resolve OEMInput.xml: ReleaseType=Test --></UpdateOSInput>\n"))
	return []string{"/UpdateInputXML:u.xml", "--package=Contoso.Hostile.spkg", "--output=out.ffu"}
}

func init() {
	// Corrupt FFUs.
	for _, in := range []struct{ name, data string }{
		{"empty", ""},
		{"header-only", "\x20\x00\x00\x00SignedImage \x00\x00\x10\x00"},
		{"garbage", strings.Repeat("\xa5", 8192)},
	} {
		in := in
		addHostile(hostileCase{
			name: "imageapp/ffu-" + in.name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "bad.ffu", []byte(in.data))
				return append([]string{"imageapp", "bad.ffu"}, writeUpdateInput(t, dir, "bad.ffu")...)
			},
			want: []string{"bad.ffu"},
		})
	}
	// A changed payload byte: the hashes are checked before anything is read.
	addHostile(hostileCase{
		name: "imageapp/hash-mismatch",
		setup: func(t *testing.T, dir string) []string {
			b := validFFU(t)
			b[len(b)-1000] ^= 0xFF
			writeFile(t, dir, "bad.ffu", b)
			return append([]string{"imageapp", "bad.ffu"}, writeUpdateInput(t, dir, "bad.ffu")...)
		},
		want: []string{"bad.ffu", "hash"},
	})
	// The control: the valid image is updated.
	addHostile(hostileCase{
		name: "imageapp/clean",
		setup: func(t *testing.T, dir string) []string {
			writeFile(t, dir, "image.ffu", validFFU(t))
			return append([]string{"imageapp", "image.ffu"}, writeUpdateInput(t, dir, "image.ffu")...)
		},
		want:     []string{"add Contoso.Hostile 1.0.0.0 (MainOS)"},
		exitZero: true,
	})

	// The FAT shapes: reading the image's packages walks MainOS.
	for _, s := range fatShapes {
		s := s
		addHostile(hostileCase{
			name: "fat/" + s.name + "/imageapp",
			setup: func(t *testing.T, dir string) []string {
				writeFATFFU(t, filepath.Join(dir, "bad.ffu"), s.corrupt)
				return append([]string{"imageapp", "bad.ffu"}, writeUpdateInput(t, dir, "bad.ffu")...)
			},
			want: append([]string{"bad.ffu", "MainOS"}, s.want...),
		})
	}

	// Update input files that are not one.
	inputCase := func(name, xml string, want ...string) {
		addHostile(hostileCase{
			name: "imageapp/input-" + name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "image.ffu", validFFU(t))
				args := writeUpdateInput(t, dir, "image.ffu")
				writeFile(t, dir, "u.xml", []byte(xml))
				return append([]string{"imageapp", "image.ffu"}, args...)
			},
			want: append([]string{"u.xml"}, want...),
		})
	}
	inputCase("not-xml", "<UpdateOSInput><PackageFiles>", "XML")
	inputCase("other-root", `<OEMInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"/>`, "<OEMInput>", "expected <UpdateOSInput>")
	inputCase("no-packages", `<UpdateOSInput><Description>x</Description></UpdateOSInput>`, "no <PackageFiles>")
	inputCase("empty-package-file", `<UpdateOSInput><PackageFiles><PackageFile> </PackageFile></PackageFiles></UpdateOSInput>`, "<PackageFile> 1 is empty")
	inputCase("unknown-element", `<UpdateOSInput><Features/><PackageFiles><PackageFile>a.spkg</PackageFile></PackageFiles></UpdateOSInput>`, "<Features>", "expected <Description> and <PackageFiles>")
	inputCase("missing-package", `<UpdateOSInput><PackageFiles><PackageFile>C:\Kit\Contoso.Nothere.spkg</PackageFile></PackageFiles></UpdateOSInput>`,
		"PackageFile 1", "Contoso.Nothere.spkg")
	inputCase("two-package-lists", `<UpdateOSInput><PackageFiles><PackageFile>a.spkg</PackageFile></PackageFiles><PackageFiles/></UpdateOSInput>`,
		"<PackageFiles> given twice", "expected one")
	inputCase("other-in-package-files", `<UpdateOSInput><PackageFiles><Package>a.spkg</Package></PackageFiles></UpdateOSInput>`,
		"<PackageFiles> holds <Package>", "expected <PackageFile>")
	inputCase("other-namespace", `<UpdateOSInput xmlns="urn:other"><PackageFiles><PackageFile>a.spkg</PackageFile></PackageFiles></UpdateOSInput>`,
		`namespace "urn:other"`, "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate")
	inputCase("17MiB", "<UpdateOSInput><!--"+strings.Repeat(" ", 17<<20)+"--></UpdateOSInput>", "16777216")
	// Named pipes where the image or the input belong.
	for _, c := range []struct{ name, pipe string }{{"image-named-pipe", "pipe.ffu"}, {"input-named-pipe", "u.xml"}} {
		c := c
		addHostile(hostileCase{
			name: "imageapp/" + c.name,
			setup: func(t *testing.T, dir string) []string {
				image := "image.ffu"
				if c.pipe == "pipe.ffu" {
					image = "pipe.ffu"
				} else {
					writeFile(t, dir, "image.ffu", validFFU(t))
				}
				args := writeUpdateInput(t, dir, image)
				if c.pipe == "u.xml" {
					syscall.Unlink(filepath.Join(dir, "u.xml"))
				}
				if err := syscall.Mkfifo(filepath.Join(dir, c.pipe), 0o644); err != nil {
					t.Fatal(err)
				}
				return append([]string{"imageapp", image}, args...)
			},
			want: []string{c.pipe + ": a named pipe; expected a regular file"},
		})
	}
	// A DSM in the image that is not one: named with its partition and path.
	addHostile(hostileCase{
		name: "imageapp/garbage-dsm",
		setup: func(t *testing.T, dir string) []string {
			m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Evil", Version: spkg.Version{Major: 1}},
				ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
			data := "<Package><Identity>" + strings.Repeat("<x>", 100) + "</Package>"
			payload := []spkg.Payload{{DevicePath: `\Windows\Packages\DsmFiles\Evil.Other.dsm.xml`, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(data)), nil
			}}}
			evil := filepath.Join(t.TempDir(), "Contoso.Evil.spkg")
			if _, err := spkg.WriteFile(evil, m, payload, cab.Options{}); err != nil {
				t.Fatal(err)
			}
			b, err := buildFFUWith("", evil)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "image.ffu", b)
			return append([]string{"imageapp", "image.ffu"}, writeUpdateInput(t, dir, "image.ffu")...)
		},
		want: []string{"image.ffu", `MainOS\Windows\Packages\DsmFiles\Evil.Other.dsm.xml`},
	})
}
