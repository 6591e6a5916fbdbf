package disk

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"
)

func readMBRDisk(d *testgpt.MBRDisk) (*MBR, error) {
	return ReadMBR(bytes.NewReader(d.B), int64(len(d.B)), uint32(d.SectorSize))
}

func TestReadMBR(t *testing.T) {
	m, err := readMBRDisk(testgpt.KitMBR())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range m.Entries {
		got = append(got, strings.Join([]string{e.Name, e.Type}, " "))
	}
	if strings.Join(got, ", ") != "EFIESP 0x0c, MainOS 0x07, MMOS 0x0c, MBR_META 0x70, Data 0x07" {
		t.Errorf("entries %v", got)
	}
	if e := m.Entries[4]; e.Index != 6 || e.FirstLBA != 1408 || e.LastLBA != 4095 || m.Entries[0].Attributes != MBRBootable || !m.HasMeta {
		t.Errorf("Data %+v, EFIESP %+v", e, m.Entries[0])
	}
	// The table blocks (4 KiB blocks): the MBR, both EBRs and MBR_META's header.
	if b := m.TableBlocks(4096); len(b) != 4 || b[0] != 0 || b[1] != 1088*512/4096 || b[2] != 1216*512/4096 || b[3] != 1280*512/4096 {
		t.Errorf("blocks %v", b)
	}
	// The flash-only table without MMOS (Index 3) and Data (Index 6): their entries zeroed,
	// the link to Data's EBR kept, ImageApp's disk signature set.
	recs := m.WithoutEntries([]int{2, 4})
	if recs[0].Data[446+32+4] != 0 || recs[0].Data[446+48+4] != 0x05 || binary.LittleEndian.Uint32(recs[0].Data[440:]) != 0xAE420040 {
		t.Errorf("flash-only MBR %x", recs[0].Data[440:512])
	}
	if recs[2].Data[446+4] != 0 || recs[1].Data[446+16+4] != 0x05 {
		t.Errorf("flash-only EBRs %x %x", recs[1].Data[446:478], recs[2].Data[446:462])
	}

	// Without MBR_META the partitions are named by their number, as Linux numbers them.
	d := testgpt.KitMBR()
	clear(d.B[1216*512 : 1216*512+4])
	if _, err := readMBRDisk(d); err == nil || !strings.Contains(err.Error(), "MBR_META (partition 5, sector 1216): signature 0x000000") {
		t.Errorf("bad MBR_META: %v", err)
	}
	d.Entry(1088, 0, false, 0x0b, 128, 64)
	m, err = readMBRDisk(d)
	if err != nil || m.HasMeta || m.Entries[3].Name != "PARTITION5" || m.Entries[4].Name != "PARTITION6" {
		t.Errorf("no MBR_META: %+v, %v", m, err)
	}
}

