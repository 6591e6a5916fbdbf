package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// Bounds of the HTML: a list longer than its bound shows its first entries and "N more".
const (
	MaxPackageRows = 5000
	MaxGroupRows   = 500
	MaxRegionRows  = 1000
	MaxNoteRows    = 200
	// MaxText bounds one string from the image in the HTML (a name, a value, a note).
	MaxText = 1000
)

// Colours of the partition map, by file system: the used space, and the free space in a
// lighter tint. Raw partitions and space outside partitions: stored blocks, unstored blocks.
var Colours = map[string][2]string{
	"FAT12": {"#4e79a7", "#c9d7e8"},
	"FAT16": {"#4e79a7", "#c9d7e8"},
	"FAT32": {"#e8762b", "#fad6b8"},
	"NTFS":  {"#3c9a4a", "#c8e6cc"},
	"raw":   {"#9c5fa0", "#e6d3e7"},
	"":      {"#7a7a7a", "#dcdcdc"},
}

func colours(fs string) [2]string {
	if c, ok := Colours[fs]; ok {
		return c
	}
	return Colours["raw"] // "FAT (unreadable)"
}

// mapWidth is the partition map's width in SVG units; the disk bar is drawn to scale in it.
const (
	mapWidth   = 1100.0
	barHeight  = 56.0
	rowHeight  = 22.0
	rowBar     = 640.0
	rowLabelsW = 300.0
)

type page struct {
	R                 *Report
	Image, Selection  string
	Facts             []Fact
	MapHeight         float64
	Disk              []svgRegion
	Rows              []svgRow
	RowsHeight        float64
	Regions           []regionRow
	RegionsMore       int
	Packages          []packageRow
	PackagesMore      int
	Unmatched         []string
	UnmatchedMore     int
	Features, Owners  []sumRow
	FeaturesMore      int
	OwnersMore        int
	SideFiles         []sideFile
	Notes             []string
	NotesMore         int
	TotalPackageBytes string
	DiskSize          string
	Legend            []legend
}

type svgRegion struct {
	X, W, UsedW       string
	Used, Free, Title string
	Label             string
	LabelX            string
}

type svgRow struct {
	Y, TextY, UsedW, FreeX, FreeW string
	Used, Free, Name, Pct         string
}

type regionRow struct {
	Name, FileSystem, Offset, Size, Used, Free, Pct, MeasuredBy, Type, GUID string
	OffsetV, SizeV, UsedV, FreeV, PctV                                      string
	Files                                                                   int
	Colour                                                                  string
}

type packageRow struct {
	Name, Version, Partition, Owner, Size, SizeV, Feature, DSM string
	Files                                                      int
	Reasons                                                    []string
}

type sumRow struct {
	Name, Size, SizeV, Pct string
	Packages               int
}

type sideFile struct {
	Partition, Path, Size, SHA256 string
	Packages                      int
	Facts                         []Fact
}

type legend struct{ Name, Used, Free string }

