// Package imggen builds a full flash update (FFU) image from a package selection, as
// ImgGen.cmd / ImageApp.exe do: device layout and platform from their packages, partitions,
// file systems, every selected package installed at its device paths, the update records, the
// FFU and its side files (FORMATS.md sections 3 and 5).
package imggen

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oemimage/rules_oemimage/tools/devicelayout"
	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/layout"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// SideFiles are the files ImgGen writes next to <name>.ffu, by suffix.
var SideFiles = []string{"ImageApp.log", "UpdateInput.xml", "UpdateOutput.xml", "UpdateHistory.xml", "PackageList.xml", "cat"}

// Options of a build.
type Options struct {
	Output   string // the .ffu path; side files go next to it
	Time     time.Time
	Timings  bool // record durations in the log (not reproducible)
	Progress io.Writer
	// Packages opens the selected packages; nil opens them for this build alone. A run that
	// read the packages before (the customization flow's policy files) passes its set, so
	// each package is opened once.
	Packages *PackageSet
	// ExtraFiles are written with the image, in the same all-or-nothing set of outputs
	// (path -> content), e.g. the list of inputs a run did not read.
	ExtraFiles map[string][]byte
	// Workers decompress packages ahead of the file-system writer; 0 means GOMAXPROCS. The
	// image does not depend on it.
	Workers int
	// TrustedRoots, when set, are the roots a Production image's package catalogs must chain
	// to: each package's content.cat must be signed by a certificate chaining to one of them,
	// and list every file of the package with its digest (spkg.Package.CheckCatalog), or the
	// build fails naming the package and the file. Test images are not checked, as the
	// original accepts unsigned packages in them.
	TrustedRoots *x509.CertPool
	// TSARoots, with TrustedRoots, are the roots timestamp servers must chain to; a catalog
	// timestamped by one is checked at its timestamp's time (catalog.Trust.TSARoots).
	TSARoots *x509.CertPool
}

type logger struct {
	buf      bytes.Buffer
	progress io.Writer
	timings  bool
	start    time.Time
}

func (l *logger) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.buf.WriteString(line + "\r\n")
	if l.progress != nil {
		fmt.Fprintln(l.progress, line)
	}
}

func (l *logger) step(what string, since time.Time) {
	if l.timings {
		l.printf("%s: done in %.2f s", what, time.Since(since).Seconds())
	} else {
		l.printf("%s: done", what)
	}
}

// PackageSet opens each package file once and keeps it open until Close.
type PackageSet struct {
	open map[string]*spkg.Package // cleaned host path -> package
}

// NewPackageSet returns an empty set.
func NewPackageSet() *PackageSet { return &PackageSet{open: map[string]*spkg.Package{}} }

// Open returns the package at path, opened on the first call.
func (s *PackageSet) Open(path string) (*spkg.Package, error) {
	key := filepath.Clean(path)
	if p, ok := s.open[key]; ok {
		return p, nil
	}
	p, err := spkg.Open(path)
	if err != nil {
		return nil, err
	}
	s.open[key] = p
	return p, nil
}

// Release closes the package at path and forgets it (a later Open opens it again): Build
// releases each package once its files are in the image, so that a kit's packages are not
// all held until the end of the run.
func (s *PackageSet) Release(path string) {
	key := filepath.Clean(path)
	if p, ok := s.open[key]; ok {
		p.Close()
		delete(s.open, key)
	}
}

// Close closes every package the set opened.
func (s *PackageSet) Close() {
	for k, p := range s.open {
		p.Close()
		delete(s.open, k)
	}
}

// imagePackage is one package of the image: why it was selected, and its opened file.
type imagePackage struct {
	sel  *resolve.Package
	file string // the package file's name, as the update records give it
	pkg  *spkg.Package
	// check is the catalog check a Production image's trusted root asks for: the signature
	// is checked when the package is opened, the file hashes as the files are installed.
	check *spkg.CatalogCheck
}

// build is the state of one Build, step by step.
type build struct {
	sel  *resolve.Selection
	opt  Options
	log  *logger
	pkgs []*imagePackage

	// place
	dl        *devicelayout.DeviceLayout
	dp        *devicelayout.DevicePlatform
	layoutXML []byte
	plan      *layout.Plan
	seed      string

	// install
	records         []installed
	history, output []byte
	ffu             *ffu.Layout
	ffuDisk         *ffu.Disk
}

