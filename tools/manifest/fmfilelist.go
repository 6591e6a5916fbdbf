package manifest

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// FMFileList is FeatureMerger's FMFileList file (root <FMCollectionManifest>, FMCollection.xsd).
type FMFileList struct {
	File    string
	Pos     Pos
	Product string // root attribute

	FMs                   []*FMEntry
	SupportedResolutions  []Value
	SupportedLanguages    []Value
	SupportedLocales      []Value
	IsBuildFeatureEnabled bool
	ChunkMappingsFile     string

	FeatureIdentifierPackages []*FeatureIdentifierPackage
}

// FMEntry is one <FMs><FM .../> of an FMFileList. Path may use $(FMDirectory).
type FMEntry struct {
	Pos                        Pos
	Path                       string
	ID                         string
	MicrosoftFMGUID            string
	ReleaseType                string // Test or Production
	OwnerType                  string // Microsoft or OEM
	OwnerName                  string
	CPUType                    string
	UserInstallable            bool
	SkipForPublishing          bool
	SkipForPRSSigning          bool
	ValidateAsMicrosoftPhoneFM bool
	Critical                   bool
}

// FeatureIdentifierPackage is an FMFileList's record of which package identifies a feature.
type FeatureIdentifierPackage struct {
	Pos                                                    Pos
	FeatureID, ID, FMID, Partition, OwnerType, FixUpAction string
	FixUpActionValue                                       string
}

var fmFileListChildren = []string{"FMs", "SupportedResolutions", "SupportedLanguages", "SupportedLocales",
	"IsBuildFeatureEnabled", "FeatureIdentifierPackages", "ChunkMappingsFile"}

var fmEntryAttrs = []string{"ID", "MicrosoftFMGUID", "Path", "ReleaseType", "UserInstallable", "SkipForPublishing",
	"SkipForPRSSigning", "ValidateAsMicrosoftPhoneFM", "Critical", "OwnerType", "OwnerName", "CPUType"}

// ReadFMFileList reads and parses an FMFileList file.
func ReadFMFileList(path string) (*FMFileList, error) {
	data, err := ReadXMLFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFMFileList(path, data)
}

// ParseFMFileList parses and validates an FMFileList. file names it in errors.
func ParseFMFileList(file string, data []byte) (*FMFileList, error) {
	d, err := parseXML(file, data)
	if err != nil {
		return nil, err
	}
	root := d.root
	l := &FMFileList{File: file, Pos: d.elemPos(root)}
	if root.Tag != "FMCollectionManifest" {
		d.errorf(root, "root element is <%s>; expected <FMCollectionManifest>", root.FullTag())
		return nil, d.result()
	}
	if !d.checkNS(root) {
		// Every element inherits the namespace: one message says it all.
		return nil, d.result()
	}
	l.Product = d.attrs(root, "Product").v("Product")
	seen := once{}
	for _, el := range d.children(root) {
		if !seen.first(d, root, el) {
			continue
		}
		d.attrs(el)
		switch el.Tag {
		case "FMs":
			kids := d.children(el)
			for _, c := range kids {
				if c.Tag != "FM" {
					d.unknownChild(el, c, []string{"FM"})
					continue
				}
				l.FMs = append(l.FMs, d.fmEntry(c))
			}
			if len(kids) == 0 {
				d.errorf(el, "<FMs> has no <FM>; expected at least one <FM Path=... ID=.../>")
			}
		case "SupportedResolutions":
			l.SupportedResolutions = d.list(el, "Resolution", false)
			for _, r := range l.SupportedResolutions {
				if !resolutionRE.MatchString(r.Text) {
					d.add(&Error{Pos: r.Pos, Msg: "resolution " + quote(r.Text) + " is not WIDTHxHEIGHT; expected e.g. 720x1280"})
				}
			}
		case "SupportedLanguages":
			l.SupportedLanguages = d.list(el, "Language", false)
		case "SupportedLocales":
			l.SupportedLocales = d.list(el, "Locale", false)
		case "IsBuildFeatureEnabled":
			l.IsBuildFeatureEnabled = d.boolText(el)
		case "ChunkMappingsFile":
			l.ChunkMappingsFile = d.text(el)
		case "FeatureIdentifierPackages":
			for _, c := range d.children(el) {
				if c.Tag != "FeatureIdentifierPackage" {
					d.unknownChild(el, c, []string{"FeatureIdentifierPackage"})
					continue
				}
				a := d.attrs(c, "FeatureID", "ID", "FMID", "Partition", "OwnerType", "FixUpAction", "FixUpActionValue")
				d.empty(c)
				l.FeatureIdentifierPackages = append(l.FeatureIdentifierPackages, &FeatureIdentifierPackage{
					Pos: d.elemPos(c), FeatureID: a.v("FeatureID"), ID: a.v("ID"), FMID: a.v("FMID"), Partition: a.v("Partition"),
					OwnerType: a.v("OwnerType"), FixUpAction: a.v("FixUpAction"), FixUpActionValue: a.v("FixUpActionValue"),
				})
			}
		default:
			d.unknownChild(root, el, fmFileListChildren)
		}
	}
	seen.require(d, root, "FMs")
	// FM IDs name merged packages: two FMs with one ID would collide (seed 004, ID attribute).
	ids := map[string]*FMEntry{}
	for _, f := range l.FMs {
		if f.ID == "" {
			continue
		}
		k := strings.ToUpper(f.ID)
		if prev, ok := ids[k]; ok {
			d.add(&Error{Pos: f.Pos, Msg: "duplicate FM ID " + f.ID + " (first at line " + strconv.Itoa(prev.Pos.Line) + "); expected a different ID for each FM"})
			continue
		}
		ids[k] = f
	}
	if err := d.result(); err != nil {
		return nil, err
	}
	return l, nil
}

func (d *doc) fmEntry(el *etree.Element) *FMEntry {
	a := d.attrs(el, fmEntryAttrs...)
	d.empty(el)
	f := &FMEntry{Pos: d.elemPos(el), MicrosoftFMGUID: a.v("MicrosoftFMGUID"), OwnerName: a.v("OwnerName"), CPUType: a.v("CPUType")}
	f.Path = d.requireAttr(el, a, "Path", "the feature manifest's path, e.g. $(FMDirectory)\\OEMSampleFM.xml")
	f.ID = d.requireAttr(el, a, "ID", "a short FM ID (8 characters or less, e.g. Phone or Variant)")
	if v, ok := a.get("ReleaseType"); ok && d.enumAttr(el, "ReleaseType", v, ReleaseTest, ReleaseProduction) {
		f.ReleaseType = v
	}
	if v, ok := a.get("OwnerType"); ok && d.enumAttr(el, "OwnerType", v, "Microsoft", "OEM") {
		f.OwnerType = v
	}
	if v, ok := a.get("CPUType"); ok && !cpuListRE.MatchString(v) {
		d.attrErrorf(el, "CPUType", "attribute CPUType of <FM> is %q; expected CPU types from x86, arm, amd64, arm64 separated by ';'", v)
	}
	f.UserInstallable = d.boolAttr(el, a, "UserInstallable")
	f.SkipForPublishing = d.boolAttr(el, a, "SkipForPublishing")
	f.SkipForPRSSigning = d.boolAttr(el, a, "SkipForPRSSigning")
	f.ValidateAsMicrosoftPhoneFM = d.boolAttr(el, a, "ValidateAsMicrosoftPhoneFM")
	f.Critical = d.boolAttr(el, a, "Critical")
	return f
}
