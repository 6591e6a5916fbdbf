// Package pkggen builds mobile packages from package project files (.pkg.xml), as PkgGen.exe
// does (docs/creating-mobile-packages.md, docs/command-line-arguments-for-package-generator.md).
//
// Supported: Package attributes (macros expanded), Macros, OSComponent with Files/File
// (Source, DestinationDir, Name, Attributes), Files groups with Language= or Resolution=
// producing satellite packages, RegKeys (registry.go: one .reg per package), Driver
// (driver.go, inf.go), Service (service.go, with the .rga), ComServer (comserver.go),
// CustomMetadata (metadata.go), BCDStore (bcd.go: the BCD layout converted to a
// <package>_BCDStore_<n>.reg for HKEY_LOCAL_MACHINE\BCD; DeviceValue elements as binary
// device data, bcd_device.go),
// SettingsGroup (settings.go: the policy file customization reads, the settings' Defaults and
// the run-time MCSF datastore keys), binary partition packages (binarypartition.go), and
// the global macros of the kit's PkgGen.cfg.xml. What the original would add and this tool
// cannot is reported through Options.Warn. The other documented elements (SvcHostGroup,
// WinRTHost, AppResource, Application, FullTrust, InboxApp, Capabilities, Authorization) are
// refused with an error at their line: never ignored; unknown elements are errors with the
// nearest known name.
package pkggen

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Namespace of package project files.
const Namespace = "urn:Microsoft.WindowsPhone/PackageSchema.v8.00"

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
	Origin      locate.Origin // under Bazel, the attribute that gives the project's files (role "srcs")
	// Signer signs each package's content.cat (nil: the catalogs are written unsigned).
	Signer *catalog.Signer
	// Warn receives what a package does not carry that the original would (each message
	// "file:line:col: warning: ..."); nil drops them. The CLI prints them on stderr.
	Warn func(string)
}

// Package is one package a project produces: the neutral one or a satellite.
type Package struct {
	Manifest spkg.Manifest // identity and properties, Files empty
	Files    []File
	Registry []registry.Value   // from <RegKeys>, Driver and Service, carried as a .reg (registry.go)
	Append   []AppendValue      // strings appended to REG_MULTI_SZ values, carried as a .rga
	paths    map[string]string  // upper-case device path -> source, to find duplicates
	regSeen  map[string]bool    // valueID of each entry of Registry (addValue)
	metadata []byte             // the project's <CustomMetadata> as <package>.meta.xml, or nil
	bcd      [][]registry.Value // each <BCDStore>, carried as <package>_BCDStore_<n>.reg (bcd.go)
	policy   []*etree.Element   // each <SettingsGroup>, compiled into <package>.policy.xml (settings.go)
}

// AppendValue is a REG_MULTI_SZ value the package adds strings to, rather than setting
// (a shared service's svchost group).
type AppendValue struct {
	Key, Name string
	Strings   []string
}

// File is a payload file with its source on the host.
type File struct {
	Source     string // host path
	DevicePath string
	Attributes string
	FileType   string // empty (Regular) or BinaryPartition (binarypartition.go)
}

// FileName is the package's file name.
func (p *Package) FileName() string { return p.Manifest.Name() + ".spkg" }

var cpuTypes = map[string]string{"arm": "ARM", "x86": "X86", "arm64": "ARM64", "amd64": "AMD64"}
var buildTypes = map[string]string{"fre": "Retail", "chk": "Checked"}

// The schema's elements, by parent, in the order the schema lists them; those this tool does not
// build yet are refused by name (another element is unknown, with the nearest name suggested).
var (
	packageChildren     = []string{"CustomMetadata", "Macros", "Capabilities", "Components", "Authorization"}
	componentChildren   = []string{"OSComponent", "AppResource", "Application", "BCDStore", "BinaryPartition", "ComServer", "Driver", "Service", "SvcHostGroup", "WinRTHost", "FullTrust", "InboxApp", "SettingsGroup"}
	osComponentChildren = []string{"Files", "RegKeys"}
	packageAttrs        = []string{"Owner", "Component", "SubComponent", "ReleaseType", "OwnerType", "Partition", "Platform", "GroupingKey", "BinaryPartition", "Description"}
	fileAttrs           = []string{"Source", "DestinationDir", "Name", "Attributes", "EmbeddedSigningCategory"}
	supported           = map[string]bool{"Macros": true, "Components": true, "OSComponent": true, "Files": true, "RegKeys": true, "Driver": true, "Service": true,
		"Reference": true, "Security": true, "Executable": true, "ServiceDll": true, "FailureActions": true, "RequiredCapabilities": true, "PrivateResources": true,
		"ComServer": true, "Dll": true, "Classes": true, "Interfaces": true, "CustomMetadata": true, "BCDStore": true, "SettingsGroup": true}
)

