package manifest

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Group is a package group of a feature manifest, named as in the implicit feature IDs the
// original derives from it (FMPkgInfo.FeatureID: GROUP + "_" + VALUE).
type Group string

// The package groups, in the order selection walks them within one FM.
const (
	GroupBase              Group = "BASE"              // BasePackages
	GroupCPU               Group = "CPU"               // CPUPackages
	GroupRelease           Group = "RELEASE"           // ReleasePackages, by ReleaseType
	GroupPrerelease        Group = "PRERELEASE"        // PrereleasePackages, by Type
	GroupSV                Group = "SV"                // SVPackages, by SV
	GroupSOC               Group = "SOC"               // SOCPackages, by SOC
	GroupDevice            Group = "DEVICE"            // DeviceSpecificPackages, by Device
	GroupDeviceLayout      Group = "DEVICELAYOUT"      // DeviceLayoutPackages, by SOC
	GroupOEMDevicePlatform Group = "OEMDEVICEPLATFORM" // OEMDevicePlatformPackages, by Device
	GroupBootLocale        Group = "BOOTLOCALE"        // BootLocalePackageFile
	GroupBootUI            Group = "BOOTUI"            // BootUILanguagePackageFile
	GroupKeyboard          Group = "KEYBOARD"          // KeyboardPackages, by Language
	GroupSpeech            Group = "SPEECH"            // SpeechPackages, by Language
	GroupMSFeature         Group = "MSFEATURE"         // Features/Microsoft, by FeatureID
	GroupOEMFeature        Group = "OEMFEATURE"        // Features/OEM, by FeatureID
)

// Groups lists every group in selection order.
var Groups = []Group{GroupBase, GroupCPU, GroupRelease, GroupPrerelease, GroupSV, GroupSOC, GroupDevice,
	GroupDeviceLayout, GroupOEMDevicePlatform, GroupBootLocale, GroupBootUI, GroupKeyboard, GroupSpeech,
	GroupMSFeature, GroupOEMFeature}

// Element returns where the group lives in a feature manifest, e.g. "SOCPackages".
func (g Group) Element() string {
	switch g {
	case GroupBase:
		return "BasePackages"
	case GroupCPU:
		return "CPUPackages"
	case GroupRelease:
		return "ReleasePackages"
	case GroupPrerelease:
		return "PrereleasePackages"
	case GroupSV:
		return "SVPackages"
	case GroupSOC:
		return "SOCPackages"
	case GroupDevice:
		return "DeviceSpecificPackages"
	case GroupDeviceLayout:
		return "DeviceLayoutPackages"
	case GroupOEMDevicePlatform:
		return "OEMDevicePlatformPackages"
	case GroupBootLocale:
		return "BootLocalePackageFile"
	case GroupBootUI:
		return "BootUILanguagePackageFile"
	case GroupKeyboard:
		return "KeyboardPackages"
	case GroupSpeech:
		return "SpeechPackages"
	case GroupMSFeature:
		return "Features/Microsoft"
	case GroupOEMFeature:
		return "Features/OEM"
	}
	return string(g)
}

// selectorAttr is the attribute that decides whether a package of the group is selected.
func (g Group) selectorAttr() string {
	switch g {
	case GroupRelease:
		return "ReleaseType"
	case GroupPrerelease:
		return "Type"
	case GroupSV:
		return "SV"
	case GroupSOC, GroupDeviceLayout:
		return "SOC"
	case GroupDevice, GroupOEMDevicePlatform:
		return "Device"
	}
	return ""
}

// HasSatellites reports the groups of basePkgType, whose packages have Language and Resolution
// satellites.
func (g Group) HasSatellites() bool {
	switch g {
	case GroupBootLocale, GroupBootUI, GroupKeyboard, GroupSpeech:
		return false
	}
	return true
}

