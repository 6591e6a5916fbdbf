// Package report reads an FFU image and writes what is in it as one self-contained HTML file
// (oemimage report, docs/cli.md): the disk's partitions drawn to scale with their used and free
// space, the packages by their DSMs in the image, with the reason each was selected when the
// selection is given, the size by feature and by owner, and the facts of the side files the
// image holds (UpdateHistory.xml, UpdateOutput.xml, DeviceLayout.xml, OEMDevicePlatform.xml).
//
// The image is untrusted: every string from it is HTML-escaped (html/template), every list is
// bounded in the output ("N more"), and the output depends on the image's bytes alone: the
// same FFU and selection give the same bytes.
package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/ffudiff"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// Report is what the HTML shows. Every list is in a fixed order.
type Report struct {
	Image     string // the FFU's file name (not its directory: the report does not depend on where it lies)
	Selection string // the selection's file name, "" without one
	Facts     []Fact // the FFU's headers
	DiskBytes int64
	// Regions cover the disk in order: the partitions and what lies between them (the
	// partition tables, gaps); their Bytes add up to DiskBytes.
	Regions  []Region
	Packages []Package
	// Unmatched are the selection's packages no DSM in the image names (by file name without
	// extension, or ID).
	Unmatched []string
	Features  []Sum // package bytes by the feature of each package's first selection reason
	Owners    []Sum // package bytes by DSM Owner (OwnerType)
	SideFiles []SideFile
	Notes     []string // what could not be read, and why
}

// Fact is one named value.
type Fact struct{ Name, Value string }

// Region is a stretch of the disk: a partition, or space no partition holds.
type Region struct {
	Name       string
	Partition  bool
	Offset     int64
	Bytes      int64
	FileSystem string // FAT12, FAT16, FAT32, NTFS, raw; "" outside partitions
	Type, GUID string
	// Used and Free add up to Bytes. For a file system, Free is its free clusters and Used the
	// rest (metadata included); for a raw partition or a region outside partitions, Used is
	// the blocks the FFU stores and Free the blocks it does not (zeros on the device).
	Used, Free int64
	MeasuredBy string // "FAT", "$Bitmap" or "stored blocks"
	Files      int    // files and directories, for a file system
}

// Package is a package of the image, by its DSM.
type Package struct {
	Name, Version string
	Partition     string // the DSM's Partition, else the partition it lies in
	DSM           string // partition and device path of the DSM
	Owner         string // Owner (OwnerType)
	Files         int    // files the DSM lists
	Bytes         int64  // their sizes: as found in the partition, else as the DSM states
	Feature       string // the feature ID of the first selection reason; "" without one
	Reasons       []string
}

// Sum is bytes and packages of one group.
type Sum struct {
	Name     string
	Packages int
	Bytes    int64
}

// SideFile is an update or layout record the image holds.
type SideFile struct {
	Partition, Path string
	Bytes           int64
	SHA256          string
	Facts           []Fact // leaf elements by path, those within a Package left out
	Packages        int    // Package elements
}

// Options are the report's inputs besides the image.
type Options struct {
	// Selection is what `oemimage resolve --json` wrote for the image (resolve.ReadSelection);
	// SelectionFile names it.
	Selection     *resolve.Selection
	SelectionFile string
}

// sideFiles are the records looked for in every partition with a file system, in this order.
var sideFiles = []string{imageconst.UpdateHistoryPath, imageconst.UpdateOutputPath, imageconst.DeviceLayoutPath, imageconst.DevicePlatformPath}

// Build reads the FFU at path. An error (not a regular file, not an FFU, a partition table
// that does not read, a file system whose walk fails) names the file; what only limits the
// report (a volume that does not open, a DSM that does not parse) is a note.
func Build(path string, opt Options) (*Report, error) {
	if _, err := readfile.Regular(path); err != nil {
		return nil, err
	}
	im, err := volume.OpenImage(path, false)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	r := &Report{Image: filepath.Base(path)}
	if opt.Selection != nil {
		r.Selection = filepath.Base(opt.SelectionFile)
	}
	b := &builder{r: r, im: im, dsms: map[string][]ffudiff.DSM{}, sizes: map[string]map[string]int64{}}
	b.facts()
	if err := b.regions(); err != nil {
		return nil, err
	}
	b.packages(opt.Selection)
	b.sideFiles()
	return r, nil
}

