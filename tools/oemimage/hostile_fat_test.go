package main

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/fat"
	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"
)

// Corrupt FAT file systems in an FFU's MainOS (issue 16, defect 2: go-diskfs trusted the
// volume): each shape through ffu info, ffu extract and imgtowim. The corruptions hit what the
// verbs read: the boot sector, \Windows\ImageUpdate (DeviceLayout.xml, which imgtowim reads
// first, and UpdateHistory.xml, which ffu info reads) and the tree imgtowim walks.

const (
	fatDiskSectors = 44 << 20 / 512
	fatESPFirst    = 2048 // LBAs, 512-byte sectors
	fatESPLast     = fatESPFirst + 4096 - 1
	fatMainFirst   = fatESPLast + 1
	fatMainLast    = fatMainFirst + 40<<20/512 - 1 // FAT32 of 512-byte clusters needs 33 MiB
)

// fatHistory is an UpdateHistory.xml of one package, over a cluster long (for the loop).
var fatHistory = `<?xml version="1.0" encoding="utf-8"?>
<UpdateHistory><UpdateEvent><Sequence>1</Sequence><UpdateResults><Packages>
<Package><PackageIdentity>Contoso.MainOS.Hostile</PackageIdentity><Partition>MainOS</Partition>
<Identity><Version Major="10" Minor="0" QFE="1" Build="0"/></Identity></Package>
</Packages></UpdateResults></UpdateEvent></UpdateHistory>
<!--` + strings.Repeat(" padding", 200) + ` -->
`

// fatShape corrupts the MainOS volume (b is the partition) before the FFU is written.
type fatShape struct {
	name    string
	corrupt func(t *testing.T, b []byte)
	want    []string // what imgtowim and ffu info must name
	// infoOK: ffu info does not read the corrupt part (it reads UpdateHistory.xml only).
	infoOK bool
}

func fatEntry(t *testing.T, b []byte, short string) int {
	t.Helper()
	for i := 0; i+32 <= len(b); i += 32 {
		if string(b[i:i+11]) == short && b[i+11]&0x0F != 0x0F {
			return i
		}
	}
	t.Fatalf("no directory entry %q", short)
	return 0
}

func fatFirst(b []byte, e int) uint32 {
	return uint32(binary.LittleEndian.Uint16(b[e+20:]))<<16 | uint32(binary.LittleEndian.Uint16(b[e+26:]))
}

// fatSet sets a FAT32 entry in both FATs.
func fatSet(b []byte, c, v uint32) {
	le := binary.LittleEndian
	ss, reserved, fatSecs := int(le.Uint16(b[11:])), int(le.Uint16(b[14:])), int(le.Uint32(b[36:]))
	for i := 0; i < int(b[16]); i++ {
		le.PutUint32(b[(reserved+i*fatSecs)*ss+4*int(c):], v)
	}
}

var fatShapes = []fatShape{
	{"bytes-per-sector", func(t *testing.T, b []byte) { binary.LittleEndian.PutUint16(b[11:], 3000) },
		[]string{"bytes per sector 3000"}, false},
	{"zero-sectors-per-fat", func(t *testing.T, b []byte) { binary.LittleEndian.PutUint32(b[36:], 0) },
		[]string{"sectors per FAT is 0"}, false},
	{"huge-sectors-per-fat", func(t *testing.T, b []byte) { binary.LittleEndian.PutUint32(b[36:], 1<<22) },
		[]string{"4194304 sectors", "beyond the volume"}, false},
	{"file-larger-than-chain", func(t *testing.T, b []byte) {
		binary.LittleEndian.PutUint32(b[fatEntry(t, b, "UPDATE~1XML")+28:], 1<<20)
	}, []string{`\Windows\ImageUpdate\UpdateHistory.xml`, "cluster chain ends"}, false},
	{"file-chain-loop", func(t *testing.T, b []byte) {
		e := fatEntry(t, b, "UPDATE~1XML")
		first, n := fatFirst(b, e), (binary.LittleEndian.Uint32(b[e+28:])+511)/512
		fatSet(b, first+n-1, first)
	}, []string{`\Windows\ImageUpdate\UpdateHistory.xml`, "met twice"}, false},
	{"directory-chain-loop", func(t *testing.T, b []byte) {
		c := fatFirst(b, fatEntry(t, b, "IMAGEU~1   "))
		fatSet(b, c, c)
	}, []string{`\Windows\ImageUpdate`, "met twice"}, false},
	{"directory-cycle", func(t *testing.T, b []byte) {
		// \Windows\ImageUpdate\LOOP becomes a directory that is \Windows again.
		e := fatEntry(t, b, "LOOP       ")
		w := fatEntry(t, b, "WINDOW~1   ")
		b[e+11] = 0x10
		copy(b[e+20:e+22], b[w+20:w+22])
		copy(b[e+26:e+28], b[w+26:w+28])
	}, []string{`\Windows\ImageUpdate\LOOP`, "directory cycle"}, true},
}