// Build makes the image of sel (whose packages carry their host paths): the FFU at
// opt.Output and its side files, all or none. Its steps are those the log records: opening
// the packages, the device layout, installing the packages, the FFU, the side files.
func Build(sel *resolve.Selection, opt Options) error {
	if opt.Time.IsZero() {
		opt.Time = imageconst.Epoch
	}
	if opt.Packages == nil {
		opt.Packages = NewPackageSet()
		defer opt.Packages.Close()
	}
	b := &build{sel: sel, opt: opt, log: &logger{progress: opt.Progress, timings: opt.Timings, start: time.Now()}}
	b.log.printf("oemimage imggen: %s from %s (Product %q, CPU %s, %s %s)", filepath.Base(opt.Output), filepath.Base(sel.OEMInput), sel.Product, sel.CPUType, sel.ReleaseType, sel.BuildType)
	if !opt.Timings {
		b.log.printf("durations are not recorded, so that this log is reproducible")
	}
	if err := b.openPackages(); err != nil {
		return err
	}
	if err := b.place(); err != nil {
		return err
	}
	// The FFU and its side files are one set of outputs: all of them or none.
	var out atomicfile.Set
	defer out.Abort()
	if err := b.install(&out); err != nil {
		return err
	}
	catalog, err := b.writeFFU()
	if err != nil {
		return err
	}
	if err := b.writeSideFiles(&out, catalog); err != nil {
		return err
	}
	return out.Commit()
}

// openPackages opens every selected package once; its manifest decides partition and device
// paths.
func (b *build) openPackages() error {
	t := time.Now()
	for _, sp := range b.sel.Packages {
		if sp.HostPath == "" {
			return fmt.Errorf("package %s was not located", sp.Name)
		}
		p, err := b.opt.Packages.Open(sp.HostPath)
		if err != nil {
			return err
		}
		b.pkgs = append(b.pkgs, &imagePackage{sel: sp, file: filepath.Base(sp.HostPath), pkg: p})
		if err := checkPackage(b.sel, sp, p.Manifest); err != nil {
			return err
		}
	}
	b.log.printf("%d packages selected from %d feature manifests", len(b.pkgs), len(b.sel.FMs))
	if strings.EqualFold(b.sel.ReleaseType, "Production") {
		if b.opt.TrustedRoots == nil {
			b.log.printf("warning: Production image built without a trusted root (--trusted-root): the packages' catalog signatures and file hashes were not checked")
		} else {
			for _, ip := range b.pkgs {
				// A binary partition package is read whole by its own installer: checked here.
				// The others' file hashes are checked while install writes them.
				open := ip.pkg.OpenCatalogTrust
				if ip.pkg.Manifest.IsBinaryPartition {
					open = ip.pkg.CheckCatalogTrust
				}
				check, err := open(catalog.Trust{Roots: b.opt.TrustedRoots, TSARoots: b.opt.TSARoots})
				if err != nil {
					return fmt.Errorf("Production image: %v", err)
				}
				ip.check = check
			}
		}
	}
	b.log.step("opening packages", t)
	return nil
}

// withNotes adds to a failure to find the layout or platform what the selection could not
// match (a mistyped <SOC> or <Device>, with the values the FMs offer).
func (b *build) withNotes(err error) error {
	if len(b.sel.Notes) == 0 {
		return err
	}
	return fmt.Errorf("%v; %s", err, strings.Join(b.sel.Notes, "; "))
}

