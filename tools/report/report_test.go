package report

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// fixture builds the test image under a directory of its own and writes its selection as
// `oemimage resolve --json` does, changed by editSel; it returns the FFU and the selection.
func fixture(t *testing.T, o testimage.Options, editSel func(*resolve.Selection)) (string, string) {
	t.Helper()
	return fixtureDesc(t, "report test", o, editSel)
}

// fixtureDesc is fixture with the image's description (UpdateHistory.xml, UpdateOutput.xml).
func fixtureDesc(t *testing.T, desc string, o testimage.Options, editSel func(*resolve.Selection)) (string, string) {
	t.Helper()
	dir := t.TempDir()
	// Base gives the selection's reasons a source (fm.xml:3:5); the image is built from a
	// selection of absolute paths.
	withBase := o
	withBase.Base = dir
	sel, err := testimage.Packages(filepath.Join(dir, "pkgs"), desc, withBase)
	if err != nil {
		t.Fatal(err)
	}
	ffuPath, err := testimage.FFU(filepath.Join(dir, "img"), desc, o)
	if err != nil {
		t.Fatal(err)
	}
	if editSel != nil {
		editSel(sel)
	}
	var buf bytes.Buffer
	if err := sel.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	selPath := filepath.Join(dir, "selection.json")
	if err := os.WriteFile(selPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ffuPath, selPath
}

func render(t *testing.T, ffuPath, selPath string) (*Report, []byte) {
	t.Helper()
	var opt Options
	if selPath != "" {
		sel, err := resolve.ReadSelection(selPath)
		if err != nil {
			t.Fatal(err)
		}
		opt = Options{Selection: sel, SelectionFile: selPath}
	}
	r, err := Build(ffuPath, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r, html(t, r)
}

func html(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// node is an element of the parsed report.
type node struct {
	name  string
	attrs map[string]string
	text  string // all text below it
	kids  []*node
}

// parse reads the report as XML, strictly: the HTML is written to be well-formed XML too, so
// any unbalanced or unescaped markup is an error here.
func parse(t *testing.T, data []byte) *node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	root := &node{name: "#document"}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &node{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			for _, n := range stack {
				n.text += string(x)
			}
		}
	}
	if len(stack) != 1 {
		t.Fatalf("%d elements left open", len(stack)-1)
	}
	return root
}

func (n *node) all(name string, out *[]*node) {
	if n.name == name {
		*out = append(*out, n)
	}
	for _, k := range n.kids {
		k.all(name, out)
	}
}

func (n *node) find(name string) []*node {
	var out []*node
	n.all(name, &out)
	return out
}

// byID finds the element with the id.
func (n *node) byID(id string) *node {
	if n.attrs["id"] == id {
		return n
	}
	for _, k := range n.kids {
		if f := k.byID(id); f != nil {
			return f
		}
	}
	return nil
}

// xmllint checks the file both ways: as XML (well-formed), and with libxml2's HTML parser,
// whose only complaint may be the inline SVG elements its HTML 4 tag table does not know.
func xmllint(t *testing.T, data []byte) {
	t.Helper()
	lint := checker.Find(t, "xmllint")
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	checker.Run(t, "", lint, "--noout", path)
	out, _ := exec.Command(lint, "--html", "--noout", path).CombinedOutput()
	svgTag := regexp.MustCompile(`HTML parser error : Tag (svg|g|rect|text|title) invalid`)
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "error") && !svgTag.MatchString(l) {
			t.Errorf("xmllint --html: %s", l)
		}
	}
}