type builder struct {
	r     *Report
	im    *volume.Image
	dsms  map[string][]ffudiff.DSM    // by upper-case partition name: those whose files were read
	sizes map[string]map[string]int64 // by upper-case partition name, upper-case path: file sizes
	vols  map[string]volume.Reader
	order []string // partition names in table order
}

func (b *builder) note(format string, args ...any) {
	b.r.Notes = append(b.r.Notes, fmt.Sprintf(format, args...))
}

func (b *builder) facts() {
	rd := b.im.FFU
	st := rd.Stores[0]
	add := func(name, format string, args ...any) {
		b.r.Facts = append(b.r.Facts, Fact{name, fmt.Sprintf(format, args...)})
	}
	add("FFU file size", "%s", sizeText(rd.Size()))
	add("disk size", "%s", sizeText(st.DiskSize))
	add("sector size", "%d bytes", st.SectorSize)
	add("block size", "%d bytes", st.Header.BlockSize)
	add("chunk size", "%d KB", rd.Security.ChunkSizeKB)
	add("stores", "%d", len(rd.Stores))
	add("write descriptors", "%d", len(st.Entries))
	add("platform IDs", "%s", strings.Join(st.Header.PlatformIDs, ", "))
	add("device path", "%s", st.Header.DevicePath)
	add("full flash version", "%d.%d", st.Header.FullFlashMajorVersion, st.Header.FullFlashMinorVersion)
	add("partition table", "%s", b.im.Table())
	sum := sha256.Sum256(rd.Catalog())
	add("catalog", "%d bytes, SHA-256 %s", len(rd.Catalog()), hex.EncodeToString(sum[:]))
	b.r.DiskBytes = st.DiskSize
}

// regions lays the partitions out in disk order, fills the gaps, measures used and free
// space, and reads the files of each partition with a file system.
func (b *builder) regions() error {
	im := b.im
	stored := im.FFU.StoredExtents(0)
	storedIn := func(off, size int64) int64 {
		var n int64
		for _, e := range stored {
			if lo, hi := max(e.Offset, off), min(e.Offset+e.Length, off+size); lo < hi {
				n += hi - lo
			}
		}
		return n
	}
	type part struct {
		e          *disk.Partition
		off, bytes int64
	}
	var parts []part
	for i := range im.GPT.Entries {
		e := &im.GPT.Entries[i]
		off, size := im.Extent(e)
		parts = append(parts, part{e, off, size})
		b.order = append(b.order, e.Name)
	}
	slices.SortStableFunc(parts, func(x, y part) int { return cmp.Compare(x.off, y.off) })
	disk := b.r.DiskBytes
	gap := func(from, to int64) {
		if to > from {
			name := "(unpartitioned)"
			switch {
			case from == 0:
				name = "(partition table)"
			case to == disk && im.MBR == nil:
				name = "(backup partition table)"
			}
			b.r.Regions = append(b.r.Regions, Region{Name: name, Offset: from, Bytes: to - from,
				Used: storedIn(from, to-from), Free: to - from - storedIn(from, to-from), MeasuredBy: "stored blocks"})
		}
	}
	b.vols = map[string]volume.Reader{}
	var end int64
	for _, p := range parts {
		off, size := p.off, p.bytes
		if off < end || off+size > disk {
			// The table reader keeps partitions within the disk and apart; should one not be,
			// the map shows what lies within the disk once.
			b.note("partition %s (bytes %d..%d) overlaps another or the disk's end (%d bytes): drawn clipped", p.e.Name, off, off+size, disk)
			off = max(off, end)
			size = min(p.off+p.bytes, disk) - off
			if size <= 0 {
				continue
			}
		}
		gap(end, off)
		end = off + size
		reg := Region{Name: p.e.Name, Partition: true, Offset: off, Bytes: size, FileSystem: ffudiff.FileSystem(im, p.e), Type: p.e.Type, GUID: p.e.GUID}
		if err := b.measure(&reg, p.e); err != nil {
			return err
		}
		if reg.MeasuredBy == "" {
			reg.Used, reg.MeasuredBy = storedIn(off, size), "stored blocks"
			reg.Free = size - reg.Used
		}
		b.r.Regions = append(b.r.Regions, reg)
	}
	gap(end, disk)
	return nil
}

