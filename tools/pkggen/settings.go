package pkggen

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// <SettingsGroup> (specifying-components-in-a-package-project-file.md, docs/customization.md):
// MCSF setting declarations, compiled as PkgGen's PkgRegWriter compiles them. Each group is
// checked as tools/answerfile checks a policy file's (answerfile.PolicyGroup) and by PkgRegWriter's
// own rules (path and name segments, multi-setting defaults, Validate forms), then:
//   - copied, its attributes' macros resolved, under a <CustomizationPolicy> root in no
//     namespace, into the neutral package's \Windows\CustomizationPolicy\<package name>.policy.xml
//     (FileType Regular), the file ImageApp and tools/customization read;
//   - each RegistrySource Default becomes the value it names in the package's .reg.
//   - a group that is not ImageTimeOnly also registers its registry settings and asset lists in
//     the run-time MCSF datastore (datastore, below), in the package's .reg.

// PolicyDevicePath is where a package's compiled settings groups go.
func policyDevicePath(pk *Package) string {
	return answerfile.PolicyDir + pk.Manifest.Name() + answerfile.PolicySuffix
}

var (
	uriSegment   = regexp.MustCompile(`^[a-zA-Z0-9]*$`)
	variableName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z_0-9.]*$`)
	// builtinVariables are the MCSF multi-setting macros PkgRegWriter knows; all are for
	// run-time settings only.
	builtinVariables = map[string]bool{"__ICCID": true, "__IMSI": true, "__CANINDEX": true, "__MVID": true, "__SIMSLOT": true}
	// pkgGenRegTypes are the RegistrySource types PkgRegWriter converts (its RegValueType).
	pkgGenRegTypes = map[string]bool{"REG_SZ": true, "REG_BINARY": true, "REG_DWORD": true, "REG_MULTI_SZ": true}
)

// variables checks a group path or a setting or asset name as PkgRegWriter does: '/' separated
// segments, each alphanumeric or one whole $(Name) macro (not the first), Name a variable name or
// a built-in one (run-time settings only). It returns the macro names and whether all is well.
func (b *builder) variables(el *etree.Element, attr, path string, imageTimeOnly bool) ([]string, bool) {
	p := b.p
	var names []string
	for i, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "$(") && strings.HasSuffix(seg, ")") {
			name := seg[2 : len(seg)-1]
			switch {
			case i == 0:
				p.doc.AttrErrorf(el, attr, "%s=%s: a multi-setting path must start with a segment that is not a macro", attr, quote(path))
			case strings.Contains(name, "$("):
				p.doc.AttrErrorf(el, attr, "%s=%s: macros may not be nested", attr, quote(path))
			case builtinVariables[name] && imageTimeOnly:
				p.doc.AttrErrorf(el, attr, "%s=%s: the %s macro is for run-time settings only (the group has ImageTimeOnly=\"Yes\")", attr, quote(path), name)
			case !builtinVariables[name] && !variableName.MatchString(name):
				p.doc.AttrErrorf(el, attr, "%s=%s: %s is not a variable name; expected a letter then letters, digits, '_' or '.'", attr, quote(path), quote(name))
			default:
				names = append(names, name)
				continue
			}
			return nil, false
		}
		if strings.Contains(seg, "$(") {
			p.doc.AttrErrorf(el, attr, "%s=%s: a multi-setting macro must be a whole segment (nothing else between the slashes)", attr, quote(path))
			return nil, false
		}
		if !uriSegment.MatchString(seg) {
			p.doc.AttrErrorf(el, attr, "%s=%s: segment %s; expected only letters and digits, segments separated by '/'", attr, quote(path), quote(seg))
			return nil, false
		}
	}
	return names, true
}

func (b *builder) settingsGroup(comp *etree.Element) {
	p := b.p
	imageTimeOnly := false
	var settings, assets []*etree.Element
	for _, c := range comp.ChildElements() {
		switch c.Tag {
		case "Constraints":
			imageTimeOnly = c.SelectAttrValue("ImageTimeOnly", "") == "Yes"
		case "Setting":
			settings = append(settings, c)
		case "Asset":
			assets = append(assets, c)
		}
	}
	// PkgRegWriter's checks of the group path and the names, on the text as written; the
	// $(Name) variables they declare stay as written (tools/answerfile matches them).
	// A variable expands to a placeholder of private-use characters (the expander refuses a
	// result that still holds "$("), put back as $(Name) after.
	x := p.x
	var back, tilde []string
	keep := func(names []string) {
		for _, n := range names {
			ph := "\uE000" + n + "\uE001"
			x = x.With(n, ph)
			back = append(back, ph, "$("+n+")")
			tilde = append(tilde, "$("+n+")", "~"+n+"~")
		}
	}
	groupVars, ok := b.variables(comp, "Path", comp.SelectAttrValue("Path", ""), false)
	if !ok {
		return
	}
	keep(groupVars)
	multi := map[*etree.Element]bool{}
	for _, el := range append(assets, settings...) {
		names, ok := b.variables(el, "Name", el.SelectAttrValue("Name", ""), imageTimeOnly && el.Tag == "Setting")
		if !ok {
			return
		}
		keep(names)
		multi[el] = len(groupVars) > 0 || len(names) > 0
	}
	// Every attribute's macros resolved in place, as PkgRegWriter resolves its copy's.
	ok = true
	var resolve func(el *etree.Element)
	resolve = func(el *etree.Element) {
		for i := range el.Attr {
			a := &el.Attr[i]
			if a.Space != "" || a.Key == "xmlns" {
				continue
			}
			if v, good := p.regAttr(el, x, a.Key, a.Value); good {
				a.Value = strings.NewReplacer(back...).Replace(v)
			} else {
				ok = false
			}
		}
		for _, c := range el.ChildElements() {
			resolve(c)
		}
	}
	resolve(comp)
	if !ok {
		return
	}
	g := answerfile.PolicyGroup(p.doc, comp)
	if prev, dup := b.groupPaths[strings.ToLower(g.Path)]; dup {
		p.doc.Errorf(comp, "settings group %s is declared twice (first at line %d); expected it once per package", quote(g.Path), prev)
		return
	}
	if b.groupPaths == nil {
		b.groupPaths = map[string]int{}
	}
	b.groupPaths[strings.ToLower(g.Path)] = p.doc.Pos(comp).Line
	for _, st := range settings {
		b.setting(st, imageTimeOnly, multi[st])
	}
	if !imageTimeOnly && p.doc.Err() == nil {
		b.datastore(comp, g.Path, assets, settings, strings.NewReplacer(tilde...))
	}
	cp := comp.Copy()
	var bare func(el *etree.Element)
	bare = func(el *etree.Element) {
		el.Space = ""
		for _, c := range el.ChildElements() {
			bare(c)
		}
	}
	bare(cp)
	cp.RemoveAttr("xmlns")
	cp.CreateAttr("xmlns", Namespace)
	b.neutral.policy = append(b.neutral.policy, cp)
}

// setting applies PkgRegWriter's checks of a <Setting> and adds its RegistrySource's Default.
func (b *builder) setting(s *etree.Element, imageTimeOnly, multi bool) {
	p := b.p
	src := firstChild(s, "RegistrySource")
	if src == nil {
		return // a CSPSource setting: nothing in the registry
	}
	typ := src.SelectAttrValue("Type", "")
	def := src.SelectAttr("Default")
	if def != nil && multi {
		p.doc.AttrErrorf(src, "Default", "Default on a multi-setting: it has no one registry location (its path has a $(...) macro); expected no Default")
		return
	}
	if !pkgGenRegTypes[typ] && (!imageTimeOnly || def != nil) {
		p.doc.AttrErrorf(src, "Type", "Type=%s: PkgGen compiles settings of REG_SZ, REG_MULTI_SZ, REG_DWORD and REG_BINARY only", quote(typ))
		return
	}
	if v := firstChild(s, "Validate"); v != nil && !imageTimeOnly {
		isString := typ == "REG_SZ" || typ == "REG_MULTI_SZ"
		hasOptions := len(v.SelectElements("Option")) > 0
		has := func(n string) bool { return v.SelectAttr(n) != nil }
		switch {
		case typ == "REG_BINARY":
			p.doc.Errorf(v, "<Validate> on a REG_BINARY setting; PkgGen allows no validation of binary settings")
			return
		case hasOptions:
		case !isString && !has("Min") && !has("Max"):
			p.doc.Errorf(v, "<Validate> of an integer setting has no <Option>, Min or Max; expected options or a range")
			return
		case !isString && (has("MinLength") || has("MaxLength")):
			p.doc.Errorf(v, "MinLength and MaxLength validate string settings; expected Min and Max for this integer setting")
			return
		case isString && !has("MinLength") && !has("MaxLength"):
			p.doc.Errorf(v, "<Validate> of a string setting has no <Option>, MinLength or MaxLength; expected options or a length range")
			return
		case isString && (has("Min") || has("Max")):
			p.doc.Errorf(v, "Min and Max validate integer settings; expected MinLength and MaxLength for this string setting")
			return
		}
	}
	if def == nil {
		return
	}
	path := src.SelectAttrValue("Path", "")
	i := strings.LastIndexByte(path, '\\')
	if i <= 0 || !hasRoot(path[:i]) {
		p.doc.AttrErrorf(src, "Path", "Path=%s: expected KEY\\ValueName under HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, HKEY_USERS or HKEY_CLASSES_ROOT", quote(path))
		return
	}
	value := def.Value
	if typ == "REG_DWORD" {
		// PkgRegWriter reads a DWORD default as a decimal or 0x hexadecimal 32-bit integer.
		n, ok := pkgGenInt(value)
		if !ok {
			p.doc.AttrErrorf(src, "Default", "Default=%s: expected a decimal or 0x hexadecimal 32-bit integer", quote(value))
			return
		}
		value = strconv.FormatUint(uint64(uint32(n)), 16)
	}
	rt, data, err := regValueData(typ, value)
	if err != nil {
		p.doc.AttrErrorf(src, "Default", "Default: %s", clipMsg(err))
		return
	}
	name := path[i+1:]
	if name == "" {
		name = "@"
	}
	b.addDerived(b.neutral, src, registry.Value{Key: path[:i]}, "")
	b.addDerived(b.neutral, src, registry.Value{Key: path[:i], Name: name, Type: rt, Data: data}, "the Default of <RegistrySource>")
}

// pkgGenInt parses as PkgRegWriter's StringToInteger: decimal, or hexadecimal after 0x; int32.
func pkgGenInt(s string) (int32, bool) {
	t := strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(strings.ToLower(t), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 32)
		return int32(uint32(n)), err == nil && !strings.HasPrefix(h, "+") && !strings.HasPrefix(h, "-")
	}
	n, err := strconv.ParseInt(t, 10, 32)
	return int32(n), err == nil
}

func firstChild(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// policyPayload is pk's compiled settings groups as the policy file, or nil.
func policyPayload(pk *Package) (*spkg.Payload, error) {
	if len(pk.policy) == 0 {
		return nil, nil
	}
	dp := policyDevicePath(pk)
	if src, dup := pk.paths[strings.ToUpper(dp)]; dup {
		return nil, fmt.Errorf("%s from %s is where the package's compiled <SettingsGroup> elements go", dp, src)
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("CustomizationPolicy")
	for _, g := range pk.policy {
		root.AddChild(g.Copy())
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF") // XmlWriter's default UTF-8 encoding writes the byte order mark
	if _, err := doc.WriteTo(&buf); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return &spkg.Payload{
		DevicePath: dp,
		Size:       int64(len(data)),
		Open:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}, nil
}

// MCSFSettingsKey is where PkgRegWriter registers the run-time MCSF settings of a group that is
// not ImageTimeOnly ($(hklm.software)\Microsoft\MCSF\Settings).
const MCSFSettingsKey = `HKEY_LOCAL_MACHINE\Software\Microsoft\MCSF\Settings`

// datastore adds the run-time MCSF datastore keys PkgRegWriter writes for a group that is not
// ImageTimeOnly and has a registry setting or an asset list: per registry Setting a key
// MCSFSettingsKey\<group path>/<name> with AllowedAccess (AccessType: a "No" clears Create 1,
// Delete 2, Get 4, Replace 8, All), Source 1 (registry), SourcePath, SourceType (the registry
// type's number), ValidationMethod (0 none, 1 range with ValidateMin/ValidateMax, 2 options in an
// Options subkey "0", "1", ...); per asset list a key <group>/<asset>.OEMAssets (MultiStringList,
// SourceType 7) or <group>/<asset>.OEMAssets/~AssetName~ and .MOAssets/~AssetName~ (ValueList).
// Variables are written ~Name~, as PkgRegWriter registers them. Values were checked by
// setting and answerfile.PolicyGroup before.
func (b *builder) datastore(comp *etree.Element, path string, assets, settings []*etree.Element, tilde *strings.Replacer) {
	regSetting := false
	for _, st := range settings {
		regSetting = regSetting || firstChild(st, "RegistrySource") != nil
	}
	for _, a := range assets {
		regSetting = regSetting || firstChild(a, "MultiStringList") != nil || firstChild(a, "ValueList") != nil
	}
	if !regSetting {
		return
	}
	dword := func(n uint32) []byte { return le32(n) }
	add := func(el *etree.Element, uri, sourcePath string, sourceType, access, method uint32, extra []registry.Value) {
		key := MCSFSettingsKey + `\` + tilde.Replace(uri)
		b.addDerived(b.neutral, el, registry.Value{Key: key}, "")
		for _, v := range append([]registry.Value{
			{Key: key, Name: "AllowedAccess", Type: "REG_DWORD", Data: dword(access)},
			{Key: key, Name: "Source", Type: "REG_DWORD", Data: dword(1)},
			{Key: key, Name: "SourcePath", Type: "REG_SZ", Data: utf16z(tilde.Replace(sourcePath))},
			{Key: key, Name: "SourceType", Type: "REG_DWORD", Data: dword(sourceType)},
			{Key: key, Name: "ValidationMethod", Type: "REG_DWORD", Data: dword(method)},
		}, extra...) {
			if v.Key == "" {
				v.Key = key
			} else if strings.HasPrefix(v.Key, `\`) {
				v.Key = key + v.Key
				b.addDerived(b.neutral, el, registry.Value{Key: v.Key}, "")
			}
			b.addDerived(b.neutral, el, v, "the MCSF datastore entry of <"+el.Tag+">")
		}
	}
	for _, a := range assets {
		name := a.SelectAttrValue("Name", "")
		uri := path + "/" + name
		if m := firstChild(a, "MultiStringList"); m != nil {
			add(a, uri+".OEMAssets", m.SelectAttrValue("Key", "")+`\`+m.SelectAttrValue("Value", ""), 7, 0xF, 0, nil)
		}
		if vl := firstChild(a, "ValueList"); vl != nil {
			if k := vl.SelectAttr("OEMKey"); k != nil {
				add(a, uri+".OEMAssets/~AssetName~", k.Value+`\~AssetName~`, 1, 0xF, 0, nil)
			}
			if k := vl.SelectAttr("MOKey"); k != nil {
				add(a, uri+".MOAssets/~AssetName~", k.Value+`\~AssetName~`, 1, 0xF, 0, nil)
			}
		}
	}
	for _, st := range settings {
		src := firstChild(st, "RegistrySource")
		if src == nil {
			continue // a CSP setting
		}
		typ := map[string]uint32{"REG_SZ": 1, "REG_BINARY": 3, "REG_DWORD": 4, "REG_MULTI_SZ": 7}[src.SelectAttrValue("Type", "")]
		isString := typ == 1 || typ == 7
		access := uint32(0xF)
		if at := firstChild(st, "AccessType"); at != nil {
			for _, f := range []struct {
				attr string
				bit  uint32
			}{{"Create", 1}, {"Delete", 2}, {"Get", 4}, {"Replace", 8}, {"All", 0xF}} {
				if at.SelectAttrValue(f.attr, "") == "No" {
					access &^= f.bit
				}
			}
		}
		method := uint32(0)
		var extra []registry.Value
		if v := firstChild(st, "Validate"); v != nil {
			if opts := v.SelectElements("Option"); len(opts) > 0 {
				method = 2
				for i, o := range opts {
					val := o.SelectAttrValue("Value", "")
					ev := registry.Value{Key: `\Options`, Name: strconv.Itoa(i), Type: "REG_SZ", Data: utf16z(val)}
					if !isString {
						n, ok := pkgGenInt(val)
						if !ok {
							b.p.doc.AttrErrorf(o, "Value", "Value=%s: expected a decimal or 0x hexadecimal 32-bit integer", quote(val))
							return
						}
						ev.Type, ev.Data = "REG_DWORD", le32(uint32(n))
					}
					extra = append(extra, ev)
				}
			} else {
				method = 1
				lo, hi := "Min", "Max"
				if isString {
					lo, hi = "MinLength", "MaxLength"
				}
				minV, maxV := int32(-1<<31), int32(1<<31-1)
				if isString {
					minV = 0
				}
				for _, r := range []struct {
					attr string
					v    *int32
				}{{lo, &minV}, {hi, &maxV}} {
					if a := v.SelectAttr(r.attr); a != nil {
						n, ok := pkgGenInt(a.Value)
						if !ok || (isString && n < 0) {
							b.p.doc.AttrErrorf(v, r.attr, "%s=%s: expected a decimal or 0x hexadecimal 32-bit integer%s", r.attr, quote(a.Value), map[bool]string{true: ", not negative", false: ""}[isString])
							return
						}
						*r.v = n
					}
				}
				extra = append(extra, registry.Value{Name: "ValidateMin", Type: "REG_DWORD", Data: le32(uint32(minV))},
					registry.Value{Name: "ValidateMax", Type: "REG_DWORD", Data: le32(uint32(maxV))})
			}
		}
		add(st, path+"/"+st.SelectAttrValue("Name", ""), src.SelectAttrValue("Path", ""), typ, access, method, extra)
	}
}
