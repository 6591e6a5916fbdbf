// Package pkggen builds mobile packages from package project files (.pkg.xml), as PkgGen.exe
// does (docs/creating-mobile-packages.md, docs/command-line-arguments-for-package-generator.md).
//
// Supported: Package attributes, Macros, OSComponent with Files/File (Source, DestinationDir,
// Name, Attributes), Files groups with Language= or Resolution= producing satellite packages,
// and the global $(runtime.*) macros. Other components (drivers, services, registry, apps,
// binary partitions) are refused with an error naming the element: never ignored.
package pkggen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
	"github.com/oemimage/rules_oemimage/tools/xmlpath"
)

// Namespace of package project files.
const Namespace = "urn:Microsoft.WindowsPhone/PackageSchema.v8.00"

// GlobalMacros stand for PkgGen.cfg.xml, the global macro file of the kit, which is not
// redistributable: the device folders the documentation names. A /config: file adds to or
// overrides them (docs/formats.md lists them).
var GlobalMacros = map[string]string{
	"runtime.windows":      `\Windows`,
	"runtime.system32":     `\Windows\System32`,
	"runtime.system":       `\Windows\System32`,
	"runtime.drivers":      `\Windows\System32\Drivers`,
	"runtime.driverStore":  `\Windows\System32\DriverStore`,
	"runtime.inf":          `\Windows\INF`,
	"runtime.fonts":        `\Windows\Fonts`,
	"runtime.bootDrive":    ``,
	"runtime.programFiles": `\Programs`,
	"runtime.commonFiles":  `\Programs\CommonFiles`,
	"runtime.imageUpdate":  `\Windows\ImageUpdate`,
	// The default folder of an OSComponent's files without DestinationDir.
	"runtime.default": `\Windows\System32`,
}

// Options are the command-line settings of a run.
type Options struct {
	Version     spkg.Version
	BuildType   string   // fre or chk
	CPU         string   // arm, x86, arm64, amd64
	Languages   []string // /language: satellites to generate for Language= groups
	Resolutions []string // /resolution:
	Variables   map[string]string
	Config      string            // /config: file with more <Macro Id= Value=/> definitions
	Env         map[string]string // %VAR% values (the process environment for the CLI)
	Compress    bool
}

// Package is one package a project produces: the neutral one or a satellite.
type Package struct {
	Manifest spkg.Manifest // identity and properties, Files empty
	Files    []File
}

// File is a payload file with its source on the host.
type File struct {
	Source     string // host path
	DevicePath string
	Attributes string
}

// Name is the package's file name.
func (p *Package) FileName() string { return p.Manifest.Name() + ".spkg" }

var cpuTypes = map[string]string{"arm": "ARM", "x86": "X86", "arm64": "ARM64", "amd64": "AMD64"}
var buildTypes = map[string]string{"fre": "Retail", "chk": "Checked"}

// Components that PkgGen knows and this tool does not build yet.
var unsupportedComponents = map[string]bool{
	"AppResource": true, "Application": true, "BCDStore": true, "BinaryPartition": true, "ComServer": true,
	"Driver": true, "Service": true, "SvcHostGroup": true, "WinRTHost": true, "FullTrust": true, "InboxApp": true,
	"SettingsGroup": true,
}

type project struct {
	path string
	x    *winpath.Expander
	find *winpath.Finder
}

func (p *project) errorf(el *etree.Element, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s", p.path, xmlpath.Of(el), fmt.Sprintf(format, args...))
}

