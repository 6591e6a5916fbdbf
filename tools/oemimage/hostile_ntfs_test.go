package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"
	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/ntfs"
)

// FFUs whose MainOS is a corrupt NTFS volume (issue 16, defect 3): a file claiming 1 TiB in one
// sparse run, a run outside the volume, a directory entry pointing back at an ancestor, a
// boot sector larger than its partition. The volume is written by tools/ntfs, corrupted in
// place, and stored in a valid FFU (its hashes match), so every verb gets as far as the NTFS.
func init() {
	const oneTiB = 1 << 40
	// One sparse run of 2^28 4-KiB clusters: header 0x04, a 4-byte length.
	sparse := ntfsCorruptRuns([]byte{0x04, 0, 0, 0, 0x10, 0}, oneTiB)
	// 16 clusters at LCN 0x01000000, far past the volume's end.
	outside := ntfsCorruptRuns([]byte{0x41, 16, 0, 0, 0, 1, 0}, 16*4096)
	ffuCase := func(name string, verb []string, target string, corrupt ntfsCorruption, exitZero bool, want ...string) hostileCase {
		return hostileCase{
			name: "ntfs/" + name,
			setup: func(t *testing.T, dir string) []string {
				writeNTFSFFU(t, filepath.Join(dir, "corrupt.ffu"), target, corrupt)
				args := append(append([]string{}, verb...), "corrupt.ffu")
				switch verb[0] {
				case "imgtowim":
					args = append(args, "out.wim")
				case "imageapp":
					args = append(args, writeUpdateInput(t, dir, "corrupt.ffu")...)
				case "ffu":
					switch verb[1] {
					case "extract":
						args = append(args, "out.img")
					case "diff":
						args = append(args, "corrupt.ffu")
					}
				case "report":
					args = append(args, "-o", "out.html")
				}
				return args
			},
			want:     want,
			exitZero: exitZero,
		}
	}
	info, extract, imgtowim, diff, report := []string{"ffu", "info"}, []string{"ffu", "extract"}, []string{"imgtowim"}, []string{"ffu", "diff"}, []string{"report"}
	imageapp := []string{"imageapp"}
	none := func(*ntfsVolume, string) {}
	addHostile(
		// Controls: the same FFU uncorrupted is read and captured.
		ffuCase("ffu-info-clean", info, "", none, true, "packages (MainOS"+imageconst.UpdateHistoryPath+"): 0"),
		ffuCase("imgtowim-clean", imgtowim, "", none, true, "WIM creation complete"),
		// ffu info lists the packages of UpdateHistory.xml, read whole: it reports the volume
		// instead, and still describes the FFU.
		ffuCase("ffu-info-history-1TiB-sparse", info, imageconst.UpdateHistoryPath, sparse, true,
			imageconst.UpdateHistoryPath, "MFT record", "268435456 clusters"),
		ffuCase("ffu-info-boot-sector-past-partition", info, "", ntfsCorruptBoot, true,
			"MainOS has no readable file system", "boot sector"),
		// extract copies the disk and never reads the volume: the corrupt one is a valid FFU.
		ffuCase("ffu-extract-1TiB-sparse", extract, imageconst.UpdateHistoryPath, sparse, true),
		ffuCase("imgtowim-layout-1TiB-sparse", imgtowim, `\Windows\ImageUpdate\DeviceLayout.xml`, sparse, false,
			"corrupt.ffu", "DeviceLayout.xml"),
		ffuCase("imgtowim-file-1TiB-sparse", imgtowim, `\Windows\System32\big.dll`, sparse, false,
			"corrupt.ffu", `\Windows\System32\big.dll`, "MFT record", "268435456 clusters"),
		ffuCase("imgtowim-run-outside-volume", imgtowim, `\Windows\System32\big.dll`, outside, false,
			"corrupt.ffu", `\Windows\System32\big.dll`, "MFT record", "outside the volume"),
		ffuCase("imgtowim-directory-cycle", imgtowim, `\d\e`, ntfsCorruptCycle, false,
			"corrupt.ffu", `\d\e\d`, "cycle"),
		// ffu diff of the image with itself walks every file: a corrupt one is an error
		// (exit 2) naming the image, the partition and the file; a volume that does not open
		// is a note, and the images are identical.
		ffuCase("ffu-diff-clean", diff, "", none, true, "identical"),
		ffuCase("ffu-diff-history-1TiB-sparse", diff, imageconst.UpdateHistoryPath, sparse, false,
			"corrupt.ffu: MainOS", imageconst.UpdateHistoryPath, "268435456 clusters"),
		ffuCase("ffu-diff-run-outside-volume", diff, `\Windows\System32\big.dll`, outside, false,
			"corrupt.ffu: MainOS", `\Windows\System32\big.dll`, "outside the volume"),
		ffuCase("ffu-diff-directory-cycle", diff, `\d\e`, ntfsCorruptCycle, false,
			"corrupt.ffu: MainOS", `\d\e\d`, "cycle"),
		ffuCase("ffu-diff-boot-sector-past-partition", diff, "", ntfsCorruptBoot, true,
			"MainOS", "boot sector", "its files are not compared", "identical"),
		// imageapp reads the DSMs and the history, then rebuilds MainOS from every file in it.
		ffuCase("imageapp-clean", imageapp, "", none, true, "add Contoso.Hostile 1.0.0.0 (MainOS)", "NTFS rebuilt"),
		ffuCase("imageapp-history-1TiB-sparse", imageapp, imageconst.UpdateHistoryPath, sparse, false,
			"corrupt.ffu", imageconst.UpdateHistoryPath),
		ffuCase("imageapp-run-outside-volume", imageapp, `\Windows\System32\big.dll`, outside, false,
			"corrupt.ffu", "MainOS", `\Windows\System32\big.dll`),
		ffuCase("imageapp-file-1TiB-sparse", imageapp, `\Windows\System32\big.dll`, sparse, false,
			"corrupt.ffu", "MainOS", `\Windows\System32\big.dll`),
		ffuCase("imageapp-directory-cycle", imageapp, `\d\e`, ntfsCorruptCycle, false,
			"corrupt.ffu", "MainOS", `\d\e\d`, "cycle"),
		ffuCase("imageapp-boot-sector-past-partition", imageapp, "", ntfsCorruptBoot, false,
			"corrupt.ffu", "MainOS", "boot sector"),
		// The report reads every file too (the same walk); a volume that does not open is a
		// warning, the partition measured by its stored blocks.
		ffuCase("report-clean", report, "", none, true, "out.html: report of corrupt.ffu"),
		ffuCase("report-history-1TiB-sparse", report, imageconst.UpdateHistoryPath, sparse, false,
			"corrupt.ffu: MainOS", imageconst.UpdateHistoryPath, "268435456 clusters"),
		ffuCase("report-run-outside-volume", report, `\Windows\System32\big.dll`, outside, false,
			"corrupt.ffu: MainOS", `\Windows\System32\big.dll`, "outside the volume"),
		ffuCase("report-directory-cycle", report, `\d\e`, ntfsCorruptCycle, false,
			"corrupt.ffu: MainOS", `\d\e\d`, "cycle"),
		ffuCase("report-boot-sector-past-partition", report, "", ntfsCorruptBoot, true,
			"warning: corrupt.ffu: MainOS", "boot sector", "measured by stored blocks"),
	)
}