// Hostile MBRs: each is refused with an error naming the entry or record at fault.
func TestReadMBRHostile(t *testing.T) {
	tests := []struct {
		name   string
		modify func(d *testgpt.MBRDisk)
		want   string
	}{
		{"no signature", func(d *testgpt.MBRDisk) { d.B[511] = 0 }, "MBR: the MBR at sector 0 has no 55 AA boot signature"},
		{"protective", func(d *testgpt.MBRDisk) { d.Entry(0, 0, false, 0xEE, 1, 4095) }, "GPT protective entry"},
		{"beyond the disk", func(d *testgpt.MBRDisk) { d.Entry(0, 1, false, 0x07, 320, 100000) }, "MBR entry 2 (type 0x07) at sectors 320-100319 is outside sectors 1-4095"},
		{"start 0xFFFFFFFF", func(d *testgpt.MBRDisk) { d.Entry(0, 2, false, 0x0c, 0xFFFFFFFF, 16) }, "MBR entry 3 (type 0x0c) at sectors 4294967295-4294967310 is outside"},
		{"size 0xFFFFFFFF", func(d *testgpt.MBRDisk) { d.Entry(0, 2, false, 0x0c, 832, 0xFFFFFFFF) }, "MBR entry 3 (type 0x0c) at sectors 832-4294968126 is outside"},
		{"empty entry", func(d *testgpt.MBRDisk) { d.Entry(0, 2, false, 0x0c, 0, 0) }, "MBR entry 3 (type 0x0c) starts at sector 0 with 0 sectors"},
		{"two extended", func(d *testgpt.MBRDisk) { d.Entry(0, 2, false, 0x0f, 832, 200) }, "entries 4 and an earlier one are both extended"},
		{"overlap", func(d *testgpt.MBRDisk) { d.Entry(0, 1, false, 0x07, 300, 512) }, "partition 1 (sectors 64-319) and partition 2 (sectors 300-811) overlap"},
		{"EBR without signature", func(d *testgpt.MBRDisk) { d.B[1280*512+510] = 0 }, "the extended boot record at sector 1280 has no 55 AA boot signature"},
		{"EBR link backwards", func(d *testgpt.MBRDisk) { d.Entry(1280, 1, false, 0x05, 0, 100) }, "the link of the extended boot record at sector 1280 at sectors 1088-1187 is outside sectors 1281-4095"},
		{"EBR link to itself", func(d *testgpt.MBRDisk) { d.Entry(1280, 1, false, 0x05, 1280-1088, 100) }, "at sectors 1280-1379 is outside sectors 1281-4095"},
		{"logical outside the extended", func(d *testgpt.MBRDisk) { d.Entry(1280, 0, false, 0x07, 128, 5000) }, "logical partition 6 (type 0x07, extended boot record at sector 1280) at sectors 1408-6407 is outside sectors 1281-4095"},
		{"partition in a link slot", func(d *testgpt.MBRDisk) { d.Entry(1280, 2, false, 0x07, 200, 10) }, "the extended boot record at sector 1280 has a partition in entry 3"},
		{"MBR_META count", func(d *testgpt.MBRDisk) { binary.LittleEndian.PutUint32(d.B[1216*512+8:], 0xFFFFFFFF) }, "MBR_META (partition 5, sector 1216): 4294967295 entries; expected at most 129"},
		{"MBR_META count beyond its partition", func(d *testgpt.MBRDisk) {
			binary.LittleEndian.PutUint32(d.B[1216*512+8:], 129)
			d.Entry(1088, 0, false, 0x70, 128, 4)
		}, "129 entries; expected at most 129 that fit its 2048 bytes"},
		{"two MBR_META", func(d *testgpt.MBRDisk) { d.Entry(0, 2, false, 0x70, 832, 256) }, "partitions 3 and 5 are both MBR_META"},
		{"duplicate names", func(d *testgpt.MBRDisk) {
			d.Meta(1216, 5, map[string]uint64{"EFIESP": 64 * 512, "efiesp": 320 * 512, "MMOS": 832 * 512, "MBR_META": 1216 * 512, "Data": 1408 * 512})
		}, `partitions 1 and 2 are both named "efiesp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testgpt.KitMBR()
			tt.modify(d)
			_, err := readMBRDisk(d)
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
	d := testgpt.NewMBR(1000, 512)
	d.Entry(0, 0, false, 0x05, 1, 999)
	for k := 0; k < 200; k++ {
		lba := 1 + 2*k
		d.Record(lba)
		d.Entry(lba, 0, false, 0x07, 1, 1)
		d.Entry(lba, 1, false, 0x05, uint32(lba+2-1), 2)
	}
	if _, err := readMBRDisk(d); err == nil || !strings.Contains(err.Error(), "chains more than 128 logical partitions") {
		t.Errorf("long chain: %v", err)
	}
}

// No input makes ReadMBR panic or allocate beyond its bounds; a table it accepts has
// disjoint entries on the disk.
func FuzzReadMBR(f *testing.F) {
	// The kit's shape on 48 sectors: small, so that the fuzzer mutates it fast.
	kit := testgpt.NewMBR(48, 512)
	kit.Entry(0, 0, true, 0x0c, 2, 8)
	kit.Entry(0, 1, false, 0x07, 10, 10)
	kit.Entry(0, 2, false, 0x0c, 20, 10)
	kit.Entry(0, 3, false, 0x05, 30, 18)
	kit.Record(30)
	kit.Entry(30, 0, false, 0x70, 1, 2)
	kit.Entry(30, 1, false, 0x05, 3, 15)
	kit.Record(33)
	kit.Entry(33, 0, false, 0x07, 1, 14)
	kit.Meta(31, 5, map[string]uint64{"EFIESP": 2 * 512, "MainOS": 10 * 512, "MMOS": 20 * 512, "MBR_META": 31 * 512, "Data": 34 * 512})
	if _, err := readMBRDisk(kit); err != nil {
		f.Fatal(err)
	}
	f.Add(kit.B, uint16(512))
	small := testgpt.NewMBR(64, 512)
	small.Entry(0, 0, true, 0x07, 1, 63)
	f.Add(small.B, uint16(512))
	big := testgpt.NewMBR(8, 4096)
	big.Entry(0, 0, false, 0x05, 1, 7)
	big.Record(1)
	big.Entry(1, 0, false, 0x70, 1, 4)
	big.Meta(2, 1, map[string]uint64{"MBR_META": 2 * 4096})
	f.Add(big.B, uint16(4096))
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