type project struct {
	path   string
	doc    *manifest.Doc
	x      *winpath.Expander
	find   *winpath.Finder
	origin locate.Origin
	warn   func(string)
}

// known sorts a child of parent: supported (true), refused as not supported yet (false, with
// the error recorded), or unknown (false, recorded with a suggestion).
func (p *project) known(parent, el *etree.Element, allowed []string, what string) bool {
	for _, a := range allowed {
		if el.Tag == a {
			if supported[a] {
				return true
			}
			p.doc.Errorf(el, "<%s> is not supported yet (%s)", el.Tag, what)
			return false
		}
	}
	p.doc.UnknownChild(parent, el, allowed)
	return false
}

// Load reads a project file and returns the packages it produces: the neutral package first,
// then language satellites in /language: order, then resolution satellites. Every problem of the
// file is reported, each at its line and column.
func Load(projectPath string, opt Options) ([]*Package, error) {
	buildType, cpu, err := opt.types()
	if err != nil {
		return nil, err
	}
	data, err := manifest.ReadXMLFile(projectPath)
	if err != nil {
		return nil, err
	}
	return load(projectPath, data, opt, buildType, cpu)
}

// types checks /build: and /cpu: and returns them as the DSM spells them.
func (opt Options) types() (buildType, cpu string, err error) {
	buildType, ok := buildTypes[strings.ToLower(opt.BuildType)]
	if !ok {
		return "", "", fmt.Errorf("build type %q: expected fre or chk", opt.BuildType)
	}
	cpu, ok = cpuTypes[strings.ToLower(opt.CPU)]
	if !ok {
		return "", "", fmt.Errorf("cpu %q: expected arm, x86, arm64 or amd64", opt.CPU)
	}
	return buildType, cpu, nil
}