// place reads the device layout and device platform from their packages, as ImageApp finds
// them, and places the partitions.
func (b *build) place() error {
	t := time.Now()
	layoutPkg, layoutXML, err := findFile(b.pkgs, imageconst.DeviceLayoutPath, manifest.GroupDeviceLayout, manifest.GroupSOC)
	if err != nil {
		return b.withNotes(err)
	}
	dl, err := devicelayout.ParseDeviceLayout(layoutPkg.sel.Name+imageconst.DeviceLayoutPath, layoutXML)
	if err != nil {
		return err
	}
	platformPkg, platformXML, err := findFile(b.pkgs, imageconst.DevicePlatformPath, manifest.GroupOEMDevicePlatform, manifest.GroupDevice)
	if err != nil {
		return b.withNotes(fmt.Errorf("%v: image creation needs a valid OEMDevicePlatform.xml", err))
	}
	if err := resolve.CheckDevicePlatformOwner(b.sel.Product, platformPkg.sel.Name, platformPkg.pkg.Manifest.OwnerType); err != nil {
		return err
	}
	dp, err := devicelayout.ParseDevicePlatform(platformPkg.sel.Name+imageconst.DevicePlatformPath, platformXML)
	if err != nil {
		return err
	}
	b.log.printf("device layout v%d from %s, device platform %s from %s", dl.Version, layoutPkg.sel.Name, strings.Join(dp.DevicePlatformIDs, ", "), platformPkg.sel.Name)

	store := dl.MainStore()
	diskSectors := dp.MinSectorCount
	if store.SizeInSectors != 0 {
		diskSectors = store.SizeInSectors
	}
	if b.sel.FormatDPP && dl.Partition("DPP") == nil {
		return fmt.Errorf("%s: FormatDPP is true, but the device layout (%s) has no DPP partition to format", b.sel.OEMInput, layoutPkg.sel.Name)
	}
	b.seed = imageSeed(b.sel, b.pkgs, layoutXML)
	used := partitionBytes(b.pkgs)
	extra := map[string]uint64{"mainos": dp.AdditionalMainOSFreeSectorsRequest + dp.MainOSRTCDataReservedSectors}
	if dp.MMOSPartitionTotalSectorsOverride != 0 {
		if p := dl.Partition("MMOS"); p != nil {
			p.TotalSectors = dp.MMOSPartitionTotalSectorsOverride
		}
	}
	plan, err := layout.Place(dl, store, diskSectors, func(name string) uint64 {
		return estimateSectors(used[strings.ToLower(name)], uint64(dl.SectorSize))
	}, extra, b.seed)
	if err != nil {
		// Name where the disk size comes from: the platform package's MinSectorCount, or the
		// layout's own SizeInSectors.
		if store.SizeInSectors != 0 {
			return fmt.Errorf("%v (the disk size is SizeInSectors %d of the store in %s%s)", err, store.SizeInSectors, layoutPkg.sel.Name, imageconst.DeviceLayoutPath)
		}
		return fmt.Errorf("%v (the disk size is MinSectorCount %d of %s%s)", err, dp.MinSectorCount, platformPkg.sel.Name, imageconst.DevicePlatformPath)
	}
	for _, p := range plan.Partitions {
		fs := p.Layout.FileSystem
		if fs == "" {
			fs = "raw"
		}
		b.log.printf("partition %-10s %-5s sectors %d-%d (%d MiB)", p.Name, fs, p.FirstLBA, p.LastLBA, p.Sectors()*uint64(plan.SectorSize)>>20)
	}
	b.log.step("device layout", t)
	b.dl, b.dp, b.layoutXML, b.plan = dl, dp, layoutXML, plan
	return nil
}

// install lays the image out, then writes the partitions, their file systems, every package
// and the update records straight into the FFU's payload, staged in out. There is no raw disk:
// a first pass over the packages' file lists (decompressing nothing) gives the extents the file
// systems will allocate, from which the FFU is laid out (ffu.Layout); the second pass writes
// the content where the FFU stores it, and must allocate the same.
func (b *build) install(out *atomicfile.Set) error {
	t := time.Now()
	// The layout pass makes the writes the second pass will make, with other bytes: counting
	// them per block lets the FFU hash each chunk once its blocks have all been written
	// (ffu.Disk.ExpectWrites) instead of reading the whole file back at the end.
	counts := ffu.NewBlockCounts(int64(b.plan.DiskSectors) * int64(b.plan.SectorSize))
	planned, _, err := b.fill(counts, true)
	if err != nil {
		return err
	}
	tables := &tableDisk{}
	if err := writeTables(tables, b.plan); err != nil {
		return err
	}
	b.ffu, err = b.ffuImage(tables, planned).Plan()
	if err != nil {
		return fmt.Errorf("%s: %w", b.opt.Output, err)
	}
	f, err := out.Create(b.opt.Output)
	if err != nil {
		return err
	}
	if b.ffuDisk, err = b.ffu.Disk(f); err != nil {
		return err
	}
	b.ffuDisk.ExpectWrites(counts)
	extents, d, err := b.fill(b.ffuDisk, false)
	if err != nil {
		return err
	}
	if !slices.Equal(extents, planned) {
		return fmt.Errorf("internal error: the file systems allocated %d extents, not the %d laid out (a writer whose allocation depends on content?)", len(extents), len(planned))
	}
	for _, p := range b.plan.Partitions {
		if v := d.volumes[strings.ToLower(p.Name)]; v.fs != nil {
			b.log.printf("partition %s: %s, %d MiB of files", p.Name, v.fs.Name(), v.fs.Used()>>20)
		}
	}
	if b.opt.TrustedRoots != nil && strings.EqualFold(b.sel.ReleaseType, "Production") {
		files := 0
		for _, p := range b.pkgs {
			files += p.check.Files
		}
		b.log.printf("catalogs of %d packages verified against the trusted root: signatures and %d file hashes", len(b.pkgs), files)
	}
	b.log.step("installing packages", t)
	return nil
}

