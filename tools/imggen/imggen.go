// Package imggen builds a full flash update (FFU) image from a package selection, as
// ImgGen.cmd / ImageApp.exe do: device layout and platform from their packages, partitions,
// file systems, every selected package installed at its device paths, the update records, the
// FFU and its side files (FORMATS.md sections 3 and 5).
package imggen

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/layout"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Device paths ImageApp reads or writes.
const (
	DeviceLayoutPath   = `\Windows\ImageUpdate\DeviceLayout.xml`
	DevicePlatformPath = `\Windows\ImageUpdate\OEMDevicePlatform.xml`
	UpdateHistoryPath  = `\Windows\ImageUpdate\UpdateHistory.xml`
	UpdateOutputPath   = `\SharedData\DuShared\UpdateOutput.xml`
)

// SideFiles are the files ImgGen writes next to <name>.ffu, by suffix.
var SideFiles = []string{"ImageApp.log", "UpdateInput.xml", "UpdateOutput.xml", "UpdateHistory.xml", "PackageList.xml", "cat"}

// DefaultTime stamps the update records and file systems: fixed, so that images are
// reproducible; SOURCE_DATE_EPOCH overrides it.
var DefaultTime = time.Date(2015, 7, 29, 0, 0, 0, 0, time.UTC)

// Options of a build.
type Options struct {
	Output   string // the .ffu path; side files go next to it
	Time     time.Time
	Timings  bool // record durations in the log (not reproducible)
	Progress io.Writer
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

// Build makes the image of sel (whose packages carry their host paths) for the OEMInput o.
func Build(sel *resolve.Selection, o *manifest.OEMInput, opt Options) (err error) {
	if opt.Time.IsZero() {
		opt.Time = DefaultTime
	}
	log := &logger{progress: opt.Progress, timings: opt.Timings, start: time.Now()}
	log.printf("oemimage imggen: %s from %s (Product %q, CPU %s, %s %s)", filepath.Base(opt.Output), filepath.Base(o.File), sel.Product, sel.CPUType, sel.ReleaseType, sel.BuildType)
	if !opt.Timings {
		log.printf("durations are not recorded, so that this log is reproducible")
	}

	// Open every package once; its manifest decides partition and device paths.
	t := time.Now()
	pkgs := make([]*spkg.Package, len(sel.Packages))
	defer func() {
		for _, p := range pkgs {
			if p != nil {
				p.Close()
			}
		}
	}()
	for i, sp := range sel.Packages {
		if sp.HostPath == "" {
			return fmt.Errorf("package %s was not located", sp.Name)
		}
		p, err := spkg.Open(sp.HostPath)
		if err != nil {
			return err
		}
		pkgs[i] = p
		if err := checkPackage(sel, sp, p.Manifest); err != nil {
			return err
		}
	}
	log.printf("%d packages selected from %d feature manifests", len(pkgs), len(sel.FMs))
	if strings.EqualFold(sel.ReleaseType, "Production") {
		log.printf("warning: Production image built from unsigned packages: catalog signing is not implemented yet, so no signature was checked")
	}
	log.step("opening packages", t)

	// Device layout and device platform, from their packages as ImageApp finds them.
	t = time.Now()
	layoutPkg, layoutXML, err := findFile(sel, pkgs, DeviceLayoutPath, manifest.GroupDeviceLayout, manifest.GroupSOC)
	if err != nil {
		return err
	}
	dl, err := layout.ParseDeviceLayout(layoutPkg+DeviceLayoutPath, layoutXML)
	if err != nil {
		return err
	}
	platformPkg, platformXML, err := findFile(sel, pkgs, DevicePlatformPath, manifest.GroupOEMDevicePlatform, manifest.GroupDevice)
	if err != nil {
		return fmt.Errorf("%v: image creation needs a valid OEMDevicePlatform.xml", err)
	}
	for i, sp := range sel.Packages {
		if sp.Name == platformPkg {
			if err := resolve.CheckDevicePlatformOwner(sel.Product, platformPkg, pkgs[i].Manifest.OwnerType); err != nil {
				return err
			}
		}
	}
	dp, err := layout.ParseDevicePlatform(platformPkg+DevicePlatformPath, platformXML)
	if err != nil {
		return err
	}
	log.printf("device layout v%d from %s, device platform %s from %s", dl.Version, layoutPkg, strings.Join(dp.DevicePlatformIDs, ", "), platformPkg)

	store := dl.MainStore()
	diskSectors := dp.MinSectorCount
	if store.SizeInSectors != 0 {
		diskSectors = store.SizeInSectors
	}
	if o.FormatDPP && dl.Partition("DPP") == nil {
		return fmt.Errorf("%s: FormatDPP is true, but the device layout (%s) has no DPP partition to format", o.File, layoutPkg)
	}
	seed := imageSeed(o, sel, pkgs, layoutXML)
	used := partitionBytes(pkgs)
	extra := map[string]uint64{"mainos": dp.AdditionalMainOSFreeSectorsRequest + dp.MainOSRTCDataReservedSectors}
	if dp.MMOSPartitionTotalSectorsOverride != 0 {
		if p := dl.Partition("MMOS"); p != nil {
			p.TotalSectors = dp.MMOSPartitionTotalSectorsOverride
		}
	}
	plan, err := layout.Place(dl, store, diskSectors, func(name string) uint64 {
		return estimateSectors(used[strings.ToLower(name)], uint64(dl.SectorSize))
	}, extra, seed)
	if err != nil {
		return err
	}
	for _, p := range plan.Partitions {
		fs := p.FileSystem
		if fs == "" {
			fs = "raw"
		}
		log.printf("partition %-10s %-5s sectors %d-%d (%d MiB)", p.Name, fs, p.FirstLBA, p.LastLBA, p.Sectors()*uint64(plan.SectorSize)>>20)
	}
	log.step("device layout", t)

	// The raw disk, as a sparse temporary file next to the output.
	t = time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(opt.Output), ".disk-*.img")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	d, err := newDisk(tmp, plan, seed, o.FormatDPP, opt.Time)
	if err != nil {
		return err
	}
	var records []installed
	for i, p := range pkgs {
		name := filepath.Base(sel.Packages[i].HostPath)
		if err := d.install(name, p); err != nil {
			return err
		}
		records = append(records, installed{File: name, Manifest: p.Manifest})
	}
	history, err := updateHistory(sel.Description, records, opt.Time)
	if err != nil {
		return err
	}
	output, err := updateOutput(sel.Description, records)
	if err != nil {
		return err
	}
	if err := d.addFile("MainOS", UpdateHistoryPath, history); err != nil {
		return err
	}
	if plan.Partition("Data") != nil {
		if err := d.addFile("Data", UpdateOutputPath, output); err != nil {
			return err
		}
	} else {
		log.printf("no Data partition: UpdateOutput.xml is written next to the image only")
	}
	extents, err := d.close()
	if err != nil {
		return err
	}
	for _, p := range plan.Partitions {
		if v := d.volumes[strings.ToLower(p.Name)]; v.fs != nil {
			log.printf("partition %s: %s, %d MiB of files", p.Name, v.fs.Name(), v.fs.Used()>>20)
		}
	}
	log.step("installing packages", t)

	// The FFU.
	t = time.Now()
	img := &ffu.Image{
		Disk:        tmp,
		DiskSize:    int64(plan.DiskSectors) * int64(plan.SectorSize),
		SectorSize:  plan.SectorSize,
		ChunkSizeKB: dl.ChunkSizeKB,
		Description: sel.Description,
		OSVersion:   osVersion(pkgs),
		PlatformIDs: dp.DevicePlatformIDs,
		Store: ffu.StoreInfo{
			StoreID:                       store.ID,
			IsMainOSStore:                 true,
			DevicePath:                    store.DevicePath,
			OnlyAllocateDefinedGptEntries: store.OnlyAllocateDefinedGptEntries,
		},
		V2:          dl.Version == 2,
		CatalogTime: opt.Time,
	}
	for _, p := range plan.Partitions {
		if p.Meta {
			continue // MBR_META is not in the layout, so not in the manifest
		}
		typ, id := "{"+strings.ToLower(strings.Trim(p.Type, "{}"))+"}", "{"+p.GUID+"}"
		if plan.MBR {
			// The layout's type byte as written, and an Id only if the layout gives one, as
			// ImageApp writes the manifest of an MBR image.
			typ, id = p.Type, p.ID
		}
		img.Partitions = append(img.Partitions, ffu.Partition{
			Name: p.Name, FirstLBA: p.FirstLBA, LastLBA: p.LastLBA, RequiredToFlash: p.RequiredToFlash,
			Type: typ, ID: id, FileSystem: p.FileSystem,
			ReadOnly: p.ReadOnly, Hidden: p.Hidden, AttachDriveLetter: p.AttachDriveLetter, Bootable: p.Bootable,
			UseAllSpace: p.UseAllSpace, ByteAlignment: uint32(p.ByteAlignment), ClusterSize: uint32(p.ClusterSize),
		})
	}
	for _, e := range extents {
		img.Allocated = append(img.Allocated, ffu.Extent{Offset: e.Offset, Length: e.Length})
	}
	// The FFU and its side files are one set of outputs: all of them or none.
	var out atomicfile.Set
	defer out.Abort()
	f, err := out.Create(opt.Output)
	if err != nil {
		return err
	}
	res, err := ffu.Write(f, img)
	if err != nil {
		return fmt.Errorf("%s: %w", opt.Output, err)
	}
	log.printf("FFU: %d bytes, %d MiB of payload in %d+%d+%d blocks, chunk %d KB", res.Size, res.PayloadBytes>>20, res.Phase1, res.Phase2, res.Phase3, chunkKB(dl))
	log.step("writing the FFU", t)

	// Side files.
	var input bytes.Buffer
	if err := sel.WriteUpdateInput(&input); err != nil {
		return err
	}
	list, err := packageList(records)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(opt.Output, filepath.Ext(opt.Output))
	if opt.Timings {
		log.printf("total: %.2f s", time.Since(log.start).Seconds())
	}
	side := map[string][]byte{
		"UpdateInput.xml":   input.Bytes(),
		"UpdateOutput.xml":  output,
		"UpdateHistory.xml": history,
		"PackageList.xml":   list,
		"cat":               res.Catalog,
		"ImageApp.log":      log.buf.Bytes(),
	}
	for _, suffix := range SideFiles {
		if err := out.WriteFile(base+"."+suffix, side[suffix]); err != nil {
			return err
		}
	}
	return out.Commit()
}