// FeatureManifest is a feature manifest (FM) file; root <FeatureManifest>.
type FeatureManifest struct {
	File string
	Pos  Pos

	// Root attributes.
	Revision, SchemaVersion, ID, ReleaseType, OwnerType, OwnerName, BuildID, BuildInfo, OSVersion string

	BasePackages              []*PackageFile
	CPUPackages               []*PackageFile
	ReleasePackages           []*PackageFile
	PrereleasePackages        []*PackageFile
	SVPackages                []*PackageFile
	SOCPackages               []*PackageFile
	DeviceSpecificPackages    []*PackageFile
	DeviceLayoutPackages      []*PackageFile
	OEMDevicePlatformPackages []*PackageFile
	BootLocalePackageFile     *PackageFile
	BootUILanguagePackageFile *PackageFile
	KeyboardPackages          []*PackageFile
	SpeechPackages            []*PackageFile
	MicrosoftFeatures         []*PackageFile // Features/Microsoft
	OEMFeatures               []*PackageFile // Features/OEM

	MSFeatureGroups        []*FeatureGroup
	OEMFeatureGroups       []*FeatureGroup
	MSConditionalFeatures  []*ConditionalFeature
	OEMConditionalFeatures []*ConditionalFeature // UpdateAction NoUpdate only, as FeatureAPI checks
}

// Packages returns the packages of group g, in file order.
func (fm *FeatureManifest) Packages(g Group) []*PackageFile {
	switch g {
	case GroupBase:
		return fm.BasePackages
	case GroupCPU:
		return fm.CPUPackages
	case GroupRelease:
		return fm.ReleasePackages
	case GroupPrerelease:
		return fm.PrereleasePackages
	case GroupSV:
		return fm.SVPackages
	case GroupSOC:
		return fm.SOCPackages
	case GroupDevice:
		return fm.DeviceSpecificPackages
	case GroupDeviceLayout:
		return fm.DeviceLayoutPackages
	case GroupOEMDevicePlatform:
		return fm.OEMDevicePlatformPackages
	case GroupBootLocale:
		if fm.BootLocalePackageFile != nil {
			return []*PackageFile{fm.BootLocalePackageFile}
		}
	case GroupBootUI:
		if fm.BootUILanguagePackageFile != nil {
			return []*PackageFile{fm.BootUILanguagePackageFile}
		}
	case GroupKeyboard:
		return fm.KeyboardPackages
	case GroupSpeech:
		return fm.SpeechPackages
	case GroupMSFeature:
		return fm.MicrosoftFeatures
	case GroupOEMFeature:
		return fm.OEMFeatures
	}
	return nil
}

func (fm *FeatureManifest) setPackages(g Group, p []*PackageFile) {
	switch g {
	case GroupBase:
		fm.BasePackages = p
	case GroupCPU:
		fm.CPUPackages = p
	case GroupRelease:
		fm.ReleasePackages = p
	case GroupPrerelease:
		fm.PrereleasePackages = p
	case GroupSV:
		fm.SVPackages = p
	case GroupSOC:
		fm.SOCPackages = p
	case GroupDevice:
		fm.DeviceSpecificPackages = p
	case GroupDeviceLayout:
		fm.DeviceLayoutPackages = p
	case GroupOEMDevicePlatform:
		fm.OEMDevicePlatformPackages = p
	case GroupKeyboard:
		fm.KeyboardPackages = p
	case GroupSpeech:
		fm.SpeechPackages = p
	case GroupMSFeature:
		fm.MicrosoftFeatures = p
	case GroupOEMFeature:
		fm.OEMFeatures = p
	}
}

// PackageFile is one package of a feature manifest, with every attribute of the schema's
// pkgFileType and its derived types. Which attributes a group allows is checked when parsing.
type PackageFile struct {
	Pos   Pos
	Group Group

	Path                     string // directory (C# field "Directory")
	LangPath                 string // directory of language satellites, if not Path
	Name                     string // file name
	ID                       string // the attribute; see PkgID
	NoBasePackage            bool
	FeatureIdentifierPackage bool
	Partition                string
	Version                  string
	CPUType                  string // "x86;arm"-style list, "" or "*" for all
	PublicKey                string
	BinaryPartition          bool

	Resolution string // "*", "(a;b)" or "!(a;b)"
	Language   string // same syntax
	Wow        string
	LangWow    string
	ResWow     string

	ReleaseType string // ReleasePackages: Test or Production
	Type        string // PrereleasePackages: protected or replacement
	SOC         string // SOCPackages, DeviceLayoutPackages
	SV          string // SVPackages
	Device      string // OEMDevicePlatformPackages, DeviceSpecificPackages

	FeatureIDs []string // Features/Microsoft and Features/OEM

	// Parsed Language and Resolution; nil when the attribute is absent.
	LanguageFilter, ResolutionFilter *Filter
}