// fill writes the partitions, file systems, packages and update records to w and returns the
// extents that hold data; dry lays them out only (diskImage.dry), leaving the packages open
// and unchecked for the pass that writes them.
func (b *build) fill(w io.WriterAt, dry bool) ([]disk.Extent, *diskImage, error) {
	d, err := newDisk(w, b.plan, b.seed, b.sel.FormatDPP, b.opt.Time, dry)
	if err != nil {
		return nil, nil, err
	}
	b.records = b.records[:0]
	if dry {
		for _, p := range b.pkgs {
			if err := d.install(p.file, p.pkg); err != nil {
				return nil, nil, err
			}
			b.records = append(b.records, installed{File: p.file, Manifest: p.pkg.Manifest.Header()})
		}
	} else if err := b.installAll(d); err != nil {
		return nil, nil, err
	}
	if b.history, err = updateHistory(b.sel.Description, b.records, b.opt.Time); err != nil {
		return nil, nil, err
	}
	if b.output, err = updateOutput(b.sel.Description, b.records); err != nil {
		return nil, nil, err
	}
	if err := d.addFile("MainOS", imageconst.UpdateHistoryPath, b.history); err != nil {
		return nil, nil, err
	}
	if b.plan.Partition("Data") != nil {
		if err := d.addFile("Data", imageconst.UpdateOutputPath, b.output); err != nil {
			return nil, nil, err
		}
	} else if !dry {
		b.log.printf("no Data partition: UpdateOutput.xml is written next to the image only")
	}
	extents, err := d.close()
	if err != nil {
		return nil, nil, err
	}
	return extents, d, nil
}

// installAll installs every package into d, decompressed ahead by the prefetcher, checked
// against its catalog when that is asked, and released once installed.
func (b *build) installAll(d *diskImage) error {
	pkgs := make([]*spkg.Package, len(b.pkgs))
	for i, p := range b.pkgs {
		pkgs[i] = p.pkg
	}
	checks := make([]*spkg.CatalogCheck, len(b.pkgs))
	for i, p := range b.pkgs {
		if !p.pkg.Manifest.IsBinaryPartition {
			checks[i] = p.check
		}
	}
	pf := newPrefetcher(pkgs, checks, func(i int) bool { return pkgs[i].Manifest.IsBinaryPartition }, b.opt.Workers)
	defer pf.close()
	last := lastUses(b.pkgs)
	for i, p := range b.pkgs {
		dec := pf.next(i)
		err := d.installDecoded(p.file, p.pkg, dec, checks[i])
		pf.done(dec)
		if err != nil {
			return err
		}
		b.records = append(b.records, installed{File: p.file, Manifest: p.pkg.Manifest.Header()})
		if last[p.pkg] == i {
			b.release(i)
			pf.forget(i)
		}
	}
	return nil
}

// lastUses gives, for each opened package, the index of the last image package that is it
// (a selection naming one file twice installs it twice, and fails on its files).
func lastUses(pkgs []*imagePackage) map[*spkg.Package]int {
	last := make(map[*spkg.Package]int, len(pkgs))
	for i, p := range pkgs {
		last[p.pkg] = i
	}
	return last
}