// ntfsVolume is the MainOS volume in memory while it is corrupted.
type ntfsVolume struct {
	t   *testing.T
	img []byte
	v   *ntfs.Volume
}

// ntfsCorruption changes the volume's bytes; target is a path in it.
type ntfsCorruption func(vol *ntfsVolume, target string)

var le16, le32, le64 = binary.LittleEndian.Uint16, binary.LittleEndian.Uint32, binary.LittleEndian.Uint64

// record is the MFT record of path with its update sequence undone (1 KiB records, the
// array at 0x30, as tools/ntfs writes them); done puts the sequence back.
func (vol *ntfsVolume) record(path string) (r []byte, done func()) {
	vol.t.Helper()
	fi, err := vol.v.Stat(path)
	if err != nil {
		vol.t.Fatal(err)
	}
	b := vol.img
	cs := int64(le16(b[11:])) * int64(b[13])
	off := int64(le64(b[48:]))*cs + int64(fi.Record)*1024 // the writer's MFT is one run
	r = b[off : off+1024]
	usn := r[0x30:0x32]
	for i := 1; i <= 2; i++ {
		copy(r[i*512-2:i*512], r[0x30+2*i:])
	}
	return r, func() {
		for i := 1; i <= 2; i++ {
			copy(r[0x30+2*i:0x32+2*i], r[i*512-2:])
			copy(r[i*512-2:i*512], usn)
		}
	}
}

// attribute is the offset of the first attribute of typ in a record.
func (vol *ntfsVolume) attribute(r []byte, typ uint32) int {
	for off := int(le16(r[20:])); off+8 <= len(r) && le32(r[off:]) != 0xFFFFFFFF && le32(r[off+4:]) > 0; off += int(le32(r[off+4:])) {
		if le32(r[off:]) == typ {
			return off
		}
	}
	vol.t.Fatalf("no attribute 0x%X", typ)
	return 0
}

