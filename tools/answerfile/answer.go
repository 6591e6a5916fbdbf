// Package answerfile reads MCSF customization answer files (the OEMCustomizationXML of ImgGen.cmd and
// CustomizationGen.cmd) and the policy files that declare the settings they may set: parsing
// with positions, imports with priorities and the documented conflict rules, and the encoding
// of setting values into registry data (docs/customization.md, FORMATS.md section 6).
package answerfile

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Namespace of answer files (that of OEMInput files).
const Namespace = manifest.Namespace

// Pos is a place in an input file.
type Pos = manifest.Pos

// OwnerTypes are the values of the OwnerType attribute.
var OwnerTypes = []string{"OEM", "SiliconVendor", "MobileOperator"}

// DataAssetTypes are the documented types of static data assets.
var DataAssetTypes = []string{"MapData", "RetailDemo_Microsoft", "RetailDemo_OEM", "RetailDemo_MO", "RetailDemo_Apps"}

// File is one answer file as written: its imports are not followed yet (see Load).
type File struct {
	Path string // host path
	Pos  Pos    // of the root element

	Name, Description, Owner, OwnerType string
	Priority                            int // 1 is highest; 0 when the file gives none

	Imports  []Import
	Targets  []*Target
	Static   *Section // nil without <Static>
	Variants []*Variant
}

// Import is an Imports/Import element, its Source expanded to a host path.
type Import struct {
	Source string
	Pos    Pos
}

// Target is a Targets/Target: its states are OR'ed, the conditions of a state AND'ed.
type Target struct {
	ID     string
	States [][]Condition
	Pos    Pos
}

// Condition is a TargetState/Condition.
type Condition struct {
	Name, Value string
	IsWildCard  bool
	Pos         Pos
}

// Section is the content of <Static> or of a <Variant>.
type Section struct {
	Settings     []*SettingsGroup
	Applications []*Application
	DataAssets   []*DataAsset // static only

	groups map[string]*SettingsGroup // Settings by groupKey, while merging
}

// Variant is a <Variant>: settings applied when its target's conditions are met.
type Variant struct {
	Name      string
	TargetRef string
	Pos       Pos
	RefPos    Pos
	Section
}

// SettingsGroup is a <Settings Path=...>.
type SettingsGroup struct {
	Path     string
	Settings []*Setting
	Assets   []*Asset
	Pos      Pos
}

// Setting is a Settings/Setting.
type Setting struct {
	Name, Value string
	Pos         Pos
}

// Asset is a Settings/Asset, its Source a host path.
type Asset struct {
	Name, Source, TargetFileName, DisplayName, Type string
	Pos                                             Pos
}

// FileName is the asset's name on the device: TargetFileName, else the source's name.
func (a *Asset) FileName() string {
	if a.TargetFileName != "" {
		return a.TargetFileName
	}
	return filepath.Base(a.Source)
}

// Application is an Applications/Application, its paths on the host.
type Application struct {
	Source, License, ProvXML, TargetPartition string
	Pos                                       Pos
}

// DataAsset is a DataAssets/DataAsset with the type of its group (or its own).
type DataAsset struct {
	Type, Source string
	Pos          Pos
}

// parser reads one answer file.
type parser struct {
	x    *manifest.Doc
	path string
	env  map[string]string
}