// Load reads a project file and returns the packages it produces: the neutral package first,
// then language satellites in /language: order, then resolution satellites.
func Load(projectPath string, opt Options) ([]*Package, error) {
	data, err := os.ReadFile(projectPath)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%s: not well-formed XML: %v", projectPath, err)
	}
	root := doc.Root()
	p := &project{path: projectPath, find: winpath.NewFinder()}
	if root == nil || root.Tag != "Package" {
		return nil, fmt.Errorf("%s: root element must be <Package>", projectPath)
	}
	if ns := root.NamespaceURI(); ns != Namespace {
		return nil, p.errorf(root, "namespace %q, expected %q", ns, Namespace)
	}
	buildType, ok := buildTypes[strings.ToLower(opt.BuildType)]
	if !ok {
		return nil, fmt.Errorf("build type %q: expected fre or chk", opt.BuildType)
	}
	cpu, ok := cpuTypes[strings.ToLower(opt.CPU)]
	if !ok {
		return nil, fmt.Errorf("cpu %q: expected arm, x86, arm64 or amd64", opt.CPU)
	}

	vars := map[string]string{}
	for k, v := range GlobalMacros {
		vars[k] = v
	}
	if opt.Config != "" {
		if err := readConfig(opt.Config, vars); err != nil {
			return nil, err
		}
	}
	vars["_RELEASEDIR"] = filepath.Dir(projectPath)
	vars["buildtype"] = strings.ToLower(opt.BuildType)
	vars["cputype"] = strings.ToLower(opt.CPU)
	for k, v := range opt.Variables {
		vars[k] = v
	}

	attrs := map[string]string{"ReleaseType": "Test", "OwnerType": "OEM", "Partition": "MainOS"}
	known := map[string]bool{"Owner": true, "Component": true, "SubComponent": true, "ReleaseType": true, "OwnerType": true,
		"Partition": true, "Platform": true, "GroupingKey": true, "BinaryPartition": true, "Description": true}
	for _, a := range root.Attr {
		if a.Space == "xmlns" || a.Key == "xmlns" || a.Space != "" {
			continue
		}
		if !known[a.Key] {
			return nil, p.errorf(root, "unknown attribute %s (expected Owner, Component, SubComponent, ReleaseType, OwnerType, Partition, Platform, GroupingKey, BinaryPartition, Description)", a.Key)
		}
		attrs[a.Key] = a.Value
	}
	if strings.EqualFold(attrs["BinaryPartition"], "true") {
		return nil, p.errorf(root, "BinaryPartition=\"true\": binary partition packages are not supported yet")
	}
	for _, el := range root.ChildElements() {
		if el.Tag != "Macros" {
			continue
		}
		for _, m := range el.ChildElements() {
			id, value := m.SelectAttrValue("Id", ""), m.SelectAttrValue("Value", "")
			if m.Tag != "Macro" || id == "" {
				return nil, p.errorf(m, "expected <Macro Id=\"name\" Value=\"value\"/>")
			}
			vars[id] = value
		}
	}
	// NMAKE-style macros may refer to each other: expand the definitions until they settle.
	for pass := 0; ; pass++ {
		x := winpath.NewExpander(vars, opt.Env)
		changed := false
		for k, v := range vars {
			if nv := x.Expand(v); nv != v {
				vars[k], changed = nv, true
			}
		}
		if !changed {
			break
		}
		if pass == 20 {
			return nil, fmt.Errorf("%s: macro definitions refer to each other in a cycle", projectPath)
		}
	}
	p.x = winpath.NewExpander(vars, opt.Env)

	base := spkg.Manifest{
		Identity: spkg.Identity{
			Owner:        attrs["Owner"],
			Component:    attrs["Component"],
			SubComponent: attrs["SubComponent"],
			Version:      opt.Version,
		},
		ReleaseType: attrs["ReleaseType"],
		OwnerType:   attrs["OwnerType"],
		BuildType:   buildType,
		CpuType:     cpu,
		Partition:   attrs["Partition"],
		Platform:    attrs["Platform"],
		GroupingKey: attrs["GroupingKey"],
	}
	for name, value := range map[string]string{"Owner": base.Owner, "Component": base.Component, "SubComponent": base.SubComponent, "Partition": base.Partition} {
		if strings.Contains(value, "$(") {
			return nil, p.errorf(root, "%s=%q: macros are not expanded in package attributes", name, value)
		}
	}
	if err := spkg.CheckIdentity(base.Owner, base.Component, base.SubComponent, "", ""); err != nil {
		return nil, p.errorf(root, "%v", err)
	}

	neutral := &Package{Manifest: base}
	langs := map[string]*Package{}
	ress := map[string]*Package{}
	satellite := func(set map[string]*Package, culture, res string) *Package {
		key := culture + res
		if set[key] == nil {
			m := base
			m.Culture, m.Resolution = culture, res
			set[key] = &Package{Manifest: m}
		}
		return set[key]
	}
	hasGroups := false

	for _, el := range root.ChildElements() {
		switch el.Tag {
		case "Macros":
		case "Components":
			for _, comp := range el.ChildElements() {
				switch {
				case comp.Tag == "OSComponent":
				case unsupportedComponents[comp.Tag]:
					return nil, p.errorf(comp, "<%s> components are not supported yet (only OSComponent with Files)", comp.Tag)
				default:
					return nil, p.errorf(comp, "unknown component <%s>", comp.Tag)
				}
				for _, group := range comp.ChildElements() {
					if group.Tag != "Files" {
						return nil, p.errorf(group, "<%s> is not supported yet (an OSComponent may hold Files only)", group.Tag)
					}
					lang, hasLang := attrValue(group, "Language")
					res, hasRes := attrValue(group, "Resolution")
					for _, a := range group.Attr {
						if a.Key != "Language" && a.Key != "Resolution" {
							return nil, p.errorf(group, "unknown attribute %s (expected Language or Resolution)", a.Key)
						}
					}
					switch {
					case hasLang && hasRes:
						return nil, p.errorf(group, "Language and Resolution on one Files group: a file belongs to a language or a resolution satellite, not both")
					case hasLang:
						hasGroups = true
						selected, err := Select(lang, opt.Languages)
						if err != nil {
							return nil, p.errorf(group, "Language=%q: %v", lang, err)
						}
						for _, l := range selected {
							if err := p.addFiles(satellite(langs, l, ""), group, p.x.With("langid", l)); err != nil {
								return nil, err
							}
						}
					case hasRes:
						hasGroups = true
						selected, err := Select(res, opt.Resolutions)
						if err != nil {
							return nil, p.errorf(group, "Resolution=%q: %v", res, err)
						}
						for _, r := range selected {
							if err := p.addFiles(satellite(ress, "", r), group, p.x.With("resid", r)); err != nil {
								return nil, err
							}
						}
					default:
						if err := p.addFiles(neutral, group, p.x); err != nil {
							return nil, err
						}
					}
				}
			}
		default:
			return nil, p.errorf(el, "unknown element <%s> (expected Macros or Components)", el.Tag)
		}
	}

	var out []*Package
	// A project made only of satellite groups has no neutral content: its empty neutral
	// package is not written (docs/formats.md).
	if len(neutral.Files) > 0 || !hasGroups {
		out = append(out, neutral)
	}
	for _, l := range opt.Languages {
		if pk := langs[l]; pk != nil {
			out = append(out, pk)
			delete(langs, l)
		}
	}
	for _, r := range opt.Resolutions {
		if pk := ress[r]; pk != nil {
			out = append(out, pk)
			delete(ress, r)
		}
	}
	for _, pk := range out {
		if err := spkg.CheckIdentity(pk.Manifest.Owner, pk.Manifest.Component, pk.Manifest.SubComponent, pk.Manifest.Culture, pk.Manifest.Resolution); err != nil {
			return nil, fmt.Errorf("%s: package %s: %v", projectPath, pk.Manifest.Name(), err)
		}
	}
	return out, nil
}

