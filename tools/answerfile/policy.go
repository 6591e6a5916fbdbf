package answerfile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// Policy files declare the settings an answer file may set (docs/customization.md). PkgGen
// compiles a project's <SettingsGroup> elements into PolicyDir\<package name>.policy.xml: a root
// <CustomizationPolicy> in no namespace holding each <SettingsGroup> as the .pkg.xml has it, in
// the package project namespace. ImageApp's policy store reads every file a package installs
// under PolicyDir. The root may also be in the project namespace, as hand-written files have it.
const (
	PolicyDir       = `\Windows\CustomizationPolicy\`
	PolicySuffix    = ".policy.xml" // of the files PkgGen writes
	PolicyNamespace = "urn:Microsoft.WindowsPhone/PackageSchema.v8.00"
)

// IsPolicyPath reports whether a package file's device path is a policy file: any file under
// PolicyDir (compared ignoring case), as ImageApp's policy store takes them.
func IsPolicyPath(devicePath string) bool {
	return len(devicePath) > len(PolicyDir) && strings.EqualFold(devicePath[:len(PolicyDir)], PolicyDir)
}

// Registry value types a RegistrySource may have.
var RegTypes = []string{"REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ", "REG_DWORD", "REG_QWORD", "REG_BINARY"}

// Group is a declared settings group.
type Group struct {
	Path     string // may hold $(Name) segments, each matching any one segment
	Settings []*SettingPolicy
	Assets   []*AssetPolicy
	Pos      Pos

	settings map[string]*SettingPolicy // by lower-case name, built by Setting
	assets   map[string]*AssetPolicy
}

// SettingPolicy is a declared setting.
type SettingPolicy struct {
	Name  string
	Asset string // the name of the group's asset whose file names are the values
	// One of the two sources.
	Registry *RegistrySource
	CSP      *CSPSource
	Options  []Option
	Min, Max *int64
	MinLen   *int
	MaxLen   *int
	Pos      Pos
}

// Type is the registry type of the setting's value (REG_SZ for CSP string types).
func (s *SettingPolicy) Type() string {
	if s.Registry != nil {
		return s.Registry.Type
	}
	if strings.Contains(strings.ToUpper(s.CSP.Type), "INTEGER") {
		return "REG_DWORD"
	}
	return "REG_SZ"
}

// RegistrySource is where a registry-backed setting lives: Key\ValueName ("@" the default value).
type RegistrySource struct {
	Type, Key, ValueName, Default string
}

// CSPSource is a configuration service provider node.
type CSPSource struct{ Type, Path string }

// Option is an allowed value of an enumerated setting; numeric values are hexadecimal.
type Option struct{ Value, FriendlyName string }

// AssetPolicy is a declared asset: where its files go and which registry lists name them.
type AssetPolicy struct {
	Name       string
	Types      []string // allowed extensions, lower case with '.'
	Path       string   // device directory
	MultiKey   string   // MultiStringList: a REG_MULTI_SZ of the files' device paths
	MultiValue string
	OEMKey     string // ValueList: one REG_SZ value per file, under the OEM or MO key
	MOKey      string
	NamesOnly  bool // ValueList FileNamesOnly
	Pos        Pos
}

// Policies are the settings groups of every policy file of an image, added through Add.
type Policies struct {
	Groups []*Group

	byKey map[string]*Group    // by groupKey
	wild  map[wildKey][]*Group // the groups with $(Name) segments
}

// ParsePolicy reads one policy file. file names it in messages (package name and device path).
func ParsePolicy(file string, data []byte) ([]*Group, error) {
	x, err := manifest.ParseDoc(file, data, PolicyNamespace)
	if err != nil {
		return nil, err
	}
	root := x.Root()
	if root.Tag != "CustomizationPolicy" {
		x.Errorf(root, "root element is <%s>; expected <CustomizationPolicy>", root.FullTag())
		return nil, x.Err()
	}
	if root.NamespaceURI() != "" && !x.CheckNS(root) { // PkgGen writes the root in no namespace
		return nil, x.Err()
	}
	x.Attrs(root)
	var out []*Group
	paths := map[string]*Group{}
	for _, el := range x.Children(root) {
		if el.Tag != "SettingsGroup" {
			x.UnknownChild(root, el, []string{"SettingsGroup"})
			continue
		}
		g := policyGroup(x, el)
		if prev, dup := paths[groupKey(g.Path)]; dup {
			x.Errorf(el, "settings group %q is declared twice (first at line %d); expected it once", g.Path, prev.Pos.Line)
		}
		paths[groupKey(g.Path)] = g
		out = append(out, g)
	}
	if err := x.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// PolicyGroup checks a <SettingsGroup> element of document x (a policy file's, or a package
// project's, which pkggen compiles into a policy file) and returns the group it declares; the
// problems are recorded in x at their line and column.
func PolicyGroup(x *manifest.Doc, el *etree.Element) *Group { return policyGroup(x, el) }

func policyGroup(x *manifest.Doc, el *etree.Element) *Group {
	x.Attrs(el, "Path", "Description")
	g := &Group{Path: x.RequireAttr(el, "Path", "the group's path, e.g. OSArea/Feature"), Pos: x.Pos(el)}
	names := map[string]Pos{}
	assets := map[string]*AssetPolicy{}
	for _, c := range x.Children(el) {
		switch c.Tag {
		case "Constraints":
			x.Attrs(c, "ImageTimeOnly", "FirstVariationOnly", "Atomic")
			x.Empty(c)
		case "Asset":
			a := policyAsset(x, c)
			if len(g.Settings) > 0 {
				x.Errorf(c, "<Asset> after a <Setting>; expected the group's assets first")
			}
			if _, dup := assets[strings.ToLower(a.Name)]; dup {
				x.Errorf(c, "asset %q is declared twice in this group; expected unique asset names", a.Name)
			}
			assets[strings.ToLower(a.Name)] = a
			g.Assets = append(g.Assets, a)
		case "Setting":
			s := policySetting(x, c)
			if prev, dup := names[strings.ToLower(s.Name)]; dup {
				x.Errorf(c, "setting %q is declared twice in this group (first at line %d); expected unique names", s.Name, prev.Line)
			}
			names[strings.ToLower(s.Name)] = s.Pos
			if s.Asset != "" && assets[strings.ToLower(s.Asset)] == nil {
				x.AttrErrorf(c, "Asset", "setting %q refers to asset %q, which the group does not declare (before it); expected a declared asset", s.Name, s.Asset)
			}
			g.Settings = append(g.Settings, s)
		default:
			x.UnknownChild(el, c, []string{"Constraints", "Asset", "Setting"})
		}
	}
	return g
}

func policyAsset(x *manifest.Doc, el *etree.Element) *AssetPolicy {
	a := x.Attrs(el, "Name", "Type", "Path", "Description")
	ap := &AssetPolicy{Name: x.RequireAttr(el, "Name", "the asset's name"), Path: x.RequireAttr(el, "Path", `the device directory of its files, e.g. \Programs\CommonFiles\Wallpapers`), Pos: x.Pos(el)}
	for _, t := range strings.Split(a["Type"], ";") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			ap.Types = append(ap.Types, t)
		}
	}
	if ap.Path != "" && !strings.HasPrefix(ap.Path, `\`) {
		x.AttrErrorf(el, "Path", "asset Path %q; expected a device path starting with \\", ap.Path)
	}
	for _, c := range x.Children(el) {
		x.Empty(c)
		switch c.Tag {
		case "MultiStringList":
			x.Attrs(c, "Key", "Value")
			ap.MultiKey = regKey(x, c, x.RequireAttr(c, "Key", "a registry key"), "Key")
			ap.MultiValue = x.RequireAttr(c, "Value", "a registry value name")
		case "ValueList":
			v := x.Attrs(c, "OEMKey", "MOKey", "FileNamesOnly")
			ap.OEMKey = regKey(x, c, v["OEMKey"], "OEMKey")
			ap.MOKey = regKey(x, c, v["MOKey"], "MOKey")
			ap.NamesOnly = yes(x, c, v, "FileNamesOnly")
		default:
			x.UnknownChild(el, c, []string{"MultiStringList", "ValueList"})
		}
	}
	return ap
}

func policySetting(x *manifest.Doc, el *etree.Element) *SettingPolicy {
	a := x.Attrs(el, "Name", "Description", "Asset")
	s := &SettingPolicy{Name: x.RequireAttr(el, "Name", "the setting's name"), Asset: a["Asset"], Pos: x.Pos(el)}
	for _, c := range x.Children(el) {
		switch c.Tag {
		case "RegistrySource":
			x.Attrs(c, "Type", "Path", "Default")
			x.Empty(c)
			typ := x.RequireAttr(c, "Type", "a registry type")
			if typ != "" && !x.EnumAttr(c, "Type", typ, RegTypes...) {
				typ = ""
			}
			path := x.RequireAttr(c, "Path", `the registry value's full path, e.g. HKEY_LOCAL_MACHINE\Software\Contoso\Value`)
			i := strings.LastIndexByte(path, '\\')
			if path != "" && i <= 0 {
				x.AttrErrorf(c, "Path", "registry path %q; expected KEY\\ValueName (\\@ for the default value)", path)
				continue
			}
			if path == "" {
				continue
			}
			s.Registry = &RegistrySource{Type: typ, Key: regKey(x, c, path[:i], "Path"), ValueName: path[i+1:], Default: c.SelectAttrValue("Default", "")}
		case "CSPSource", "CspSource":
			x.Attrs(c, "Type", "Path")
			x.Empty(c)
			s.CSP = &CSPSource{Type: x.RequireAttr(c, "Type", "a ConfigManager2 data type"), Path: x.RequireAttr(c, "Path", "a CSP node URI")}
		case "AccessType":
			x.Attrs(c, "Create", "Delete", "Get", "Replace", "All")
			x.Empty(c)
		case "Validate":
			v := x.Attrs(c, "Min", "Max", "MinLength", "MaxLength")
			s.Min = intAttr(x, c, v, "Min")
			s.Max = intAttr(x, c, v, "Max")
			if n := intAttr(x, c, v, "MinLength"); n != nil {
				m := int(*n)
				s.MinLen = &m
			}
			if n := intAttr(x, c, v, "MaxLength"); n != nil {
				m := int(*n)
				s.MaxLen = &m
			}
			for _, o := range x.Children(c) {
				if o.Tag != "Option" {
					x.UnknownChild(c, o, []string{"Option"})
					continue
				}
				x.Attrs(o, "Value", "FriendlyName")
				x.Empty(o)
				if o.SelectAttr("Value") == nil {
					x.Errorf(o, "<Option> has no Value; expected the option's value")
				}
				s.Options = append(s.Options, Option{Value: o.SelectAttrValue("Value", ""), FriendlyName: o.SelectAttrValue("FriendlyName", "")})
			}
		default:
			x.UnknownChild(el, c, []string{"RegistrySource", "CSPSource", "AccessType", "Validate"})
		}
	}
	if s.Registry == nil && s.CSP == nil {
		x.Errorf(el, "setting %q has no <RegistrySource> or <CSPSource>; expected one", s.Name)
		s.Registry = &RegistrySource{Type: "REG_SZ"}
	}
	if s.Registry != nil && s.Registry.Type != "" && len(s.Options) > 0 {
		for _, o := range s.Options {
			if _, err := Encode(&SettingPolicy{Registry: s.Registry}, optionLiteral(s.Registry.Type, o.Value)); err != nil {
				x.Errorf(el, "option %q of setting %q: %v", o.Value, s.Name, err)
			}
		}
	}
	return s
}

