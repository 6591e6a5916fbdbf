package imggen

import (
	"bytes"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// etreeRecords builds the three update records as a tree (updateOSOutput, addUpdateEvent,
// as the imageapp path does): the reference recordWriter must match byte for byte.
func etreeRecords(description string, pkgs []installed, when time.Time) (output, history, list []byte) {
	d, root := newDoc("UpdateOSOutput")
	updateOSOutput(root, description, pkgs)
	output, _ = bytesOf(d)
	d, root = newDoc("UpdateHistory")
	addUpdateEvent(root.CreateElement("UpdateEvents"), 1, "Image created", description, pkgs, when)
	history, _ = bytesOf(d)
	d, root = newDoc("UpdateOSOutput")
	updateOSOutput(root, "List of packages currently in this image or on this device", pkgs)
	list, _ = bytesOf(d)
	return output, history, list
}

func TestRecordWriterMatchesEtree(t *testing.T) {
	m := func(owner, comp, sub, culture, platform string, binary bool) *spkg.Manifest {
		return &spkg.Manifest{Identity: spkg.Identity{Owner: owner, Component: comp, SubComponent: sub,
			Version: spkg.Version{Major: 10, Minor: 0, QFE: 65535, Build: 7}},
			ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Culture: culture,
			Partition: "MainOS", Platform: platform, IsBinaryPartition: binary}
	}
	two := []installed{
		{File: "Contoso.A.spkg", Manifest: m("Contoso", "A", "", "", "", false)},
		{File: "Contoso.B_Lang_en-us.spkg", Manifest: m("Contoso", "B", "Sub", "en-us", "Plat&<>'\"", true)},
	}
	cases := []struct {
		name        string
		description string
		pkgs        []installed
	}{
		{"none", "", nil},
		{"two", "Image", two},
		{"escapes", "a & b < c > d 'e' \"f\"\ttab\r\nline", two},
		{"whitespace description", " \t\r\n", two},
		{"invalid characters", "nul\x00 bad\xff utf8 \u00e9 \U0001F600 \uFFFE", two},
	}
	when := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOut, wantHist, wantList := etreeRecords(c.description, c.pkgs, when)
			out, _ := updateOutput(c.description, c.pkgs)
			hist, _ := updateHistory(c.description, c.pkgs, when)
			list, _ := packageList(c.pkgs)
			for _, g := range []struct {
				name      string
				got, want []byte
			}{{"UpdateOutput", out, wantOut}, {"UpdateHistory", hist, wantHist}, {"PackageList", list, wantList}} {
				if !bytes.Equal(g.got, g.want) {
					t.Errorf("%s:\n got %q\nwant %q", g.name, g.got, g.want)
				}
			}
		})
	}
}

// TestRecordWriterAttributes checks escaping in attribute values, which the records' only
// attributes (numbers, the namespace) never exercise.
func TestRecordWriterAttributes(t *testing.T) {
	for _, v := range []string{"plain", `a&b<c>d'e"f`, "tab\tnl\n", "bad\xff\x01"} {
		d := etree.NewDocument()
		d.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
		r := d.CreateElement("R")
		r.CreateAttr("xmlns", spkg.Namespace)
		r.CreateElement("E").CreateAttr("v", v)
		want, _ := bytesOf(d)
		w := newRecordWriter("R")
		w.start("E", "v", v)
		if got := w.bytes(); !bytes.Equal(got, want) {
			t.Errorf("attribute %q:\n got %q\nwant %q", v, got, want)
		}
	}
}