// Parse reads one answer file. path is its host path ($(CurrentFileDir) of its imports), env
// the environment $(NAME) references in source paths read from. Source paths are expanded and
// checked to be absolute; whether the files exist is checked by Load.
func Parse(path string, data []byte, env map[string]string) (*File, error) {
	x, err := manifest.ParseDoc(path, data, Namespace)
	if err != nil {
		return nil, err
	}
	p := &parser{x: x, path: path, env: env}
	root := x.Root()
	f := &File{Path: path, Pos: x.Pos(root)}
	if root.Tag != "ImageCustomizations" {
		x.Errorf(root, "root element is <%s>; expected <ImageCustomizations>", root.FullTag())
		return nil, x.Err()
	}
	if !x.CheckNS(root) {
		return nil, x.Err()
	}
	a := x.Attrs(root, "Name", "Description", "Owner", "OwnerType", "Priority")
	f.Name, f.Description, f.Owner = a["Name"], a["Description"], a["Owner"]
	if v, ok := a["OwnerType"]; ok && x.EnumAttr(root, "OwnerType", v, OwnerTypes...) {
		f.OwnerType = v
	}
	if v, ok := a["Priority"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			x.AttrErrorf(root, "Priority", "Priority is %q; expected a whole number from 1 (highest); 0 and negative numbers are not allowed", v)
		} else {
			f.Priority = n
		}
	}
	seen := map[string]*etree.Element{}
	for _, el := range x.Children(root) {
		if prev, dup := seen[el.Tag]; dup && el.Tag != "Variant" {
			x.Errorf(el, "<%s> appears twice in <ImageCustomizations> (first at line %d); expected it at most once", el.Tag, x.Pos(prev).Line)
			continue
		}
		seen[el.Tag] = el
		switch el.Tag {
		case "Imports":
			x.Attrs(el)
			for _, c := range x.Children(el) {
				if c.Tag != "Import" {
					x.UnknownChild(el, c, []string{"Import"})
					continue
				}
				x.Attrs(c, "Source")
				x.Empty(c)
				if src, ok := p.source(c, "Source", true); ok {
					f.Imports = append(f.Imports, Import{Source: src, Pos: x.Pos(c)})
				}
			}
		case "Targets":
			x.Attrs(el)
			f.Targets = p.targets(el)
		case "Static":
			x.Attrs(el)
			f.Static = p.section(el, true)
		case "Variant":
			f.Variants = append(f.Variants, p.variant(el))
		default:
			x.UnknownChild(root, el, []string{"Imports", "Targets", "Static", "Variant"})
		}
	}
	if err := x.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