// clip makes a string from the image fit for the page: valid UTF-8 without control
// characters (which neither HTML nor XML may hold), at most MaxText bytes.
func clip(s string) string {
	more := 0
	if len(s) > MaxText {
		cut := MaxText
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s, more = s[:cut], len(s)-cut
	}
	s = strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff {
			return '\ufffd'
		}
		return r
	}, strings.ToValidUTF8(s, "\ufffd"))
	if more > 0 {
		s += fmt.Sprintf("… (%d bytes more)", more)
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// sizeText is a byte count for people: "32.0 MiB (33554432 bytes)".
func sizeText(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	f, u := float64(n)/1024, 0
	for f >= 1024 && u < len(units)-1 {
		f, u = f/1024, u+1
	}
	return fmt.Sprintf("%.1f %s (%d bytes)", f, units[u], n)
}

func short(n int64) string {
	s := sizeText(n)
	if i := strings.Index(s, " ("); i > 0 {
		return s[:i]
	}
	return s
}

func pct(part, whole int64) (string, string) {
	if whole <= 0 {
		return "", "0"
	}
	p := float64(part) * 100 / float64(whole)
	return fmt.Sprintf("%.1f%%", p), num(p)
}

func (r *Report) page() *page {
	p := &page{R: r, Image: clip(r.Image), Selection: clip(r.Selection), DiskSize: sizeText(r.DiskBytes)}
	for _, f := range r.Facts {
		p.Facts = append(p.Facts, Fact{clip(f.Name), clip(f.Value)})
	}
	seen := map[string]bool{}
	disk := float64(max(r.DiskBytes, 1))
	regions := r.Regions
	if len(regions) > MaxRegionRows {
		p.RegionsMore, regions = len(regions)-MaxRegionRows, regions[:MaxRegionRows]
	}
	y := 0.0
	for _, g := range regions {
		c := colours(g.FileSystem)
		fs := clip(g.FileSystem)
		if !g.Partition {
			fs = ""
		}
		if !seen[fs] {
			seen[fs] = true
			name := fs
			switch fs {
			case "":
				name = "outside partitions (stored, zero)"
			case "raw":
				name = "raw (stored, zero)"
			default:
				name = fs + " (used, free)"
			}
			p.Legend = append(p.Legend, legend{name, c[0], c[1]})
		}
		x, w := float64(g.Offset)/disk*mapWidth, float64(g.Bytes)/disk*mapWidth
		uw := 0.0
		if g.Bytes > 0 {
			uw = w * float64(g.Used) / float64(g.Bytes)
		}
		pctText, pctV := pct(g.Used, g.Bytes)
		title := fmt.Sprintf("%s: %s, %s used, %s free", clip(g.Name), short(g.Bytes), short(g.Used), short(g.Free))
		label := ""
		if w > 60 {
			if rs := []rune(clip(g.Name)); len(rs) > int(w/7) {
				label = string(rs[:max(int(w/7)-1, 1)]) + "…"
			} else {
				label = string(rs)
			}
		}
		p.Disk = append(p.Disk, svgRegion{X: num(x), W: num(w), UsedW: num(uw), Used: c[0], Free: c[1], Title: title, Label: label, LabelX: num(x + 4)})
		if g.Partition {
			frac := 0.0
			if g.Bytes > 0 {
				frac = float64(g.Used) / float64(g.Bytes)
			}
			p.Rows = append(p.Rows, svgRow{Y: num(y), TextY: num(y + 15), UsedW: num(frac * rowBar), FreeX: num(rowLabelsW + frac*rowBar),
				FreeW: num((1 - frac) * rowBar), Used: c[0], Free: c[1], Name: clip(g.Name) + " · " + fs + " · " + short(g.Bytes), Pct: pctText + " used"})
			y += rowHeight
		}
		p.Regions = append(p.Regions, regionRow{Name: clip(g.Name), FileSystem: clip(g.FileSystem), Offset: short(g.Offset), Size: short(g.Bytes),
			Used: short(g.Used), Free: short(g.Free), Pct: pctText, MeasuredBy: clip(g.MeasuredBy), Type: clip(g.Type), GUID: clip(g.GUID),
			OffsetV: fmt.Sprint(g.Offset), SizeV: fmt.Sprint(g.Bytes), UsedV: fmt.Sprint(g.Used), FreeV: fmt.Sprint(g.Free), PctV: pctV,
			Files: g.Files, Colour: c[0]})
	}
	p.RowsHeight = max(y, 1)
	var total int64
	for _, pk := range r.Packages {
		total += pk.Bytes
	}
	p.TotalPackageBytes = sizeText(total)
	pkgs := r.Packages
	if len(pkgs) > MaxPackageRows {
		p.PackagesMore, pkgs = len(pkgs)-MaxPackageRows, pkgs[:MaxPackageRows]
	}
	for _, pk := range pkgs {
		row := packageRow{Name: clip(pk.Name), Version: clip(pk.Version), Partition: clip(pk.Partition), Owner: clip(pk.Owner),
			Size: short(pk.Bytes), SizeV: fmt.Sprint(pk.Bytes), Feature: clip(pk.Feature), DSM: clip(pk.DSM), Files: pk.Files}
		for i, rs := range pk.Reasons {
			if i == 8 {
				row.Reasons = append(row.Reasons, fmt.Sprintf("%d more", len(pk.Reasons)-i))
				break
			}
			row.Reasons = append(row.Reasons, clip(rs))
		}
		p.Packages = append(p.Packages, row)
	}
	un := r.Unmatched
	if len(un) > MaxGroupRows {
		p.UnmatchedMore, un = len(un)-MaxGroupRows, un[:MaxGroupRows]
	}
	for _, u := range un {
		p.Unmatched = append(p.Unmatched, clip(u))
	}
	p.Features, p.FeaturesMore = sumRows(r.Features, total)
	p.Owners, p.OwnersMore = sumRows(r.Owners, total)
	for _, s := range r.SideFiles {
		sf := sideFile{Partition: clip(s.Partition), Path: clip(s.Path), Size: sizeText(s.Bytes), SHA256: clip(s.SHA256), Packages: s.Packages}
		for _, f := range s.Facts {
			sf.Facts = append(sf.Facts, Fact{clip(f.Name), clip(f.Value)})
		}
		p.SideFiles = append(p.SideFiles, sf)
	}
	notes := r.Notes
	if len(notes) > MaxNoteRows {
		p.NotesMore, notes = len(notes)-MaxNoteRows, notes[:MaxNoteRows]
	}
	for _, n := range notes {
		p.Notes = append(p.Notes, clip(n))
	}
	p.MapHeight = barHeight + 24
	return p
}

func sumRows(s []Sum, total int64) ([]sumRow, int) {
	more := 0
	if len(s) > MaxGroupRows {
		more, s = len(s)-MaxGroupRows, s[:MaxGroupRows]
	}
	var out []sumRow
	for _, g := range s {
		pt, _ := pct(g.Bytes, total)
		out = append(out, sumRow{Name: clip(g.Name), Size: short(g.Bytes), SizeV: fmt.Sprint(g.Bytes), Pct: pt, Packages: g.Packages})
	}
	return out, more
}

// WriteHTML writes the report as one HTML file: no network, scripts, fonts or styles from
// elsewhere. Every string from the image is escaped by html/template.
func (r *Report) WriteHTML(w io.Writer) error {
	return pageTemplate.Execute(w, r.page())
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"/>
<title>Image report: {{.Image}}</title>
<style>
body{font:14px/1.4 sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}table.sort th{cursor:pointer}table.sort th:after{content:" \2195";color:#999}
td.w{overflow-wrap:anywhere}td.n{text-align:right;white-space:nowrap}svg{max-width:100%;height:auto}tfoot td{font-style:italic;color:#555}
.sw{display:inline-block;width:12px;height:12px;border:1px solid #888;vertical-align:middle}
.legend span{margin-right:16px}small{color:#555}ul.reasons{margin:0;padding-left:16px}
</style>
</head>
<body>
<h1>Image report: {{.Image}}</h1>
{{if .Selection}}<p>Selection: {{.Selection}}</p>{{end}}
<table>{{range .Facts}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>

<h2>Partition map</h2>
<p><small>The disk, {{.DiskSize}}, drawn to scale; below it each partition's used and free space. Hover for sizes.</small></p>
<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="{{.MapHeight}}" viewBox="0 0 1100 {{.MapHeight}}" role="img" aria-label="partition map">
{{range .Disk}}<g><title>{{.Title}}</title><rect x="{{.X}}" y="0" width="{{.W}}" height="56" fill="{{.Free}}"/><rect x="{{.X}}" y="0" width="{{.UsedW}}" height="56" fill="{{.Used}}"/><rect x="{{.X}}" y="0" width="{{.W}}" height="56" fill="none" stroke="#fff" stroke-width="1"/>{{if .Label}}<text x="{{.LabelX}}" y="72" font-size="12" fill="#222">{{.Label}}</text>{{end}}</g>
{{end}}</svg>
<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="{{.RowsHeight}}" viewBox="0 0 1100 {{.RowsHeight}}" role="img" aria-label="used and free space by partition">
{{range .Rows}}<g><text x="0" y="{{.TextY}}" font-size="12" fill="#222">{{.Name}}</text><rect x="300" y="{{.Y}}" width="{{.UsedW}}" height="18" fill="{{.Used}}"/><rect x="{{.FreeX}}" y="{{.Y}}" width="{{.FreeW}}" height="18" fill="{{.Free}}"/><text x="950" y="{{.TextY}}" font-size="12" fill="#222">{{.Pct}}</text></g>
{{end}}</svg>
<p class="legend">{{range .Legend}}<span><span class="sw" style="background:{{.Used}}"></span><span class="sw" style="background:{{.Free}}"></span> {{.Name}}</span>{{end}}</p>

<h2>Partitions</h2>
<table class="sort"><thead><tr><th>name</th><th>file system</th><th>offset</th><th>size</th><th>used</th><th>free</th><th>used %</th><th>measured by</th><th>files</th><th>type</th><th>GUID</th></tr></thead>
<tbody>{{range .Regions}}<tr><td><span class="sw" style="background:{{.Colour}}"></span> {{.Name}}</td><td>{{.FileSystem}}</td><td class="n" data-v="{{.OffsetV}}" title="{{.OffsetV}} bytes">{{.Offset}}</td><td class="n" data-v="{{.SizeV}}" title="{{.SizeV}} bytes">{{.Size}}</td><td class="n" data-v="{{.UsedV}}" title="{{.UsedV}} bytes">{{.Used}}</td><td class="n" data-v="{{.FreeV}}" title="{{.FreeV}} bytes">{{.Free}}</td><td class="n" data-v="{{.PctV}}">{{.Pct}}</td><td>{{.MeasuredBy}}</td><td class="n" data-v="{{.Files}}">{{.Files}}</td><td class="w">{{.Type}}</td><td class="w">{{.GUID}}</td></tr>
{{end}}</tbody>{{if .RegionsMore}}<tfoot><tr><td colspan="11">{{.RegionsMore}} more</td></tr></tfoot>{{end}}</table>

<h2>Packages</h2>
<p>{{len .R.Packages}} packages, {{.TotalPackageBytes}}.</p>
<table class="sort" id="packages"><thead><tr><th>name</th><th>version</th><th>partition</th><th>owner</th><th>size</th><th>files</th><th>feature</th><th>selection reason</th><th>DSM</th></tr></thead>
<tbody>{{range .Packages}}<tr><td>{{.Name}}</td><td>{{.Version}}</td><td>{{.Partition}}</td><td>{{.Owner}}</td><td class="n" data-v="{{.SizeV}}" title="{{.SizeV}} bytes">{{.Size}}</td><td class="n" data-v="{{.Files}}">{{.Files}}</td><td>{{.Feature}}</td><td>{{if .Reasons}}<ul class="reasons">{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}</td><td class="w">{{.DSM}}</td></tr>
{{end}}</tbody>{{if .PackagesMore}}<tfoot><tr><td colspan="9">{{.PackagesMore}} more</td></tr></tfoot>{{end}}</table>
{{if .Unmatched}}<p>Selected, but no DSM in the image names them:</p><ul>{{range .Unmatched}}<li>{{.}}</li>{{end}}{{if .UnmatchedMore}}<li>{{.UnmatchedMore}} more</li>{{end}}</ul>{{end}}

<h2>Size by feature</h2>
<table class="sort"><thead><tr><th>feature</th><th>packages</th><th>size</th><th>share</th></tr></thead>
<tbody>{{range .Features}}<tr><td>{{.Name}}</td><td class="n" data-v="{{.Packages}}">{{.Packages}}</td><td class="n" data-v="{{.SizeV}}" title="{{.SizeV}} bytes">{{.Size}}</td><td class="n" data-v="{{.SizeV}}">{{.Pct}}</td></tr>
{{end}}</tbody>{{if .FeaturesMore}}<tfoot><tr><td colspan="4">{{.FeaturesMore}} more</td></tr></tfoot>{{end}}</table>

<h2>Size by owner</h2>
<table class="sort"><thead><tr><th>owner</th><th>packages</th><th>size</th><th>share</th></tr></thead>
<tbody>{{range .Owners}}<tr><td>{{.Name}}</td><td class="n" data-v="{{.Packages}}">{{.Packages}}</td><td class="n" data-v="{{.SizeV}}" title="{{.SizeV}} bytes">{{.Size}}</td><td class="n" data-v="{{.SizeV}}">{{.Pct}}</td></tr>
{{end}}</tbody>{{if .OwnersMore}}<tfoot><tr><td colspan="4">{{.OwnersMore}} more</td></tr></tfoot>{{end}}</table>

<h2>Side files</h2>
{{range .SideFiles}}<h3>{{.Partition}}{{.Path}}</h3>
<p>{{.Size}}, SHA-256 {{.SHA256}}{{if .Packages}}; {{.Packages}} Package elements (see the package table){{end}}</p>
<table><tbody>{{range .Facts}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</tbody></table>
{{else}}<p>None found.</p>{{end}}
{{if .Notes}}<h2>Notes</h2>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}{{if .NotesMore}}<li>{{.NotesMore}} more</li>{{end}}</ul>{{end}}
<script>
// Click a column's heading to sort by it, again to reverse; data-v holds a cell's number.
document.querySelectorAll("table.sort").forEach(function(t){
  t.querySelectorAll("thead th").forEach(function(th){
    th.addEventListener("click",function(){
      var b=t.tBodies[0],i=th.cellIndex,d=th.dataset.d==="1"?-1:1;th.dataset.d=d===1?"1":"0";
      var rows=Array.prototype.slice.call(b.rows);
      rows.sort(function(x,y){var p=x.cells[i].dataset.v,q=y.cells[i].dataset.v;
        if(p!==undefined){if(q!==undefined){return (Number(p)-Number(q))*d;}}
        return x.cells[i].textContent.localeCompare(y.cells[i].textContent)*d;});
      rows.forEach(function(r){b.appendChild(r);});
    });
  });
});
</script>
</body>
</html>
`))
