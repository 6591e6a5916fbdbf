package manifest

import (
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

// Products with their own core feature manifest (ImagingEditions.xml of the original).
const (
	ProductWindowsPhone         = "Windows Phone"
	ProductManufacturingOS      = "Manufacturing OS"
	ProductPhoneManufacturingOS = "Phone Manufacturing OS"
	// ProductIoTCore is the Product of every Windows 10 IoT Core OEMInput. Its core feature
	// manifest comes in a CBS package, which these tools do not read (tools/resolve says so).
	ProductIoTCore = "Windows 10 IoT Core"
)

// Release types and build types.
const (
	ReleaseTest       = "Test"
	ReleaseProduction = "Production"
	BuildFre          = "fre"
	BuildChk          = "chk"
)

// Value is a text element of a list, with where it is.
type Value struct {
	Text string
	Pos  Pos
}

// OEMInput is an OEMInput.xml file (seed 001 XSD; root <OEMInput>, all children in any order).
type OEMInput struct {
	File string
	Pos  Pos // of the root element

	Product                   string // default ProductWindowsPhone
	Description               string
	SV                        string
	SOC                       string
	Device                    string
	ReleaseType               string // ReleaseTest or ReleaseProduction
	BuildType                 string // "fre", "chk", or a %VAR% placeholder expanded at selection
	FormatDPP                 bool
	ExcludePrereleaseFeatures bool
	OEMDevicePlatform         string

	UILanguages       []Value // SupportedLanguages/UserInterface/Language (1 or more)
	KeyboardLanguages []Value // SupportedLanguages/Keyboard/Language
	SpeechLanguages   []Value // SupportedLanguages/Speech/Language
	BootUILanguage    string
	BootLocale        string
	Resolutions       []Value

	MicrosoftFeatures []Value // Features/Microsoft/Feature
	OEMFeatures       []Value // Features/OEM/Feature
	AdditionalFMs     []Value
	UserStoreMapData  *UserStoreMapData
	PackageFiles      []Value

	// Back-compatible elements of the ToolsCommon variant of the schema (each <OptionalFeature>
	// list). Selection treats the three feature lists as Microsoft features.
	InternalOptionalFeatures   []Value
	ProductionOptionalFeatures []Value
	MSOptionalFeatures         []Value
	AdditionalSKUs             []Value

	elems map[string]Pos // where each single child element is
}

// UserStoreMapData is the Windows Phone 8 update element, kept but unused.
type UserStoreMapData struct {
	SourceDir, UserStoreDir string
	Pos                     Pos
}

// PosOf returns where child element name (e.g. "BuildType") is, or the root's position if the
// file does not have it.
func (o *OEMInput) PosOf(name string) Pos {
	if p, ok := o.elems[name]; ok {
		return p
	}
	return o.Pos
}

var oemInputChildren = []string{
	"Product", "Description", "SV", "SOC", "Device", "ReleaseType", "BuildType", "FormatDPP",
	"ExcludePrereleaseFeatures", "OEMDevicePlatform", "SupportedLanguages", "BootUILanguage",
	"BootLocale", "Resolutions", "Features", "AdditionalFMs", "UserStoreMapData", "PackageFiles",
	"InternalOptionalFeatures", "ProductionOptionalFeatures", "MSOptionalFeatures", "AdditionalSKUs",
}

var (
	envPlaceholderRE = regexp.MustCompile(`^%[^%\s]+%$`)
	resolutionRE     = regexp.MustCompile(`^[0-9]+x[0-9]+$`)
	languageRE       = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)
)

// ReadOEMInput reads and parses an OEMInput file.
func ReadOEMInput(path string) (*OEMInput, error) {
	data, err := ReadXMLFile(path)
	if err != nil {
		return nil, err
	}
	return ParseOEMInput(path, data)
}