// PkgID is the package ID: the ID attribute, or the file name without its extension.
func (p *PackageFile) PkgID() string {
	if p.ID != "" {
		return p.ID
	}
	return trimExt(p.Name)
}

// Selector is the value that selects the package in its group (SOC, Device, ReleaseType, ...),
// "" for groups selected otherwise.
func (p *PackageFile) Selector() string {
	switch p.Group.selectorAttr() {
	case "ReleaseType":
		return p.ReleaseType
	case "Type":
		return p.Type
	case "SV":
		return p.SV
	case "SOC":
		return p.SOC
	case "Device":
		return p.Device
	}
	return ""
}

func trimExt(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '\\' && name[i] != '/'; i-- {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}

// Filter is a parsed Language or Resolution attribute: "*", "(a;b)" or "!(a;b)".
type Filter struct {
	All     bool     // "*"
	Exclude bool     // "!(...)": everything supported except Values
	Values  []string // the list, in attribute order
}

// ParseFilter parses a Language or Resolution attribute. item checks one list value.
func ParseFilter(s string, item *regexp.Regexp) (*Filter, string) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return &Filter{All: true}, ""
	}
	f := &Filter{}
	if strings.HasPrefix(s, "!") {
		f.Exclude = true
		s = s[1:]
	}
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") || len(s) < 3 {
		return nil, `expected "*", "(a;b)" or "!(a;b)"`
	}
	for _, v := range strings.Split(s[1:len(s)-1], ";") {
		v = strings.TrimSpace(v)
		if v == "*" {
			return nil, `"*" cannot be mixed with a list; expected "*" alone`
		}
		if !item.MatchString(v) {
			return nil, "list item " + quote(v) + ` is not valid; expected "(a;b)" with values such as ` + example(item)
		}
		f.Values = append(f.Values, v)
	}
	return f, ""
}

func example(re *regexp.Regexp) string {
	if re == resolutionRE {
		return "720x1280"
	}
	if re == cpuRE {
		return "arm"
	}
	return "en-US"
}

