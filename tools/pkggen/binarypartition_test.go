package pkggen

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

func binComps(inner string) string { return "<Components>" + inner + "</Components>" }

func TestBinaryPartitionForms(t *testing.T) {
	dir := tree(t, map[string]string{"img/uefi.bin": "image", "b.txt": "b"})
	const bp = `BinaryPartition="true" Partition="UEFI"`
	tests := []struct {
		name, xml string
		want      string // error after "p.pkg.xml:"; empty: loads, with \UEFI.bin from img/uefi.bin
	}{
		{"image", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"/>`), bp), ""},
		{"value 1, macro source", projectXML(`<Macros><Macro Id="d" Value="img"/></Macros>`+binComps(`<BinaryPartition ImageSource="$(d)\UEFI.BIN"/>`), `BinaryPartition="1" Partition="UEFI"`), ""},
		{"two images", projectXML(binComps("<BinaryPartition ImageSource=\"img\\uefi.bin\"/>\n<BinaryPartition ImageSource=\"b.txt\"/>"), bp), "4:1: a second <BinaryPartition>: a binary partition package holds one image (the first is at line 3)"},
		{"mixed with files", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"/><OSComponent><Files><File Source="b.txt"/></Files></OSComponent>`), bp), `3:58: <OSComponent> in a binary partition package (BinaryPartition="true")`},
		{"mixed with a driver", projectXML(binComps(`<Driver InfSource="x.inf"/><BinaryPartition ImageSource="img\uefi.bin"/>`), bp), "3:13: <Driver> in a binary partition package"},
		{"attribute without image", projectXML(comps(`<File Source="b.txt"/>`), bp), `2:120: BinaryPartition="true" but <Components> has no <BinaryPartition ImageSource="..."/>`},
		{"attribute and nothing", projectXML("", bp), `2:120: BinaryPartition="true" but <Components> has no <BinaryPartition`},
		{"image without attribute", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"/>`), `Partition="UEFI"`), `3:13: <BinaryPartition> in a package without BinaryPartition="true"`},
		{"image with false", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"/>`), `BinaryPartition="false"`), `3:13: <BinaryPartition> in a package without BinaryPartition="true"`},
		{"no image source", projectXML(binComps(`<BinaryPartition/>`), bp), "3:13: <BinaryPartition> has no ImageSource; expected the file's path on the build machine"},
		{"empty image source", projectXML(binComps(`<BinaryPartition ImageSource=""/>`), bp), "3:13: <BinaryPartition> has no ImageSource"},
		{"missing image", projectXML(binComps(`<BinaryPartition ImageSource="img\nope.bin"/>`), bp), `3:30: ImageSource="img\\nope.bin": `},
		{"image is a directory", projectXML(binComps(`<BinaryPartition ImageSource="img"/>`), bp), `3:30: ImageSource="img": `},
		{"unknown macro", projectXML(binComps(`<BinaryPartition ImageSource="$(x)\a.bin"/>`), bp), `3:30: ImageSource="$(x)\\a.bin": unknown macro $(x)`},
		{"misspelt attribute", projectXML(binComps(`<BinaryPartition ImageSorce="img\uefi.bin"/>`), bp), "3:13: <BinaryPartition> has no ImageSource; expected the file's path on the build machine\n" + "%s:3:30: unknown attribute ImageSorce on <BinaryPartition>; expected ImageSource"},
		{"child element", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"><x/></BinaryPartition>`), bp), "3:57: unknown element <x> in <BinaryPartition>"},
		{"default partition MainOS", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"/>`), `BinaryPartition="true"`), `2:120: BinaryPartition="true" without Partition: the package would be for MainOS`},
		{"partition MainOS", projectXML(binComps(`<BinaryPartition ImageSource="img\uefi.bin"/>`), `BinaryPartition="true" Partition="mainos"`), `2:143: Partition="mainos" with BinaryPartition="true": MainOS holds the file system`},
		{"bad value", projectXML("", `BinaryPartition="yes"`), `2:120: attribute BinaryPartition of <Package> is "yes"; expected true, false, 1, 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.pkg.xml")
			if err := os.WriteFile(path, []byte(tt.xml), 0o644); err != nil {
				t.Fatal(err)
			}
			pkgs, err := Load(path, baseOpt)
			if tt.want != "" {
				want := path + ":" + strings.ReplaceAll(tt.want, "%s", path)
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Errorf("err = %.500v\nwant it to start with %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check(t, dir, pkgs, []want{{"Contoso.Apps.Camera", map[string]string{`\UEFI.bin`: filepath.Join("img", "uefi.bin")}}})
			if f := pkgs[0].Files[0]; f.FileType != "BinaryPartition" || !pkgs[0].Manifest.IsBinaryPartition {
				t.Errorf("file %+v, IsBinaryPartition %v", f, pkgs[0].Manifest.IsBinaryPartition)
			}
		})
	}
}

// TestBuildBinaryPartition builds a binary partition package and reads it back: with this
// project's reader (DSM: IsBinaryPartition, one FileEntry of FileType BinaryPartition at
// \<Partition>.bin with the image's size) and with cabextract, whose extracted file must be
// the image byte for byte.
func TestBuildBinaryPartition(t *testing.T) {
	image := make([]byte, 300000+7) // not a multiple of any sector size
	rand.New(rand.NewSource(18)).Read(image)
	dir := tree(t, map[string]string{
		"uefi.img":  string(image),
		"p.pkg.xml": projectXML(binComps(`<BinaryPartition ImageSource="uefi.img"/>`), `BinaryPartition="true" Partition="UEFI"`),
	})
	for _, compress := range []bool{false, true} {
		out := t.TempDir()
		opt := baseOpt
		opt.Compress = compress
		pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Build(pkgs, out, opt); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(out, "Contoso.Apps.Camera.spkg")
		p, err := spkg.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m := p.Manifest
		if !m.IsBinaryPartition || m.Partition != "UEFI" {
			t.Errorf("IsBinaryPartition %v, Partition %s", m.IsBinaryPartition, m.Partition)
		}
		var bins []spkg.FileEntry
		for _, fe := range m.Files {
			if fe.FileType != "Manifest" && fe.FileType != "Catalog" {
				bins = append(bins, fe)
			}
		}
		if len(bins) != 1 || bins[0].FileType != "BinaryPartition" || bins[0].DevicePath != `\UEFI.bin` || bins[0].FileSize != int64(len(image)) {
			t.Fatalf("files %+v; want one BinaryPartition \\UEFI.bin of %d bytes", bins, len(image))
		}
		p.Close()
		x := t.TempDir()
		checker.Run(t, x, checker.Find(t, "cabextract"), "-q", path)
		got, err := os.ReadFile(filepath.Join(x, bins[0].CabPath))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, image) {
			t.Errorf("compress=%v: cabextract gives %d bytes, not the %d-byte image", compress, len(got), len(image))
		}
	}
}
