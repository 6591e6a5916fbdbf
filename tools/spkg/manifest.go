package spkg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Namespace of the device-side manifest (and of FMs and OEMInput files).
const Namespace = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"

// Names and device paths of the files every package carries besides its payload.
const (
	ManifestCabName = "man.dsm.xml"
	CatalogCabName  = "content.cat"
	dsmDir          = `\Windows\Packages\DsmFiles\`
	catalogDir      = `\Windows\System32\catroot\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\`
)

// FileType values of FileEntry.
var fileTypes = map[string]bool{
	"Regular": true, "Registry": true, "SecurityPolicy": true, "Reserved": true, "BinaryPartition": true,
	"Manifest": true, "RegistryMultiStringAppend": true, "Certificates": true, "Catalog": true,
	"DirectoryBackupMetadata": true, "FileBackupMetadata": true,
}

var enums = map[string][]string{
	"ReleaseType": {"Test", "Production"},
	"OwnerType":   {"Microsoft", "OEM", "SiliconVendor", "MobileOperator"},
	"BuildType":   {"Retail", "Checked", "Debug"},
	"CpuType":     {"X86", "ARM", "ARM64", "AMD64", "AMD64_X86", "ARM64_ARM", "ARM64_X86"},
}

// FileEntry is one file of a package as the DSM lists it.
type FileEntry struct {
	FileType      string // Regular, Manifest, Catalog, ...
	DevicePath    string // \Windows\System32\a.dll, relative to the partition
	CabPath       string // name in the cabinet
	Attributes    string // file attributes, e.g. "Normal" or "ReadOnly Hidden"
	SourcePackage string // merged packages: the package the file came from
	FileSize      int64
}

// Manifest is the device-side manifest (man.dsm.xml) of a package.
type Manifest struct {
	Identity
	ReleaseType       string
	OwnerType         string
	BuildType         string // Retail (fre) or Checked (chk)
	CpuType           string
	Culture           string
	Resolution        string
	Partition         string
	Platform          string
	GroupingKey       string
	IsRemoval         bool
	IsBinaryPartition bool
	Files             []FileEntry
}

// Header is a copy of m without its file list: what a record of the package needs once
// its files are installed.
func (m *Manifest) Header() *Manifest {
	h := *m
	h.Files = nil
	return &h
}

// Name is the package's name.
func (m *Manifest) Name() string {
	return Name(m.Owner, m.Component, m.SubComponent, m.Culture, m.Resolution)
}

// ManifestPath and CatalogPath are the device paths of the package's DSM and catalog.
func (m *Manifest) ManifestPath() string { return dsmDir + m.Name() + ".dsm.xml" }
func (m *Manifest) CatalogPath() string  { return catalogDir + m.Name() + ".cat" }

// Validate checks identity, enumerations and file entries.
func (m *Manifest) Validate() error {
	if err := CheckIdentity(m.Owner, m.Component, m.SubComponent, m.Culture, m.Resolution); err != nil {
		return err
	}
	for field, v := range map[string]string{"ReleaseType": m.ReleaseType, "OwnerType": m.OwnerType, "BuildType": m.BuildType, "CpuType": m.CpuType} {
		if !oneOf(v, enums[field]) {
			return fmt.Errorf("%s %q: expected one of %s", field, v, strings.Join(enums[field], ", "))
		}
	}
	if m.Partition == "" {
		return fmt.Errorf("Partition is empty")
	}
	devicePaths := map[string]bool{}
	cabPaths := map[string]bool{}
	for _, f := range m.Files {
		if !fileTypes[f.FileType] {
			return fmt.Errorf("file %s: FileType %q is not one the DSM schema knows", f.DevicePath, f.FileType)
		}
		if err := CheckDevicePath(f.DevicePath); err != nil {
			return err
		}
		key := strings.ToLower(f.DevicePath)
		if devicePaths[key] {
			return fmt.Errorf("device path %s is listed twice", f.DevicePath)
		}
		devicePaths[key] = true
		if f.CabPath == "" || cabPaths[strings.ToLower(f.CabPath)] {
			return fmt.Errorf("file %s: cab path %q is empty or used twice", f.DevicePath, f.CabPath)
		}
		cabPaths[strings.ToLower(f.CabPath)] = true
		if f.FileSize < 0 {
			return fmt.Errorf("file %s: negative FileSize", f.DevicePath)
		}
	}
	return nil
}

func oneOf(v string, values []string) bool {
	for _, x := range values {
		if v == x {
			return true
		}
	}
	return false
}

// Marshal writes the manifest as XML, in a fixed element order (docs/formats.md).
func (m *Manifest) Marshal() ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("Package")
	root.CreateAttr("xmlns", Namespace)
	id := root.CreateElement("Identity")
	id.CreateElement("Owner").SetText(m.Owner)
	id.CreateElement("Component").SetText(m.Component)
	if m.SubComponent != "" {
		id.CreateElement("SubComponent").SetText(m.SubComponent)
	}
	v := id.CreateElement("Version")
	v.CreateAttr("Major", strconv.Itoa(int(m.Version.Major)))
	v.CreateAttr("Minor", strconv.Itoa(int(m.Version.Minor)))
	v.CreateAttr("QFE", strconv.Itoa(int(m.Version.QFE)))
	v.CreateAttr("Build", strconv.Itoa(int(m.Version.Build)))
	text := func(name, value string) {
		if value != "" {
			root.CreateElement(name).SetText(value)
		}
	}
	text("ReleaseType", m.ReleaseType)
	text("OwnerType", m.OwnerType)
	text("BuildType", m.BuildType)
	text("CpuType", m.CpuType)
	text("Culture", m.Culture)
	text("Resolution", m.Resolution)
	text("Partition", m.Partition)
	text("Platform", m.Platform)
	text("GroupingKey", m.GroupingKey)
	text("IsRemoval", strconv.FormatBool(m.IsRemoval))
	text("IsBinaryPartition", strconv.FormatBool(m.IsBinaryPartition))
	files := root.CreateElement("Files")
	for _, f := range m.Files {
		e := files.CreateElement("FileEntry")
		e.CreateElement("FileType").SetText(f.FileType)
		e.CreateElement("DevicePath").SetText(f.DevicePath)
		e.CreateElement("CabPath").SetText(f.CabPath)
		if f.Attributes != "" {
			e.CreateElement("Attributes").SetText(f.Attributes)
		}
		if f.SourcePackage != "" {
			e.CreateElement("SourcePackage").SetText(f.SourcePackage)
		}
		e.CreateElement("FileSize").SetText(strconv.FormatInt(f.FileSize, 10))
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}

// interned holds the values most fields of a DSM take (the enumerations, file types, common
// attribute lists and partitions): a parsed value equal to one is replaced by it, so that the
// manifests of a kit's 20,000 packages, open for the whole run, share these strings instead
// of each keeping its own copies.
var interned = func() map[string]string {
	m := map[string]string{}
	add := func(vs ...string) {
		for _, v := range vs {
			m[v] = v
		}
	}
	for t := range fileTypes {
		add(t)
	}
	for _, vs := range enums {
		add(vs...)
	}
	for a := range fileAttributes {
		add(a)
	}
	add("ReadOnly Hidden", "ReadOnly Hidden System", "Hidden System", "ReadOnly System",
		"MainOS", "EFIESP", "Data", "CrashDump", "MMOS", "PLAT", "DPP", "UEFI", "true", "false")
	return m
}()

// intern returns the shared copy of v if it is a common value, else v.
func intern(v string) string {
	if c, ok := interned[v]; ok {
		return c
	}
	return v
}

// Elements of a DSM that real packages carry and this package keeps no field for: accepted
// and ignored when reading, so that packages of the kit can be read.
var ignoredElements = map[string]bool{"TargetGroups": true, "BuildString": true, "PublicKey": true, "Description": true}
var ignoredFileElements = map[string]bool{"CompressedFileSize": true, "StagedFileSize": true}

// ParseManifest reads a man.dsm.xml; source names it in errors.
func ParseManifest(data []byte, source string) (*Manifest, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", source, fmt.Sprintf(format, args...))
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fail("not well-formed XML: %v", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Package" {
		return nil, fail("root element must be <Package>")
	}
	if ns := root.NamespaceURI(); ns != Namespace {
		return nil, fail("<Package> namespace %q, expected %q", ns, Namespace)
	}
	m := &Manifest{}
	seen := map[string]bool{}
	for _, el := range root.ChildElements() {
		if seen[el.Tag] {
			return nil, fail("<%s> appears twice", el.Tag)
		}
		seen[el.Tag] = true
		value := intern(strings.TrimSpace(el.Text()))
		var err error
		switch el.Tag {
		case "Identity":
			err = parseIdentity(el, &m.Identity)
		case "ReleaseType":
			m.ReleaseType = value
		case "OwnerType":
			m.OwnerType = value
		case "BuildType":
			m.BuildType = value
		case "CpuType":
			m.CpuType = value
		case "Culture":
			m.Culture = value
		case "Resolution":
			m.Resolution = value
		case "Partition":
			m.Partition = value
		case "Platform":
			m.Platform = value
		case "GroupingKey":
			m.GroupingKey = value
		case "IsRemoval":
			m.IsRemoval, err = parseBool(el)
		case "IsBinaryPartition":
			m.IsBinaryPartition, err = parseBool(el)
		case "Files":
			m.Files, err = parseFiles(el)
		default:
			if !ignoredElements[el.Tag] {
				err = fmt.Errorf("unknown element <%s>", el.Tag)
			}
		}
		if err != nil {
			return nil, fail("%v", err)
		}
	}
	if !seen["Identity"] {
		return nil, fail("no <Identity> element")
	}
	if err := m.Validate(); err != nil {
		return nil, fail("%v", err)
	}
	return m, nil
}

func parseBool(el *etree.Element) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(el.Text())) {
	case "true":
		return true, nil
	case "false", "":
		return false, nil
	}
	return false, fmt.Errorf("<%s>%s</%s>: expected true or false", el.Tag, el.Text(), el.Tag)
}

func parseIdentity(el *etree.Element, id *Identity) error {
	for _, c := range el.ChildElements() {
		switch c.Tag {
		case "Owner":
			id.Owner = intern(strings.TrimSpace(c.Text()))
		case "Component":
			id.Component = strings.TrimSpace(c.Text())
		case "SubComponent":
			id.SubComponent = strings.TrimSpace(c.Text())
		case "Version":
			var parts []string
			for _, a := range []string{"Major", "Minor", "QFE", "Build"} {
				parts = append(parts, c.SelectAttrValue(a, "0"))
			}
			v, err := ParseVersion(strings.Join(parts, "."))
			if err != nil {
				return fmt.Errorf("<Identity><Version>: %v", err)
			}
			id.Version = v
		default:
			return fmt.Errorf("unknown element <Identity><%s>", c.Tag)
		}
	}
	return nil
}

func parseFiles(el *etree.Element) ([]FileEntry, error) {
	var out []FileEntry
	for i, fe := range el.ChildElements() {
		if fe.Tag != "FileEntry" {
			return nil, fmt.Errorf("unknown element <Files><%s>", fe.Tag)
		}
		var f FileEntry
		for _, c := range fe.ChildElements() {
			v := strings.TrimSpace(c.Text())
			switch c.Tag {
			case "FileType":
				f.FileType = intern(v)
			case "DevicePath":
				f.DevicePath = v
			case "CabPath":
				f.CabPath = v
			case "Attributes":
				f.Attributes = intern(v)
			case "SourcePackage":
				f.SourcePackage = v
			case "FileSize":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("FileEntry %d: FileSize %q is not a size in bytes", i+1, v)
				}
				f.FileSize = n
			default:
				if !ignoredFileElements[c.Tag] {
					return nil, fmt.Errorf("FileEntry %d: unknown element <%s>", i+1, c.Tag)
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}