// load is Load on the project's bytes.
func load(projectPath string, data []byte, opt Options, buildType, cpu string) ([]*Package, error) {
	doc, err := manifest.ParseDoc(projectPath, data, Namespace)
	if err != nil {
		return nil, err
	}
	p := &project{path: projectPath, doc: doc, find: winpath.NewFinder(), origin: opt.Origin, warn: opt.Warn}
	root := doc.Root()
	if root.Tag != "Package" {
		doc.Errorf(root, "root element is <%s>; expected <Package>", root.FullTag())
		return nil, doc.Err()
	}
	if !doc.CheckNS(root) {
		return nil, doc.Err()
	}

	defs, err := p.macros(root, opt)
	if err != nil {
		return nil, err
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	vars, err := p.resolveMacros(defs)
	if err != nil {
		return nil, err
	}
	p.x = winpath.NewExpander(vars, opt.Env)

	attrs := p.packageAttrs(root)
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
	if err := doc.Err(); err != nil {
		return nil, err
	}
	if err := spkg.CheckIdentity(base.Owner, base.Component, base.SubComponent, "", ""); err != nil {
		doc.Errorf(root, "%s", clipMsg(err))
		return nil, doc.Err()
	}

	b := &builder{p: p, opt: opt, base: base, neutral: &Package{Manifest: base}, langs: map[string]*Package{}, ress: map[string]*Package{}}
	for _, el := range doc.Children(root) {
		if el.Tag == "Macros" {
			continue
		}
		if !p.known(root, el, packageChildren, "a package project may hold CustomMetadata, Macros and Components") {
			continue
		}
		if el.Tag == "CustomMetadata" {
			b.customMetadata(el)
			continue
		}
		doc.Attrs(el)
		for _, comp := range doc.Children(el) {
			if comp.Tag == "BinaryPartition" {
				continue // binaryPartitions
			}
			if !p.known(el, comp, componentChildren, "built: OSComponent, Driver, Service, ComServer, BCDStore, SettingsGroup, BinaryPartition") {
				continue
			}
			if v := attrs["BinaryPartition"]; v == "true" || v == "1" {
				continue // binaryPartitions reports it: such a package holds only its image
			}
			switch comp.Tag {
			case "Driver":
				b.driver(comp)
			case "Service":
				b.service(comp)
			case "ComServer":
				b.comServer(comp)
			case "BCDStore":
				b.bcdStore(comp)
			case "SettingsGroup":
				b.settingsGroup(comp)
			default:
				b.osComponent(comp)
			}
		}
	}
	b.binaryPartitions(root, attrs["BinaryPartition"])
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return b.packages()
}

// packageAttrs checks the attributes of <Package> and returns them with their macros expanded
// and the defaults of what is absent.
func (p *project) packageAttrs(root *etree.Element) map[string]string {
	out := map[string]string{"ReleaseType": "Test", "OwnerType": "OEM", "Partition": "MainOS"}
	for name, raw := range p.doc.Attrs(root, packageAttrs...) {
		v, err := p.expand(raw)
		if err != nil {
			p.doc.AttrErrorf(root, name, "attribute %s of <Package> is %s: %v", name, quote(raw), err)
			continue
		}
		out[name] = v
	}
	enum := func(name string, values ...string) {
		v, ok := out[name]
		if !ok || root.SelectAttr(name) == nil {
			return
		}
		for _, x := range values {
			if v == x {
				return
			}
		}
		p.doc.AttrErrorf(root, name, "attribute %s of <Package> is %s; expected %s", name, quote(v), strings.Join(values, ", "))
	}
	enum("ReleaseType", "Production", "Test")
	enum("OwnerType", "Microsoft", "OEM", "SiliconVendor", "MobileOperator")
	enum("BinaryPartition", "true", "false", "1", "0")
	return out
}

// expand expands the macros and %ENV% variables of an attribute value, bounded in length; a
// name nothing defines is an error that says where macros come from.
func (p *project) expand(value string) (string, error) {
	out, err := p.x.ExpandBounded(value, winpath.MaxExpandedLen)
	return out, explain(err)
}

func explain(err error) error {
	var ue *winpath.UnexpandedError
	if !errors.As(err, &ue) {
		return err
	}
	if name, ok := strings.CutPrefix(ue.Ref, "$("); ok {
		name = strings.TrimSuffix(name, ")")
		return fmt.Errorf("unknown macro %s; pass it on the command line with /variables:%s=value, or define it in <Macros> or a /config: file", clip(ue.Ref), clip(name))
	}
	return fmt.Errorf("environment variable %s is not set", clip(ue.Ref))
}

// builder gathers the packages of a project.
type builder struct {
	p           *project
	opt         Options
	base        spkg.Manifest
	neutral     *Package
	langs, ress map[string]*Package
	hasGroups   bool
	metadata    []byte         // CustomMetadata, for every package of the project
	groupPaths  map[string]int // lower-case SettingsGroup Path -> its line
}

func (b *builder) satellite(set map[string]*Package, culture, res string) *Package {
	key := culture + res
	if set[key] == nil {
		m := b.base
		m.Culture, m.Resolution = culture, res
		set[key] = &Package{Manifest: m}
	}
	return set[key]
}

func (b *builder) osComponent(comp *etree.Element) {
	p := b.p
	p.doc.Attrs(comp)
	for _, group := range p.doc.Children(comp) {
		if !p.known(comp, group, osComponentChildren, "an OSComponent holds Files and RegKeys") {
			continue
		}
		b.group(comp, group, p.x)
	}
}

// group adds a component's <Files> or <RegKeys> group to the neutral package or, with
// Language= or Resolution=, to the satellites it selects; x holds the component's macros.
func (b *builder) group(comp, group *etree.Element, x *winpath.Expander) {
	p := b.p
	a := p.doc.Attrs(group, "Language", "Resolution")
	lang, hasLang := a["Language"]
	res, hasRes := a["Resolution"]
	switch {
	case hasLang && hasRes:
		p.doc.Errorf(group, "Language and Resolution on one Files group: a file belongs to a language or a resolution satellite, not both")
	case hasLang:
		b.hasGroups = true
		selected, err := Select(lang, b.opt.Languages)
		if err != nil {
			p.doc.AttrErrorf(group, "Language", "Language=%s: %v", quote(lang), err)
		}
		for _, l := range selected {
			p.addGroup(b.satellite(b.langs, l, ""), group, x.With("langid", l))
		}
	case hasRes:
		b.hasGroups = true
		selected, err := Select(res, b.opt.Resolutions)
		if err != nil {
			p.doc.AttrErrorf(group, "Resolution", "Resolution=%s: %v", quote(res), err)
		}
		for _, r := range selected {
			p.addGroup(b.satellite(b.ress, "", r), group, x.With("resid", r))
		}
	default:
		p.addGroup(b.neutral, group, x)
	}
}

// packages lists what the project produces.
func (b *builder) packages() ([]*Package, error) {
	var out []*Package
	// A project made only of satellite groups has no neutral content: its empty neutral
	// package is not written (docs/formats.md).
	if len(b.neutral.Files) > 0 || len(b.neutral.Registry) > 0 || len(b.neutral.Append) > 0 || len(b.neutral.bcd) > 0 || len(b.neutral.policy) > 0 || !b.hasGroups {
		out = append(out, b.neutral)
	}
	for _, l := range b.opt.Languages {
		if pk := b.langs[l]; pk != nil {
			out = append(out, pk)
			delete(b.langs, l)
		}
	}
	for _, r := range b.opt.Resolutions {
		if pk := b.ress[r]; pk != nil {
			out = append(out, pk)
			delete(b.ress, r)
		}
	}
	for _, pk := range out {
		pk.metadata = b.metadata
		if err := spkg.CheckIdentity(pk.Manifest.Owner, pk.Manifest.Component, pk.Manifest.SubComponent, pk.Manifest.Culture, pk.Manifest.Resolution); err != nil {
			return nil, fmt.Errorf("%s: package %s: %s", b.p.path, pk.Manifest.Name(), clipMsg(err))
		}
	}
	return out, nil
}

// quote quotes a value for a message, clipped: values come from files of any size.
func quote(s string) string { return fmt.Sprintf("%q", clip(s)) }

func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", strings.ToValidUTF8(s[:max], ""), len(s))
}