// ntfsCorruptRuns makes the target's $DATA (the record's last attribute, resident or not) a
// non-resident attribute with these mapping pairs and sizes.
func ntfsCorruptRuns(runs []byte, size int64) ntfsCorruption {
	return func(vol *ntfsVolume, target string) {
		r, done := vol.record(target)
		defer done()
		a := vol.attribute(r, 0x80)
		n := (64 + len(runs) + 7) &^ 7
		if le32(r[a+int(le32(r[a+4:])):]) != 0xFFFFFFFF || a+n+8 > 1022 {
			vol.t.Fatalf("%s: $DATA is not the last attribute or has no room", target)
		}
		clear(r[a+4 : a+n+8])
		put32, put64 := binary.LittleEndian.PutUint32, binary.LittleEndian.PutUint64
		put32(r[a+4:], uint32(n))
		r[a+8] = 1                                     // non-resident
		binary.LittleEndian.PutUint16(r[a+10:], 64)    // name offset (no name)
		binary.LittleEndian.PutUint16(r[a+32:], 64)    // mapping pairs offset
		put64(r[a+24:], uint64((size+4095)/4096-1))    // last VCN
		put64(r[a+40:], uint64((size+4095)/4096*4096)) // allocated
		put64(r[a+48:], uint64(size))                  // data
		put64(r[a+56:], uint64(size))                  // initialized
		copy(r[a+64:], runs)
		put32(r[a+n:], 0xFFFFFFFF)
		put32(r[24:], uint32(a+n+8)) // bytes in use
	}
}

// ntfsCorruptCycle points the entry "d" of the target directory (\d\e) back at \d.
func ntfsCorruptCycle(vol *ntfsVolume, target string) {
	outer, err := vol.v.Stat(`\d`)
	if err != nil {
		vol.t.Fatal(err)
	}
	r, done := vol.record(target)
	defer done()
	a := vol.attribute(r, 0x90)
	root := a + int(le16(r[a+20:]))
	for off := root + 16 + int(le32(r[root+16:])); le16(r[off+12:])&2 == 0; off += int(le16(r[off+8:])) {
		if k := r[off+16:]; k[64] == 1 && k[66] == 'd' {
			binary.LittleEndian.PutUint64(r[off:], outer.Record|1<<48)
			return
		}
	}
	vol.t.Fatalf("%s has no entry d", target)
}

// ntfsCorruptBoot makes the boot sector claim more sectors than the partition has.
func ntfsCorruptBoot(vol *ntfsVolume, _ string) {
	binary.LittleEndian.PutUint64(vol.img[40:], 1<<40)
}

// writeNTFSFFU writes an FFU of a 32 MiB disk with EFIESP and an NTFS MainOS holding what
// imgtowim and ffu info look for, corrupted by corrupt.
func writeNTFSFFU(t *testing.T, path, target string, corrupt ntfsCorruption) {
	t.Helper()
	const (
		diskSize    = 32 << 20
		mainFirst   = 4096
		mainSectors = 40960 // 20 MiB
	)
	diskFile, err := os.Create(filepath.Join(t.TempDir(), "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer diskFile.Close()
	if err := diskFile.Truncate(diskSize); err != nil {
		t.Fatal(err)
	}
	if err := testgpt.Write(diskFile, diskSize/512, 512, []testgpt.Partition{
		{Name: "EFIESP", Type: testgpt.ESP, First: 2048, Last: 4095},
		{Name: "MainOS", Type: testgpt.BasicData, First: mainFirst, Last: mainFirst + mainSectors - 1},
	}); err != nil {
		t.Fatal(err)
	}
	off, size := int64(mainFirst*512), int64(mainSectors*512)
	w, err := ntfs.New(diskFile, off, size, ntfs.Options{Label: "MainOS"})
	if err != nil {
		t.Fatal(err)
	}
	files := []struct {
		path string
		data []byte
	}{
		{`\Windows\ImageUpdate\DeviceLayout.xml`, []byte("<DeviceLayout/>")},
		{imageconst.UpdateHistoryPath, []byte("<UpdateHistory><UpdateEvents/></UpdateHistory>")},
		{`\Windows\System32\big.dll`, bytes.Repeat([]byte("MZ"), 8192)},
		{`\d\e\d\f.txt`, []byte("nested")},
	}
	for _, f := range files {
		if err := w.AddFile(f.path, int64(len(f.data)), bytes.NewReader(f.data), 0); err != nil {
			t.Fatal(err)
		}
	}
	exts, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, size)
	if _, err := diskFile.ReadAt(img, off); err != nil {
		t.Fatal(err)
	}
	v, err := ntfs.Open(bytes.NewReader(img), 0, size)
	if err != nil {
		t.Fatal(err)
	}
	corrupt(&ntfsVolume{t: t, img: img, v: v}, target)
	if _, err := diskFile.WriteAt(img, off); err != nil {
		t.Fatal(err)
	}
	allocated := append([]disk.Extent{{Offset: 2048 * 512, Length: 1 << 20}}, exts...)
	_, err = ffu.WriteFile(path, &ffu.Image{
		Disk: diskFile, DiskSize: diskSize, SectorSize: 512,
		PlatformIDs: []string{"Contoso.Hostile.NTFS"},
		Partitions:  []ffu.Partition{{Name: "EFIESP", RequiredToFlash: true}, {Name: "MainOS", RequiredToFlash: true, FileSystem: "NTFS"}},
		Allocated:   allocated,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The side catalog is not an input of the verbs.
	os.Remove(path[:len(path)-len(filepath.Ext(path))] + ".cat")
}