// TestReport: the fixture image's report is well-formed, lists every package with its reason
// (the FM file:line), and its regions cover the disk with used and free adding up.
func TestReport(t *testing.T) {
	ffuPath, selPath := fixture(t, testimage.Options{}, nil)
	r, data := render(t, ffuPath, selPath)
	xmllint(t, data)
	doc := parse(t, data)
	for _, tag := range []string{"link", "img", "iframe", "object", "embed"} {
		if n := doc.find(tag); len(n) > 0 {
			t.Errorf("%d <%s> elements: the report must not load anything", len(n), tag)
		}
	}
	for _, s := range doc.find("script") {
		if _, ok := s.attrs["src"]; ok {
			t.Errorf("a script with src=%q", s.attrs["src"])
		}
	}
	if bytes.Contains(data, []byte("http://")) && !bytes.Contains(data, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Error("the report names a URL")
	}

	// Every package of the image, in the table, with its reason.
	table := doc.byID("packages")
	if table == nil {
		t.Fatal("no table#packages")
	}
	rows := map[string]*node{}
	for _, tr := range table.find("tbody")[0].find("tr") {
		rows[tr.find("td")[0].text] = tr
	}
	for _, name := range []string{"Contoso.MainOS", "Contoso.EFIESP", "Contoso.Layout", "Contoso.Platform"} {
		tr := rows[name]
		if tr == nil {
			t.Errorf("package %s: no row (rows %v)", name, keys(rows))
			continue
		}
		if !strings.Contains(tr.text, "1.0.0.0") || !strings.Contains(tr.text, "fm.xml:3:5") {
			t.Errorf("package %s: row %q, want its version and its reason's fm.xml:3:5", name, tr.text)
		}
	}
	if len(rows) != 4 || len(r.Packages) != 4 || len(r.Unmatched) != 0 {
		t.Errorf("%d rows, %d packages, unmatched %v; want the fixture's 4", len(rows), len(r.Packages), r.Unmatched)
	}
	checkRegions(t, r)
	var fsParts int
	for _, g := range r.Regions {
		if g.Partition && g.MeasuredBy == "FAT" {
			fsParts++
		}
	}
	if fsParts != 3 {
		t.Errorf("%d partitions measured by their FAT, want EFIESP, MainOS and Data", fsParts)
	}
	// Sizes by feature and by owner add up to the packages'.
	var total, feat, own int64
	for _, p := range r.Packages {
		total += p.Bytes
		if p.Bytes <= 0 {
			t.Errorf("package %s: %d bytes", p.Name, p.Bytes)
		}
	}
	for _, s := range r.Features {
		feat += s.Bytes
	}
	for _, s := range r.Owners {
		own += s.Bytes
	}
	if feat != total || own != total {
		t.Errorf("packages %d bytes; by feature %d, by owner %d", total, feat, own)
	}
	var side []string
	for _, s := range r.SideFiles {
		side = append(side, s.Partition+s.Path)
	}
	want := []string{"MainOS" + imageconst.UpdateHistoryPath, "MainOS" + imageconst.DeviceLayoutPath, "MainOS" + imageconst.DevicePlatformPath, "Data" + imageconst.UpdateOutputPath}
	if strings.Join(side, " ") != strings.Join(want, " ") {
		t.Errorf("side files %v, want %v", side, want)
	}
	if !bytes.Contains(data, []byte("Contoso.Test.Device")) || !bytes.Contains(data, []byte("2015-07-29T00:00:00")) {
		t.Error("the side files' facts (platform ID, update time) are missing")
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes: %q", r.Notes)
	}
}