// clipMsg bounds a message from a checker that quotes values whole.
func clipMsg(err error) string {
	const max = 400
	if s := err.Error(); len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "..."
	}
	return err.Error()
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

func (p *project) addFiles(pk *Package, group *etree.Element, x *winpath.Expander) {
	for _, f := range p.doc.Children(group) {
		if f.Tag != "File" {
			p.doc.UnknownChild(group, f, []string{"File"})
			continue
		}
		p.doc.Attrs(f, fileAttrs...)
		p.doc.Empty(f)
		p.addFile(pk, f, x, true)
	}
}

// attr expands attribute name of f, reporting a problem at the attribute.
func (p *project) attr(f *etree.Element, x *winpath.Expander, name, raw string) (string, bool) {
	v, err := x.ExpandBounded(raw, winpath.MaxExpandedLen)
	if err != nil {
		p.doc.AttrErrorf(f, name, "%s=%s: %v", name, quote(raw), explain(err))
		return "", false
	}
	return v, true
}

// source resolves attribute attr of el, a file on the build machine: macros expanded, relative
// to the project file, found case-insensitively, a regular file. It returns the expanded value
// and the host path.
func (p *project) source(el *etree.Element, x *winpath.Expander, attr string) (string, string, bool) {
	raw, _ := attrValue(el, attr)
	if raw == "" {
		p.doc.Errorf(el, "<%s> has no %s; expected the file's path on the build machine", el.Tag, attr)
		return "", "", false
	}
	source, ok := p.attr(el, x, attr, raw)
	if !ok {
		return "", "", false
	}
	host, err := winpath.Mapper{}.ToHost(source)
	if err != nil {
		p.doc.AttrErrorf(el, attr, "%s=%s: %s", attr, quote(raw), clipMsg(err))
		return "", "", false
	}
	if !filepath.IsAbs(host) {
		// Relative sources are relative to the project file, wherever the tool runs.
		host = filepath.Join(filepath.Dir(p.path), host)
	}
	found, err := p.find.Find(host)
	if err != nil {
		if hint := p.origin.Hint("srcs"); hint != "" {
			// In Bazel's sandbox only declared inputs exist: the file may well be on disk.
			p.doc.AttrErrorf(el, attr, "%s=%s: %s: it is not among the declared inputs%s", attr, quote(raw), clipMsg(err), hint)
			return "", "", false
		}
		p.doc.AttrErrorf(el, attr, "%s=%s: %s (the file must exist)", attr, quote(raw), clipMsg(err))
		return "", "", false
	}
	if _, err := readfile.Regular(found); err != nil {
		p.doc.AttrErrorf(el, attr, "%s=%s: %s", attr, quote(raw), clipMsg(err))
		return "", "", false
	}
	return source, found, true
}