// release lets go of image package i once its files are installed: its file, manifest
// details and cabinet index are not needed again (the records keep its manifest's header),
// and 20,000 of them held to the end are tens of MiB.
func (b *build) release(i int) {
	p := b.pkgs[i]
	b.opt.Packages.Release(p.sel.HostPath)
	p.pkg = nil
}

// ffuImage describes the FFU of the image laid out in planned, with the partition tables on
// tables.
func (b *build) ffuImage(tables io.ReaderAt, planned []disk.Extent) *ffu.Image {
	dl, plan, store := b.dl, b.plan, b.dl.MainStore()
	return &ffu.Image{
		Disk:        tables,
		DiskSize:    int64(plan.DiskSectors) * int64(plan.SectorSize),
		SectorSize:  plan.SectorSize,
		ChunkSizeKB: dl.ChunkSizeKB,
		Description: b.sel.Description,
		OSVersion:   osVersion(b.records),
		PlatformIDs: b.dp.DevicePlatformIDs,
		Store: ffu.StoreInfo{
			StoreID:                       store.ID,
			IsMainOSStore:                 true,
			DevicePath:                    store.DevicePath,
			OnlyAllocateDefinedGptEntries: store.OnlyAllocateDefinedGptEntries,
		},
		V2:          dl.Version == 2,
		CatalogTime: b.opt.Time,
		Partitions:  ffuPartitions(plan),
		Allocated:   planned,
	}
}

// writeFFU finishes the FFU install wrote the payload of; it returns the FFU's catalog.
func (b *build) writeFFU() ([]byte, error) {
	t := time.Now()
	res, err := b.ffu.Finish(b.ffuDisk)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.opt.Output, err)
	}
	b.log.printf("FFU: %d bytes, %d MiB of payload in %d+%d+%d blocks, chunk %d KB", res.Size, res.PayloadBytes>>20, res.Phase1, res.Phase2, res.Phase3, chunkKB(b.dl))
	b.log.step("writing the FFU", t)
	return res.Catalog, nil
}

// ffuPartitions are the partitions of the FFU's manifest.
func ffuPartitions(plan *layout.Plan) []ffu.Partition {
	var out []ffu.Partition
	for _, p := range plan.Partitions {
		if p.Meta {
			continue // MBR_META is not in the layout, so not in the manifest
		}
		l := p.Layout
		typ, id := "{"+strings.ToLower(p.Type)+"}", "{"+p.GUID+"}"
		if plan.MBR {
			// The layout's type byte as written, and an Id only if the layout gives one, as
			// ImageApp writes the manifest of an MBR image.
			typ, id = l.Type, l.ID
		}
		out = append(out, ffu.Partition{
			Name: p.Name, FirstLBA: p.FirstLBA, LastLBA: p.LastLBA, RequiredToFlash: l.RequiredToFlash,
			Type: typ, ID: id, FileSystem: l.FileSystem,
			ReadOnly: l.ReadOnly, Hidden: l.Hidden, AttachDriveLetter: l.AttachDriveLetter, Bootable: l.Bootable,
			UseAllSpace: l.UseAllSpace, ByteAlignment: uint32(l.ByteAlignment), ClusterSize: uint32(l.ClusterSize),
		})
	}
	return out
}

// writeSideFiles stages ImgGen's side files next to the FFU, then the extra files.
func (b *build) writeSideFiles(out *atomicfile.Set, catalog []byte) error {
	var input bytes.Buffer
	if err := b.sel.WriteUpdateInput(&input); err != nil {
		return err
	}
	list, err := packageList(b.records)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(b.opt.Output, filepath.Ext(b.opt.Output))
	if b.opt.Timings {
		b.log.printf("total: %.2f s", time.Since(b.log.start).Seconds())
	}
	side := map[string][]byte{
		"UpdateInput.xml":   input.Bytes(),
		"UpdateOutput.xml":  b.output,
		"UpdateHistory.xml": b.history,
		"PackageList.xml":   list,
		"cat":               catalog,
		"ImageApp.log":      b.log.buf.Bytes(),
	}
	for _, suffix := range SideFiles {
		if err := out.WriteFile(base+"."+suffix, side[suffix]); err != nil {
			return err
		}
	}
	paths := make([]string, 0, len(b.opt.ExtraFiles))
	for p := range b.opt.ExtraFiles {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := out.WriteFile(p, b.opt.ExtraFiles[p]); err != nil {
			return err
		}
	}
	return nil
}

