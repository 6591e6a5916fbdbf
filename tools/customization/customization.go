// Package customization turns a resolved MCSF answer file (tools/answerfile) into the customization
// packages of CustomizationGen.cmd / ImgGen.cmd: <Owner>.<Device>.Customizations.<Partition>,
// ...Customizations.StaticApps.<Partition> and ...Customizations.VariantApps.<Partition>
// (docs/customization.md).
package customization

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Device paths of what the packages hold.
const (
	RegistryFilePath  = imageconst.RegistryFilesDir + `\OEMSettings.reg`
	StaticProvXMLDir  = `\Programs\PhoneProvisioner_OEM\OEM\`
	StaticSettingsXML = StaticProvXMLDir + `OEMCustomizations.provxml`
	ProvisionDataPath = `\Programs\CommonFiles\ADC\Microsoft\ProvisionData.cab`
	ProvisionDataName = "ProvisionData.xml" // the variant document inside ProvisionData.cab
	MainOSAppsDir     = `\Programs\CommonFiles\OEMApps\`
	DataAppsDir       = `\SharedData\OEMApps\`
)

// DataAssetDirs are the Data partition directories of each static data asset type.
var DataAssetDirs = map[string]string{
	"MapData":              `\SharedData\MapData\`,
	"RetailDemo_Microsoft": `\SharedData\RetailDemo\Microsoft\`,
	"RetailDemo_OEM":       `\SharedData\RetailDemo\OEM\`,
	"RetailDemo_MO":        `\SharedData\RetailDemo\MO\`,
	"RetailDemo_Apps":      `\SharedData\RetailDemo\Apps\`,
}

// Options are the package properties the answer file does not give.
type Options struct {
	Device  string       // the OEMInput's Device: the packages' Component
	Version spkg.Version // OEMCustomizationVer
	CPUType string       // the image's CPU type, e.g. ARM
}

// Package is one customization package to write.
type Package struct {
	Manifest spkg.Manifest
	Files    []File
}

// FileName is the package's file name.
func (p *Package) FileName() string { return p.Manifest.Name() + ".spkg" }

// File is one file of a package: a host file, or generated data.
type File struct {
	DevicePath string
	Source     string // host path, or "" with Data
	Data       []byte
	Origin     answerfile.Pos // the answer file line it comes from, for messages
}

// Plan lays out the packages of r. Nothing is read but directory listings of data assets.
func Plan(r *answerfile.Resolved, opt Options) ([]*Package, error) {
	root := r.C.Root
	if strings.TrimSpace(opt.Device) == "" {
		return nil, fmt.Errorf("%s: the OEMInput has no Device; expected one, as it names the customization packages (%s.<Device>.Customizations.MainOS)", root.Path, root.Owner)
	}
	pl := &planner{opt: opt, root: root, pkgs: map[string]*Package{}}
	pl.static(r)
	pl.staticApps(r.C.Static.Applications)
	provision, cabFiles := pl.variants(r)
	if len(pl.errs) > 0 {
		return nil, pl.errs
	}
	if len(r.Variants) > 0 {
		data, err := bytesOf(provision)
		if err != nil {
			return nil, err
		}
		doc, _ := cabSource(ProvisionDataName, File{Data: data})
		cabFiles = append([]cab.FileSource{doc}, cabFiles...)
		var buf cab.MemFile
		if _, err := cab.Write(&buf, cabFiles, cab.Options{Compression: cab.MSZIP, Workers: 1}); err != nil {
			return nil, err
		}
		if err := pl.add("Customizations", "MainOS", File{DevicePath: ProvisionDataPath, Data: buf.Bytes(), Origin: root.Pos}); err != nil {
			return nil, err
		}
	}
	return pl.list(), nil
}

// put is add that keeps the error for the end, so that one run reports every file at fault.
func (pl *planner) put(sub, partition string, f File) {
	if err := pl.add(sub, partition, f); err != nil {
		pl.errs = append(pl.errs, err)
	}
}

// static plans the static settings: registry settings and asset lists in OEMSettings.reg,
// CSP settings in the static provisioning XML, asset files (static and variant) at their
// declared directories, data assets on the Data partition (a directory copied whole).
func (pl *planner) static(r *answerfile.Resolved) {
	var reg []registry.Value
	var staticCSP []*answerfile.SettingValue
	for _, s := range r.Static.Settings {
		if s.Policy.Registry == nil {
			staticCSP = append(staticCSP, s)
			continue
		}
		reg = append(reg, regValue(s.RegKey, s.RegName, s.Value))
	}
	reg = append(reg, assetLists(r.Static.Assets)...)
	if len(reg) > 0 {
		data, err := registry.File(reg)
		if err != nil {
			pl.errs = append(pl.errs, &manifest.Error{Pos: pl.root.Pos, Msg: fmt.Sprintf("%s: %v", RegistryFilePath, err)})
		} else {
			pl.put("Customizations", "MainOS", File{DevicePath: RegistryFilePath, Data: data, Origin: pl.root.Pos})
		}
	}
	if len(staticCSP) > 0 {
		pl.put("Customizations", "MainOS", File{DevicePath: StaticSettingsXML, Data: provDoc(staticCSP), Origin: pl.root.Pos})
	}
	assets := append([]*answerfile.PlacedAsset{}, r.Static.Assets...)
	for _, v := range r.Variants {
		assets = append(assets, v.Assets...)
	}
	for _, a := range assets {
		pl.put("Customizations", "MainOS", File{DevicePath: a.DevicePath, Source: a.Asset.Source, Origin: a.Asset.Pos})
	}
	for _, d := range r.C.Static.DataAssets {
		files, err := dataFiles(d)
		if err != nil {
			pl.errs = append(pl.errs, &manifest.Error{Pos: d.Pos, Msg: err.Error()})
			continue
		}
		for _, f := range files {
			pl.put("Customizations", "Data", f)
		}
	}
}

// staticApps plans the static applications, their licenses and provisioning XML.
func (pl *planner) staticApps(apps []*answerfile.Application) {
	for _, a := range apps {
		part, dir := "MainOS", MainOSAppsDir
		if a.TargetPartition == "Data" {
			part, dir = "Data", DataAppsDir
		}
		pl.put("Customizations.StaticApps", part, File{DevicePath: dir + filepath.Base(a.Source), Source: a.Source, Origin: a.Pos})
		if a.License != "" {
			pl.put("Customizations.StaticApps", part, File{DevicePath: dir + filepath.Base(a.License), Source: a.License, Origin: a.Pos})
		}
		if a.ProvXML != "" {
			pl.put("Customizations.StaticApps", "MainOS", File{DevicePath: StaticProvXMLDir + filepath.Base(a.ProvXML), Source: a.ProvXML, Origin: a.Pos})
		}
	}
}

// variants plans the variants' applications and returns the runtime configuration for
// ProvisionData.cab: its ProvisionData document and the provisioning XML files it holds.
func (pl *planner) variants(r *answerfile.Resolved) (*etree.Element, []cab.FileSource) {
	var cabFiles []cab.FileSource
	vroot := etree.NewElement("ProvisionData")
	vroot.CreateAttr("xmlns", answerfile.Namespace)
	vroot.CreateAttr("Owner", pl.root.Owner)
	vroot.CreateAttr("Name", pl.root.Name)
	if len(r.C.Targets) > 0 {
		vroot.AddChild(targetsElement(r.C.Targets))
	}
	for _, v := range r.Variants {
		ve := vroot.CreateElement("Variant")
		ve.CreateAttr("Name", v.Variant.Name)
		ve.CreateAttr("TargetRef", v.Variant.TargetRef)
		if len(v.Variant.Applications) > 0 {
			ae := ve.CreateElement("Applications")
			for _, a := range v.Variant.Applications {
				part, dir := "Data", DataAppsDir+v.Variant.TargetRef+`\`
				if a.TargetPartition == "MainOS" {
					part, dir = "MainOS", MainOSAppsDir+v.Variant.TargetRef+`\`
				}
				el := ae.CreateElement("Application")
				el.CreateAttr("Source", dir+filepath.Base(a.Source))
				pl.put("Customizations.VariantApps", part, File{DevicePath: dir + filepath.Base(a.Source), Source: a.Source, Origin: a.Pos})
				if a.License != "" {
					el.CreateAttr("License", dir+filepath.Base(a.License))
					pl.put("Customizations.VariantApps", part, File{DevicePath: dir + filepath.Base(a.License), Source: a.License, Origin: a.Pos})
				}
				if a.ProvXML != "" {
					name := v.Variant.TargetRef + "." + filepath.Base(a.ProvXML)
					el.CreateAttr("ProvXML", name)
					src, err := cabSource(name, File{Source: a.ProvXML, Origin: a.Pos})
					if err != nil {
						pl.errs = append(pl.errs, err)
						continue
					}
					cabFiles = append(cabFiles, src)
				}
			}
		}
		if len(v.Settings) > 0 {
			ve.AddChild(provElement(v.Settings))
		}
		for _, a := range v.Assets {
			el := ve.CreateElement("Asset")
			el.CreateAttr("Group", a.Group)
			el.CreateAttr("Name", a.Asset.Name)
			el.CreateAttr("DevicePath", a.DevicePath)
			if a.Asset.DisplayName != "" {
				el.CreateAttr("DisplayName", a.Asset.DisplayName)
			}
			el.CreateAttr("Type", a.Asset.Type)
		}
	}
	return vroot, cabFiles
}

// targetsElement is the <Targets> of ProvisionData: each target's states and conditions.
func targetsElement(targets []*answerfile.Target) *etree.Element {
	ts := etree.NewElement("Targets")
	for _, t := range sortedTargets(targets) {
		te := ts.CreateElement("Target")
		te.CreateAttr("Id", t.ID)
		for _, st := range t.States {
			se := te.CreateElement("TargetState")
			for _, c := range st {
				ce := se.CreateElement("Condition")
				ce.CreateAttr("Name", c.Name)
				ce.CreateAttr("Value", c.Value)
				if c.IsWildCard {
					ce.CreateAttr("IsWildCard", "true")
				}
			}
		}
	}
	return ts
}

type planner struct {
	opt  Options
	root *answerfile.File
	pkgs map[string]*Package // by SubComponent
	errs manifest.ErrorList
}

func (pl *planner) add(sub, partition string, f File) *manifest.Error {
	sub = sub + "." + partition
	p := pl.pkgs[sub]
	if p == nil {
		p = &Package{Manifest: spkg.Manifest{
			Identity:    spkg.Identity{Owner: pl.root.Owner, Component: pl.opt.Device, SubComponent: sub, Version: pl.opt.Version},
			ReleaseType: "Production",
			OwnerType:   pl.root.OwnerType,
			BuildType:   "Retail",
			CpuType:     pl.opt.CPUType,
			Partition:   partition,
		}}
		pl.pkgs[sub] = p
	}
	for _, g := range p.Files {
		if strings.EqualFold(g.DevicePath, f.DevicePath) {
			if g.Source != "" && g.Source == f.Source {
				return nil // the same file twice (e.g. a static and a variant asset)
			}
			return &manifest.Error{Pos: f.Origin, Msg: fmt.Sprintf("%s would be written to %s, which %s already writes; expected distinct file names", describe(f), f.DevicePath, g.Origin)}
		}
	}
	p.Files = append(p.Files, f)
	return nil
}

func describe(f File) string {
	if f.Source != "" {
		return f.Source
	}
	return "generated " + filepath.Base(strings.ReplaceAll(f.DevicePath, `\`, "/"))
}

// list returns the packages by name, each with its files by device path.
func (pl *planner) list() []*Package {
	var out []*Package
	for _, p := range pl.pkgs {
		sort.Slice(p.Files, func(i, j int) bool {
			return strings.ToLower(p.Files[i].DevicePath) < strings.ToLower(p.Files[j].DevicePath)
		})
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FileName() < out[j].FileName() })
	return out
}

func sortedTargets(ts []*answerfile.Target) []*answerfile.Target {
	out := append([]*answerfile.Target(nil), ts...)
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].ID) < strings.ToLower(out[j].ID) })
	return out
}

// assetLists are the registry values that list static asset files (MultiStringList: one
// REG_MULTI_SZ of device paths; ValueList: one REG_SZ per file under the OEM or MO key).
func assetLists(assets []*answerfile.PlacedAsset) []registry.Value {
	type multi struct {
		key, name string
		paths     []string
	}
	var multis []*multi
	var out []registry.Value
	for _, a := range assets {
		p := a.Policy
		if p.MultiKey != "" {
			var m *multi
			for _, x := range multis {
				if strings.EqualFold(x.key, p.MultiKey) && strings.EqualFold(x.name, p.MultiValue) {
					m = x
				}
			}
			if m == nil {
				m = &multi{key: p.MultiKey, name: p.MultiValue}
				multis = append(multis, m)
			}
			m.paths = append(m.paths, a.DevicePath)
		}
		key := p.OEMKey
		if a.Asset.Type == "MobileOperator" {
			key = p.MOKey
		}
		if key != "" {
			name := a.DevicePath
			if p.NamesOnly {
				name = a.Asset.FileName()
			}
			out = append(out, regValue(key, name, answerfile.SZ(a.Asset.DisplayName)))
		}
	}
	for _, m := range multis {
		sort.Strings(m.paths)
		out = append(out, regValue(m.key, m.name, answerfile.MultiSZ(m.paths)))
	}
	return out
}

// dataFiles lists a data asset's files: the file, or every file under the directory. Each must
// be a regular file (symbolic links to files are followed; to directories, refused: they are
// not walked, so a link cycle cannot loop).
func dataFiles(d *answerfile.DataAsset) ([]File, error) {
	dir := DataAssetDirs[d.Type]
	st, err := readfile.Check(d.Source, true)
	if err != nil {
		return nil, fmt.Errorf("data asset %v", err)
	}
	if !st.IsDir() {
		return []File{{DevicePath: dir + filepath.Base(d.Source), Source: d.Source, Origin: d.Pos}}, nil
	}
	var out []File
	base := filepath.Base(d.Source)
	err = filepath.WalkDir(d.Source, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if _, err := readfile.Regular(path); err != nil {
			return fmt.Errorf("data asset %v", err)
		}
		rel, err := filepath.Rel(d.Source, path)
		if err != nil {
			return err
		}
		out = append(out, File{DevicePath: dir + base + `\` + strings.ReplaceAll(filepath.ToSlash(rel), "/", `\`), Source: path, Origin: d.Pos})
		return nil
	})
	return out, err
}

// Provisioning documents: settings in the MCSF configuration service provider's form
// (characteristic MCSF, one characteristic per group, one parm per setting).

// bytesOf writes root as an indented XML document with its declaration.
func bytesOf(root *etree.Element) ([]byte, error) {
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	d.AddChild(root)
	d.Indent(2)
	return d.WriteToBytes()
}

func provDoc(settings []*answerfile.SettingValue) []byte {
	data, _ := bytesOf(provElement(settings))
	return data
}

func provElement(settings []*answerfile.SettingValue) *etree.Element {
	doc := etree.NewElement("wap-provisioningdoc")
	top := doc.CreateElement("characteristic")
	top.CreateAttr("type", "MCSF")
	groups := map[string]*etree.Element{}
	for _, s := range settings {
		path := strings.ReplaceAll(s.Group, "/", `\`)
		g := groups[strings.ToLower(path)]
		if g == nil {
			g = top.CreateElement("characteristic")
			g.CreateAttr("type", path)
			groups[strings.ToLower(path)] = g
		}
		p := g.CreateElement("parm")
		p.CreateAttr("name", s.Name)
		p.CreateAttr("value", provValue(s.Value))
		p.CreateAttr("datatype", provTypes[s.Value.Type])
	}
	return doc
}

var provTypes = map[string]string{"REG_SZ": "string", "REG_EXPAND_SZ": "string", "REG_MULTI_SZ": "multiplestring",
	"REG_DWORD": "integer", "REG_QWORD": "integer", "REG_BINARY": "binary"}

// provValue writes numbers in decimal, multi-strings separated by U+F000 (the provisioning
// engine's separator) and binary as hexadecimal.
func provValue(v answerfile.Value) string {
	switch v.Type {
	case "REG_DWORD", "REG_QWORD":
		var n uint64
		for i := len(v.Data) - 1; i >= 0; i-- {
			n = n<<8 | uint64(v.Data[i])
		}
		return fmt.Sprint(n)
	case "REG_MULTI_SZ":
		return strings.ReplaceAll(v.Text, ";", "\uf000")
	case "REG_BINARY":
		return fmt.Sprintf("%X", v.Data)
	}
	return v.Text
}

// open gives the file's size and a reader of its content: the generated data, or the host file,
// which must be a regular file of that size when it is opened (a problem is reported at the
// answer file line the file comes from).
func (f File) open() (int64, func() (io.ReadCloser, error), *manifest.Error) {
	if f.Source == "" {
		data := f.Data
		return int64(len(data)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil
	}
	st, err := readfile.Regular(f.Source)
	if err != nil {
		return 0, nil, &manifest.Error{Pos: f.Origin, Msg: err.Error()}
	}
	src, size, origin := f.Source, st.Size(), f.Origin
	return size, func() (io.ReadCloser, error) {
		r, err := readfile.OpenSized(src, size)
		if err != nil {
			return nil, &manifest.Error{Pos: origin, Msg: err.Error()}
		}
		return r, nil
	}, nil
}

func cabSource(name string, f File) (cab.FileSource, *manifest.Error) {
	size, open, err := f.open()
	if err != nil {
		return cab.FileSource{}, err
	}
	return cab.FileSource{Name: name, Size: size, Open: open}, nil
}
