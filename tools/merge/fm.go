package merge

import (
	"sort"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// family is a merged package and its satellites: the buckets of one type and partition.
type family struct {
	typ, partition string
	neutral        *bucket
	satellites     []*bucket
}

func (f *family) all() []*bucket {
	out := append([]*bucket(nil), f.satellites...)
	if f.neutral != nil {
		out = append([]*bucket{f.neutral}, out...)
	}
	return out
}

// uses lists the FM groups the family's sources came from, in order of first appearance.
func (f *family) uses() []use {
	var out []use
	seen := map[manifest.Group]bool{}
	for _, b := range f.all() {
		for _, u := range b.uses {
			if !seen[u.group] {
				seen[u.group] = true
				out = append(out, u)
			}
		}
	}
	return out
}

func families(buckets []*bucket) []*family {
	var out []*family
	byKey := map[string]*family{}
	for _, b := range buckets {
		key := b.typ + "|" + strings.ToLower(b.partition)
		f := byKey[key]
		if f == nil {
			f = &family{typ: b.typ, partition: b.partition}
			byKey[key] = f
			out = append(out, f)
		}
		if b.culture == "" && b.resolution == "" {
			f.neutral = b
		} else {
			f.satellites = append(f.satellites, b)
		}
	}
	return out
}

func newFM(src *manifest.FeatureManifest) *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("FeatureManifest")
	root.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
	root.CreateAttr("xmlns:xsd", "http://www.w3.org/2001/XMLSchema")
	root.CreateAttr("xmlns", manifest.Namespace)
	for _, a := range []struct{ k, v string }{
		{"Revision", src.Revision}, {"SchemaVersion", src.SchemaVersion}, {"ID", src.ID}, {"ReleaseType", src.ReleaseType},
		{"OwnerType", src.OwnerType}, {"OwnerName", src.OwnerName}, {"BuildID", src.BuildID}, {"BuildInfo", src.BuildInfo}, {"OSVersion", src.OSVersion},
	} {
		if a.v != "" {
			root.CreateAttr(a.k, a.v)
		}
	}
	return doc
}

// groupElement returns (creating it) the element that holds group g's PackageFiles.
func groupElement(root *etree.Element, g manifest.Group) *etree.Element {
	switch g {
	case manifest.GroupMSFeature, manifest.GroupOEMFeature:
		features := root.SelectElement("Features")
		if features == nil {
			features = root.CreateElement("Features")
		}
		name := "OEM"
		if g == manifest.GroupMSFeature {
			name = "Microsoft"
		}
		el := features.SelectElement(name)
		if el == nil {
			el = features.CreateElement(name)
		}
		return el
	case manifest.GroupBootUI, manifest.GroupBootLocale:
		return root // single PackageFile elements of their own name
	}
	name := g.Element()
	el := root.SelectElement(name)
	if el == nil {
		el = root.CreateElement(name)
	}
	return el
}

// filter is the Language/Resolution attribute that selects values among supported.
func filter(values, supported []string) string {
	if len(values) == len(supported) && len(values) > 0 {
		all := true
		for _, s := range supported {
			if !containsFold(values, s) {
				all = false
			}
		}
		if all {
			return "*"
		}
	}
	return "(" + strings.Join(values, ";") + ")"
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// listFamily adds one PackageFile for family f to the group of u: the merged neutral package
// (or NoBasePackage), with Language/Resolution naming its satellites.
func listFamily(root *etree.Element, u use, f *family, o Options, dir string) {
	el := groupElement(root, u.group).CreateElement("PackageFile")
	el.CreateAttr("Path", dir)
	base := f.neutral
	if base == nil {
		base = f.satellites[0]
	}
	name := strings.TrimSuffix(strings.TrimSuffix(base.name(o), "_Lang_"+base.culture), "_RES_"+base.resolution)
	el.CreateAttr("Name", name+".spkg")
	// The merged packages' version, as FeatureMerger writes it (PkgFile.Version): the
	// documentation's "the provided version number" of the updated FM.
	el.CreateAttr("Version", o.Version.String())
	if f.neutral == nil {
		el.CreateAttr("NoBasePackage", "true")
	}
	var langs, ress []string
	for _, s := range f.satellites {
		if s.culture != "" {
			langs = append(langs, s.culture)
		} else {
			ress = append(ress, s.resolution)
		}
	}
	sort.Strings(langs)
	sort.Strings(ress)
	if len(langs) > 0 {
		el.CreateAttr("Language", filter(langs, o.Languages))
	}
	if len(ress) > 0 {
		el.CreateAttr("Resolution", filter(ress, o.Resolutions))
	}
	groupAttrs(el, u.group, u.template)
}

// groupAttrs copies the attributes that select a PackageFile in its group.
func groupAttrs(el *etree.Element, g manifest.Group, t *manifest.PackageFile) {
	set := func(k, v string) {
		if v != "" {
			el.CreateAttr(k, v)
		}
	}
	switch g {
	case manifest.GroupSOC, manifest.GroupDeviceLayout:
		set("SOC", t.SOC)
	case manifest.GroupDevice, manifest.GroupOEMDevicePlatform:
		set("Device", t.Device)
	case manifest.GroupRelease:
		set("ReleaseType", t.ReleaseType)
	case manifest.GroupSV:
		set("SV", t.SV)
	case manifest.GroupPrerelease:
		set("Type", t.Type)
	case manifest.GroupMSFeature, manifest.GroupOEMFeature:
		ids := el.CreateElement("FeatureIDs")
		for _, id := range t.FeatureIDs {
			ids.CreateElement("FeatureID").SetText(id)
		}
	}
}

// copyPackageFile lists a package FeatureMerger passes through, as the source FM listed it,
// in its new directory.
func copyPackageFile(el *etree.Element, pf *manifest.PackageFile, dir string) {
	tag := "PackageFile"
	switch pf.Group {
	case manifest.GroupBootUI:
		tag = "BootUILanguagePackageFile"
	case manifest.GroupBootLocale:
		tag = "BootLocalePackageFile"
	}
	e := el.CreateElement(tag)
	e.CreateAttr("Path", dir)
	for _, a := range []struct{ k, v string }{
		{"LangPath", langPath(pf, dir)}, {"Name", pf.Name}, {"ID", pf.ID}, {"Partition", pf.Partition}, {"Version", pf.Version},
		{"CPUType", pf.CPUType}, {"Language", pf.Language}, {"Resolution", pf.Resolution},
	} {
		if a.v != "" {
			e.CreateAttr(a.k, a.v)
		}
	}
	if pf.NoBasePackage {
		e.CreateAttr("NoBasePackage", "true")
	}
	if pf.BinaryPartition {
		e.CreateAttr("BinaryPartition", "true")
	}
	if pf.FeatureIdentifierPackage {
		e.CreateAttr("FeatureIdentifierPackage", "true")
	}
	groupAttrs(e, pf.Group, pf)
}

func langPath(pf *manifest.PackageFile, dir string) string {
	if pf.LangPath != "" {
		return dir
	}
	return ""
}

// removeDuplicates drops a PackageFile listed twice in one group (a pass-through package
// named by two PackageFiles of the source FM).
func removeDuplicates(root *etree.Element) {
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		seen := map[string]bool{}
		for _, c := range el.ChildElements() {
			if c.Tag == "PackageFile" {
				key := strings.ToLower(c.SelectAttrValue("Name", ""))
				if seen[key] {
					el.RemoveChild(c)
					continue
				}
				seen[key] = true
			}
			walk(c)
		}
	}
	walk(root)
}
