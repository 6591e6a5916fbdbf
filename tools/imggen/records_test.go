package imggen

import (
	"bytes"
	"math/rand/v2"
	"strings"
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

// TestRecordWriterGenerated: seeded random package sets (0-40 packages; names, cultures and
// platforms drawn from XML specials, control and invalid bytes, non-ASCII, whitespace; any
// version; binary or not) give the bytes etree gives, for all three records.
func TestRecordWriterGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261203, 1))
	alphabet := []string{"a", "Z", "0", ".", "-", "_", " ", "\t", "\n", "\r", "&", "<", ">", "'", "\"", "\x00", "\x01", "\x7f", "\xff",
		"\u00e9", "\u4e2d", "\U0001F600", "\uFFFE", "]]>", "&amp;"}
	str := func(max int) string {
		var b strings.Builder
		for range rng.IntN(max + 1) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	when := time.Date(2015, 7, 29, 0, 0, 0, 0, time.UTC)
	for c := range 200 {
		var pkgs []installed
		for range rng.IntN(41) {
			pkgs = append(pkgs, installed{File: str(12) + ".spkg", Manifest: &spkg.Manifest{
				Identity: spkg.Identity{Owner: str(8), Component: str(8), SubComponent: str(6),
					Version: spkg.Version{Major: uint16(rng.Uint32()), Minor: uint16(rng.Uint32()), QFE: uint16(rng.Uint32()), Build: uint16(rng.Uint32())}},
				ReleaseType: str(4), OwnerType: str(4), BuildType: str(4), CpuType: str(4), Culture: str(5),
				Partition: str(6), Platform: str(6), IsBinaryPartition: rng.IntN(2) == 0}})
		}
		description := str(20)
		wantOut, wantHist, wantList := etreeRecords(description, pkgs, when)
		out, _ := updateOutput(description, pkgs)
		hist, _ := updateHistory(description, pkgs, when)
		list, _ := packageList(pkgs)
		for _, g := range []struct {
			name      string
			got, want []byte
		}{{"UpdateOutput", out, wantOut}, {"UpdateHistory", hist, wantHist}, {"PackageList", list, wantList}} {
			if !bytes.Equal(g.got, g.want) {
				t.Fatalf("case %d (%d packages), %s:\n got %q\nwant %q", c, len(pkgs), g.name, g.got, g.want)
			}
		}
	}
}