// measure opens a partition's file system, counts its free clusters and reads its files. A
// volume that does not open or count is a note (the region is measured by stored blocks); a
// walk that fails is an error.
func (b *builder) measure(reg *Region, e *disk.Partition) error {
	im := b.im
	if !im.IsNTFS(e) && !im.IsFAT(e) {
		return nil
	}
	where := fmt.Sprintf("%s: %s", b.r.Image, e.Name)
	v, err := im.Volume(e)
	if err != nil {
		b.note("%s: %v: measured by stored blocks, its files not read", where, err)
		return nil
	}
	cb, _, free, err := v.Usage()
	switch {
	case err != nil:
		b.note("%s: free space: %v: measured by stored blocks", where, err)
	case free*cb > reg.Bytes:
		b.note("%s: %d free clusters of %d bytes, more than the partition's %d bytes: measured by stored blocks", where, free, cb, reg.Bytes)
	default:
		reg.Free, reg.Used = free*cb, reg.Bytes-free*cb
		reg.MeasuredBy = "FAT"
		if im.IsNTFS(e) {
			reg.MeasuredBy = "$Bitmap"
		}
	}
	t, err := ffudiff.Walk(v, where, b.note)
	if err != nil {
		return err
	}
	files := t.Files()
	reg.Files = len(files)
	sizes := make(map[string]int64, len(files))
	for _, f := range files {
		if !f.Dir {
			sizes[strings.ToUpper(f.Path)] = f.Size
		}
	}
	key := strings.ToUpper(e.Name)
	b.dsms[key], b.vols[key], b.sizes[key] = t.DSMs, v, sizes
	return nil
}

// packages lists the packages of every DSM the partitions hold, with their sizes and, with a
// selection, their reasons.
func (b *builder) packages(sel *resolve.Selection) {
	bySel := map[string]*resolve.Package{}
	matched := map[*resolve.Package]bool{}
	if sel != nil {
		for _, p := range sel.Packages {
			for _, k := range []string{p.ID, strings.TrimSuffix(p.Name, filepath.Ext(p.Name))} {
				if k != "" {
					bySel[strings.ToUpper(k)] = p
				}
			}
		}
	}
	sizes := b.sizes
	seen := map[string]string{}
	for _, name := range b.order {
		for _, d := range b.dsms[strings.ToUpper(name)] {
			m := d.Manifest
			p := Package{Name: m.Name(), Version: m.Version.String(), Partition: m.Partition, DSM: name + d.Path,
				Owner: m.Owner, Files: len(m.Files)}
			if p.Partition == "" {
				p.Partition = name
			}
			if m.OwnerType != "" {
				p.Owner += " (" + m.OwnerType + ")"
			}
			if prev, dup := seen[strings.ToUpper(p.Name)]; dup {
				b.note("%s: package %s again (its DSM is also %s): listed once", p.DSM, p.Name, prev)
				continue
			}
			seen[strings.ToUpper(p.Name)] = p.DSM
			in := sizes[strings.ToUpper(p.Partition)]
			if in == nil {
				in = sizes[strings.ToUpper(name)]
			}
			p.Bytes = packageBytes(m, in)
			if sp := bySel[strings.ToUpper(p.Name)]; sp != nil {
				matched[sp] = true
				for i, r := range sp.Reasons {
					if i == 0 {
						p.Feature = r.FeatureID
					}
					p.Reasons = append(p.Reasons, r.String())
				}
			}
			b.r.Packages = append(b.r.Packages, p)
		}
	}
	slices.SortFunc(b.r.Packages, func(x, y Package) int {
		return cmp.Or(cmp.Compare(strings.ToUpper(x.Name), strings.ToUpper(y.Name)), cmp.Compare(x.Name, y.Name))
	})
	if sel != nil {
		for _, p := range sel.Packages {
			if !matched[p] {
				b.r.Unmatched = append(b.r.Unmatched, p.Name)
			}
		}
		slices.Sort(b.r.Unmatched)
	}
	feature := map[string]*Sum{}
	owner := map[string]*Sum{}
	for _, p := range b.r.Packages {
		f := p.Feature
		if f == "" {
			f = "(no selection reason)"
		}
		for _, g := range []struct {
			m map[string]*Sum
			k string
		}{{feature, f}, {owner, p.Owner}} {
			s := g.m[g.k]
			if s == nil {
				s = &Sum{Name: g.k}
				g.m[g.k] = s
			}
			s.Packages++
			s.Bytes += p.Bytes
		}
	}
	b.r.Features, b.r.Owners = sums(feature), sums(owner)
}