func chunkKB(dl *layout.DeviceLayout) uint32 {
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
func findFile(sel *resolve.Selection, pkgs []*spkg.Package, devicePath string, groups ...manifest.Group) (string, []byte, error) {
	for _, g := range groups {
		var found []int
		for i, sp := range sel.Packages {
			if !fromGroup(sp, g) {
				continue
			}
			for _, fe := range pkgs[i].Manifest.Files {
				if strings.EqualFold(fe.DevicePath, devicePath) {
					found = append(found, i)
					break
				}
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			data, err := pkgs[found[0]].ReadFile(devicePath)
			return sel.Packages[found[0]].Name, data, err
		default:
			return "", nil, fmt.Errorf("%s is in more than one package (%s and %s); expected one", devicePath, sel.Packages[found[0]].Name, sel.Packages[found[1]].Name)
		}
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Element())
	}
	return "", nil, fmt.Errorf("no selected package of %s holds %s", strings.Join(names, " or "), devicePath)
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
func partitionBytes(pkgs []*spkg.Package) map[string]uint64 {
	out := map[string]uint64{}
	for _, p := range pkgs {
		b, n := p.InstalledBytes()
		// Each file may waste up to a 4 KiB cluster and a few directory entries.
		out[strings.ToLower(p.Manifest.Partition)] += uint64(b) + uint64(n)*(4096+128)
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
func imageSeed(o *manifest.OEMInput, sel *resolve.Selection, pkgs []*spkg.Package, layoutXML []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", o.Description, sel.Product, sel.CPUType, sel.ReleaseType, sel.BuildType)
	for _, p := range pkgs {
		fmt.Fprintf(h, "%s %s %s\n", p.Manifest.Name(), p.Manifest.Version, p.Manifest.Partition)
	}
	h.Write(layoutXML)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// osVersion is the version of the operating system in the image: that of its first
// Microsoft-owned package (the kit's packages share the OS build number).
func osVersion(pkgs []*spkg.Package) string {
	for _, p := range pkgs {
		if p.Manifest.OwnerType == "Microsoft" {
			return p.Manifest.Version.String()
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
