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

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/imggen"
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
	// Layout replaces Layout as the device layout ("" keeps it).
	Layout string
	// Extra are more packages (host paths) to select, as base packages.
	Extra []string
	// Base, when set, makes the selection's host paths relative to it (the packages are still
	// written under dir), and gives every package a kit path and a reason with a source.
	Base string
}

// Packages writes the packages under dir and returns their selection.
func Packages(dir string, desc string, o Options) (*resolve.Selection, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	layoutPart := o.LayoutPartition
	if layoutPart == "" {
		layoutPart = "MainOS"
	}
	layoutXML := Layout
	if o.Layout != "" {
		layoutXML = o.Layout
	}
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Description: desc, Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: "Test"}
	for _, p := range []struct {
		comp, part, path, data string
		g                      manifest.Group
	}{
		{"MainOS", "MainOS", `\Windows\System32\ntoskrnl.exe`, "kernel", manifest.GroupBase},
		{"EFIESP", "EFIESP", `\efi\boot.efi`, "boot", manifest.GroupBase},
		{"Layout", layoutPart, imageconst.DeviceLayoutPath, layoutXML, manifest.GroupDeviceLayout},
		{"Platform", "MainOS", imageconst.DevicePlatformPath, Platform, manifest.GroupOEMDevicePlatform},
	} {
		m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: p.comp, Version: spkg.Version{Major: 1}},
			ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: p.part}
		data := p.data
		payload := []spkg.Payload{{DevicePath: p.path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(data)), nil
		}}}
		name := m.Name() + ".spkg"
		path := filepath.Join(dir, name)
		if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
			return nil, err
		}
		pkg := &resolve.Package{ID: m.Name(), Name: name, HostPath: path, Reasons: []resolve.Reason{{FeatureID: string(p.g), Group: p.g}}}
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