func chunkKB(dl *devicelayout.DeviceLayout) uint32 {
	if dl.ChunkSizeKB == 0 {
		return ffu.DefaultChunkSizeKB
	}
	return dl.ChunkSizeKB
}

// checkPackage applies ImageApp's rules to a package against the image.
func checkPackage(sel *resolve.Selection, sp *resolve.Package, m *spkg.Manifest) error {
	if !strings.EqualFold(m.CpuType, sel.CPUType) && !strings.HasPrefix(strings.ToLower(m.CpuType), strings.ToLower(sel.CPUType)+"_") {
		return fmt.Errorf("%s is built for CPU %s, the image for %s", sp.Name, m.CpuType, sel.CPUType)
	}
	if strings.EqualFold(sel.ReleaseType, "Production") {
		if m.ReleaseType != "Production" {
			return fmt.Errorf("%s is a %s package; a Production image takes Production packages only", sp.Name, m.ReleaseType)
		}
		if m.BuildType != "Retail" {
			return fmt.Errorf("%s is a %s build; a Production image takes retail (fre) packages only", sp.Name, m.BuildType)
		}
	}
	return nil
}

// findFile finds the package holding devicePath: first among packages selected from the
// preferred group, then from the fallback group; two candidates are an error.
func findFile(pkgs []*imagePackage, devicePath string, groups ...manifest.Group) (*imagePackage, []byte, error) {
	for _, g := range groups {
		var found []*imagePackage
		for _, p := range pkgs {
			if !fromGroup(p.sel, g) {
				continue
			}
			for _, fe := range p.pkg.Manifest.Files {
				if strings.EqualFold(fe.DevicePath, devicePath) {
					found = append(found, p)
					break
				}
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			data, err := found[0].pkg.ReadFile(devicePath)
			return found[0], data, err
		default:
			return nil, nil, fmt.Errorf("%s is in more than one package (%s and %s); expected one", devicePath, found[0].sel.Name, found[1].sel.Name)
		}
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Element())
	}
	return nil, nil, fmt.Errorf("no selected package of %s holds %s", strings.Join(names, " or "), devicePath)
}

func fromGroup(sp *resolve.Package, g manifest.Group) bool {
	for _, r := range sp.Reasons {
		if r.Group == g {
			return true
		}
	}
	return false
}

// partitionBytes sums what packages install, by lower-case partition name.
func partitionBytes(pkgs []*imagePackage) map[string]uint64 {
	out := map[string]uint64{}
	for _, p := range pkgs {
		b, n := p.pkg.InstalledBytes()
		// Each file may waste up to a 4 KiB cluster and a few directory entries.
		out[strings.ToLower(p.pkg.Manifest.Partition)] += uint64(b) + uint64(n)*(4096+128)
	}
	return out
}

// estimateSectors is the size of a file system holding content bytes: the content, the FATs
// (about 0.2% at 4 KiB clusters) and 1 MiB for reserved sectors and directories.
func estimateSectors(content, sectorSize uint64) uint64 {
	total := content + content/500 + 1<<20
	return (total + sectorSize - 1) / sectorSize
}

// imageSeed makes the GUIDs and volume serials of an image depend on what defines it.
func imageSeed(sel *resolve.Selection, pkgs []*imagePackage, layoutXML []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", sel.Description, sel.Product, sel.CPUType, sel.ReleaseType, sel.BuildType)
	for _, p := range pkgs {
		m := p.pkg.Manifest
		fmt.Fprintf(h, "%s %s %s\n", m.Name(), m.Version, m.Partition)
	}
	h.Write(layoutXML)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// osVersion is the version of the operating system in the image: that of its first
// Microsoft-owned package (the kit's packages share the OS build number).
func osVersion(records []installed) string {
	for _, r := range records {
		if m := r.Manifest; m.OwnerType == "Microsoft" {
			return m.Version.String()
		}
	}
	return ""
}

// EpochFromEnv returns SOURCE_DATE_EPOCH from env as a time, or the zero time.
func EpochFromEnv(env map[string]string) (time.Time, error) {
	s, ok := env["SOURCE_DATE_EPOCH"]
	if !ok || s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