var hives = map[string]string{
	"HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE", "HKLM": "HKEY_LOCAL_MACHINE",
	"HKEY_CURRENT_USER": "HKEY_CURRENT_USER", "HKCU": "HKEY_CURRENT_USER",
	"HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT", "HKCR": "HKEY_CLASSES_ROOT",
	"HKEY_USERS": "HKEY_USERS", "HKU": "HKEY_USERS",
}

// regKey normalizes a registry key's hive name; an unknown hive is reported.
func regKey(x *manifest.Doc, el *etree.Element, key, attr string) string {
	if key == "" {
		return ""
	}
	hive, rest, _ := strings.Cut(key, `\`)
	full, ok := hives[strings.ToUpper(hive)]
	if !ok {
		x.AttrErrorf(el, attr, "registry key %q starts with %q; expected HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, HKEY_CLASSES_ROOT or HKEY_USERS", key, hive)
		return key
	}
	if rest == "" {
		return full
	}
	return full + `\` + strings.Trim(rest, `\`)
}

func yes(x *manifest.Doc, el *etree.Element, a map[string]string, name string) bool {
	switch v := a[name]; v {
	case "", "No", "false":
		return false
	case "Yes", "true":
		return true
	default:
		x.AttrErrorf(el, name, "%s is %q; expected Yes or No", name, v)
		return false
	}
}

func intAttr(x *manifest.Doc, el *etree.Element, a map[string]string, name string) *int64 {
	v, ok := a[name]
	if !ok {
		return nil
	}
	n, err := parseInt(v)
	if err != nil {
		x.AttrErrorf(el, name, "%s is %q; expected a decimal or 0x hexadecimal number", name, v)
		return nil
	}
	return &n
}

func parseInt(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if h, ok := strings.CutPrefix(strings.ToLower(v), "0x"); ok {
		u, err := strconv.ParseUint(h, 16, 64)
		return int64(u), err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Add adds the groups of one policy file; a group declared by two files is an error.
func (p *Policies) Add(groups []*Group) error {
	var errs manifest.ErrorList
	for _, g := range groups {
		if prev := p.exact(g.Path); prev != nil {
			errs = append(errs, &manifest.Error{Pos: g.Pos, Msg: fmt.Sprintf("settings group %q is also declared at %s; expected one declaration per image", g.Path, prev.Pos)})
			continue
		}
		p.Groups = append(p.Groups, g)
		p.index(g)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (p *Policies) exact(path string) *Group { return p.byKey[groupKey(path)] }

// index adds g to the lookups Match uses.
func (p *Policies) index(g *Group) {
	if p.byKey == nil {
		p.byKey = map[string]*Group{}
		p.wild = map[wildKey][]*Group{}
	}
	key := groupKey(g.Path)
	p.byKey[key] = g
	if strings.Contains(key, "$(") {
		segs := strings.Split(key, "/")
		p.wild[wildKeyOf(segs)] = append(p.wild[wildKeyOf(segs)], g)
	}
}

// wildKey buckets the groups with $(Name) segments by segment count and first segment (PkgGen
// requires a literal one), so that a path is compared with the few that could match it.
type wildKey struct {
	n     int
	first string // "" when the first segment is itself a $(Name)
}

func wildKeyOf(segs []string) wildKey {
	if isMacro(segs[0]) {
		return wildKey{n: len(segs)}
	}
	return wildKey{len(segs), segs[0]}
}

func isMacro(seg string) bool { return strings.HasPrefix(seg, "$(") && strings.HasSuffix(seg, ")") }

// Match finds the group declared for an answer file's group path. A declared $(Name) segment
// matches any one segment; vars returns what each matched ("$(Name)" -> value). An exact
// declaration wins over one with $(Name) segments.
func (p *Policies) Match(path string) (*Group, map[string]string) {
	if g := p.exact(path); g != nil {
		return g, nil
	}
	if len(p.wild) == 0 {
		return nil, nil
	}
	want := strings.Split(groupKey(path), "/")
	orig := strings.Split(strings.Trim(strings.ReplaceAll(path, `\`, "/"), "/"), "/")
	for _, bucket := range [][]*Group{p.wild[wildKey{len(want), want[0]}], p.wild[wildKey{n: len(want)}]} {
		for _, g := range bucket {
			if vars, ok := matchSegments(strings.Split(groupKey(g.Path), "/"), want, orig); ok {
				return g, vars
			}
		}
	}
	return nil, nil
}

// matchSegments matches declared segments have against a path's (want lower-case, orig as
// written, both as long as have).
func matchSegments(have, want, orig []string) (map[string]string, bool) {
	vars := map[string]string{}
	for i := range have {
		switch {
		case isMacro(have[i]):
			vars[have[i]] = orig[i]
		case have[i] != want[i]:
			return nil, false
		}
	}
	return vars, true
}

// Nearest names the declared path (or setting "path/name") closest to got, for messages.
func Nearest(got string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := manifest.Distance(strings.ToLower(got), strings.ToLower(k))
		if bestD < 0 || d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}

// Paths lists the declared group paths, sorted.
func (p *Policies) Paths() []string {
	var out []string
	for _, g := range p.Groups {
		out = append(out, g.Path)
	}
	sort.Strings(out)
	return out
}

// Setting finds a declared setting of g by name (case-insensitive), through a map built on first
// use: a group may declare thousands.
func (g *Group) Setting(name string) *SettingPolicy {
	if g.settings == nil {
		g.settings = make(map[string]*SettingPolicy, len(g.Settings))
		for _, s := range g.Settings {
			if k := strings.ToLower(s.Name); g.settings[k] == nil {
				g.settings[k] = s
			}
		}
	}
	return g.settings[strings.ToLower(name)]
}

// Asset finds a declared asset of g by name (case-insensitive).
func (g *Group) Asset(name string) *AssetPolicy {
	if g.assets == nil {
		g.assets = make(map[string]*AssetPolicy, len(g.Assets))
		for _, a := range g.Assets {
			if k := strings.ToLower(a.Name); g.assets[k] == nil {
				g.assets[k] = a
			}
		}
	}
	return g.assets[strings.ToLower(name)]
}
