package main

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// cliRawLayout is testimage.Layout with a raw partition PLAT of 2048 sectors (no FileSystem).
var cliRawLayout = strings.Replace(testimage.Layout, "<Partition><Name>MainOS</Name>",
	"<Partition><Name>PLAT</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>2048</TotalSectors></Partition>\n    <Partition><Name>MainOS</Name>", 1)

// A binary partition package end to end through the command line: `pkggen` builds it from a
// project, imggen places it, `ffu info` lists it, and `ffu extract` gives a disk where fdisk's
// start of PLAT holds the image (read with dd) and zeros after it.
func TestBinaryPartitionEndToEnd(t *testing.T) {
	fdisk, dd := checker.Find(t, "fdisk"), checker.Find(t, "dd")
	dir := t.TempDir()
	image := make([]byte, 123457) // not a multiple of the sector size
	rand.New(rand.NewSource(18)).Read(image)
	if err := os.WriteFile(filepath.Join(dir, "plat.img"), image, 0o644); err != nil {
		t.Fatal(err)
	}
	project := `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Firmware" SubComponent="Plat" Partition="PLAT" BinaryPartition="true">
  <Components><BinaryPartition ImageSource="plat.img"/></Components>
</Package>`
	if err := os.WriteFile(filepath.Join(dir, "plat.pkg.xml"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"pkggen", filepath.Join(dir, "plat.pkg.xml"), "/output:" + out, "+compress"}, &stdout, &stderr); code != 0 {
		t.Fatalf("pkggen: status %d: %s", code, stderr.String())
	}
	ffuData, err := buildFFUWith(cliRawLayout, filepath.Join(out, "Contoso.Firmware.Plat.spkg"))
	if err != nil {
		t.Fatal(err)
	}
	ffuPath := filepath.Join(dir, "image.ffu")
	if err := os.WriteFile(ffuPath, ffuData, 0o644); err != nil {
		t.Fatal(err)
	}

	stdout.Reset()
	if code := run([]string{"ffu", "info", ffuPath}, &stdout, &stderr); code != 0 {
		t.Fatalf("ffu info: status %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Contoso.Firmware.Plat") || !strings.Contains(stdout.String(), "PLAT (binary partition image)") {
		t.Errorf("ffu info does not list the binary partition package:\n%s", stdout.String())
	}

	disk := filepath.Join(dir, "disk.img")
	if code := run([]string{"ffu", "extract", ffuPath, disk}, &stdout, &stderr); code != 0 {
		t.Fatalf("ffu extract: status %d: %s", code, stderr.String())
	}
	var start int64 = -1
	for _, l := range strings.Split(checker.Run(t, "", fdisk, "-l", "-o", "Start,Sectors,Name", disk), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[2] == "PLAT" && f[1] == "2048" {
			start, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	if start <= 0 {
		t.Fatalf("fdisk lists no 2048-sector PLAT")
	}
	got := checker.Run(t, "", dd, "if="+disk, "iflag=skip_bytes,count_bytes", "bs=65536", "status=none",
		"skip="+strconv.FormatInt(start*512, 10), "count="+strconv.Itoa(2048*512))
	if len(got) != 2048*512 || !bytes.Equal([]byte(got[:len(image)]), image) || strings.Trim(got[len(image):], "\x00") != "" {
		t.Errorf("PLAT in the extracted disk (%d bytes) is not the %d-byte image followed by zeros", len(got), len(image))
	}
}
