package ffudiff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/beevik/etree"
)

// records are the packages of one image by upper-case identity, with the file they came from.
type records struct {
	source string // MainOS\Windows\ImageUpdate\UpdateHistory.xml, or "" when the image has none
	byID   map[string]record
}

type record struct {
	id string
	PackageInfo
}

// readRecords reads the packages an image's update records list: UpdateHistory.xml in MainOS,
// its events in order (a removal drops the package), or else UpdateOutput.xml in Data.
func (c *comparison) readRecords(s *side) (records, error) {
	var missed []string
	for _, src := range []struct{ partition, path string }{{"MAINOS", imageconst.UpdateHistoryPath}, {"DATA", imageconst.UpdateOutputPath}} {
		vol := s.vols[src.partition]
		if vol == nil {
			continue
		}
		data, err := vol.ReadFile(src.path)
		if err != nil {
			missed = append(missed, err.Error())
			continue
		}
		where := fmt.Sprintf("%s: %s%s", s.im.Path, s.im.Partition(src.partition).Name, src.path)
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil {
			return records{}, fmt.Errorf("%s: %v", where, err)
		}
		rs := records{source: where, byID: map[string]record{}}
		for _, p := range doc.FindElements("//Package") {
			id := strings.TrimSpace(childText(p, "PackageIdentity"))
			if id == "" {
				return records{}, fmt.Errorf("%s: a Package without PackageIdentity; expected the identity of every package", where)
			}
			if strings.EqualFold(strings.TrimSpace(childText(p, "IsRemoval")), "true") {
				delete(rs.byID, strings.ToUpper(id))
				continue
			}
			rs.byID[strings.ToUpper(id)] = record{id, PackageInfo{Version: version(p), Partition: strings.TrimSpace(childText(p, "Partition"))}}
		}
		return rs, nil
	}
	if len(missed) > 0 {
		c.note("%s: no package records: %s", s.im.Path, strings.Join(missed, "; "))
	}
	return records{}, nil
}

func childText(el *etree.Element, name string) string {
	if e := el.SelectElement(name); e != nil {
		return e.Text()
	}
	return ""
}

// version is a Package's Identity/Version as a.b.c.d.
func version(p *etree.Element) string {
	v := p.FindElement("Identity/Version")
	if v == nil {
		return ""
	}
	return strings.Join([]string{v.SelectAttrValue("Major", "0"), v.SelectAttrValue("Minor", "0"), v.SelectAttrValue("QFE", "0"), v.SelectAttrValue("Build", "0")}, ".")
}

// packages compares the images' package records, by identity.
func (c *comparison) packages() error {
	ra, err := c.readRecords(&c.a)
	if err != nil {
		return err
	}
	rb, err := c.readRecords(&c.b)
	if err != nil {
		return err
	}
	switch {
	case ra.source == "" && rb.source == "":
		c.note("neither image has package records (MainOS%s or Data%s): packages not compared", imageconst.UpdateHistoryPath, imageconst.UpdateOutputPath)
		return nil
	case ra.source == "":
		c.note("%s has no package records (MainOS%s or Data%s)", c.a.im.Path, imageconst.UpdateHistoryPath, imageconst.UpdateOutputPath)
	case rb.source == "":
		c.note("%s has no package records (MainOS%s or Data%s)", c.b.im.Path, imageconst.UpdateHistoryPath, imageconst.UpdateOutputPath)
	}
	keys := make([]string, 0, len(ra.byID)+len(rb.byID))
	for k := range ra.byID {
		keys = append(keys, k)
	}
	for k := range rb.byID {
		if _, ok := ra.byID[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, inA := ra.byID[k]
		b, inB := rb.byID[k]
		switch {
		case !inB:
			c.r.Packages = append(c.r.Packages, Package{Name: a.id, Change: "removed", A: &a.PackageInfo})
		case !inA:
			c.r.Packages = append(c.r.Packages, Package{Name: b.id, Change: "added", B: &b.PackageInfo})
		case a.Version != b.Version:
			c.r.Packages = append(c.r.Packages, Package{Name: b.id, Change: "version", A: &a.PackageInfo, B: &b.PackageInfo})
		case a.PackageInfo != b.PackageInfo:
			c.r.Packages = append(c.r.Packages, Package{Name: b.id, Change: "changed", A: &a.PackageInfo, B: &b.PackageInfo})
		}
	}
	return nil
}