// expand expands macros in an attribute value; an unknown macro is an error that says where
// macros come from.
func expand(x *winpath.Expander, attr, value string) (string, error) {
	out, err := x.ExpandStrict(value)
	var ue *winpath.UnexpandedError
	if errors.As(err, &ue) {
		if strings.HasPrefix(ue.Ref, "$(") {
			return "", fmt.Errorf("%s=%q: unknown macro %s; define it in <Macros>, /variables: or /config:", attr, value, ue.Ref)
		}
		return "", fmt.Errorf("%s=%q: environment variable %s is not set", attr, value, ue.Ref)
	}
	return out, err
}

func attrValue(el *etree.Element, key string) (string, bool) {
	a := el.SelectAttr(key)
	if a == nil {
		return "", false
	}
	return a.Value, true
}

// Select applies a Language or Resolution attribute ("*", "(a;b)", "!(a;b)") to the values
// given on the command line, keeping their order.
func Select(spec string, supported []string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "*" {
		return supported, nil
	}
	negate := strings.HasPrefix(spec, "!")
	list := strings.TrimPrefix(spec, "!")
	if !strings.HasPrefix(list, "(") || !strings.HasSuffix(list, ")") {
		return nil, fmt.Errorf("expected *, (a;b) or !(a;b)")
	}
	in := map[string]bool{}
	for _, v := range strings.Split(list[1:len(list)-1], ";") {
		if v = strings.TrimSpace(v); v != "" {
			if v == "*" {
				return nil, fmt.Errorf("'*' cannot be mixed with a list")
			}
			in[strings.ToLower(v)] = true
		}
	}
	var out []string
	for _, s := range supported {
		if in[strings.ToLower(s)] != negate {
			out = append(out, s)
		}
	}
	return out, nil
}

