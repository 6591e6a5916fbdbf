// Package testimage writes the small image the CLI and capture tests start from: four
// packages (MainOS, EFIESP, the device layout, the device platform) on a three-partition GPT
// layout, their selection, and the FFU imggen builds of them. Tests corrupt or reuse it; one
// copy keeps their fixtures alike.
package testimage

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Layout is the image's DeviceLayout: EFIESP FAT, MainOS FAT32, Data FAT32 using all space.
const Layout = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><TotalSectors>65536</TotalSectors><FileSystem>FAT</FileSystem></Partition>
    <Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem></Partition>
    <Partition><Name>Data</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><UseAllSpace>true</UseAllSpace><FileSystem>FAT32</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize>
</DeviceLayout>`

// Platform is the image's OEMDevicePlatform.
const Platform = `<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
<MinSectorCount>1048576</MinSectorCount><DevicePlatformID>Contoso.Test.Device</DevicePlatformID></OEMDevicePlatform>`

// Options change the fixture.
type Options struct {
	// LayoutPartition is where the layout package goes ("" for MainOS). EFIESP makes an image
	// ImgGen did not make: no DeviceLayout.xml in MainOS.
	LayoutPartition string
	// Base, when set, makes the selection's host paths relative to it (the packages are still
	// written under dir), and gives every package a kit path and a reason with a source.
	Base string
	// Layout, when set, is the DeviceLayout instead of Layout (an NTFS MainOS, another size).
	Layout string
	// EditPackages, when set, changes the packages before they are written: a file's content,
	// a version, a package more or less. It gets the four of the fixture.
	EditPackages func([]Package) []Package
	// Extra are more packages (host paths) to select, as base packages.
	Extra []string
}

// Package is one package of the fixture, Contoso.<Component>, with one file.
type Package struct {
	Component, Partition string
	Path, Data           string // the file's device path and content
	Group                manifest.Group
	Version              spkg.Version
}

// packages are the fixture's four packages, version 1.0.0.0.
func (o Options) packages() []Package {
	layoutPart, layoutXML := o.LayoutPartition, o.Layout
	if layoutPart == "" {
		layoutPart = "MainOS"
	}
	if layoutXML == "" {
		layoutXML = Layout
	}
	v := spkg.Version{Major: 1}
	pkgs := []Package{
		{"MainOS", "MainOS", `\Windows\System32\ntoskrnl.exe`, "kernel", manifest.GroupBase, v},
		{"EFIESP", "EFIESP", `\efi\boot.efi`, "boot", manifest.GroupBase, v},
		{"Layout", layoutPart, imageconst.DeviceLayoutPath, layoutXML, manifest.GroupDeviceLayout, v},
		{"Platform", "MainOS", imageconst.DevicePlatformPath, Platform, manifest.GroupOEMDevicePlatform, v},
	}
	if o.EditPackages != nil {
		pkgs = o.EditPackages(pkgs)
	}
	return pkgs
}

// Packages writes the packages under dir and returns their selection.
func Packages(dir string, desc string, o Options) (*resolve.Selection, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Description: desc, Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: "Test"}
	for _, p := range o.packages() {
		m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: p.Component, Version: p.Version},
			ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: p.Partition}
		data := p.Data
		payload := []spkg.Payload{{DevicePath: p.Path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(data)), nil
		}}}
		name := m.Name() + ".spkg"
		path := filepath.Join(dir, name)
		if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
			return nil, err
		}
		pkg := &resolve.Package{ID: m.Name(), Name: name, HostPath: path, Reasons: []resolve.Reason{{FeatureID: string(p.Group), Group: p.Group}}}
		if o.Base != "" {
			rel, err := filepath.Rel(o.Base, path)
			if err != nil {
				return nil, err
			}
			pkg.HostPath, pkg.Path = rel, `C:\Kit\`+name
			pkg.Reasons[0].Source = manifest.Pos{File: "fm.xml", Line: 3, Col: 5}
		}
		sel.Packages = append(sel.Packages, pkg)
	}
	for _, path := range o.Extra {
		name := filepath.Base(path)
		sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name, HostPath: path,
			Reasons: []resolve.Reason{{FeatureID: string(manifest.GroupBase), Group: manifest.GroupBase}}})
	}
	return sel, nil
}

// FFU builds the image with imggen under dir and returns its path.
func FFU(dir, desc string, o Options) (string, error) {
	sel, err := Packages(dir, desc, o)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "image.ffu")
	if err := imggen.Build(sel, imggen.Options{Output: out}); err != nil {
		return "", err
	}
	return out, nil
}
