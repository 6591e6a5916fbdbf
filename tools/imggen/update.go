package imggen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/devicelayout"
	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/fat"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/layout"
	"github.com/oemimage/rules_oemimage/tools/ntfs"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	vol "github.com/oemimage/rules_oemimage/tools/volume"
)

// The update of an existing image, as `ImageApp <image.ffu> /UpdateInputXML:<file>` does it
// (update-packages-in-an-ffu-image-file.md): new packages, or newer versions of packages the
// image holds, are installed into the partitions they name; nothing is removed and the
// partition layout stays. Each partition a package touches is rebuilt by the writer imggen
// uses, holding its files as they were (names, contents, ReadOnly/Hidden/System) less the
// replaced packages' files, plus the new ones; every other block of the disk is stored again
// as it was.

// OEMInputPath is where ImageApp keeps a copy of the OEMInput in MainOS; its ReleaseType
// tells a Retail image (Production) from the others (Test).
const OEMInputPath = `\Windows\ImageUpdate\OEMInput.xml`

// dsmDir is where every package's DSM lies in its partition.
const dsmDir = `\Windows\Packages\DsmFiles\`

// MaxUpdateInput bounds an update input file: a list of package paths.
const MaxUpdateInput = 16 << 20

// UpdateInput is an update input file: UpdateOSInput with a Description and PackageFiles.
type UpdateInput struct {
	Description  string
	PackageFiles []string // as written: Windows or host paths
}

// ParseUpdateInput reads an UpdateOSInput document; name is the file, for messages.
func ParseUpdateInput(name string, data []byte) (*UpdateInput, error) {
	if len(data) > MaxUpdateInput {
		return nil, fmt.Errorf("%s: %d bytes; an update input of at most %d MiB is expected", name, len(data), MaxUpdateInput>>20)
	}
	d := etree.NewDocument()
	d.ReadSettings.Permissive = false
	if err := d.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	root := d.Root()
	if root == nil || root.Tag != "UpdateOSInput" {
		tag := "none"
		if root != nil {
			tag = "<" + root.Tag + ">"
		}
		return nil, fmt.Errorf("%s: root element %s; expected <UpdateOSInput>", name, tag)
	}
	if ns := root.NamespaceURI(); ns != "" && ns != spkg.Namespace {
		return nil, fmt.Errorf("%s: <UpdateOSInput> in namespace %q; expected %s", name, ns, spkg.Namespace)
	}
	in := &UpdateInput{}
	sawFiles := false
	for _, el := range root.ChildElements() {
		switch el.Tag {
		case "Description":
			in.Description = strings.TrimSpace(el.Text())
		case "PackageFiles":
			if sawFiles {
				return nil, fmt.Errorf("%s: <PackageFiles> given twice; expected one", name)
			}
			sawFiles = true
			for _, pf := range el.ChildElements() {
				if pf.Tag != "PackageFile" {
					return nil, fmt.Errorf("%s: <PackageFiles> holds <%s>; expected <PackageFile> elements", name, pf.Tag)
				}
				p := strings.TrimSpace(pf.Text())
				if p == "" {
					return nil, fmt.Errorf("%s: <PackageFile> %d is empty; expected the path of a package", name, len(in.PackageFiles)+1)
				}
				in.PackageFiles = append(in.PackageFiles, p)
			}
		default:
			return nil, fmt.Errorf("%s: <UpdateOSInput> holds <%s>; expected <Description> and <PackageFiles>", name, el.Tag)
		}
	}
	if len(in.PackageFiles) == 0 {
		return nil, fmt.Errorf("%s: no <PackageFiles>/<PackageFile>; expected the packages to add to the image", name)
	}
	return in, nil
}

// UpdateRequest is one update of an image.
type UpdateRequest struct {
	Image string // the FFU to update
	// Output is the updated FFU, its side files next to it; "" (or Image) replaces Image,
	// through a temporary file: all of the outputs or none.
	Output      string
	Input       string // the update input file, for the log
	Description string
	Packages    []string // host paths of the packages, in the input's order
	Time        time.Time
	Timings     bool
	Progress    io.Writer
}

// installedPackage is a package the image holds: its DSM, and the partition the DSM lies in.
type installedPackage struct {
	m         *spkg.Manifest
	partition string // where the DSM is (MainOS for a binary partition package)
	file      string // the package file, as the update history names it
	replaced  bool
}

type update struct {
	disk *os.File // the image's disk, extracted
	r    UpdateRequest
	log  *logger
	im   *vol.Image
	plan *layout.Plan
	// installed are the image's packages by upper-case name, in order (sorted by name).
	installed map[string]*installedPackage
	order     []string
	history   *etree.Document
	release   string // the image's release type (Test, Production)
	releaseOf string // where it was found, for messages
	cpu       string
	pkgs      []*imagePackage
	touched   map[string]bool // lower-case partition names to rebuild or rewrite
	stored    []disk.Extent
	d         *diskImage
	// historyXML and outputXML are the new UpdateHistory.xml and UpdateOutput.xml.
	historyXML, outputXML []byte
}

// Update installs r.Packages into the image r.Image and writes the updated FFU and its side
// files, all or none. It refuses, naming the package or file: a Retail image; a package the
// image holds in an equal or higher version; a package whose partition is not in the layout;
// a file that no longer fits its partition (with the bytes missing); a removal package.
func Update(r UpdateRequest) (err error) {
	if r.Time.IsZero() {
		r.Time = imageconst.Epoch
	}
	if r.Output == "" {
		r.Output = r.Image
	}
	u := &update{r: r, log: &logger{progress: r.Progress, timings: r.Timings, start: time.Now()}, installed: map[string]*installedPackage{}, touched: map[string]bool{}}
	defer u.cleanup()
	u.log.printf("oemimage imageapp: %s updated from %s into %s", filepath.Base(r.Image), filepath.Base(r.Input), filepath.Base(r.Output))
	if !r.Timings {
		u.log.printf("durations are not recorded, so that this log is reproducible")
	}
	t := time.Now()
	if u.im, err = vol.OpenImage(r.Image, false); err != nil {
		return err
	}
	// The update rebuilds partitions in the extracted disk, then writes the FFU from it; the
	// FFU's hashes are checked as it is extracted (one read of it, not two).
	if u.disk, err = u.im.VerifiedDisk(); err != nil {
		return err
	}
	if len(u.im.FFU.Stores) != 1 {
		return fmt.Errorf("%s: %d stores; an image of one store can be updated", r.Image, len(u.im.FFU.Stores))
	}
	if err := u.readImage(); err != nil {
		return err
	}
	if err := u.checkRelease(); err != nil {
		return err
	}
	u.log.step("reading the image", t)
	t = time.Now()
	set := NewPackageSet()
	defer set.Close()
	if err := u.openPackages(set); err != nil {
		return err
	}
	u.log.step("opening packages", t)
	t = time.Now()
	if err := u.install(); err != nil {
		return err
	}
	u.log.step("installing packages", t)
	return u.write()
}

func (u *update) cleanup() {
	if u.im != nil {
		u.im.Close()
	}
}

// readImage reads the partitions, the packages (their DSMs in every partition's DsmFiles) and
// MainOS's update history.
func (u *update) readImage() error {
	im := u.im
	u.plan = &layout.Plan{SectorSize: uint32(im.SectorSize), DiskSectors: uint64(im.FFU.Stores[0].DiskSize / im.SectorSize), MBR: im.MBR != nil}
	for _, e := range im.GPT.Entries {
		p := &layout.Placed{Partition: e, Layout: &devicelayout.Partition{Name: e.Name}}
		switch {
		case im.IsNTFS(&e):
			p.Layout.FileSystem = "NTFS"
		case im.IsFAT32(&e):
			p.Layout.FileSystem = "FAT32"
		case im.IsFAT(&e):
			p.Layout.FileSystem = "FAT"
		}
		u.plan.Partitions = append(u.plan.Partitions, p)
	}
	for _, p := range u.plan.Partitions {
		if p.Layout.FileSystem == "" {
			continue
		}
		e := im.Partition(p.Name)
		fs, err := im.Volume(e)
		if err != nil {
			return fmt.Errorf("%s: partition %s: %v", u.r.Image, p.Name, err)
		}
		err = fs.Walk(func(en vol.Entry, r io.Reader) error {
			dir, base := splitDevicePath(en.Path)
			if en.Dir || !strings.EqualFold(dir, dsmDir) || !strings.HasSuffix(strings.ToLower(base), ".dsm.xml") {
				return nil
			}
			where := p.Name + en.Path
			if en.Size > vol.MaxReadFile {
				return fmt.Errorf("%s: %d bytes; a DSM of at most %d MiB is expected", where, en.Size, vol.MaxReadFile>>20)
			}
			data, err := io.ReadAll(io.LimitReader(r, en.Size))
			if err != nil {
				return fmt.Errorf("%s: %v", where, err)
			}
			m, err := spkg.ParseManifest(data, where)
			if err != nil {
				return err
			}
			key := strings.ToUpper(m.Name())
			if other, ok := u.installed[key]; ok {
				return fmt.Errorf("%s: package %s has a DSM in partitions %s and %s; expected one", u.r.Image, m.Name(), other.partition, p.Name)
			}
			u.installed[key] = &installedPackage{m: m, partition: p.Name, file: m.Name() + ".spkg"}
			u.order = append(u.order, key)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: partition %s: %v", u.r.Image, p.Name, err)
		}
	}
	sort.Strings(u.order)
	mainOS := im.Partition("MainOS")
	if mainOS == nil {
		return fmt.Errorf("%s: no MainOS partition (it has %s); an image ImageApp made is expected", u.r.Image, im.Names())
	}
	mainFS, err := im.Volume(mainOS)
	if err != nil {
		return fmt.Errorf("%s: partition MainOS: %v", u.r.Image, err)
	}
	data, err := mainFS.ReadFile(imageconst.UpdateHistoryPath)
	if err != nil {
		return fmt.Errorf("%s: MainOS%s: %v; an image ImageApp made holds its update history", u.r.Image, imageconst.UpdateHistoryPath, err)
	}
	u.history = etree.NewDocument()
	if err := u.history.ReadFromBytes(data); err != nil {
		return fmt.Errorf("%s: MainOS%s: %v", u.r.Image, imageconst.UpdateHistoryPath, err)
	}
	if root := u.history.Root(); root == nil || root.Tag != "UpdateHistory" || root.SelectElement("UpdateEvents") == nil {
		return fmt.Errorf("%s: MainOS%s: expected <UpdateHistory> with <UpdateEvents>", u.r.Image, imageconst.UpdateHistoryPath)
	}
	// The package files the history names (the latest event's name wins).
	for _, pe := range u.history.FindElements("//Package") {
		id, file := pe.SelectElement("PackageIdentity"), pe.SelectElement("PackageFile")
		if id == nil || file == nil {
			continue
		}
		if p := u.installed[strings.ToUpper(strings.TrimSpace(id.Text()))]; p != nil && strings.TrimSpace(file.Text()) != "" {
			p.file = strings.TrimSpace(file.Text())
		}
	}
	if oem, err := mainFS.ReadFile(OEMInputPath); err == nil {
		d := etree.NewDocument()
		if err := d.ReadFromBytes(oem); err != nil {
			return fmt.Errorf("%s: MainOS%s: %v", u.r.Image, OEMInputPath, err)
		}
		el := d.FindElement("/OEMInput/ReleaseType")
		if el == nil {
			return fmt.Errorf("%s: MainOS%s: no <ReleaseType>; expected Test or Production", u.r.Image, OEMInputPath)
		}
		u.release, u.releaseOf = strings.TrimSpace(el.Text()), "<ReleaseType> of MainOS"+OEMInputPath
	}
	// The image's CPU: the shortest CpuType of its packages (ARM64 of ARM64 and ARM64_ARM).
	for _, k := range u.order {
		c := u.installed[k].m.CpuType
		if u.cpu == "" || len(c) < len(u.cpu) {
			u.cpu = c
		}
	}
	u.stored = u.im.FFU.StoredExtents(0)
	u.log.printf("%d packages in the image, %d partitions (%s)", len(u.order), len(u.plan.Partitions), u.im.Table())
	return nil
}

// sideFileRelease finds the release type in the UpdateInput.xml side file next to an FFU,
// as `oemimage resolve` and this update write it (a comment ending "ReleaseType=Test").
var sideFileRelease = regexp.MustCompile(`ReleaseType=(\w+)`)

// checkRelease refuses a Retail image: one made from an OEMInput whose ReleaseType is
// Production (oeminput-file-contents.md: that value is for the final retail image; Test
// serves production, test, health and manufacturing images). The release type is, in this
// order: the OEMInput copy in MainOS; Test if any package of the image is a Test package (a
// Production OEMInput takes none); the image's UpdateInput.xml side file.
func (u *update) checkRelease() error {
	if u.release == "" {
		for _, k := range u.order {
			if p := u.installed[k]; p.m.ReleaseType == "Test" {
				u.release, u.releaseOf = "Test", "package "+p.m.Name()+" is a Test package, which a Retail image cannot hold"
				break
			}
		}
	}
	if u.release == "" {
		side := strings.TrimSuffix(u.r.Image, filepath.Ext(u.r.Image)) + ".UpdateInput.xml"
		if data, err := os.ReadFile(side); err == nil {
			if m := sideFileRelease.FindSubmatch(data); m != nil {
				u.release, u.releaseOf = string(m[1]), "the side file "+filepath.Base(side)
			}
		}
	}
	switch {
	case u.releaseOf == "":
		return fmt.Errorf("%s: the release type of the image is unknown: MainOS has no %s, every package is a Production package, and no UpdateInput.xml side file next to it names one; only non-Retail images may be updated", u.r.Image, OEMInputPath)
	case u.release == "Production":
		return fmt.Errorf("%s is a Retail image (ReleaseType Production, %s); ImageApp updates Production, Test and Health images only (their OEMInput has ReleaseType Test): rebuild the image instead", u.r.Image, u.releaseOf)
	case u.release != "Test":
		return fmt.Errorf("%s: ReleaseType %q (%s); expected Test or Production", u.r.Image, u.release, u.releaseOf)
	}
	u.log.printf("release type %s (%s)", u.release, u.releaseOf)
	return nil
}

// openPackages opens the packages and applies the rules of an update to each.
func (u *update) openPackages(set *PackageSet) error {
	seen := map[string]string{}
	for _, path := range u.r.Packages {
		p, err := set.Open(path)
		if err != nil {
			return err
		}
		m := p.Manifest
		file := filepath.Base(path)
		key := strings.ToUpper(m.Name())
		if other, ok := seen[key]; ok {
			return fmt.Errorf("%s and %s are both package %s; an update takes each package once", other, path, m.Name())
		}
		seen[key] = path
		if m.IsRemoval {
			return fmt.Errorf("%s: package %s is a removal package (IsRemoval); an update cannot remove packages from an image: rebuild it without them", path, m.Name())
		}
		if u.cpu != "" && !strings.EqualFold(m.CpuType, u.cpu) && !strings.HasPrefix(strings.ToLower(m.CpuType), strings.ToLower(u.cpu)+"_") {
			return fmt.Errorf("%s: package %s is built for CPU %s, the image for %s", path, m.Name(), m.CpuType, u.cpu)
		}
		v := u.plan.Partition(m.Partition)
		if v == nil {
			return fmt.Errorf("%s: package %s installs into partition %s, which the image's layout does not have (it has %s); an update cannot change the partition layout", path, m.Name(), m.Partition, u.im.Names())
		}
		if old := u.installed[key]; old != nil {
			if compareVersions(m.Version, old.m.Version) <= 0 {
				return fmt.Errorf("%s: package %s %s: the image holds version %s (%s%s%s.dsm.xml); an updated package needs a higher version", path, m.Name(), m.Version, old.m.Version, old.partition, dsmDir, old.m.Name())
			}
			old.replaced = true
			u.touch(old.partition)
			u.touch(old.m.Partition)
			u.log.printf("update %s %s -> %s (%s)", m.Name(), old.m.Version, m.Version, m.Partition)
		} else {
			u.log.printf("add %s %s (%s)", m.Name(), m.Version, m.Partition)
		}
		u.touch(m.Partition)
		if m.IsBinaryPartition {
			u.touch("MainOS")
			for _, k := range u.order {
				if o := u.installed[k]; k != key && o.m.IsBinaryPartition && strings.EqualFold(o.m.Partition, m.Partition) {
					return fmt.Errorf("%s: package %s is an image of partition %s, which holds the image of package %s; an update cannot remove that package", path, m.Name(), m.Partition, o.m.Name())
				}
			}
		}
		u.pkgs = append(u.pkgs, &imagePackage{file: file, pkg: p})
	}
	u.touch("MainOS") // the update history
	if p := u.plan.Partition("Data"); p != nil && p.Layout.FileSystem != "" {
		u.touch("Data")
	}
	return nil
}

func (u *update) touch(name string) { u.touched[strings.ToLower(name)] = true }

func compareVersions(a, b spkg.Version) int {
	for _, d := range [][2]uint16{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.QFE, b.QFE}, {a.Build, b.Build}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// install rebuilds each touched partition with its kept files, then installs the packages
// and the update records.
func (u *update) install() error {
	d := &diskImage{w: u.disk, plan: u.plan, volumes: map[string]*volume{}, owners: map[string]string{}}
	u.d = d
	// Files of the image's packages that stay: another package may not bring them again.
	removed := map[string]bool{} // partition|UPPER device path
	for _, k := range u.order {
		p := u.installed[k]
		for _, fe := range p.m.Files {
			part := p.m.Partition
			if p.m.IsBinaryPartition || fe.FileType == "Manifest" || fe.FileType == "Catalog" {
				if fe.FileType == "BinaryPartition" {
					continue
				}
				part = p.partition
			}
			key := strings.ToLower(part) + "|" + strings.ToUpper(fe.DevicePath)
			if p.replaced {
				removed[key] = true
			} else {
				d.owners[key] = p.file
			}
		}
	}
	removed["mainos|"+strings.ToUpper(imageconst.UpdateHistoryPath)] = true
	removed["data|"+strings.ToUpper(imageconst.UpdateOutputPath)] = true
	for _, p := range u.plan.Partitions {
		v := &volume{placed: p}
		d.volumes[strings.ToLower(p.Name)] = v
		if !u.touched[strings.ToLower(p.Name)] {
			continue
		}
		if err := u.rebuild(v, removed); err != nil {
			return err
		}
	}
	for i, p := range u.pkgs {
		if err := d.install(p.file, p.pkg); err != nil {
			if errors.Is(err, fat.ErrFull) || errors.Is(err, ntfs.ErrFull) {
				return u.fullError(err, i)
			}
			return err
		}
	}
	var records []installed
	for _, p := range u.pkgs {
		records = append(records, installed{File: p.file, Manifest: p.pkg.Manifest})
	}
	history, err := u.appendHistory(records)
	if err != nil {
		return err
	}
	output, err := updateOutput(u.r.Description, records)
	if err != nil {
		return err
	}
	if err := d.addFile("MainOS", imageconst.UpdateHistoryPath, history); err != nil {
		return fmt.Errorf("MainOS%s: %w", imageconst.UpdateHistoryPath, err)
	}
	if v := d.volumes["data"]; v != nil && v.fs != nil {
		if err := d.addFile("Data", imageconst.UpdateOutputPath, output); err != nil {
			return fmt.Errorf("Data%s: %w", imageconst.UpdateOutputPath, err)
		}
	}
	u.historyXML, u.outputXML = history, output
	return nil
}

// rebuild empties partition v's blocks on the disk and, for a file system, opens the writer
// over it with the volume's own parameters and copies every file that stays. The old volume is
// read from the FFU itself (its blocks on demand, ffu.Reader.DiskReader), so the partition is
// not copied aside first.
func (u *update) rebuild(v *volume, removed map[string]bool) error {
	name := v.placed.Name
	ss := int64(u.plan.SectorSize)
	off, size := int64(v.placed.FirstLBA)*ss, int64(v.placed.Sectors())*ss
	// The blocks the FFU stores hold nothing of the old volume now: holes punched in the
	// extracted disk, or zeros written where the file system cannot punch them.
	for _, e := range u.stored {
		lo, hi := max(e.Offset, off), min(e.Offset+e.Length, off+size)
		if lo < hi {
			if err := zeroRange(u.disk, lo, hi-lo); err != nil {
				return fmt.Errorf("partition %s: %v", name, err)
			}
		}
	}
	if v.placed.Layout.FileSystem == "" {
		return nil // a raw partition: a binary partition package writes it
	}
	old, err := u.im.FFU.DiskReader(0)
	if err != nil {
		return fmt.Errorf("%s: %v", u.r.Image, err)
	}
	kept, err := u.openWriter(v, old, off, size)
	if err != nil {
		return fmt.Errorf("%s: partition %s: %v", u.r.Image, name, err)
	}
	// Pass 1 (names only): which directories held entries, and which hold files that stay;
	// pass 2 copies.
	keep := func(path string) bool { return !removed[strings.ToLower(name)+"|"+strings.ToUpper(path)] }
	full := map[string]bool{}
	err = kept.walk(func(path string, dir bool, _ int64, _ disk.Attributes, _ io.Reader) error {
		parent, _ := splitDevicePath(path)
		kept.dirs[strings.ToUpper(strings.TrimSuffix(parent, `\`))] = true
		if !dir && keep(path) {
			for p := path; ; {
				p, _ = splitDevicePath(strings.TrimSuffix(p, `\`))
				if p == `\` || p == "" {
					break
				}
				full[strings.ToUpper(strings.TrimSuffix(p, `\`))] = true
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: partition %s: %v", u.r.Image, name, err)
	}
	err = kept.walk(func(path string, dir bool, size int64, attr disk.Attributes, r io.Reader) error {
		switch {
		case dir && !full[strings.ToUpper(path)]:
			// An empty directory of the old volume stays; one its files left goes.
			if kept.dirs[strings.ToUpper(path)] {
				return nil
			}
			return v.fs.Mkdir(path)
		case dir || !keep(path):
			return nil
		}
		if err := v.fs.AddFile(path, size, r, attr&keptAttrs); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: partition %s: %v", u.r.Image, name, err)
	}
	u.log.printf("partition %s: %s rebuilt, %d KiB of files kept", name, v.fs.Name(), v.fs.Used()>>10)
	return nil
}

// oldVolume is a touched partition's volume as it was, read from the FFU.
type oldVolume struct {
	fat  *fat.Volume
	ntfs *ntfs.Volume
	dirs map[string]bool // upper-case paths of directories that hold entries (rebuild's pass 1)
}

func (o *oldVolume) walk(fn func(path string, dir bool, size int64, attr disk.Attributes, r io.Reader) error) error {
	if o.fat != nil {
		return o.fat.Walk(func(f fat.File, r io.Reader) error { return fn(f.Path, f.Dir, f.Size, disk.Attributes(f.Attr), r) })
	}
	return o.ntfs.Walk(func(path string, fi ntfs.FileInfo, f *ntfs.File) error {
		if fi.IsDir() {
			return fn(path, true, 0, disk.Attributes(fi.Attr), nil)
		}
		return fn(path, false, fi.Size, disk.Attributes(fi.Attr), f)
	})
}

// openWriter opens the old volume (at off in old, the FFU's disk) and, over the partition on the disk, a writer
// with the same parameters: type, cluster size, label, serial number.
func (u *update) openWriter(v *volume, old io.ReaderAt, off, size int64) (*oldVolume, error) {
	ss := int(u.plan.SectorSize)
	if v.placed.Layout.FileSystem == "NTFS" {
		o, err := ntfs.Open(old, off, size)
		if err != nil {
			return nil, err
		}
		w, err := ntfs.New(u.disk, off, size, ntfs.Options{SectorSize: ss, ClusterSize: o.ClusterSize(), Label: o.Label(), Serial: o.Serial(), ModTime: u.r.Time})
		if err != nil {
			return nil, err
		}
		v.fs = w
		return &oldVolume{ntfs: o, dirs: map[string]bool{}}, nil
	}
	o, err := fat.Open(old, off, size)
	if err != nil {
		return nil, err
	}
	opt := fat.Options{SectorSize: ss, ClusterSize: o.ClusterSize(), Label: o.Label(), VolumeID: o.VolumeID(), ModTime: u.r.Time}
	if o.Type() == fat.FAT32 {
		opt.Type = fat.FAT32
	}
	w, err := fat.New(u.disk, off, size, opt)
	if err != nil {
		return nil, err
	}
	if w.Type() != o.Type() {
		return nil, fmt.Errorf("the volume is %v, but a new one of its size and cluster size would be %v", o.Type(), w.Type())
	}
	v.fs = w
	return &oldVolume{fat: o, dirs: map[string]bool{}}, nil
}

// fullError turns a file that did not fit into the refusal naming the package, the file and
// the bytes missing: those the files still to install into that partition need (whole
// clusters) beyond the free space.
func (u *update) fullError(err error, at int) error {
	p := u.pkgs[at]
	part := p.pkg.Manifest.Partition
	v := u.d.volumes[strings.ToLower(part)]
	if v == nil || v.fs == nil {
		return err
	}
	cs := v.fs.ClusterSize()
	var need int64
	for _, q := range u.pkgs[at:] {
		if !strings.EqualFold(q.pkg.Manifest.Partition, part) {
			continue
		}
		for _, fe := range q.pkg.Manifest.Files {
			need += (max(fe.FileSize, 1) + cs - 1) / cs * cs
		}
	}
	free := v.fs.Free()
	missing := need - free
	if missing <= 0 {
		missing = cs // at least the cluster the failing file lacked
	}
	return fmt.Errorf("%v: partition %s is %d bytes short for the update (its files from %s on need %d bytes, %d are free); an update cannot grow a partition: rebuild the image with a larger one", err, v.placed.Name, missing, p.file, need, free)
}

// appendHistory adds this update's event to the image's UpdateHistory.xml.
func (u *update) appendHistory(records []installed) ([]byte, error) {
	events := u.history.Root().SelectElement("UpdateEvents")
	seq := 0
	for _, ev := range events.SelectElements("UpdateEvent") {
		if s := ev.SelectElement("Sequence"); s != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(s.Text())); err == nil && n > seq {
				seq = n
			}
		}
	}
	addUpdateEvent(events, seq+1, "Image updated", u.r.Description, records, u.r.Time)
	return bytesOf(u.history)
}

// write wraps the disk in the new FFU and writes the side files, all or none.
func (u *update) write() error {
	t := time.Now()
	extents, err := u.d.close()
	if err != nil {
		return err
	}
	img, err := u.im.FFU.Rewrite(u.disk)
	if err != nil {
		return fmt.Errorf("%s: %v", u.r.Image, err)
	}
	img.CatalogTime = u.r.Time
	for i := range img.Partitions {
		if u.touched[strings.ToLower(img.Partitions[i].Name)] {
			img.Partitions[i].UsedSectors = 0 // from the blocks the rebuilt partition stores
		}
	}
	// The blocks stored before, less the rebuilt partitions, and what the writers wrote.
	ss := int64(u.plan.SectorSize)
	for _, e := range u.stored {
		parts := []disk.Extent{e}
		for _, p := range u.plan.Partitions {
			if !u.touched[strings.ToLower(p.Name)] {
				continue
			}
			lo, hi := int64(p.FirstLBA)*ss, int64(p.LastLBA+1)*ss
			var next []disk.Extent
			for _, x := range parts {
				if x.Offset < lo {
					next = append(next, disk.Extent{Offset: x.Offset, Length: min(x.Offset+x.Length, lo) - x.Offset})
				}
				if end := x.Offset + x.Length; end > hi {
					start := max(x.Offset, hi)
					next = append(next, disk.Extent{Offset: start, Length: end - start})
				}
			}
			parts = next
		}
		img.Allocated = append(img.Allocated, parts...)
	}
	img.Allocated = append(img.Allocated, extents...)
	var out atomicfile.Set
	defer out.Abort()
	f, err := out.Create(u.r.Output)
	if err != nil {
		return err
	}
	res, err := ffu.Write(f, img)
	if err != nil {
		return fmt.Errorf("%s: %w", u.r.Output, err)
	}
	u.log.printf("FFU: %d bytes, %d MiB of payload in %d+%d+%d blocks", res.Size, res.PayloadBytes>>20, res.Phase1, res.Phase2, res.Phase3)
	u.log.step("writing the FFU", t)
	// The packages now in the image: those it held (updated ones in their new version) in
	// name order, then the added ones.
	var all []installed
	newer := map[string]*imagePackage{}
	for _, p := range u.pkgs {
		newer[strings.ToUpper(p.pkg.Manifest.Name())] = p
	}
	for _, k := range u.order {
		if p := newer[k]; p != nil {
			all = append(all, installed{File: p.file, Manifest: p.pkg.Manifest})
			delete(newer, k)
			continue
		}
		all = append(all, installed{File: u.installed[k].file, Manifest: u.installed[k].m})
	}
	for _, p := range u.pkgs {
		if newer[strings.ToUpper(p.pkg.Manifest.Name())] != nil {
			all = append(all, installed{File: p.file, Manifest: p.pkg.Manifest})
		}
	}
	list, err := packageList(all)
	if err != nil {
		return err
	}
	input, err := u.updateInput()
	if err != nil {
		return err
	}
	if u.r.Timings {
		u.log.printf("total: %.2f s", time.Since(u.log.start).Seconds())
	}
	side := map[string][]byte{
		"UpdateInput.xml":   input,
		"UpdateOutput.xml":  u.outputXML,
		"UpdateHistory.xml": u.historyXML,
		"PackageList.xml":   list,
		"cat":               res.Catalog,
		"ImageApp.log":      u.log.buf.Bytes(),
	}
	base := strings.TrimSuffix(u.r.Output, filepath.Ext(u.r.Output))
	for _, suffix := range SideFiles {
		if err := out.WriteFile(base+"."+suffix, side[suffix]); err != nil {
			return err
		}
	}
	return out.Commit()
}

// updateInput is the UpdateInput.xml side file: the update's input, with the release type
// the image was found to have, so that a later update of the output can tell it.
func (u *update) updateInput() ([]byte, error) {
	d, root := newDoc("UpdateOSInput")
	text(root, "Description", u.r.Description)
	c := "oemimage imageapp " + filepath.Base(u.r.Image) + " /UpdateInputXML:" + filepath.Base(u.r.Input) + ": ReleaseType=" + u.release
	root.CreateComment(" " + strings.ReplaceAll(c, "--", "- -") + " ")
	pf := root.CreateElement("PackageFiles")
	for _, p := range u.r.Packages {
		pf.CreateElement("PackageFile").SetText(p)
	}
	return bytesOf(d)
}

// splitDevicePath splits \a\b\c into \a\b\ and c.
func splitDevicePath(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '\\')
	if i < 0 {
		return "", p
	}
	return p[:i+1], p[i+1:]
}

// writeZeros writes n zero bytes at off of f, a MiB at a time.
func writeZeros(f *os.File, off, n int64) error {
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(int64(len(zeros)), n)
		if _, err := f.WriteAt(zeros[:k], off); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}