// ParseOEMInput parses and validates an OEMInput file. file names it in errors. Every problem
// found is returned as an ErrorList.
func ParseOEMInput(file string, data []byte) (*OEMInput, error) {
	d, err := parseXML(file, data)
	if err != nil {
		return nil, err
	}
	root := d.root
	o := &OEMInput{File: file, Pos: d.elemPos(root), Product: ProductWindowsPhone, elems: map[string]Pos{}}
	if root.Tag != "OEMInput" {
		d.errorf(root, "root element is <%s>; expected <OEMInput>", root.FullTag())
		return nil, d.result()
	}
	if !d.checkNS(root) {
		// Every element inherits the namespace: one message says it all.
		return nil, d.result()
	}
	d.attrs(root)
	seen := once{}
	for _, el := range d.children(root) {
		if !seen.first(d, root, el) {
			continue
		}
		o.elems[el.Tag] = d.elemPos(el)
		d.attrsFor(el)
		switch el.Tag {
		case "Product":
			if o.Product = d.text(el); o.Product == "" {
				d.errorf(el, "<Product> is empty; expected a product such as %q or %q, or no <Product> element", ProductWindowsPhone, ProductManufacturingOS)
				o.Product = ProductWindowsPhone
			}
		case "Description":
			o.Description = d.text(el)
		case "SV":
			o.SV = d.text(el)
		case "SOC":
			o.SOC = d.nonEmpty(el, "the SoC name, e.g. QC8974")
		case "Device":
			o.Device = d.nonEmpty(el, "the device model")
		case "ReleaseType":
			o.ReleaseType = d.text(el)
			d.enum(el, "<ReleaseType>", o.ReleaseType, ReleaseTest, ReleaseProduction)
		case "BuildType":
			o.BuildType = d.text(el)
			if !envPlaceholderRE.MatchString(o.BuildType) {
				d.enum(el, "<BuildType>", o.BuildType, BuildFre, BuildChk, "a %VARIABLE% such as %BUILDTYPE%")
			}
		case "FormatDPP":
			o.FormatDPP = d.boolText(el)
		case "ExcludePrereleaseFeatures":
			o.ExcludePrereleaseFeatures = d.boolText(el)
		case "OEMDevicePlatform":
			o.OEMDevicePlatform = d.text(el)
		case "SupportedLanguages":
			d.supportedLanguages(el, o)
		case "BootUILanguage":
			o.BootUILanguage = d.nonEmpty(el, "a language code such as en-US")
		case "BootLocale":
			o.BootLocale = d.nonEmpty(el, "a locale such as en-US")
		case "Resolutions":
			o.Resolutions = d.list(el, "Resolution", true)
			for _, r := range o.Resolutions {
				if !resolutionRE.MatchString(r.Text) {
					d.add(&Error{Pos: r.Pos, Msg: "resolution " + quote(r.Text) + " is not WIDTHxHEIGHT; expected e.g. 720x1280"})
				}
			}
		case "Features":
			d.oemFeatures(el, o)
		case "AdditionalFMs":
			o.AdditionalFMs = d.list(el, "AdditionalFM", true)
		case "UserStoreMapData":
			a := d.attrs(el, "SourceDir", "UserStoreDir")
			d.children(el)
			o.UserStoreMapData = &UserStoreMapData{SourceDir: a.v("SourceDir"), UserStoreDir: a.v("UserStoreDir"), Pos: d.elemPos(el)}
		case "PackageFiles":
			o.PackageFiles = d.list(el, "PackageFile", true)
		case "InternalOptionalFeatures":
			o.InternalOptionalFeatures = d.list(el, "OptionalFeature", true)
		case "ProductionOptionalFeatures":
			o.ProductionOptionalFeatures = d.list(el, "OptionalFeature", true)
		case "MSOptionalFeatures":
			o.MSOptionalFeatures = d.list(el, "OptionalFeature", true)
		case "AdditionalSKUs":
			o.AdditionalSKUs = d.list(el, "AdditionalSKU", true)
		default:
			d.unknownChild(root, el, oemInputChildren)
		}
	}
	seen.require(d, root, "SOC", "Device", "ReleaseType", "BuildType", "SupportedLanguages", "BootUILanguage", "BootLocale")
	if err := d.result(); err != nil {
		return nil, err
	}
	return o, nil
}