func keys(m map[string]*node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkRegions: the regions are contiguous, cover the disk, and each one's used and free
// space add up to its size.
func checkRegions(t *testing.T, r *Report) {
	t.Helper()
	var at int64
	for _, g := range r.Regions {
		if g.Offset != at {
			t.Errorf("region %s at byte %d, want %d (contiguous)", g.Name, g.Offset, at)
		}
		if g.Used+g.Free != g.Bytes || g.Used < 0 || g.Free < 0 {
			t.Errorf("region %s: used %d + free %d != %d bytes", g.Name, g.Used, g.Free, g.Bytes)
		}
		at = g.Offset + g.Bytes
	}
	if at != r.DiskBytes {
		t.Errorf("regions end at byte %d, the disk at %d", at, r.DiskBytes)
	}
}

// TestFreeSpaceFsck: a partition's free space is what fsck.fat counts in it.
func TestFreeSpaceFsck(t *testing.T) {
	fsck := checker.Find(t, "fsck.fat")
	ffuPath, _ := fixture(t, testimage.Options{}, nil)
	r, _ := render(t, ffuPath, "")
	im, err := volume.OpenImage(ffuPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	re := regexp.MustCompile(`(\d+)/(\d+) clusters`)
	for _, g := range r.Regions {
		if !g.Partition {
			continue
		}
		part := filepath.Join(t.TempDir(), g.Name+".img")
		f, err := os.Create(part)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, io.NewSectionReader(im.ReaderAt(), g.Offset, g.Bytes)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		m := re.FindStringSubmatch(checker.Run(t, "", fsck, "-n", part))
		if m == nil {
			t.Fatalf("%s: fsck.fat printed no used/total clusters", g.Name)
		}
		used, _ := strconv.ParseInt(m[1], 10, 64)
		total, _ := strconv.ParseInt(m[2], 10, 64)
		// The cluster size as the boot sector states it: bytes per sector (offset 11) times
		// sectors per cluster (13).
		boot := make([]byte, 14)
		if _, err := im.ReaderAt().ReadAt(boot, g.Offset); err != nil {
			t.Fatal(err)
		}
		cb := int64(binary.LittleEndian.Uint16(boot[11:])) * int64(boot[13])
		if want := (total - used) * cb; g.Free != want || g.Used != g.Bytes-want {
			t.Errorf("%s: %d bytes free, %d used; fsck.fat: %d of %d clusters free, %d-byte clusters: %d free", g.Name, g.Free, g.Used, total-used, total, cb, want)
		}
	}
}

// TestNTFS: an NTFS MainOS is measured by its $Bitmap.
func TestNTFS(t *testing.T) {
	layout := strings.Replace(testimage.Layout, "<MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem>", "<MinFreeSectors>140000</MinFreeSectors><FileSystem>NTFS</FileSystem>", 1)
	ffuPath, selPath := fixture(t, testimage.Options{Layout: layout}, nil)
	r, data := render(t, ffuPath, selPath)
	checkRegions(t, r)
	parse(t, data)
	var ok bool
	for _, g := range r.Regions {
		if g.Name == "MainOS" {
			ok = g.FileSystem == "NTFS" && g.MeasuredBy == "$Bitmap" && g.Used > 0 && g.Free > 0 && g.Files > 0
			if !ok {
				t.Errorf("MainOS: %+v; want NTFS measured by $Bitmap", g)
			}
		}
	}
	if !ok || len(r.Packages) != 4 {
		t.Errorf("no NTFS MainOS, or %d packages", len(r.Packages))
	}
}

// TestNoSelection: without a selection the packages have no reasons and are one feature group.
func TestNoSelection(t *testing.T) {
	ffuPath, _ := fixture(t, testimage.Options{}, nil)
	r, data := render(t, ffuPath, "")
	parse(t, data)
	if len(r.Features) != 1 || r.Features[0].Name != "(no selection reason)" || r.Features[0].Packages != 4 {
		t.Errorf("features %+v, want one group of the 4 packages", r.Features)
	}
	if bytes.Contains(data, []byte("Selection:")) {
		t.Error("a selection named without one")
	}
}

// TestDeterministic: the same image gives the same bytes, wherever it lies and however often
// it is read.
func TestDeterministic(t *testing.T) {
	ffuPath, selPath := fixture(t, testimage.Options{}, nil)
	_, a := render(t, ffuPath, selPath)
	_, b := render(t, ffuPath, selPath)
	moved := filepath.Join(t.TempDir(), filepath.Base(ffuPath))
	data, err := os.ReadFile(ffuPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(moved, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, c := render(t, moved, selPath)
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Error("two reports of one image differ")
	}
}

const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>&amp;'`

// TestHostileStrings: strings from the image and the selection are escaped wherever they
// appear: the selection's package and feature names, FM paths, and a side file's values.
func TestHostileStrings(t *testing.T) {
	// The description lands in the image's UpdateHistory.xml and UpdateOutput.xml.
	ffuPath, selPath := fixtureDesc(t, hostile, testimage.Options{}, func(s *resolve.Selection) {
		s.Packages[0].Reasons[0].FeatureID = hostile
		s.Packages[0].Reasons[0].Source.File = hostile + ".xml"
		name := "<script>alert(3)<\u2215script>.spkg" // no path separator: a name the selection allows
		s.Packages = append(s.Packages, &resolve.Package{ID: "x", Name: name, HostPath: filepath.Join(t.TempDir(), name),
			Reasons: []resolve.Reason{{FeatureID: "BASE", Group: "BASE"}}})
	})
	r, data := render(t, ffuPath, selPath)
	xmllint(t, data)
	doc := parse(t, data)
	if n := len(doc.find("img")); n > 0 {
		t.Errorf("%d <img> elements: a hostile string became markup", n)
	}
	if n := len(doc.find("script")); n != 1 {
		t.Errorf("%d <script> elements, want the report's own one", n)
	}
	if n := strings.Count(doc.text, hostile); n < 4 {
		t.Errorf("the hostile string is shown as text %d times, want 4 (the reason, its file, two side files)", n)
	}
	if len(r.Unmatched) != 1 || !strings.Contains(doc.text, "<script>alert(3)") {
		t.Errorf("unmatched %q: the selected package no DSM names is not listed as text", r.Unmatched)
	}
}

// TestBounds: a report of huge lists shows their first entries and "N more", and its size
// stays bounded; huge strings are cut.
func TestBounds(t *testing.T) {
	r := &Report{Image: "big.ffu", DiskBytes: 1 << 40, Facts: []Fact{{"disk size", "1 TiB"}}}
	for i := range MaxPackageRows + 1234 {
		r.Packages = append(r.Packages, Package{Name: fmt.Sprintf("P%06d", i), Bytes: 1, Reasons: make([]string, 20)})
	}
	for i := range MaxNoteRows + 5 {
		r.Notes = append(r.Notes, strings.Repeat("n", 64<<10)+fmt.Sprint(i))
	}
	for i := range MaxGroupRows + 7 {
		r.Features = append(r.Features, Sum{Name: fmt.Sprint(i)})
		r.Unmatched = append(r.Unmatched, fmt.Sprint(i))
	}
	data := html(t, r)
	parse(t, data)
	for _, want := range []string{"1234 more", "5 more", "7 more", "12 more", "bytes more)"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("no %q", want)
		}
	}
	if len(data) > 8<<20 {
		t.Errorf("%d bytes of HTML", len(data))
	}
}

// FuzzHTML puts one string in every field of a report: the HTML stays well-formed, and the
// string never becomes markup.
func FuzzHTML(f *testing.F) {
	for _, s := range []string{hostile, "", "\x00\xff", "]]>", "<!--", "</script>", "</style>", "{{.}}", "javascript:alert(1)", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &Report{Image: s, Selection: s, Facts: []Fact{{s, s}, {s, s}}, DiskBytes: 1 << 20, Unmatched: []string{s}, Notes: []string{s},
			Regions:   []Region{{Name: s, Partition: true, Bytes: 1 << 20, Used: 1 << 19, Free: 1 << 19, FileSystem: s, Type: s, GUID: s, MeasuredBy: s}},
			Packages:  []Package{{Name: s, Version: s, Partition: s, DSM: s, Owner: s, Feature: s, Reasons: []string{s}}},
			Features:  []Sum{{Name: s}},
			Owners:    []Sum{{Name: s}},
			SideFiles: []SideFile{{Partition: s, Path: s, SHA256: s, Facts: []Fact{{s, s}}}}}
		var buf bytes.Buffer
		if err := r.WriteHTML(&buf); err != nil {
			t.Fatal(err)
		}
		doc := parse(t, buf.Bytes())
		for tag, want := range map[string]int{"script": 1, "style": 1, "img": 0, "svg": 2, "table": 6} {
			if n := len(doc.find(tag)); n != want {
				t.Errorf("%d <%s>, want %d", n, tag, want)
			}
		}
	})
}

// TestStoredBlocks: a region measured by stored blocks uses the bytes of it that the FFU
// stores: the data (not holes) of the sparse disk the FFU extracts to, found with
// SEEK_DATA/SEEK_HOLE.
func TestStoredBlocks(t *testing.T) {
	ffuPath, _ := fixture(t, testimage.Options{}, nil)
	r, _ := render(t, ffuPath, "")
	im, err := volume.OpenImage(ffuPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	disk, err := im.Disk() // sparse: only the stored blocks are written
	if err != nil {
		t.Fatal(err)
	}
	const seekData, seekHole = 3, 4
	dataIn := func(off, n int64) (int64, error) {
		var sum int64
		for pos := off; pos < off+n; {
			d, err := disk.Seek(pos, seekData)
			if err != nil || d >= off+n {
				break // ENXIO: no data after pos
			}
			h, err := disk.Seek(d, seekHole)
			if err != nil {
				return 0, err
			}
			sum += min(h, off+n) - d
			pos = h
		}
		return sum, nil
	}
	if all, err := dataIn(0, r.DiskBytes); err != nil || all == r.DiskBytes {
		t.Skipf("the temporary directory's file system keeps no holes (%v)", err)
	}
	measured := 0
	for _, g := range r.Regions {
		if g.MeasuredBy != "stored blocks" {
			continue
		}
		measured++
		want, err := dataIn(g.Offset, g.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if g.Used != want || g.Free != g.Bytes-want {
			t.Errorf("%s: %d bytes used, %d free; the extracted disk has %d bytes of data in its %d", g.Name, g.Used, g.Free, want, g.Bytes)
		}
	}
	if measured == 0 {
		t.Fatal("no region is measured by stored blocks")
	}
}