func init() {
	// The shapes whose MainOS does not open: ffu diff notes it and compares the rest.
	unopened := map[string]bool{"bytes-per-sector": true, "zero-sectors-per-fat": true, "huge-sectors-per-fat": true}
	for _, s := range fatShapes {
		s := s
		for _, verb := range []string{"info", "extract", "imgtowim", "diff", "report"} {
			verb := verb
			c := hostileCase{name: "fat/" + s.name + "/" + verb}
			c.setup = func(t *testing.T, dir string) []string {
				writeFATFFU(t, filepath.Join(dir, "bad.ffu"), s.corrupt)
				switch verb {
				case "info":
					return []string{"ffu", "info", "bad.ffu"}
				case "extract":
					return []string{"ffu", "extract", "bad.ffu", "disk.img"}
				case "diff":
					return []string{"ffu", "diff", "bad.ffu", "bad.ffu"}
				case "report":
					return []string{"report", "bad.ffu", "-o", "out.html"}
				}
				return []string{"imgtowim", "bad.ffu", "out.wim"}
			}
			switch verb {
			case "imgtowim":
				c.want = append([]string{"bad.ffu", "MainOS"}, s.want...)
			case "info":
				// ffu info reports an unreadable MainOS and goes on: status 0.
				c.exitZero = true
				c.want = append([]string{"packages"}, s.want...)
				if s.infoOK {
					c.want = []string{"Contoso.MainOS.Hostile"}
				}
			case "extract":
				// extract copies the disk without reading its file systems: valid.
				c.exitZero = true
			case "diff":
				// An image is identical to itself, its files not compared if MainOS does not
				// open (a note says why); a walk that fails is an error (exit 2).
				c.want = append([]string{"bad.ffu", "MainOS"}, s.want...)
				c.exitZero = unopened[s.name]
			case "report":
				// The report reads every file as diff does: a volume that does not open is a
				// warning (the partition measured by its stored blocks), a walk that fails an
				// error naming image, partition and file.
				c.want = append([]string{"bad.ffu", "MainOS"}, s.want...)
				c.exitZero = unopened[s.name]
			}
			addHostile(c)
		}
	}
}

// writeFATFFU writes an FFU whose disk has EFIESP (FAT12) and MainOS (FAT32, 512-byte clusters)
// made by tools/fat, with MainOS corrupted by corrupt.
func writeFATFFU(t *testing.T, path string, corrupt func(*testing.T, []byte)) {
	t.Helper()
	diskFile, err := os.Create(filepath.Join(t.TempDir(), "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer diskFile.Close()
	size := int64(fatDiskSectors) * 512
	if err := diskFile.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := testgpt.Write(diskFile, fatDiskSectors, 512, []testgpt.Partition{
		{Name: "EFIESP", Type: testgpt.ESP, First: fatESPFirst, Last: fatESPLast},
		{Name: "MainOS", Type: testgpt.BasicData, First: fatMainFirst, Last: fatMainLast},
	}); err != nil {
		t.Fatal(err)
	}
	var allocated []disk.Extent
	format := func(first, last int64, opt fat.Options, files map[string]string) {
		off, n := first*512, (last-first+1)*512
		w, err := fat.New(diskFile, off, n, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(files)) {
			if err := w.AddFile(name, int64(len(files[name])), strings.NewReader(files[name]), 0); err != nil {
				t.Fatal(err)
			}
		}
		ext, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		allocated = append(allocated, ext...)
	}
	format(fatESPFirst, fatESPLast, fat.Options{Label: "EFIESP"}, map[string]string{`\EFI\Boot\bootarm.efi`: "efi"})
	format(fatMainFirst, fatMainLast, fat.Options{Type: fat.FAT32, ClusterSize: 512, Label: "MainOS"}, map[string]string{
		imageconst.DeviceLayoutPath:              "<DeviceLayout/>",
		`\Windows\ImageUpdate\UpdateHistory.xml`: fatHistory,
		`\Windows\ImageUpdate\LOOP`:              "becomes a directory",
		`\Windows\System32\ntoskrnl.exe`:         strings.Repeat("k", 5000),
	})
	// Corrupt the MainOS partition in place: its metadata lies in the extents the FFU keeps.
	main := make([]byte, (fatMainLast-fatMainFirst+1)*512)
	if _, err := diskFile.ReadAt(main, fatMainFirst*512); err != nil {
		t.Fatal(err)
	}
	before := bytes.Clone(main)
	corrupt(t, main)
	for i := 0; i < len(main); i += 512 {
		if !bytes.Equal(main[i:i+512], before[i:i+512]) {
			if _, err := diskFile.WriteAt(main[i:i+512], fatMainFirst*512+int64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = ffu.WriteFile(path, &ffu.Image{
		Disk: diskFile, DiskSize: size, SectorSize: 512,
		Description: "hostile FAT", OSVersion: "10.0.15254.0", PlatformIDs: []string{"Contoso.Hostile"},
		Store: ffu.StoreInfo{IsMainOSStore: true},
		Partitions: []ffu.Partition{
			{Name: "EFIESP", RequiredToFlash: true, FileSystem: "FAT"},
			{Name: "MainOS", RequiredToFlash: true, FileSystem: "FAT32"},
		},
		Allocated: allocated,
	})
	if err != nil {
		t.Fatal(err)
	}
}
