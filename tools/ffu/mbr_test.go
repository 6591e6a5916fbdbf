package ffu

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// mbrDisk builds MBR disks by hand, byte by byte, for the reader's tests.
type mbrDisk struct {
	b  []byte
	ss int
}

func newMBRDisk(sectors, ss int) *mbrDisk {
	d := &mbrDisk{b: make([]byte, sectors*ss), ss: ss}
	d.record(0)
	return d
}

func (d *mbrDisk) record(lba int) {
	d.b[lba*d.ss+510], d.b[lba*d.ss+511] = 0x55, 0xAA
}

// entry sets slot i of the boot record at lba.
func (d *mbrDisk) entry(lba, i int, boot bool, typ byte, start, n uint32) {
	e := d.b[lba*d.ss+446+16*i:]
	if boot {
		e[0] = 0x80
	}
	e[4] = typ
	binary.LittleEndian.PutUint32(e[8:], start)
	binary.LittleEndian.PutUint32(e[12:], n)
}

// meta writes an MBR_META header and entries at lba: name and byte offset of each.
func (d *mbrDisk) meta(lba int, count uint32, names map[string]uint64) {
	m := d.b[lba*d.ss:]
	binary.LittleEndian.PutUint32(m, mbrMetaSignature)
	binary.LittleEndian.PutUint32(m[4:], 10922)
	binary.LittleEndian.PutUint32(m[8:], count)
	i := 0
	for _, name := range sortedNames(names) {
		e := m[12+96*i:]
		binary.LittleEndian.PutUint64(e, names[name])
		for j, u := range utf16.Encode([]rune(name)) {
			binary.LittleEndian.PutUint16(e[8+2*j:], u)
		}
		e[80] = byte(i + 1) // a GUID
		i++
	}
}

