package ffu

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"
)

// Write stores an MBR disk as MbrDataEntryGenerator does: phase 1 at the start only, the
// flash-only MBR without the RequiredToFlash=false partitions, the final MBR with ImageApp's
// disk signature; the partitions are matched by their MBR_META names and the manifest gets
// their type bytes. A disk without MBR_META is refused.
func TestWriteMBR(t *testing.T) {
	d := testgpt.KitMBR()
	img := &Image{
		Disk: bytes.NewReader(d.B), DiskSize: int64(len(d.B)), SectorSize: 512, ChunkSizeKB: 4,
		PlatformIDs: []string{"Test.Device"}, Store: StoreInfo{IsMainOSStore: true},
		Partitions: []Partition{{Name: "EFIESP", RequiredToFlash: true}, {Name: "MainOS", RequiredToFlash: true},
			{Name: "MMOS"}, {Name: "Data", RequiredToFlash: true}},
		Allocated: []disk.Extent{{Offset: 64 * 512, Length: 4096}, {Offset: 832 * 512, Length: 4096}},
		blockSize: 4096, wipeBlocks: 2,
	}
	b, _ := writeFFU(t, img)
	r := openFFU(t, b)
	s := r.Stores[0]
	h := s.Header
	for k := uint32(0); k < h.InitialTableCount; k++ {
		if l := s.Entries[k].Locations; len(l) != 1 || l[0].Method != DiskBegin {
			t.Errorf("phase 1 descriptor %d: %+v", k, l)
		}
	}
	blk := make([]byte, 4096)
	read := func(k uint32) []byte {
		if err := r.ReadBlock(0, int(k), blk); err != nil {
			t.Fatal(err)
		}
		return blk
	}
	if h.FlashOnlyTableCount != 4 || h.FinalTableCount != 4 {
		t.Errorf("table blocks %d and %d, want 4 (MBR, 2 EBRs, MBR_META)", h.FlashOnlyTableCount, h.FinalTableCount)
	}
	if s.Entries[h.FlashOnlyTableIndex].Locations[0].BlockIndex != 0 {
		t.Fatal("the flash-only table does not start with block 0")
	}
	if m := read(h.FlashOnlyTableIndex); m[446+32+4] != 0 || binary.LittleEndian.Uint32(m[440:]) != 0xAE420040 {
		t.Errorf("flash-only MBR still has MMOS, or no signature: %x", m[440:512])
	}
	if m := read(h.FinalTableIndex); m[446+32+4] != 0x0c || binary.LittleEndian.Uint32(m[440:]) != 0xAE420040 {
		t.Errorf("final MBR: %x", m[440:512])
	}
	extracted := make(memDisk, s.DiskSize)
	if err := r.extractTo(0, extracted); err != nil {
		t.Fatal(err)
	}
	m, err := disk.ReadMBR(bytes.NewReader(extracted), s.DiskSize, 512)
	if err != nil || len(m.Entries) != 5 || m.Entries[2].Name != "MMOS" {
		t.Errorf("extracted MBR: %+v, %v", m, err)
	}
	man := string(r.ManifestBytes())
	if !strings.Contains(man, "Type            = 0x0c") || !strings.Contains(man, "Type         = 0x0c") {
		t.Errorf("manifest types:\n%s", man)
	}

	clear(d.B[1216*512 : 1216*512+4])
	d.Entry(1088, 0, false, 0x0b, 128, 64)
	if _, err := img.plan(); err == nil || !strings.Contains(err.Error(), "without an MBR_META partition") {
		t.Errorf("no MBR_META: %v", err)
	}
}