func (p *project) addFiles(pk *Package, group *etree.Element, x *winpath.Expander) error {
	for _, f := range group.ChildElements() {
		if f.Tag != "File" {
			return p.errorf(f, "unknown element <%s> (expected File)", f.Tag)
		}
		for _, a := range f.Attr {
			switch a.Key {
			case "Source", "DestinationDir", "Name", "Attributes", "EmbeddedSigningCategory":
			default:
				return p.errorf(f, "unknown attribute %s (expected Source, DestinationDir, Name, Attributes)", a.Key)
			}
		}
		rawSource, ok := attrValue(f, "Source")
		if !ok || rawSource == "" {
			return p.errorf(f, "Source is required")
		}
		source, err := expand(x, "Source", rawSource)
		if err != nil {
			return p.errorf(f, "%v", err)
		}
		host, err := winpath.Mapper{}.ToHost(source)
		if err != nil {
			return p.errorf(f, "Source=%q: %v", rawSource, err)
		}
		if !filepath.IsAbs(host) {
			// Relative sources are relative to the project file, wherever the tool runs.
			host = filepath.Join(filepath.Dir(p.path), host)
		}
		found, err := p.find.Find(host)
		if err != nil {
			return p.errorf(f, "Source=%q: %v (the file must exist)", rawSource, err)
		}
		st, err := os.Stat(found)
		if err != nil || !st.Mode().IsRegular() {
			return p.errorf(f, "Source=%q: %s is not a regular file", rawSource, found)
		}
		dir := `$(runtime.default)`
		if d, ok := attrValue(f, "DestinationDir"); ok {
			dir = d
		}
		dir, err = expand(x, "DestinationDir", dir)
		if err != nil {
			return p.errorf(f, "%v", err)
		}
		name := winpath.Base(source)
		if n, ok := attrValue(f, "Name"); ok && n != "" {
			if name, err = expand(x, "Name", n); err != nil {
				return p.errorf(f, "%v", err)
			}
		}
		if strings.ContainsAny(name, `\/`) {
			return p.errorf(f, "Name=%q: a file name, without directories (use DestinationDir)", name)
		}
		devicePath := strings.TrimRight(dir, `\`) + `\` + name
		if err := spkg.CheckDevicePath(devicePath); err != nil {
			return p.errorf(f, "%v", err)
		}
		attrs, _ := attrValue(f, "Attributes")
		if err := spkg.CheckAttributes(attrs); err != nil {
			return p.errorf(f, "%v", err)
		}
		for _, prev := range pk.Files {
			if strings.EqualFold(prev.DevicePath, devicePath) {
				return p.errorf(f, "device path %s is given twice in package %s (also from %s)", devicePath, pk.Manifest.Name(), prev.Source)
			}
		}
		pk.Files = append(pk.Files, File{Source: found, DevicePath: devicePath, Attributes: attrs})
	}
	return nil
}

// readConfig adds the <Macro Id= Value=/> definitions of a PkgGen.cfg.xml-style file.
func readConfig(path string, vars map[string]string) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromFile(path); err != nil {
		return fmt.Errorf("/config: %s: %v", path, err)
	}
	for _, m := range doc.FindElements("//Macro") {
		id := m.SelectAttrValue("Id", "")
		if id == "" {
			return fmt.Errorf("/config: %s: %s without Id", path, xmlpath.Of(m))
		}
		vars[id] = m.SelectAttrValue("Value", "")
	}
	return nil
}

// Build writes pk as outDir/<name>.spkg (through a temporary file) and returns its manifest.
func Build(pk *Package, outDir string, opt Options) (*spkg.Manifest, error) {
	var payload []spkg.Payload
	for _, f := range pk.Files {
		st, err := os.Stat(f.Source)
		if err != nil {
			return nil, err
		}
		src := f.Source
		payload = append(payload, spkg.Payload{
			DevicePath: f.DevicePath,
			Size:       st.Size(),
			Attributes: f.Attributes,
			Open:       func() (io.ReadCloser, error) { return os.Open(src) },
		})
	}
	comp := cab.None
	if opt.Compress {
		comp = cab.LZX // the original's FastLZX (Package.DefaultCompressionType)
	}
	return spkg.WriteFile(filepath.Join(outDir, pk.FileName()), pk.Manifest, payload, cab.Options{Compression: comp})
}

// Names lists the file names of packages, sorted (for messages).
func Names(pks []*Package) []string {
	var out []string
	for _, pk := range pks {
		out = append(out, pk.FileName())
	}
	sort.Strings(out)
	return out
}
