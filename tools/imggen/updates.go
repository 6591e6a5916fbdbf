package imggen

import (
	"strconv"
	"time"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// The update engine's records of an image (FORMATS.md section 5): UpdateOutput.xml (the
// packages applied, root UpdateOSOutput), UpdateHistory.xml (the list of update events, here
// the single imaging event) and PackageList.xml (the packages now on the device).

const updateStateComplete = "Update Complete"

// installed is one package as applied to the image.
type installed struct {
	File     string // package file name, e.g. Contoso.Apps.Camera.spkg
	Manifest *spkg.Manifest
}

func newDoc(root string) (*etree.Document, *etree.Element) {
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	r := d.CreateElement(root)
	r.CreateAttr("xmlns", spkg.Namespace)
	return d, r
}

func text(parent *etree.Element, name, value string) {
	if value != "" {
		parent.CreateElement(name).SetText(value)
	}
}

// updateOSOutput fills el (an UpdateOSOutput element) with the packages.
func updateOSOutput(el *etree.Element, description string, pkgs []installed) {
	text(el, "Description", description)
	text(el, "OverallResult", "0")
	text(el, "UpdateState", updateStateComplete)
	packages := el.CreateElement("Packages")
	for _, p := range pkgs {
		m := p.Manifest
		pe := packages.CreateElement("Package")
		text(pe, "PackageFile", p.File)
		text(pe, "PackageIdentity", m.Name())
		text(pe, "PackageStyle", "SPKG")
		id := pe.CreateElement("Identity")
		text(id, "Owner", m.Owner)
		text(id, "Component", m.Component)
		text(id, "SubComponent", m.SubComponent)
		v := id.CreateElement("Version")
		v.CreateAttr("Major", strconv.Itoa(int(m.Version.Major)))
		v.CreateAttr("Minor", strconv.Itoa(int(m.Version.Minor)))
		v.CreateAttr("QFE", strconv.Itoa(int(m.Version.QFE)))
		v.CreateAttr("Build", strconv.Itoa(int(m.Version.Build)))
		text(pe, "ReleaseType", m.ReleaseType)
		text(pe, "OwnerType", m.OwnerType)
		text(pe, "BuildType", m.BuildType)
		text(pe, "CpuType", m.CpuType)
		text(pe, "Culture", m.Culture)
		text(pe, "Resolution", m.Resolution)
		text(pe, "Partition", m.Partition)
		text(pe, "Platform", m.Platform)
		text(pe, "GroupingKey", m.GroupingKey)
		text(pe, "IsRemoval", "false")
		text(pe, "IsBinaryPartition", strconv.FormatBool(m.IsBinaryPartition))
		text(pe, "Result", "0")
	}
}

func bytesOf(d *etree.Document) ([]byte, error) {
	d.Indent(2)
	return d.WriteToBytes()
}

// addUpdateEvent appends to <UpdateEvents> the <UpdateEvent> of sequence seq at when: its
// summary and the packages it installed.
func addUpdateEvent(events *etree.Element, seq int, summary, description string, pkgs []installed, when time.Time) {
	ev := events.CreateElement("UpdateEvent")
	text(ev, "Sequence", strconv.Itoa(seq))
	text(ev, "DateTime", when.UTC().Format("2006-01-02T15:04:05"))
	text(ev, "Summary", summary)
	updateOSOutput(ev.CreateElement("UpdateOSOutput"), description, pkgs)
}