func sortedNames(m map[string]uint64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if m[out[j]] < m[out[i]] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// kitMBR is the shape of the kit's MBR8GB-R on a small disk: three primary partitions, then
// an extended one holding MBR_META and Data.
func kitMBR() *mbrDisk {
	d := newMBRDisk(4096, 512)
	d.entry(0, 0, true, 0x0c, 64, 256)   // EFIESP 64-319
	d.entry(0, 1, false, 0x07, 320, 512) // MainOS 320-831
	d.entry(0, 2, false, 0x0c, 832, 256) // MMOS 832-1087
	d.entry(0, 3, false, 0x05, 1088, 4096-1088)
	d.record(1088)
	d.entry(1088, 0, false, 0x70, 128, 64) // MBR_META 1216-1279
	d.entry(1088, 1, false, 0x05, 1280-1088, 4096-1280)
	d.record(1280)
	d.entry(1280, 0, false, 0x07, 128, 4096-1408) // Data 1408-4095
	d.meta(1216, 5, map[string]uint64{"EFIESP": 64 * 512, "MainOS": 320 * 512, "MMOS": 832 * 512, "MBR_META": 1216 * 512, "Data": 1408 * 512})
	return d
}

func (d *mbrDisk) read() (*MBR, error) {
	return ReadMBR(bytes.NewReader(d.b), int64(len(d.b)), uint32(d.ss))
}

func TestReadMBR(t *testing.T) {
	m, err := kitMBR().read()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range m.Entries {
		got = append(got, strings.Join([]string{e.Name, e.TypeGUID}, " "))
	}
	if strings.Join(got, ", ") != "EFIESP 0x0c, MainOS 0x07, MMOS 0x0c, MBR_META 0x70, Data 0x07" {
		t.Errorf("entries %v", got)
	}
	if e := m.Entries[4]; e.Index != 6 || e.FirstLBA != 1408 || e.LastLBA != 4095 || m.Entries[0].Attributes != mbrAttrBootable || !m.HasMeta {
		t.Errorf("Data %+v, EFIESP %+v", e, m.Entries[0])
	}
	// The table blocks (4 KiB blocks): the MBR, both EBRs and MBR_META's header.
	if b := m.blocks(4096); len(b) != 4 || b[0] != 0 || b[1] != 1088*512/4096 || b[2] != 1216*512/4096 || b[3] != 1280*512/4096 {
		t.Errorf("blocks %v", b)
	}
	// The flash-only table without MMOS (Index 3) and Data (Index 6): their entries zeroed,
	// the link to Data's EBR kept, ImageApp's disk signature set.
	recs := m.withoutEntries([]int{2, 4})
	if recs[0].data[446+32+4] != 0 || recs[0].data[446+48+4] != 0x05 || binary.LittleEndian.Uint32(recs[0].data[440:]) != 0xAE420040 {
		t.Errorf("flash-only MBR %x", recs[0].data[440:512])
	}
	if recs[2].data[446+4] != 0 || recs[1].data[446+16+4] != 0x05 {
		t.Errorf("flash-only EBRs %x %x", recs[1].data[446:478], recs[2].data[446:462])
	}

	// Without MBR_META the partitions are named by their number, as Linux numbers them.
	d := kitMBR()
	clear(d.b[1216*512 : 1216*512+4])
	if _, err := d.read(); err == nil || !strings.Contains(err.Error(), "MBR_META (partition 5, sector 1216): signature 0x000000") {
		t.Errorf("bad MBR_META: %v", err)
	}
	d.entry(1088, 0, false, 0x0b, 128, 64)
	m, err = d.read()
	if err != nil || m.HasMeta || m.Entries[3].Name != "PARTITION5" || m.Entries[4].Name != "PARTITION6" {
		t.Errorf("no MBR_META: %+v, %v", m, err)
	}
}

// Hostile MBRs: each is refused with an error naming the entry or record at fault.
func TestReadMBRHostile(t *testing.T) {
	tests := []struct {
		name   string
		modify func(d *mbrDisk)
		want   string
	}{
		{"no signature", func(d *mbrDisk) { d.b[511] = 0 }, "MBR: the MBR at sector 0 has no 55 AA boot signature"},
		{"protective", func(d *mbrDisk) { d.entry(0, 0, false, 0xEE, 1, 4095) }, "GPT protective entry"},
		{"beyond the disk", func(d *mbrDisk) { d.entry(0, 1, false, 0x07, 320, 100000) }, "MBR entry 2 (type 0x07) at sectors 320-100319 is outside sectors 1-4095"},
		{"start 0xFFFFFFFF", func(d *mbrDisk) { d.entry(0, 2, false, 0x0c, 0xFFFFFFFF, 16) }, "MBR entry 3 (type 0x0c) at sectors 4294967295-4294967310 is outside"},
		{"size 0xFFFFFFFF", func(d *mbrDisk) { d.entry(0, 2, false, 0x0c, 832, 0xFFFFFFFF) }, "MBR entry 3 (type 0x0c) at sectors 832-4294968126 is outside"},
		{"empty entry", func(d *mbrDisk) { d.entry(0, 2, false, 0x0c, 0, 0) }, "MBR entry 3 (type 0x0c) starts at sector 0 with 0 sectors"},
		{"two extended", func(d *mbrDisk) { d.entry(0, 2, false, 0x0f, 832, 200) }, "entries 4 and an earlier one are both extended"},
		{"overlap", func(d *mbrDisk) { d.entry(0, 1, false, 0x07, 300, 512) }, "partition 1 (sectors 64-319) and partition 2 (sectors 300-811) overlap"},
		{"EBR without signature", func(d *mbrDisk) { d.b[1280*512+510] = 0 }, "the extended boot record at sector 1280 has no 55 AA boot signature"},
		{"EBR link backwards", func(d *mbrDisk) { d.entry(1280, 1, false, 0x05, 0, 100) }, "the link of the extended boot record at sector 1280 at sectors 1088-1187 is outside sectors 1281-4095"},
		{"EBR link to itself", func(d *mbrDisk) { d.entry(1280, 1, false, 0x05, 1280-1088, 100) }, "at sectors 1280-1379 is outside sectors 1281-4095"},
		{"logical outside the extended", func(d *mbrDisk) { d.entry(1280, 0, false, 0x07, 128, 5000) }, "logical partition 6 (type 0x07, extended boot record at sector 1280) at sectors 1408-6407 is outside sectors 1281-4095"},
		{"partition in a link slot", func(d *mbrDisk) { d.entry(1280, 2, false, 0x07, 200, 10) }, "the extended boot record at sector 1280 has a partition in entry 3"},
		{"MBR_META count", func(d *mbrDisk) { binary.LittleEndian.PutUint32(d.b[1216*512+8:], 0xFFFFFFFF) }, "MBR_META (partition 5, sector 1216): 4294967295 entries; expected at most 129"},
		{"MBR_META count beyond its partition", func(d *mbrDisk) {
			binary.LittleEndian.PutUint32(d.b[1216*512+8:], 129)
			d.entry(1088, 0, false, 0x70, 128, 4)
		}, "129 entries; expected at most 129 that fit its 2048 bytes"},
		{"two MBR_META", func(d *mbrDisk) { d.entry(0, 2, false, 0x70, 832, 256) }, "partitions 3 and 5 are both MBR_META"},
		{"duplicate names", func(d *mbrDisk) {
			d.meta(1216, 5, map[string]uint64{"EFIESP": 64 * 512, "efiesp": 320 * 512, "MMOS": 832 * 512, "MBR_META": 1216 * 512, "Data": 1408 * 512})
		}, `partitions 1 and 2 are both named "efiesp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := kitMBR()
			tt.modify(d)
			_, err := d.read()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ReadMBR(bytes.NewReader(make([]byte, 1024)), 1<<40, 1<<31); err == nil || !strings.Contains(err.Error(), "sector size 2147483648 is not a power of two from 512 to 65536") {
		t.Errorf("huge sector: %v", err)
	}
	// A chain longer than the bound: 200 EBRs one sector apart, each with a one-sector
	// partition after it.
	d := newMBRDisk(1000, 512)
	d.entry(0, 0, false, 0x05, 1, 999)
	for k := 0; k < 200; k++ {
		lba := 1 + 2*k
		d.record(lba)
		d.entry(lba, 0, false, 0x07, 1, 1)
		d.entry(lba, 1, false, 0x05, uint32(lba+2-1), 2)
	}
	if _, err := d.read(); err == nil || !strings.Contains(err.Error(), "chains more than 128 logical partitions") {
		t.Errorf("long chain: %v", err)
	}
}

// No input makes ReadMBR panic or allocate beyond its bounds; a table it accepts has
// disjoint entries on the disk.
func FuzzReadMBR(f *testing.F) {
	// The kit's shape on 48 sectors: small, so that the fuzzer mutates it fast.
	kit := newMBRDisk(48, 512)
	kit.entry(0, 0, true, 0x0c, 2, 8)
	kit.entry(0, 1, false, 0x07, 10, 10)
	kit.entry(0, 2, false, 0x0c, 20, 10)
	kit.entry(0, 3, false, 0x05, 30, 18)
	kit.record(30)
	kit.entry(30, 0, false, 0x70, 1, 2)
	kit.entry(30, 1, false, 0x05, 3, 15)
	kit.record(33)
	kit.entry(33, 0, false, 0x07, 1, 14)
	kit.meta(31, 5, map[string]uint64{"EFIESP": 2 * 512, "MainOS": 10 * 512, "MMOS": 20 * 512, "MBR_META": 31 * 512, "Data": 34 * 512})
	if _, err := kit.read(); err != nil {
		f.Fatal(err)
	}
	f.Add(kit.b, uint16(512))
	small := newMBRDisk(64, 512)
	small.entry(0, 0, true, 0x07, 1, 63)
	f.Add(small.b, uint16(512))
	big := newMBRDisk(8, 4096)
	big.entry(0, 0, false, 0x05, 1, 7)
	big.record(1)
	big.entry(1, 0, false, 0x70, 1, 4)
	big.meta(2, 1, map[string]uint64{"MBR_META": 2 * 4096})
	f.Add(big.b, uint16(4096))
	f.Fuzz(func(t *testing.T, data []byte, ss uint16) {
		m, err := ReadMBR(bytes.NewReader(data), int64(len(data)), uint32(ss))
		if err != nil {
			return
		}
		sectors := uint64(len(data)) / uint64(ss)
		for _, e := range m.Entries {
			if e.FirstLBA == 0 || e.LastLBA < e.FirstLBA || e.LastLBA >= sectors || e.Name == "" {
				t.Fatalf("accepted entry %+v on a %d-sector disk", e, sectors)
			}
		}
	})
}

// Write stores an MBR disk as MbrDataEntryGenerator does: phase 1 at the start only, the
// flash-only MBR without the RequiredToFlash=false partitions, the final MBR with ImageApp's
// disk signature; the partitions are matched by their MBR_META names and the manifest gets
// their type bytes. A disk without MBR_META is refused.
func TestWriteMBR(t *testing.T) {
	d := kitMBR()
	img := &Image{
		Disk: bytes.NewReader(d.b), DiskSize: int64(len(d.b)), SectorSize: 512, ChunkSizeKB: 4,
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
	disk := make(memDisk, s.DiskSize)
	if err := r.extractTo(0, disk); err != nil {
		t.Fatal(err)
	}
	m, err := ReadMBR(bytes.NewReader(disk), s.DiskSize, 512)
	if err != nil || len(m.Entries) != 5 || m.Entries[2].Name != "MMOS" {
		t.Errorf("extracted MBR: %+v, %v", m, err)
	}
	man := string(r.ManifestBytes())
	if !strings.Contains(man, "Type            = 0x0c") || !strings.Contains(man, "Type         = 0x0c") {
		t.Errorf("manifest types:\n%s", man)
	}

	clear(d.b[1216*512 : 1216*512+4])
	d.entry(1088, 0, false, 0x0b, 128, 64)
	if _, err := img.plan(); err == nil || !strings.Contains(err.Error(), "without an MBR_META partition") {
		t.Errorf("no MBR_META: %v", err)
	}
}