func (p *parser) targets(el *etree.Element) []*Target {
	x := p.x
	var out []*Target
	ids := map[string]*Target{}
	for _, c := range x.Children(el) {
		if c.Tag != "Target" {
			x.UnknownChild(el, c, []string{"Target"})
			continue
		}
		x.Attrs(c, "Id")
		t := &Target{ID: x.RequireAttr(c, "Id", "the target's name, which a Variant's TargetRef names"), Pos: x.Pos(c)}
		if prev, dup := ids[strings.ToLower(t.ID)]; dup && t.ID != "" {
			x.AttrErrorf(c, "Id", "target %q is defined twice (first at line %d); expected unique Target Ids", t.ID, prev.Pos.Line)
		}
		ids[strings.ToLower(t.ID)] = t
		for _, s := range x.Children(c) {
			if s.Tag != "TargetState" {
				x.UnknownChild(c, s, []string{"TargetState"})
				continue
			}
			x.Attrs(s)
			var state []Condition
			for _, ce := range x.Children(s) {
				if ce.Tag != "Condition" {
					x.UnknownChild(s, ce, []string{"Condition"})
					continue
				}
				x.Attrs(ce, "Name", "Value", "IsWildCard")
				x.Empty(ce)
				state = append(state, Condition{
					Name:       x.RequireAttr(ce, "Name", "a condition name such as MCC or MNC"),
					Value:      ce.SelectAttrValue("Value", ""),
					IsWildCard: x.BoolAttr(ce, "IsWildCard"),
					Pos:        x.Pos(ce),
				})
			}
			if len(state) == 0 {
				x.Errorf(s, "<TargetState> has no <Condition>; expected at least one")
			}
			t.States = append(t.States, state)
		}
		if len(t.States) == 0 {
			x.Errorf(c, "target %q has no <TargetState>; expected at least one", t.ID)
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) variant(el *etree.Element) *Variant {
	x := p.x
	x.Attrs(el, "Name")
	v := &Variant{Name: el.SelectAttrValue("Name", ""), Pos: x.Pos(el)}
	var rest []*etree.Element
	refs := 0
	for _, c := range x.Children(el) {
		if c.Tag != "TargetRefs" {
			rest = append(rest, c)
			continue
		}
		x.Attrs(c)
		for _, r := range x.Children(c) {
			if r.Tag != "TargetRef" {
				x.UnknownChild(c, r, []string{"TargetRef"})
				continue
			}
			x.Attrs(r, "Id")
			x.Empty(r)
			refs++
			if refs > 1 {
				x.Errorf(r, "a second <TargetRef> in variant %q; expected exactly one (only one TargetRef is supported)", v.Name)
				continue
			}
			v.TargetRef = x.RequireAttr(r, "Id", "the Id of a Target")
			v.RefPos = x.Pos(r)
		}
	}
	if refs == 0 {
		x.Errorf(el, "variant %q has no <TargetRefs>/<TargetRef>; expected one (a variant without a target is <Static>)", v.Name)
	}
	v.Section = *p.sectionOf(el, rest, false)
	return v
}

func (p *parser) section(el *etree.Element, static bool) *Section {
	return p.sectionOf(el, p.x.Children(el), static)
}

func (p *parser) sectionOf(el *etree.Element, children []*etree.Element, static bool) *Section {
	x := p.x
	s := &Section{}
	allowed := []string{"Settings", "Applications"}
	if static {
		allowed = []string{"DataAssets", "Settings", "Applications"}
	} else {
		allowed = append([]string{"TargetRefs"}, allowed...)
	}
	for _, c := range children {
		switch {
		case c.Tag == "Settings":
			s.Settings = append(s.Settings, p.settings(c))
		case c.Tag == "Applications":
			x.Attrs(c)
			for _, a := range x.Children(c) {
				if a.Tag != "Application" {
					x.UnknownChild(c, a, []string{"Application"})
					continue
				}
				s.Applications = append(s.Applications, p.application(a))
			}
		case c.Tag == "DataAssets" && static:
			groupType := c.SelectAttrValue("Type", "")
			x.Attrs(c, "Type")
			if groupType != "" {
				x.EnumAttr(c, "Type", groupType, DataAssetTypes...)
			}
			for _, d := range x.Children(c) {
				if d.Tag != "DataAsset" {
					x.UnknownChild(c, d, []string{"DataAsset"})
					continue
				}
				x.Attrs(d, "Source", "Type")
				x.Empty(d)
				typ := groupType
				if v := d.SelectAttrValue("Type", ""); v != "" {
					if x.EnumAttr(d, "Type", v, DataAssetTypes...) {
						typ = v
					}
				}
				if typ == "" {
					x.Errorf(d, "<DataAsset> has no Type (on it or on <DataAssets>); expected %s", strings.Join(DataAssetTypes, ", "))
				}
				if src, ok := p.source(d, "Source", false); ok {
					s.DataAssets = append(s.DataAssets, &DataAsset{Type: typ, Source: src, Pos: x.Pos(d)})
				}
			}
		default:
			x.UnknownChild(el, c, allowed)
		}
	}
	return s
}

func (p *parser) settings(el *etree.Element) *SettingsGroup {
	x := p.x
	x.Attrs(el, "Path")
	g := &SettingsGroup{Path: x.RequireAttr(el, "Path", "the path of a settings group declared by a policy file"), Pos: x.Pos(el)}
	names := map[string]*Setting{}
	for _, c := range x.Children(el) {
		x.Empty(c)
		switch c.Tag {
		case "Setting":
			x.Attrs(c, "Name", "Value")
			s := &Setting{Name: x.RequireAttr(c, "Name", "the name of a setting of the group"), Value: c.SelectAttrValue("Value", ""), Pos: x.Pos(c)}
			if c.SelectAttr("Value") == nil {
				x.Errorf(c, "<Setting Name=%q> has no Value attribute; expected the setting's value", s.Name)
			}
			if prev, dup := names[strings.ToLower(s.Name)]; dup {
				x.Errorf(c, "setting %q is set twice in this group (first at line %d); expected it once", s.Name, prev.Pos.Line)
			}
			names[strings.ToLower(s.Name)] = s
			g.Settings = append(g.Settings, s)
		case "Asset":
			x.Attrs(c, "Name", "Source", "TargetFileName", "DisplayName", "Type")
			a := &Asset{
				Name:           x.RequireAttr(c, "Name", "the name of an asset of the group"),
				TargetFileName: c.SelectAttrValue("TargetFileName", ""),
				DisplayName:    c.SelectAttrValue("DisplayName", ""),
				Type:           "OEM",
				Pos:            x.Pos(c),
			}
			if v := c.SelectAttrValue("Type", ""); v != "" && x.EnumAttr(c, "Type", v, "OEM", "MobileOperator") {
				a.Type = v
			}
			if strings.ContainsAny(a.TargetFileName, `\/:*?"<>|`) {
				x.AttrErrorf(c, "TargetFileName", "TargetFileName %q; expected a file name without a directory or reserved characters", a.TargetFileName)
			}
			if src, ok := p.source(c, "Source", false); ok {
				a.Source = src
				g.Assets = append(g.Assets, a)
			}
		default:
			x.UnknownChild(el, c, []string{"Setting", "Asset"})
		}
	}
	return g
}

func (p *parser) application(el *etree.Element) *Application {
	x := p.x
	x.Attrs(el, "Source", "License", "ProvXML", "TargetPartition")
	x.Empty(el)
	a := &Application{Pos: x.Pos(el)}
	a.Source, _ = p.source(el, "Source", false)
	if el.SelectAttr("License") != nil {
		a.License, _ = p.source(el, "License", false)
	}
	if el.SelectAttr("ProvXML") != nil {
		a.ProvXML, _ = p.source(el, "ProvXML", false)
	}
	if v := el.SelectAttrValue("TargetPartition", ""); v != "" && x.EnumAttr(el, "TargetPartition", v, "MainOS", "Data") {
		a.TargetPartition = v
	}
	return a
}

// source reads a file path attribute: %NAME% is refused, $(NAME) is an environment variable
// ($(CurrentFileDir) too in imports; only imports may use variables in the file name), and the
// result must be an absolute host path.
func (p *parser) source(el *etree.Element, attr string, isImport bool) (string, bool) {
	x := p.x
	raw := x.RequireAttr(el, attr, "an absolute path")
	if raw == "" {
		return "", false
	}
	if ref := percentRef(raw); ref != "" {
		x.AttrErrorf(el, attr, "%s %q uses %s; %%NAME%% is not allowed in answer files, expected $(NAME)", attr, raw, ref)
		return "", false
	}
	if !isImport && strings.Contains(winpath.Base(raw), "$(") {
		x.AttrErrorf(el, attr, "%s %q has a variable in its file name; only Import sources may, expected variables in the directory part only", attr, raw)
		return "", false
	}
	vars := make(map[string]string, len(p.env)+1)
	for k, v := range p.env {
		vars[k] = v
	}
	delete(vars, "CurrentFileDir")
	if isImport {
		vars["CurrentFileDir"] = filepath.Dir(p.path)
	}
	s := winpath.NewExpander(vars, nil).Expand(raw)
	if i := strings.Index(s, "$("); i >= 0 {
		ref := s[i:]
		if j := strings.IndexByte(ref, ')'); j >= 0 {
			ref = ref[:j+1]
		}
		what := "an environment variable that is not set"
		if strings.EqualFold(ref, "$(CurrentFileDir)") {
			what = "$(CurrentFileDir), which only Import sources may use"
		}
		x.AttrErrorf(el, attr, "%s %q uses %s, %s; expected it set", attr, raw, ref, what)
		return "", false
	}
	host, err := hostPath(s, p.env)
	if err != nil {
		x.AttrErrorf(el, attr, "%s %q: %v", attr, raw, err)
		return "", false
	}
	return host, true
}

// percentRef finds a %NAME% reference (NAME without separators or blanks).
func percentRef(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			return ""
		}
		if name := s[i+1 : i+1+j]; name != "" && !strings.ContainsAny(name, "\\/ \t\r\n") {
			return s[i : i+j+2]
		}
	}
	return ""
}