// Select applies the filter to the supported values (OEMInput's languages or resolutions): "*"
// gives all supported, "!(...)" the supported ones not listed, "(...)" the listed ones that are
// supported, in list order (FORMATS.md section 1). Comparison ignores case.
func (f *Filter) Select(supported []string) []string {
	if f == nil {
		return nil
	}
	var out []string
	switch {
	case f.All:
		out = append(out, supported...)
	case f.Exclude:
		for _, s := range supported {
			if !containsFold(f.Values, s) {
				out = append(out, s)
			}
		}
	default:
		for _, v := range f.Values {
			if containsFold(supported, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// MatchesCPU reports whether the package's CPUType list holds cpu ("" or "*" hold all). SOC
// and device layout packages without CPUType are ARM only, as SOCPkgFile's default says.
func (p *PackageFile) MatchesCPU(cpu string) bool {
	list := strings.TrimSpace(p.CPUType)
	if list == "" && (p.Group == GroupSOC || p.Group == GroupDeviceLayout) {
		list = "arm"
	}
	if list == "" || list == "*" {
		return true
	}
	for _, c := range strings.Split(list, ";") {
		if strings.EqualFold(strings.TrimSpace(c), cpu) {
			return true
		}
	}
	return false
}

// FeatureGroup is a group of feature IDs with a constraint (feature-groupings-and-constraints).
type FeatureGroup struct {
	Pos                    Pos
	Name                   string
	FMID                   string
	PublishingFeatureGroup bool
	GroupingType           string
	Constraint             string // OneOrMore, ZeroOrOne, OneAndOnlyOne or ZeroOrMore (default)
	FeatureIDs             []string
	SubGroups              []*FeatureGroup
}

// Constraints of feature groups.
const (
	ConstraintOneOrMore     = "OneOrMore"
	ConstraintZeroOrOne     = "ZeroOrOne"
	ConstraintOneAndOnlyOne = "OneAndOnlyOne"
	ConstraintZeroOrMore    = "ZeroOrMore"
)

// ConditionalFeature is an MSConditionalFeatures or OEMConditionalFeatures entry. Parsed and
// kept; selection ignores both, as the original's does: they drive updates on devices, and
// imaging only records them in the device's and the BSP's CompDB.
type ConditionalFeature struct {
	Pos           Pos
	FeatureID     string
	FMID          string
	UpdateAction  string // Install, Remove or NoUpdate
	Conditions    []*Condition
	ConditionSets []*ConditionSet
}

// Condition is one test of a ConditionalFeature.
type Condition struct {
	Pos                                      Pos
	Type, Operator, Name, Value, RegistryKey string
	RegistryKeyType, FMID, FeatureStatus     string
}

// ConditionSet combines conditions with AND or OR.
type ConditionSet struct {
	Pos           Pos
	Operator      string
	Conditions    []*Condition
	ConditionSets []*ConditionSet
}

var (
	cpuRE      = regexp.MustCompile(`(?i)^(x86|arm|amd64|arm64)$`)
	cpuListRE  = regexp.MustCompile(`(?i)^\s*(\*|(x86|arm|amd64|arm64)(\s*;\s*(x86|arm|amd64|arm64))*)\s*$`)
	fmChildren = []string{"BasePackages", "BootUILanguagePackageFile", "BootLocalePackageFile", "Features",
		"CPUPackages", "ReleasePackages", "PrereleasePackages", "SOCPackages", "SVPackages", "DeviceLayoutPackages",
		"OEMDevicePlatformPackages", "DeviceSpecificPackages", "KeyboardPackages", "SpeechPackages"}
	fmRootAttrs = []string{"Revision", "SchemaVersion", "ID", "ReleaseType", "OwnerType", "OwnerName", "BuildID", "BuildInfo", "OSVersion"}

	pkgFileAttrs = []string{"Path", "LangPath", "Name", "ID", "NoBasePackage", "FeatureIdentifierPackage", "Partition",
		"Version", "CPUType", "PublicKey", "BinaryPartition"}
	basePkgAttrs = append(append([]string(nil), pkgFileAttrs...), "Resolution", "Language", "Wow", "LangWow", "ResWow")
	langPkgAttrs = append(append([]string(nil), pkgFileAttrs...), "Language")
)

// groupOfElement maps a child element of <FeatureManifest> to its group.
var groupOfElement = map[string]Group{
	"BasePackages": GroupBase, "CPUPackages": GroupCPU, "ReleasePackages": GroupRelease,
	"PrereleasePackages": GroupPrerelease, "SOCPackages": GroupSOC, "SVPackages": GroupSV,
	"DeviceLayoutPackages": GroupDeviceLayout, "OEMDevicePlatformPackages": GroupOEMDevicePlatform,
	"DeviceSpecificPackages": GroupDevice, "KeyboardPackages": GroupKeyboard, "SpeechPackages": GroupSpeech,
	"BootUILanguagePackageFile": GroupBootUI, "BootLocalePackageFile": GroupBootLocale,
}

// ReadFeatureManifest reads and parses a feature manifest file.
func ReadFeatureManifest(path string) (*FeatureManifest, error) {
	data, err := ReadXMLFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFeatureManifest(path, data)
}

// ParseFeatureManifest parses and validates a feature manifest. file names it in errors.
func ParseFeatureManifest(file string, data []byte) (*FeatureManifest, error) {
	d, err := parseXML(file, data)
	if err != nil {
		return nil, err
	}
	root := d.root
	fm := &FeatureManifest{File: file, Pos: d.elemPos(root)}
	if root.Tag != "FeatureManifest" {
		d.errorf(root, "root element is <%s>; expected <FeatureManifest>", root.FullTag())
		return nil, d.result()
	}
	if !d.checkNS(root) {
		// Every element inherits the namespace: one message says it all.
		return nil, d.result()
	}
	a := d.attrs(root, fmRootAttrs...)
	fm.Revision, fm.SchemaVersion, fm.ID = a.v("Revision"), a.v("SchemaVersion"), a.v("ID")
	fm.OwnerName, fm.BuildID, fm.BuildInfo = a.v("OwnerName"), a.v("BuildID"), a.v("BuildInfo")
	if v, ok := a.get("ReleaseType"); ok && d.enumAttr(root, "ReleaseType", v, ReleaseProduction, ReleaseTest) {
		fm.ReleaseType = v
	}
	if v, ok := a.get("OwnerType"); ok && d.enumAttr(root, "OwnerType", v, "Microsoft", "OEM") {
		fm.OwnerType = v
	}
	fm.OSVersion = d.versionAttr(root, a, "OSVersion")

	seen := once{}
	for _, el := range d.children(root) {
		if !seen.first(d, root, el) {
			continue
		}
		switch el.Tag {
		case "Features":
			d.fmFeatures(el, fm)
		case "BootUILanguagePackageFile", "BootLocalePackageFile":
			p := d.packageFile(el, groupOfElement[el.Tag])
			d.empty(el)
			if el.Tag == "BootUILanguagePackageFile" {
				fm.BootUILanguagePackageFile = p
			} else {
				fm.BootLocalePackageFile = p
			}
		default:
			g, ok := groupOfElement[el.Tag]
			if !ok {
				d.unknownChild(root, el, fmChildren)
				continue
			}
			d.attrs(el)
			fm.setPackages(g, d.packageList(el, g))
		}
	}
	d.checkDuplicates(fm)
	if err := d.result(); err != nil {
		return nil, err
	}
	return fm, nil
}

// packageList parses the PackageFile children of a group element.
func (d *doc) packageList(el *etree.Element, g Group) []*PackageFile {
	var out []*PackageFile
	for _, c := range d.children(el) {
		if c.Tag != "PackageFile" {
			if (g == GroupMSFeature || g == GroupOEMFeature) && (c.Tag == "FeatureGroup" || c.Tag == "FeatureGroups") {
				// The documentation's samples put feature groups here; the schema does not.
				prefix := "OEM"
				if el.Tag == "Microsoft" {
					prefix = "MS"
				}
				d.errorf(c, "<%s> in <Features><%s>; expected <FeatureGroup> in <Features><%sFeatureGroups>", c.Tag, el.Tag, prefix)
				continue
			}
			d.unknownChild(el, c, []string{"PackageFile"})
			continue
		}
		p := d.packageFile(c, g)
		if g == GroupMSFeature || g == GroupOEMFeature {
			p.FeatureIDs = d.featureIDsChild(c)
		} else {
			d.empty(c)
		}
		out = append(out, p)
	}
	return out
}

// featureIDsChild parses the required <FeatureIDs> of a feature package.
func (d *doc) featureIDsChild(el *etree.Element) []string {
	var ids []string
	seen := once{}
	for _, c := range d.children(el) {
		if c.Tag != "FeatureIDs" {
			d.unknownChild(el, c, []string{"FeatureIDs"})
			continue
		}
		if !seen.first(d, el, c) {
			continue
		}
		ids = d.featureIDs(c)
	}
	if _, ok := seen["FeatureIDs"]; !ok {
		d.errorf(el, "feature <PackageFile> %s has no <FeatureIDs>; expected <FeatureIDs><FeatureID>NAME</FeatureID></FeatureIDs>", quote(el.SelectAttrValue("Name", "")))
	}
	return ids
}

// featureIDs parses <FeatureIDs><FeatureID>..., at least one.
func (d *doc) featureIDs(el *etree.Element) []string {
	d.attrs(el)
	v := d.list(el, "FeatureID", true)
	ids := make([]string, len(v))
	for i, x := range v {
		ids[i] = x.Text
	}
	return ids
}

// groupAttrs is the attributes each group's PackageFile allows.
var groupAttrs = func() map[Group][]string {
	m := map[Group][]string{}
	for _, g := range Groups {
		var base []string
		switch g {
		case GroupBootUI, GroupBootLocale:
			base = pkgFileAttrs
		case GroupKeyboard, GroupSpeech:
			base = langPkgAttrs
		default:
			base = basePkgAttrs
		}
		if s := g.selectorAttr(); s != "" {
			base = append(append([]string(nil), base...), s)
		}
		m[g] = base
	}
	return m
}()

// packageFile parses the attributes of a PackageFile (or Boot*PackageFile) of group g.
func (d *doc) packageFile(el *etree.Element, g Group) *PackageFile {
	a := d.attrs(el, groupAttrs[g]...)
	p := &PackageFile{
		Pos: d.elemPos(el), Group: g,
		Path: a.v("Path"), LangPath: a.v("LangPath"), Name: strings.TrimSpace(a.v("Name")), ID: strings.TrimSpace(a.v("ID")),
		Partition: a.v("Partition"), CPUType: a.v("CPUType"), PublicKey: a.v("PublicKey"),
		Resolution: a.v("Resolution"), Language: a.v("Language"), Wow: a.v("Wow"), LangWow: a.v("LangWow"), ResWow: a.v("ResWow"),
	}
	p.NoBasePackage = d.boolAttr(el, a, "NoBasePackage")
	p.FeatureIdentifierPackage = d.boolAttr(el, a, "FeatureIdentifierPackage")
	p.BinaryPartition = d.boolAttr(el, a, "BinaryPartition")
	p.Version = d.versionAttr(el, a, "Version")
	d.requireAttr(el, a, "Path", "the package's directory, e.g. $(mspackageroot)\\Retail\\$(cputype)\\$(buildtype)")
	d.requireAttr(el, a, "Name", "the package's file name, e.g. Contoso.BaseOS.Settings.spkg")
	if v, ok := a.get("CPUType"); ok && !cpuListRE.MatchString(v) {
		d.attrErrorf(el, "CPUType", "attribute CPUType of <%s> is %q; expected CPU types from x86, arm, amd64, arm64 separated by ';'", el.Tag, v)
	}
	for _, w := range []string{"Wow", "LangWow", "ResWow"} {
		if v, ok := a.get(w); ok && !cpuListRE.MatchString(v) {
			d.attrErrorf(el, w, "attribute %s of <%s> is %q; expected \"*\" or CPU types separated by ';'", w, el.Tag, v)
		}
	}
	if v, ok := a.get("Language"); ok {
		f, msg := ParseFilter(v, languageRE)
		if msg != "" {
			d.attrErrorf(el, "Language", "attribute Language of <%s> is %q; %s", el.Tag, v, msg)
		}
		p.LanguageFilter = f
	}
	if v, ok := a.get("Resolution"); ok {
		f, msg := ParseFilter(v, resolutionRE)
		if msg != "" {
			d.attrErrorf(el, "Resolution", "attribute Resolution of <%s> is %q; %s", el.Tag, v, msg)
		}
		p.ResolutionFilter = f
	}
	switch g {
	case GroupRelease:
		if v := d.requireAttr(el, a, "ReleaseType", "Test or Production"); v != "" && d.enumAttr(el, "ReleaseType", v, ReleaseTest, ReleaseProduction) {
			p.ReleaseType = v
		}
	case GroupPrerelease:
		if v := d.requireAttr(el, a, "Type", "protected or replacement"); v != "" && d.enumAttr(el, "Type", v, "protected", "replacement") {
			p.Type = v
		}
	case GroupSOC, GroupDeviceLayout:
		p.SOC = d.requireAttr(el, a, "SOC", "the SoC the package is for, as in OEMInput's <SOC>")
	case GroupSV:
		p.SV = d.requireAttr(el, a, "SV", "the silicon vendor the package is for, as in OEMInput's <SV>")
	case GroupDevice, GroupOEMDevicePlatform:
		p.Device = d.requireAttr(el, a, "Device", "the device the package is for, as in OEMInput's <Device>")
	}
	return p
}

var featuresChildren = []string{"MSConditionalFeatures", "MSFeatureGroups", "Microsoft", "OEMConditionalFeatures", "OEMFeatureGroups", "OEM"}

func (d *doc) fmFeatures(el *etree.Element, fm *FeatureManifest) {
	d.attrs(el)
	seen := once{}
	for _, c := range d.children(el) {
		if !seen.first(d, el, c) {
			continue
		}
		switch c.Tag {
		case "Microsoft", "OEM":
			d.attrs(c)
			g := GroupMSFeature
			if c.Tag == "OEM" {
				g = GroupOEMFeature
			}
			fm.setPackages(g, d.packageList(c, g))
		case "MSFeatureGroups", "OEMFeatureGroups":
			d.attrs(c)
			var groups []*FeatureGroup
			for _, x := range d.children(c) {
				if x.Tag != "FeatureGroup" {
					d.unknownChild(c, x, []string{"FeatureGroup"})
					continue
				}
				groups = append(groups, d.featureGroup(x))
			}
			if c.Tag == "MSFeatureGroups" {
				fm.MSFeatureGroups = groups
			} else {
				fm.OEMFeatureGroups = groups
			}
		case "MSConditionalFeatures":
			fm.MSConditionalFeatures = d.conditionalFeatures(c)
		case "OEMConditionalFeatures":
			fm.OEMConditionalFeatures = d.conditionalFeatures(c)
			for _, cf := range fm.OEMConditionalFeatures {
				if cf.UpdateAction != "" && cf.UpdateAction != "NoUpdate" {
					d.add(&Error{Pos: cf.Pos, Msg: "OEM conditional feature " + cf.FeatureID + " has UpdateAction " + quote(cf.UpdateAction) + "; expected NoUpdate (the only action FeatureAPI allows for OEMConditionalFeatures)"})
				}
			}
		default:
			d.unknownChild(el, c, featuresChildren)
		}
	}
}

func (d *doc) featureGroup(el *etree.Element) *FeatureGroup {
	a := d.attrs(el, "Name", "FMID", "PublishingFeatureGroup", "GroupingType", "Constraint")
	g := &FeatureGroup{Pos: d.elemPos(el), Name: a.v("Name"), FMID: a.v("FMID"), GroupingType: a.v("GroupingType"), Constraint: ConstraintZeroOrMore}
	g.PublishingFeatureGroup = d.boolAttr(el, a, "PublishingFeatureGroup")
	if v, ok := a.get("Constraint"); ok && d.enumAttr(el, "Constraint", v, ConstraintOneOrMore, ConstraintZeroOrOne, ConstraintOneAndOnlyOne, ConstraintZeroOrMore) {
		g.Constraint = v
	}
	seen := once{}
	kids := d.children(el)
	for _, c := range kids {
		if !seen.first(d, el, c) {
			continue
		}
		switch c.Tag {
		case "FeatureIDs":
			g.FeatureIDs = d.featureIDs(c)
		case "SubGroups":
			d.attrs(c)
			for _, x := range d.children(c) {
				if x.Tag != "FeatureGroup" {
					d.unknownChild(c, x, []string{"FeatureGroup"})
					continue
				}
				g.SubGroups = append(g.SubGroups, d.featureGroup(x))
			}
		default:
			d.unknownChild(el, c, []string{"FeatureIDs", "SubGroups"})
		}
	}
	if len(kids) == 0 {
		d.errorf(el, "<FeatureGroup> %s has no <FeatureIDs> and no <SubGroups>; expected the feature IDs it constrains", quote(g.Name))
	}
	return g
}

// conditionalFeatures parses the ConditionalFeature list of MSConditionalFeatures or
// OEMConditionalFeatures.
func (d *doc) conditionalFeatures(el *etree.Element) []*ConditionalFeature {
	d.attrs(el)
	var out []*ConditionalFeature
	for _, x := range d.children(el) {
		if x.Tag != "ConditionalFeature" {
			d.unknownChild(el, x, []string{"ConditionalFeature"})
			continue
		}
		out = append(out, d.conditionalFeature(x))
	}
	return out
}

func (d *doc) conditionalFeature(el *etree.Element) *ConditionalFeature {
	a := d.attrs(el, "FeatureID", "FMID", "UpdateAction")
	cf := &ConditionalFeature{Pos: d.elemPos(el), FMID: a.v("FMID")}
	cf.FeatureID = d.requireAttr(el, a, "FeatureID", "the feature the condition applies to")
	if v, ok := a.get("UpdateAction"); ok && d.enumAttr(el, "UpdateAction", v, "Install", "Remove", "NoUpdate") {
		cf.UpdateAction = v
	}
	cf.Conditions, cf.ConditionSets = d.conditions(el)
	return cf
}

func (d *doc) conditions(el *etree.Element) ([]*Condition, []*ConditionSet) {
	var cs []*Condition
	var sets []*ConditionSet
	for _, c := range d.children(el) {
		switch c.Tag {
		case "Condition":
			a := d.attrs(c, "Type", "Operator", "Name", "Value", "RegistryKey", "RegistryKeyType", "FMID", "FeatureStatus")
			x := &Condition{Pos: d.elemPos(c), Name: a.v("Name"), Value: a.v("Value"), RegistryKey: a.v("RegistryKey"),
				RegistryKeyType: a.v("RegistryKeyType"), FMID: a.v("FMID")}
			if v := d.requireAttr(c, a, "Type", "NameValuePair, Registry or Feature"); v != "" && d.enumAttr(c, "Type", v, "NameValuePair", "Registry", "Feature") {
				x.Type = v
			}
			if v, ok := a.get("Operator"); ok && d.enumAttr(c, "Operator", v, "GT", "GTE", "LT", "LTE", "EQ", "NEQ", "SET", "NOTSET") {
				x.Operator = v
			}
			if v, ok := a.get("FeatureStatus"); ok && d.enumAttr(c, "FeatureStatus", v, "Installed", "NotInstalled") {
				x.FeatureStatus = v
			}
			d.empty(c)
			cs = append(cs, x)
		case "ConditionSet":
			a := d.attrs(c, "Operator")
			s := &ConditionSet{Pos: d.elemPos(c)}
			if v := d.requireAttr(c, a, "Operator", "AND or OR"); v != "" && d.enumAttr(c, "Operator", v, "AND", "OR") {
				s.Operator = v
			}
			s.Conditions, s.ConditionSets = d.conditions(c)
			sets = append(sets, s)
		default:
			d.unknownChild(el, c, []string{"Condition", "ConditionSet"})
		}
	}
	return cs, sets
}

// checkDuplicates reports a package ID listed twice in one group for the same selector value
// and CPU types: one of the two entries is dead or wrong. The same ID for two SOCs, devices or
// CPU types is fine.
func (d *doc) checkDuplicates(fm *FeatureManifest) {
	type key struct {
		g            Group
		sel, cpu, id string
	}
	first := map[key]*PackageFile{}
	for _, g := range Groups {
		for _, p := range fm.Packages(g) {
			if p.Name == "" {
				continue
			}
			k := key{g, strings.ToUpper(p.Selector()), strings.ToUpper(strings.ReplaceAll(p.CPUType, " ", "")), strings.ToUpper(p.PkgID())}
			if q, ok := first[k]; ok {
				what := g.Element()
				if s := p.Selector(); s != "" {
					what += " " + g.selectorAttr() + "=" + s
				}
				d.add(&Error{Pos: p.Pos, Msg: "duplicate package ID " + p.PkgID() + " in " + what + " (first at line " + strconv.Itoa(q.Pos.Line) + "); expected each package once per group"})
				continue
			}
			first[k] = p
		}
	}
}
