package pkggen

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// CustomMetadataDir is where a package's custom metadata goes on the device
// (specifying-components-in-a-package-project-file.md, "Custom OEM package metadata").
const CustomMetadataDir = `\Windows\Packages\CustomMetadataFiles`

// customMetadata reads <CustomMetadata><Field Name="Key">Value</Field>...</CustomMetadata> and
// keeps it as the .meta.xml every package of the project carries: the same elements in the
// package schema's namespace, UTF-8, fields in the project's order, values as written.
func (b *builder) customMetadata(el *etree.Element) {
	p := b.p
	p.doc.Attrs(el)
	out := etree.NewDocument()
	out.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := out.CreateElement("CustomMetadata")
	root.CreateAttr("xmlns", Namespace)
	seen := map[string]bool{}
	for _, f := range p.doc.Children(el) {
		if f.Tag != "Field" {
			p.doc.UnknownChild(el, f, []string{"Field"})
			continue
		}
		a := p.doc.Attrs(f, "Name")
		name := p.doc.RequireAttr(f, "Name", "the field's key")
		if name == "" {
			continue
		}
		if seen[strings.ToLower(name)] {
			p.doc.AttrErrorf(f, "Name", "field %s is given twice", quote(a["Name"]))
			continue
		}
		seen[strings.ToLower(name)] = true
		for _, c := range f.ChildElements() {
			p.doc.Errorf(c, "<%s> inside <Field>: a field's value is text", c.Tag)
		}
		fe := root.CreateElement("Field")
		fe.CreateAttr("Name", name)
		fe.SetText(f.Text())
	}
	out.Indent(2)
	var buf bytes.Buffer
	if _, err := out.WriteTo(&buf); err != nil {
		p.doc.Errorf(el, "%v", err)
		return
	}
	b.metadata = buf.Bytes()
}

// metadataPayload is pk's <package>.meta.xml, or nil without CustomMetadata.
func metadataPayload(pk *Package) (*spkg.Payload, error) {
	if pk.metadata == nil {
		return nil, nil
	}
	dp := CustomMetadataDir + `\` + pk.Manifest.Name() + ".meta.xml"
	if src, dup := pk.paths[strings.ToUpper(dp)]; dup {
		return nil, fmt.Errorf("%s from %s is where the package's custom metadata goes", dp, src)
	}
	data := pk.metadata
	return &spkg.Payload{
		DevicePath: dp,
		Size:       int64(len(data)),
		Open:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}, nil
}
