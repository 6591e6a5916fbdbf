package imggen

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

const testPlatform = `<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
<MinSectorCount>1048576</MinSectorCount><DevicePlatformID>Test.Device</DevicePlatformID></OEMDevicePlatform>`

// selection makes packages for a small image and the selection ImgGen gets from resolve.
func selection(t *testing.T, dir, release string, layoutXML string) (*resolve.Selection, *manifest.OEMInput) {
	t.Helper()
	pkg := func(comp, part string, files map[string]string, g manifest.Group) *resolve.Package {
		name, _ := makePackage(t, dir, "Contoso", comp, part, files)
		return &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name, HostPath: filepath.Join(dir, name),
			Reasons: []resolve.Reason{{FeatureID: string(g), Group: g}}}
	}
	sel := &resolve.Selection{Description: "test image", Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: release}
	sel.Packages = []*resolve.Package{
		pkg("MainOS", "MainOS", map[string]string{`\Windows\System32\ntoskrnl.exe`: "kernel"}, manifest.GroupBase),
		pkg("EFIESP", "EFIESP", map[string]string{`\efi\boot.efi`: "boot"}, manifest.GroupBase),
		pkg("Layout", "MainOS", map[string]string{DeviceLayoutPath: layoutXML}, manifest.GroupDeviceLayout),
		pkg("Platform", "MainOS", map[string]string{DevicePlatformPath: testPlatform}, manifest.GroupOEMDevicePlatform),
	}
	return sel, &manifest.OEMInput{File: "OEMInput.xml", Description: "test image"}
}

func TestBuildDeterministic(t *testing.T) {
	src := t.TempDir()
	sel, o := selection(t, src, "Test", testLayout)
	var outputs [2]map[string][]byte
	for i := range outputs {
		out := t.TempDir()
		if err := Build(sel, o, Options{Output: filepath.Join(out, "image.ffu")}); err != nil {
			t.Fatal(err)
		}
		outputs[i] = map[string][]byte{}
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(out, e.Name()))
			outputs[i][e.Name()] = data
		}
	}
	if len(outputs[0]) != 1+len(SideFiles) {
		t.Errorf("outputs %d, want the FFU and %d side files (no temporary file left)", len(outputs[0]), len(SideFiles))
	}
	for name, data := range outputs[0] {
		if !bytes.Equal(data, outputs[1][name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
	if !bytes.Contains(outputs[0]["image.ImageApp.log"], []byte("durations are not recorded")) {
		t.Error("the log does not say durations are left out")
	}
}

func TestBuildRules(t *testing.T) {
	withDPP := strings.Replace(testLayout, "<Partition><Name>PLAT</Name>", `<Partition><Name>DPP</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>4096</TotalSectors><FileSystem>FAT</FileSystem></Partition><Partition><Name>PLAT</Name>`, 1)
	tests := []struct {
		name, release, layout string
		formatDPP             bool
		want                  string // "" = builds
	}{
		{"FormatDPP without DPP", "Test", testLayout, true, "has no DPP partition to format"},
		{"FormatDPP with DPP", "Test", withDPP, true, ""},
		{"Production", "Production", testLayout, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, o := selection(t, t.TempDir(), tt.release, tt.layout)
			o.FormatDPP = tt.formatDPP
			out := t.TempDir()
			err := Build(sel, o, Options{Output: filepath.Join(out, "image.ffu")})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(out); err != nil && len(entries) != 0 {
				t.Errorf("a failed build left %d files", len(entries))
			}
		})
	}
	// A package for another CPU is refused, naming it.
	sel, o := selection(t, t.TempDir(), "Production", testLayout)
	sel.CPUType = "x86"
	if err := Build(sel, o, Options{Output: filepath.Join(t.TempDir(), "image.ffu")}); err == nil || !strings.Contains(err.Error(), "built for CPU ARM, the image for x86") {
		t.Errorf("CPU mismatch: err = %v", err)
	}
}

// A phone image's device platform package must be OEM-owned (ImageApp's rule); other
// products take any owner.
func TestBuildDevicePlatformOwner(t *testing.T) {
	for _, tt := range []struct{ owner, product, want string }{
		{"OEM", "Windows Phone", ""},
		{"Microsoft", "Windows Phone", `device platform package Contoso.Platform.spkg has OwnerType "Microsoft"; a Windows Phone image takes its OEMDevicePlatform.xml from an OEM-owned package`},
		{"SiliconVendor", "Phone Manufacturing OS", `device platform package Contoso.Platform.spkg has OwnerType "SiliconVendor"`},
		{"Microsoft", "Manufacturing OS", ""},
	} {
		t.Run(tt.owner+" "+tt.product, func(t *testing.T) {
			src := t.TempDir()
			sel, o := selection(t, src, "Test", testLayout)
			sel.Product = tt.product
			p := sel.Packages[3]
			m := spkg.Manifest{
				Identity:    spkg.Identity{Owner: "Contoso", Component: "Platform", Version: spkg.Version{Major: 1}},
				ReleaseType: "Production", OwnerType: tt.owner, BuildType: "Retail", CpuType: "ARM", Partition: "MainOS",
			}
			payload := []spkg.Payload{{DevicePath: DevicePlatformPath, Size: int64(len(testPlatform)), Open: func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(testPlatform)), nil
			}}}
			if _, err := spkg.WriteFile(p.HostPath, m, payload, cab.Options{}); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			err := Build(sel, o, Options{Output: filepath.Join(out, "image.ffu")})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(out); err != nil && len(entries) != 0 {
				t.Errorf("a failed build left %d files", len(entries))
			}
		})
	}
}