// packageBytes adds up a package's files: as the partition holds them, else as the DSM says.
func packageBytes(m *spkg.Manifest, in map[string]int64) int64 {
	var n int64
	for _, f := range m.Files {
		if s, ok := in[strings.ToUpper(f.DevicePath)]; ok {
			n += s
		} else if f.FileSize > 0 {
			n += f.FileSize
		}
	}
	return n
}

// sums orders groups by bytes, largest first, then by name.
func sums(m map[string]*Sum) []Sum {
	out := make([]Sum, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y Sum) int { return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), cmp.Compare(x.Name, y.Name)) })
	return out
}

// maxSideFacts bounds the leaf elements read of one side file.
const maxSideFacts = 200

// sideFiles reads the update and layout records in every partition with a file system.
func (b *builder) sideFiles() {
	for _, name := range b.order {
		vol := b.vols[strings.ToUpper(name)]
		if vol == nil {
			continue
		}
		for _, path := range sideFiles {
			if !b.exists(name, path) {
				continue
			}
			data, err := vol.ReadFile(path)
			if err != nil {
				b.note("%s: %s%s: %v", b.r.Image, name, path, err)
				continue
			}
			sum := sha256.Sum256(data)
			sf := SideFile{Partition: name, Path: path, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(data); err != nil {
				b.note("%s: %s%s: not well-formed XML: %v", b.r.Image, name, path, err)
			} else if root := doc.Root(); root != nil {
				leaves(root, root.Tag, &sf)
			}
			b.r.SideFiles = append(b.r.SideFiles, sf)
		}
	}
}

// exists reports whether a partition's walk met the file.
func (b *builder) exists(partition, path string) bool {
	_, ok := b.sizes[strings.ToUpper(partition)][strings.ToUpper(path)]
	return ok
}

// leaves records the leaf elements below el, by path, and counts the Package elements
// without descending into them (the package table lists the packages).
func leaves(el *etree.Element, path string, sf *SideFile) {
	kids := el.ChildElements()
	if len(kids) == 0 {
		if len(sf.Facts) < maxSideFacts {
			sf.Facts = append(sf.Facts, Fact{path, strings.TrimSpace(el.Text())})
		} else if len(sf.Facts) == maxSideFacts {
			sf.Facts = append(sf.Facts, Fact{"…", "more elements not shown"})
		}
		return
	}
	for _, k := range kids {
		if k.Tag == "Package" {
			sf.Packages++
			continue
		}
		leaves(k, path+"/"+k.Tag, sf)
	}
}
