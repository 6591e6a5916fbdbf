package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// The documented command line: the image, /UpdateInputXML: with the documented input (a
// Windows path of the package, found by name among --package files), the update in place; and
// with --output a new image, the input left as it was.
func TestImageAppCommandLine(t *testing.T) {
	dir := t.TempDir()
	img, err := testimage.FFU(dir, "cli update", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "DebuggerOn", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "EFIESP"}
	data := "debugger on"
	pkg := filepath.Join(t.TempDir(), "Contoso.DebuggerOn.spkg")
	if _, err := spkg.WriteFile(pkg, m, []spkg.Payload{{DevicePath: `\efi\Microsoft\Boot\debug.txt`, Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}}, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "updateInput.xml")
	os.WriteFile(input, []byte(`<?xml version="1.0" encoding="utf-8"?>
<UpdateOSInput xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xmlns:xsd="http://www.w3.org/2001/XMLSchema"
      xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
   <Description>Add Debugger On package</Description>
   <PackageFiles>
      <PackageFile>C:\Program Files\Windows Kits\10\Packages\Contoso.DebuggerOn.spkg</PackageFile>
   </PackageFiles>
</UpdateOSInput>
`), 0o644)
	before, _ := os.ReadFile(img)
	out := filepath.Join(dir, "new.ffu")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"imageapp", img, "/UpdateInputXML:" + input, "--package=" + pkg, "--output=" + out, "--timings=false"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "add Contoso.DebuggerOn 1.0.0.0 (EFIESP)") {
		t.Errorf("progress does not name the package:\n%s", stdout.String())
	}
	if after, _ := os.ReadFile(img); !bytes.Equal(before, after) {
		t.Errorf("--output: the input image changed")
	}
	for _, s := range []string{"UpdateHistory.xml", "UpdateOutput.xml", "PackageList.xml", "UpdateInput.xml", "cat", "ImageApp.log"} {
		if _, err := os.Stat(filepath.Join(dir, "new."+s)); err != nil {
			t.Errorf("side file: %v", err)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "new.ImageApp.log"))
	if strings.Contains(string(log), " s\r\n") {
		t.Errorf("--timings=false: the log holds durations:\n%s", log)
	}
	im, err := volume.OpenImage(out, true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := im.Volume(im.Partition("EFIESP"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.ReadFile(`\efi\Microsoft\Boot\debug.txt`); err != nil || string(got) != data {
		t.Errorf("EFIESP debug.txt: %q %v", got, err)
	}
	mv, err := im.Volume(im.Partition("MainOS"))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := mv.ReadFile(imageconst.UpdateHistoryPath)
	if err != nil || !strings.Contains(string(hist), "<Description>Add Debugger On package</Description>") {
		t.Errorf("the update event does not carry the input's Description (%v):\n%s", err, hist)
	}
	im.Close()
	// ffu info lists each package once, MainOS in its one version.
	stdout.Reset()
	if code := run([]string{"ffu", "info", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("ffu info: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "packages (MainOS"+imageconst.UpdateHistoryPath+"): 5") || !strings.Contains(stdout.String(), "Contoso.DebuggerOn") {
		t.Errorf("ffu info of the updated image:\n%s", stdout.String())
	}

	// In place: the image itself becomes the updated one; SOURCE_DATE_EPOCH stamps the event.
	t.Setenv("SOURCE_DATE_EPOCH", "1500000000")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"imageapp", img, "/updateinputxml:" + input, "--package=" + pkg}, &stdout, &stderr); code != 0 {
		t.Fatalf("in place: exit %d: %s", code, stderr.String())
	}
	hist, _ = os.ReadFile(filepath.Join(dir, "image.UpdateHistory.xml"))
	if !strings.Contains(string(hist), "<DateTime>2017-07-14T02:40:00</DateTime>") {
		t.Errorf("in place: the update event is not stamped with SOURCE_DATE_EPOCH:\n%s", hist)
	}
	if after, _ := os.ReadFile(img); bytes.Equal(before, after) {
		t.Errorf("in place: the image did not change")
	}

	// DebuggerOn 2.0 over 1.0: ffu info lists it once, in its new version.
	m.Version = spkg.Version{Major: 2}
	pkg2 := filepath.Join(t.TempDir(), "Contoso.DebuggerOn.spkg")
	if _, err := spkg.WriteFile(pkg2, m, []spkg.Payload{{DevicePath: `\efi\Microsoft\Boot\debug2.txt`, Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}}, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"imageapp", img, "/UpdateInputXML:" + input, "--package=" + pkg2}, &stdout, &stderr); code != 0 {
		t.Fatalf("update to 2.0: exit %d: %s", code, stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"ffu", "info", img}, &stdout, &stderr); code != 0 {
		t.Fatalf("ffu info: exit %d: %s", code, stderr.String())
	}
	info := stdout.String()
	if !strings.Contains(info, "): 5\n") || strings.Count(info, "Contoso.DebuggerOn") != 1 || !strings.Contains(info, "2.0.0.0") {
		t.Errorf("ffu info after the update to 2.0: want 5 packages, DebuggerOn once in 2.0.0.0:\n%s", info)
	}
}

func TestImageAppUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"imageapp"}, "expected one image file"},
		{[]string{"imageapp", "a.ffu"}, "/UpdateInputXML:<file> is required"},
		{[]string{"imageapp", "a.ffu", "b.ffu", "/UpdateInputXML:u.xml"}, "got 2 argument(s)"},
		{[]string{"imageapp", "a.ffu", "/UpdateInputXML:u.xml", "/OEMInputXML:x"}, "unknown switch /OEMInputXML"},
		{[]string{"imageapp", "a.ffu", "/UpdateInputXML:u.xml", "--timings=maybe"}, "--timings= takes true or false"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