// addFile places the file element f describes (Source, DestinationDir, Name, Attributes) in pk
// and returns its device path; with place false it only checks it and returns the path (a
// service binary that another package carries).
func (p *project) addFile(pk *Package, f *etree.Element, x *winpath.Expander, place bool) (string, bool) {
	source, found, ok := p.source(f, x, "Source")
	if !ok {
		return "", false
	}
	dir := `$(runtime.default)`
	if d, ok := attrValue(f, "DestinationDir"); ok {
		dir = d
	}
	if dir, ok = p.attr(f, x, "DestinationDir", dir); !ok {
		return "", false
	}
	name := winpath.Base(source)
	if n, has := attrValue(f, "Name"); has && n != "" {
		if name, ok = p.attr(f, x, "Name", n); !ok {
			return "", false
		}
	}
	if strings.ContainsAny(name, `\/`) {
		p.doc.AttrErrorf(f, "Name", "Name=%s: a file name, without directories (use DestinationDir)", quote(name))
		return "", false
	}
	devicePath := strings.TrimRight(dir, `\`) + `\` + name
	if err := spkg.CheckDevicePath(devicePath); err != nil {
		if f.SelectAttr("DestinationDir") != nil {
			p.doc.AttrErrorf(f, "DestinationDir", "%s", clipMsg(err))
		} else {
			p.doc.Errorf(f, "%s", clipMsg(err))
		}
		return "", false
	}
	attrs, _ := attrValue(f, "Attributes")
	if err := spkg.CheckAttributes(attrs); err != nil {
		p.doc.AttrErrorf(f, "Attributes", "%s", clipMsg(err))
		return "", false
	}
	key := strings.ToUpper(devicePath)
	if prev, dup := pk.paths[key]; dup {
		if prev == found {
			// The same file placed twice, as a component's entry and in <Files> (the IoT
			// kit's service projects do this): one copy.
			p.warnf(f, "%s from %s is placed twice in package %s; packaged once", devicePath, found, pk.Manifest.Name())
			return devicePath, true
		}
		p.doc.Errorf(f, "device path %s is given twice in package %s (also from %s)", devicePath, pk.Manifest.Name(), prev)
		return "", false
	}
	if !place {
		return devicePath, true
	}
	if pk.paths == nil {
		pk.paths = map[string]string{}
	}
	pk.paths[key] = found
	pk.Files = append(pk.Files, File{Source: found, DevicePath: devicePath, Attributes: attrs})
	return devicePath, true
}

// Build writes the packages of one project run into outDir, all or nothing
// (tools/internal/atomicfile): if any fails, none is written and what outDir held is left as
// it was. It returns their manifests, in order.
func Build(pkgs []*Package, outDir string, opt Options) ([]*spkg.Manifest, error) {
	var set atomicfile.Set
	defer set.Abort()
	var out []*spkg.Manifest
	for _, pk := range pkgs {
		m, err := build(&set, pk, outDir, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := set.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// build stages pk as outDir/<name>.spkg in set. Each source is opened as a regular file of the
// size Load saw (tools/internal/readfile): one swapped for a pipe or changed meanwhile is an
// error naming it, not a hang or a cabinet whose sizes disagree.
func build(set *atomicfile.Set, pk *Package, outDir string, opt Options) (*spkg.Manifest, error) {
	path := filepath.Join(outDir, pk.FileName())
	var payload []spkg.Payload
	for _, f := range pk.Files {
		st, err := readfile.Regular(f.Source)
		if err != nil {
			return nil, err
		}
		src, size := f.Source, st.Size()
		if size > cab.MaxFolderBytes {
			return nil, fmt.Errorf("%s: %s: %d bytes; expected at most %d, the largest file a package's cabinet holds", path, src, size, int64(cab.MaxFolderBytes))
		}
		payload = append(payload, spkg.Payload{
			DevicePath: f.DevicePath,
			Size:       size,
			Attributes: f.Attributes,
			FileType:   f.FileType,
			Open:       func() (io.ReadCloser, error) { return readfile.OpenSized(src, size) },
		})
	}
	regs, err := registryPayloads(pk)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	payload = append(payload, regs...)
	if pol, err := policyPayload(pk); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	} else if pol != nil {
		payload = append(payload, *pol)
	}
	if meta, err := metadataPayload(pk); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	} else if meta != nil {
		payload = append(payload, *meta)
	}
	comp := cab.None
	if opt.Compress {
		comp = cab.LZX // the original's FastLZX (Package.DefaultCompressionType)
	}
	w, err := set.Create(path)
	if err != nil {
		return nil, err
	}
	m, err := spkg.WriteSigned(w, pk.Manifest, payload, cab.Options{Compression: comp}, opt.Signer)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
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

func attrValue(el *etree.Element, key string) (string, bool) {
	a := el.SelectAttr(key)
	if a == nil {
		return "", false
	}
	return a.Value, true
}

// warnf reports something a package does not carry that the original's would, at el's line.
func (p *project) warnf(el *etree.Element, format string, args ...any) {
	if p.warn == nil {
		return
	}
	p.warn(p.doc.Pos(el).String() + ": warning: " + fmt.Sprintf(format, args...))
}