// attrsFor checks that a simple OEMInput element has no attributes (UserStoreMapData has its own).
func (d *doc) attrsFor(el *etree.Element) {
	if el.Tag != "UserStoreMapData" {
		d.attrs(el)
	}
}

func (d *doc) nonEmpty(el *etree.Element, what string) string {
	v := d.text(el)
	if v == "" && len(el.ChildElements()) == 0 {
		d.errorf(el, "<%s> is empty; expected %s", el.Tag, what)
	}
	return v
}

func (d *doc) boolText(el *etree.Element) bool {
	v := d.text(el)
	d.enum(el, "<"+el.Tag+">", v, "true", "false")
	return v == "true"
}

// list parses a sequence of <item> text elements; required means minOccurs=1.
func (d *doc) list(el *etree.Element, item string, required bool) []Value {
	var out []Value
	kids := d.children(el)
	for _, c := range kids {
		if c.Tag != item {
			d.unknownChild(el, c, []string{item})
			continue
		}
		d.attrs(c)
		v := d.text(c)
		if v == "" {
			d.errorf(c, "<%s> is empty; expected a value", item)
			continue
		}
		out = append(out, Value{Text: v, Pos: d.elemPos(c)})
	}
	switch {
	case !required || len(kids) > 0:
	case el.Tag == "UserInterface" || el.Tag == "FeatureIDs":
		// Containers the schema requires: removing them is no way out.
		d.errorf(el, "<%s> has no <%s>; expected at least one", el.Tag, item)
	default:
		// The originals validate against the schema, which refuses an empty list (minOccurs=1).
		d.errorf(el, "<%s> has no <%s>; the schema requires at least one in it: remove the empty <%s> element or list a <%s> in it", el.Tag, item, el.Tag, item)
	}
	return out
}

func (d *doc) supportedLanguages(el *etree.Element, o *OEMInput) {
	seen := once{}
	for _, c := range d.children(el) {
		if !seen.first(d, el, c) {
			continue
		}
		d.attrs(c)
		var l []Value
		switch c.Tag {
		case "UserInterface":
			l = d.list(c, "Language", true)
			o.UILanguages = l
		case "Keyboard":
			l = d.list(c, "Language", true)
			o.KeyboardLanguages = l
		case "Speech":
			l = d.list(c, "Language", true)
			o.SpeechLanguages = l
		default:
			d.unknownChild(el, c, []string{"UserInterface", "Keyboard", "Speech"})
		}
		for _, v := range l {
			if !languageRE.MatchString(v.Text) {
				d.add(&Error{Pos: v.Pos, Msg: "language " + quote(v.Text) + " is not a language code; expected e.g. en-US"})
			}
		}
	}
	seen.require(d, el, "UserInterface")
}

// oemFeatures parses OEMInput's Features: an xs:sequence, Microsoft before OEM.
func (d *doc) oemFeatures(el *etree.Element, o *OEMInput) {
	seen := once{}
	for _, c := range d.children(el) {
		if !seen.first(d, el, c) {
			continue
		}
		d.attrs(c)
		switch c.Tag {
		case "Microsoft":
			if _, ok := seen["OEM"]; ok {
				d.errorf(c, "<Microsoft> after <OEM> in <Features>; expected <Microsoft> first (the schema's order)")
			}
			o.MicrosoftFeatures = d.list(c, "Feature", true)
		case "OEM":
			o.OEMFeatures = d.list(c, "Feature", true)
		default:
			d.unknownChild(el, c, []string{"Microsoft", "OEM"})
		}
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(clip(s), `"`, `\"`) + `"` }
