package pkggen

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// regRoots are the root keys a <RegKey>'s KeyName may name once expanded.
var regRoots = []string{`HKEY_LOCAL_MACHINE`, `HKEY_CURRENT_USER`, `HKEY_USERS`, `HKEY_CLASSES_ROOT`}

// addGroup adds a component's group (<Files> or <RegKeys>) to pk.
func (p *project) addGroup(pk *Package, group *etree.Element, x *winpath.Expander) {
	if group.Tag == "RegKeys" {
		p.addRegKeys(pk, group, x)
		return
	}
	p.addFiles(pk, group, x)
}

// addRegKeys adds a <RegKeys> group's keys and values to pk, macros expanded in KeyName, Name
// and Value (specifying-files-and-registry-entries-in-a-package-project-file.md).
func (p *project) addRegKeys(pk *Package, group *etree.Element, x *winpath.Expander) {
	for _, k := range p.doc.Children(group) {
		if k.Tag != "RegKey" {
			p.doc.UnknownChild(group, k, []string{"RegKey"})
			continue
		}
		a := p.doc.Attrs(k, "KeyName")
		raw := a["KeyName"]
		if raw == "" {
			p.doc.Errorf(k, "<RegKey> has no KeyName; expected the key's full path starting with a registry macro, e.g. $(hklm.software)\\Contoso")
			continue
		}
		keyName, ok := p.regAttr(k, x, "KeyName", raw)
		if !ok {
			continue
		}
		keyName = strings.TrimRight(keyName, `\`)
		if !hasRoot(keyName) || strings.Contains(keyName, `\\`) || strings.ContainsAny(keyName, "[]\r\n") {
			p.doc.AttrErrorf(k, "KeyName", "KeyName=%s is %s; expected a key under HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, HKEY_USERS or HKEY_CLASSES_ROOT, written with a registry macro such as $(hklm.software), without empty parts, brackets or line breaks", quote(raw), quote(keyName))
			continue
		}
		pk.addValue(registry.Value{Key: keyName}) // the key, once
		for _, v := range p.doc.Children(k) {
			if v.Tag != "RegValue" {
				p.doc.UnknownChild(k, v, []string{"RegValue"})
				continue
			}
			va := p.doc.Attrs(v, "Name", "Value", "Type")
			p.doc.Empty(v)
			name := "@"
			if n := va["Name"]; n != "" && n != "@" {
				if name, ok = p.regAttr(v, x, "Name", n); !ok {
					continue
				}
			}
			typ, hasType := va["Type"]
			if !hasType {
				p.doc.Errorf(v, "<RegValue> has no Type; expected REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY or REG_HEX")
				continue
			}
			value, ok := p.regAttr(v, x, "Value", va["Value"])
			if !ok {
				continue
			}
			rt, data, err := regValueData(typ, value)
			if err != nil {
				at := "Value"
				if strings.HasPrefix(err.Error(), "Type=") {
					at = "Type"
				}
				p.doc.AttrErrorf(v, at, "%s", clipMsg(err))
				continue
			}
			if !pk.addValue(registry.Value{Key: keyName, Name: name, Type: rt, Data: data}) {
				p.doc.Errorf(v, "value %s of key %s is given twice in package %s", quote(name), quote(keyName), pk.Manifest.Name())
			}
		}
	}
}

// regAttr expands the $(...) macros of a registry attribute; %NAME% stays as written.
func (p *project) regAttr(el *etree.Element, x *winpath.Expander, name, raw string) (string, bool) {
	v, err := x.ExpandMacrosBounded(raw, winpath.MaxExpandedLen)
	if err != nil {
		p.doc.AttrErrorf(el, name, "%s=%s: %v", name, quote(raw), explain(err))
		return "", false
	}
	return v, true
}

// valueID names a value for duplicate checks, ignoring case: key NUL name, or key NUL for
// the key alone (Type "").
func valueID(v registry.Value) string {
	if v.Type == "" {
		return strings.ToLower(v.Key) + "\x00"
	}
	return strings.ToLower(v.Key) + "\x00" + strings.ToLower(v.Name)
}

// addValue adds v to pk.Registry unless pk already has that value (or, for a key alone, that
// key); it reports whether v was added. Every entry of pk.Registry is added here.
func (pk *Package) addValue(v registry.Value) bool {
	id := valueID(v)
	if pk.regSeen[id] {
		return false
	}
	if pk.regSeen == nil {
		pk.regSeen = map[string]bool{}
	}
	pk.regSeen[id] = true
	pk.Registry = append(pk.Registry, v)
	return true
}

func hasRoot(key string) bool {
	u := strings.ToUpper(key)
	for _, r := range regRoots {
		if strings.HasPrefix(u, r+`\`) && len(u) > len(r)+1 {
			return true
		}
		// HKEY_CURRENT_USER and HKEY_CLASSES_ROOT are keys themselves; the others hold hives.
		if u == r && (r == `HKEY_CURRENT_USER` || r == `HKEY_CLASSES_ROOT`) {
			return true
		}
	}
	return false
}

// addAppend appends s to the REG_MULTI_SZ value name of key in pk's .rga.
func (pk *Package) addAppend(key, name, s string) {
	for i := range pk.Append {
		a := &pk.Append[i]
		if strings.EqualFold(a.Key, key) && strings.EqualFold(a.Name, name) {
			a.Strings = append(a.Strings, s)
			return
		}
	}
	pk.Append = append(pk.Append, AppendValue{Key: key, Name: name, Strings: []string{s}})
}

// registryPayloads are pk's registry files: <package>.reg with the values it sets (FileType
// Registry) and <package>.rga with the strings it appends to REG_MULTI_SZ values (FileType
// RegistryMultiStringAppend; the same Registry Editor 5.00 text, as the original's RgaBuilder
// writes it). A project file placing a file of its own at either device path is refused.
func registryPayloads(pk *Package) ([]spkg.Payload, error) {
	var out []spkg.Payload
	var app []registry.Value
	for _, a := range pk.Append {
		app = append(app, registry.Value{Key: a.Key, Name: a.Name, Type: "REG_MULTI_SZ", Data: multiSz(a.Strings)})
	}
	files := []struct {
		ext, fileType string
		values        []registry.Value
	}{{".reg", "Registry", pk.Registry}, {".rga", "RegistryMultiStringAppend", app}}
	for i, b := range pk.bcd {
		// PkgGen: <Owner.Component[.SubComponent]>_BCDStore_<n>.reg, n from 0 (bcd.go).
		files = append(files, struct {
			ext, fileType string
			values        []registry.Value
		}{fmt.Sprintf("_BCDStore_%d.reg", i), "Registry", b})
	}
	for _, f := range files {
		if len(f.values) == 0 {
			continue
		}
		// One <package name>.reg per package holding all its <RegKeys> (FORMATS.md, SPKG section).
		dp := imageconst.RegistryFilesDir + `\` + pk.Manifest.Name() + f.ext
		if src, dup := pk.paths[strings.ToUpper(dp)]; dup {
			return nil, fmt.Errorf("%s from %s is where the package's registry file goes (its <RegKeys>, Driver, Service and BCDStore settings)", dp, src)
		}
		data, err := registry.File(f.values)
		if err != nil {
			return nil, err
		}
		out = append(out, spkg.Payload{
			DevicePath: dp,
			Size:       int64(len(data)),
			FileType:   f.fileType,
			Open:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		})
	}
	return out, nil
}