// hostPath checks that s is absolute and maps it to the host.
// A drive path (C:\dir\file, as answer files written on Windows have them) maps through the
// variable named after the drive ("C:" -> the host directory standing for C:\, which
// `oemimage --var=C:=DIR` sets), so such files work unchanged.
func hostPath(s string, env map[string]string) (string, error) {
	var m winpath.Mapper
	switch {
	case len(s) >= 2 && (s[0] == '\\' || s[0] == '/') && (s[1] == '\\' || s[1] == '/'):
		return "", errors.New("a UNC path has no host equivalent; expected an absolute host path")
	case len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/'):
		drive := strings.ToUpper(s[:2])
		dir, ok := env[drive]
		if !ok {
			dir, ok = env[strings.ToLower(drive)]
		}
		if !ok || dir == "" {
			return "", errors.New("a drive path has no host equivalent on this machine; expected an absolute host path, $(NAME) for the directory, or the drive mapped (oemimage --var=" + drive + "=DIR)")
		}
		m.Drives = map[string]string{drive[:1]: dir}
	case len(s) >= 2 && s[1] == ':':
		return "", errors.New("a drive-relative path; expected an absolute path")
	case s == "" || s[0] != '/' && s[0] != '\\':
		return "", errors.New("a relative path; expected an absolute path (source paths must be absolute)")
	}
	h, err := m.ToHost(s)
	if err != nil {
		return "", err
	}
	return filepath.Clean(h), nil
}
