package pkggen

import (
	"regexp"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// <ComServer> (specifying-components-in-a-package-project-file.md): a <Dll> placed like a File
// ($(runtime.system32) by default), <Classes><Class/></Classes> and
// <Interfaces><Interface/></Interfaces> written as the original's ComClass and ComInterface do
// (PkgGenCommon): under $(hkcr.clsid) = $(hkcr.root)\CLSID\<Id> and $(hkcr.iid) =
// $(hkcr.root)\Interface\<Id>, macros the Class's and Interface's own RegKeys can use.

var comServerChildren = []string{"Dll", "Classes", "Interfaces", "Files", "RegKeys"}

var classAttrs = []string{"Id", "Version", "TypeLib", "ThreadingModel", "ProgId", "VersionIndependentProgId", "Description", "DefaultIcon", "AppId", "SkipInProcServer32"}

var interfaceAttrs = []string{"Id", "Version", "TypeLib", "Name", "ProxyStubClsId", "ProxyStubClsId32", "NumMethods"}

// comGUID is a GUID in braces, the form the original requires (Guid.TryParseExact "B").
var comGUID = regexp.MustCompile(`^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$`)

var threadingModels = map[string]uint32{"Apartment": 0, "Free": 0, "Both": 0, "Neutral": 0}

func (b *builder) comServer(comp *etree.Element) {
	p := b.p
	p.doc.Attrs(comp)
	x := p.withDefaults(p.x, `$(runtime.system32)`, `$(env.system32)`)
	pk := b.neutral
	var dlls, classes, ifaces []*etree.Element
	for _, el := range p.doc.Children(comp) {
		if !p.known(comp, el, comServerChildren, "a ComServer holds Dll, Classes, Interfaces, Files and RegKeys") {
			continue
		}
		switch el.Tag {
		case "Dll":
			dlls = append(dlls, el)
		case "Classes", "Interfaces":
			p.doc.Attrs(el)
			child := "Class"
			if el.Tag == "Interfaces" {
				child = "Interface"
			}
			for _, c := range p.doc.Children(el) {
				if c.Tag != child {
					p.doc.UnknownChild(el, c, []string{child})
					continue
				}
				if child == "Class" {
					classes = append(classes, c)
				} else {
					ifaces = append(ifaces, c)
				}
			}
		default:
			b.group(comp, el, x)
		}
	}
	if len(dlls) != 1 {
		at := comp
		if len(dlls) > 1 {
			at = dlls[1]
		}
		p.doc.Errorf(at, "<ComServer> has %d <Dll>; expected one, the DLL that serves its classes", len(dlls))
		return
	}
	dll := dlls[0]
	p.doc.Attrs(dll, fileAttrs...)
	p.doc.Empty(dll)
	dp, ok := p.addFile(pk, dll, x, true)
	if !ok {
		return
	}
	server, ok := p.envPath(dll, x, dp)
	if !ok {
		return
	}
	add := func(el *etree.Element, key, name, typ, value string) {
		b.addDerived(pk, el, registry.Value{Key: key, Name: name, Type: typ, Data: utf16z(value)}, "from <"+el.Tag+">")
	}
	for _, c := range classes {
		a, key, cx, ok := b.comEntry(c, x, classAttrs, "hkcr.clsid", `CLSID`)
		if !ok {
			continue
		}
		b.addDerived(pk, c, registry.Value{Key: key}, "")
		tm := "Both"
		if v, has := a["ThreadingModel"]; has {
			if _, known := threadingModels[v]; !known {
				p.doc.AttrErrorf(c, "ThreadingModel", "ThreadingModel=%s: expected one of %s", quote(v), enumNames(threadingModels))
				continue
			}
			tm = v
		}
		for _, s := range [][4]string{
			{"TypeLib", `\TypeLib`, "@", "REG_SZ"}, {"Description", ``, "@", "REG_SZ"}, {"AppId", ``, "AppId", "REG_SZ"},
			{"ProgId", `\ProgId`, "@", "REG_SZ"}, {"VersionIndependentProgId", `\VersionIndependentProgId`, "@", "REG_SZ"},
			{"DefaultIcon", `\DefaultIcon`, "@", "REG_EXPAND_SZ"}, {"Version", `\Version`, "@", "REG_SZ"},
		} {
			if v, has := a[s[0]]; has {
				if v, ok = p.regAttr(c, cx, s[0], v); ok {
					add(c, key+s[1], s[2], s[3], v)
				}
			}
		}
		if c.SelectAttr("SkipInProcServer32") == nil || !p.doc.BoolAttr(c, "SkipInProcServer32") {
			add(c, key+`\InProcServer32`, "@", "REG_EXPAND_SZ", server)
			add(c, key+`\InProcServer32`, "ThreadingModel", "REG_SZ", tm)
		}
		p.addRegKeys(pk, c, cx)
	}
	for _, c := range ifaces {
		a, key, cx, ok := b.comEntry(c, x, interfaceAttrs, "hkcr.iid", `Interface`)
		if !ok {
			continue
		}
		b.addDerived(pk, c, registry.Value{Key: key}, "")
		for _, s := range [][3]string{
			{"TypeLib", `\TypeLib`, "@"}, {"ProxyStubClsId", `\ProxyStubClsId`, "@"}, {"ProxyStubClsId32", `\ProxyStubClsId32`, "@"},
			{"Name", ``, "@"}, {"Version", `\TypeLib`, "Version"}, {"NumMethods", `\NumMethods`, "@"},
		} {
			if v, has := a[s[0]]; has {
				if v, ok = p.regAttr(c, cx, s[0], v); ok {
					add(c, key+s[1], s[2], "REG_SZ", v)
				}
			}
		}
		p.addRegKeys(pk, c, cx)
	}
}

// comEntry reads a Class or Interface: its attributes, its key ($(hkcr.root)\<sub>\<Id>) and
// the expander with $(macro) set to that key.
func (b *builder) comEntry(c *etree.Element, x *winpath.Expander, attrs []string, macro, sub string) (map[string]string, string, *winpath.Expander, bool) {
	p := b.p
	a := p.doc.Attrs(c, attrs...)
	raw, has := a["Id"]
	if !has {
		p.doc.Errorf(c, "<%s> has no Id; expected a GUID in braces, e.g. {a3079dc1-e685-4e37-af40-057ed6d0e252}", c.Tag)
		return nil, "", nil, false
	}
	id, ok := p.regAttr(c, x, "Id", raw)
	if !ok {
		return nil, "", nil, false
	}
	if !comGUID.MatchString(id) {
		p.doc.AttrErrorf(c, "Id", "Id=%s: expected a GUID in braces, e.g. {a3079dc1-e685-4e37-af40-057ed6d0e252}", quote(id))
		return nil, "", nil, false
	}
	key, err := x.ExpandMacrosBounded(`$(hkcr.root)\`+sub+`\`+id, winpath.MaxExpandedLen)
	if err != nil {
		p.doc.AttrErrorf(c, "Id", "%v", explain(err))
		return nil, "", nil, false
	}
	return a, key, x.With(macro, key), true
}
