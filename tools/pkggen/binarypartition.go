package pkggen

import (
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Binary partition packages (docs/creating-packages.md): <Package BinaryPartition="true"> whose
// only component is <BinaryPartition ImageSource="..."/>, a raw image of the partition the
// package's Partition attribute names. As PkgGen.exe does, the image is the package's one file,
// FileType BinaryPartition at device path \<Partition>.bin, and the DSM says IsBinaryPartition;
// imggen writes it at the start of that partition.

// binaryPartitions checks the BinaryPartition attribute of root (its value, macros expanded)
// against the <BinaryPartition> components and adds the image to the neutral package. Every
// mismatch is an error at the element or attribute concerned.
func (b *builder) binaryPartitions(root *etree.Element, attr string) {
	p := b.p
	marked := attr == "true" || attr == "1"
	var images, others []*etree.Element
	for _, el := range p.doc.Children(root) {
		if el.Tag != "Components" {
			continue
		}
		for _, comp := range p.doc.Children(el) {
			if comp.Tag == "BinaryPartition" {
				images = append(images, comp)
			} else {
				others = append(others, comp)
			}
		}
	}
	if !marked {
		for _, img := range images {
			p.doc.Errorf(img, `<BinaryPartition> in a package without BinaryPartition="true" on <Package>; a binary partition package says so and holds only the image`)
		}
		return
	}
	if len(images) == 0 {
		p.doc.AttrErrorf(root, "BinaryPartition", `BinaryPartition=%s but <Components> has no <BinaryPartition ImageSource="..."/>; expected one, the partition's image`, quote(attr))
		return
	}
	for _, img := range images[1:] {
		p.doc.Errorf(img, "a second <BinaryPartition>: a binary partition package holds one image (the first is at line %d)", p.doc.Pos(images[0]).Line)
	}
	for _, o := range others {
		p.doc.Errorf(o, `<%s> in a binary partition package (BinaryPartition="true"): such a package holds only its <BinaryPartition> image`, o.Tag)
	}
	if part := b.neutral.Manifest.Partition; strings.EqualFold(part, "MainOS") {
		// PkgGen's PackageProject.Validate: "A package in MainOS partition can't be binary partition".
		if root.SelectAttr("Partition") != nil {
			p.doc.AttrErrorf(root, "Partition", "Partition=%s with BinaryPartition=%s: MainOS holds the file system and cannot take a partition image; name the raw partition the image is for", quote(part), quote(attr))
		} else {
			p.doc.AttrErrorf(root, "BinaryPartition", "BinaryPartition=%s without Partition: the package would be for MainOS, which cannot take a partition image; name the raw partition the image is for with Partition=", quote(attr))
		}
	}
	img := images[0]
	p.doc.Attrs(img, "ImageSource")
	p.doc.Empty(img)
	_, found, ok := p.source(img, p.x, "ImageSource")
	if !ok {
		return
	}
	pk := b.neutral
	devicePath := `\` + pk.Manifest.Partition + ".bin"
	if err := spkg.CheckDevicePath(devicePath); err != nil {
		p.doc.AttrErrorf(root, "Partition", "the image's device path: %s", clipMsg(err))
		return
	}
	pk.Manifest.IsBinaryPartition = true
	pk.Files = append(pk.Files, File{Source: found, DevicePath: devicePath, Attributes: "", FileType: "BinaryPartition"})
}
