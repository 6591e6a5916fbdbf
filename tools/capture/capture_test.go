package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/wim"
)

const testLayout = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>EFIESP</Name><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><TotalSectors>65536</TotalSectors><FileSystem>FAT</FileSystem></Partition>
    <Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem></Partition>
    <Partition><Name>Data</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><UseAllSpace>true</UseAllSpace><FileSystem>FAT32</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize>
</DeviceLayout>`

const testPlatform = `<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
<MinSectorCount>1048576</MinSectorCount><DevicePlatformID>Contoso.Test.Device</DevicePlatformID></OEMDevicePlatform>`

// image builds an FFU with imggen; layout false leaves DeviceLayout.xml out of MainOS (an
// image ImgGen did not make), by putting the layout package in EFIESP.
func image(t *testing.T, layoutInMainOS bool) string {
	t.Helper()
	dir := t.TempDir()
	layoutPart := "MainOS"
	if !layoutInMainOS {
		layoutPart = "EFIESP"
	}
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Description: "capture", Product: "Windows Phone", CPUType: "arm", BuildType: "fre", ReleaseType: "Test"}
	for _, p := range []struct {
		comp, part, path, data string
		g                      manifest.Group
	}{
		{"MainOS", "MainOS", `\Windows\System32\ntoskrnl.exe`, "kernel", manifest.GroupBase},
		{"EFIESP", "EFIESP", `\efi\boot.efi`, "boot", manifest.GroupBase},
		{"Layout", layoutPart, DeviceLayoutPath, testLayout, manifest.GroupDeviceLayout},
		{"Platform", "MainOS", imggen.DevicePlatformPath, testPlatform, manifest.GroupOEMDevicePlatform},
	} {
		m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: p.comp, Version: spkg.Version{Major: 1}},
			ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: p.part}
		data := p.data
		payload := []spkg.Payload{{DevicePath: p.path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(data)), nil
		}}}
		path := filepath.Join(dir, m.Name()+".spkg")
		if _, err := spkg.WriteFile(path, m, payload, cab.Options{}); err != nil {
			t.Fatal(err)
		}
		sel.Packages = append(sel.Packages, &resolve.Package{ID: m.Name(), Name: m.Name() + ".spkg", HostPath: path,
			Reasons: []resolve.Reason{{FeatureID: string(p.g), Group: p.g}}})
	}
	out := filepath.Join(dir, "image.ffu")
	if err := imggen.Build(sel, imggen.Options{Output: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestToWIM(t *testing.T) {
	good := image(t, true)
	noLayout := image(t, false)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.ffu")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		comp    wim.Compression
		wantErr string
	}{
		{name: "LZX", in: good, comp: wim.LZX},
		{name: "XPRESS", in: good, comp: wim.XPRESS},
		{name: "none", in: good, comp: wim.None},
		{name: "no device layout in MainOS", in: noLayout, wantErr: noLayout + `: MainOS: `},
		{name: "truncated", in: truncated, wantErr: truncated},
		{name: "a directory", in: filepath.Dir(good), wantErr: filepath.Dir(good) + ": a directory; expected a regular file; no WIM written"},
		{name: "missing", in: filepath.Join(t.TempDir(), "none.ffu"), wantErr: "none.ffu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outDir := t.TempDir()
			out := filepath.Join(outDir, "mainos.wim")
			var progress, warnings bytes.Buffer
			err := ToWIM(tt.in, out, Options{Compression: tt.comp, Time: time.Unix(1e9, 0), Progress: &progress, Warnings: &warnings})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %q", err, tt.wantErr)
				}
				if left, _ := os.ReadDir(outDir); len(left) != 0 {
					t.Errorf("a failed capture left %d files", len(left))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(progress.String(), "WIM creation complete.\n") || warnings.Len() != 0 {
				t.Errorf("progress %q, warnings %q", progress.String(), warnings.String())
			}
			// wimlib-imagex, an independent reader, lists what MainOS holds.
			wimlib := checker.Find(t, "wimlib-imagex")
			list := checker.Run(t, "", wimlib, "dir", out, "1")
			for _, want := range []string{"/Windows/System32/ntoskrnl.exe", "/Windows/ImageUpdate/DeviceLayout.xml", "/Windows/ImageUpdate/UpdateHistory.xml"} {
				if !strings.Contains(list, want) {
					t.Errorf("wimlib-imagex dir: no %s in\n%s", want, list)
				}
			}
			checker.Run(t, "", wimlib, "verify", out)
		})
	}
}
