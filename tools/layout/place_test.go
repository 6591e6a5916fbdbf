package layout

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/devicelayout"
)

// checkPlan checks what every plan must satisfy: partitions inside the disk and outside its
// partition tables, disjoint.
func checkPlan(p *Plan) error {
	lo, hi := uint64(1)+GPTSectors(p.SectorSize), p.DiskSectors-1-GPTSectors(p.SectorSize)
	if p.MBR {
		lo, hi = 1, p.DiskSectors-1
	}
	type r struct {
		name        string
		first, last uint64
	}
	var rs []r
	for i, pt := range p.Partitions {
		if pt.FirstLBA < lo || pt.LastLBA > hi || pt.LastLBA < pt.FirstLBA {
			return fmt.Errorf("partition %s at %d-%d is outside %d-%d", pt.Name, pt.FirstLBA, pt.LastLBA, lo, hi)
		}
		rs = append(rs, r{pt.Name, pt.FirstLBA, pt.LastLBA})
		if p.Logical(i) {
			if pt.EBR < lo || pt.EBR >= pt.FirstLBA {
				return fmt.Errorf("logical partition %s at %d has its EBR at %d", pt.Name, pt.FirstLBA, pt.EBR)
			}
			rs = append(rs, r{pt.Name + " EBR", pt.EBR, pt.EBR})
		} else if pt.EBR != 0 {
			return fmt.Errorf("primary partition %s has an EBR", pt.Name)
		}
		if p.MBR && (pt.LastLBA >= 1<<32) {
			return fmt.Errorf("partition %s beyond 32-bit LBAs", pt.Name)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].first < rs[j].first })
	for i := 1; i < len(rs); i++ {
		if rs[i].first <= rs[i-1].last {
			return fmt.Errorf("%s and %s overlap", rs[i-1].name, rs[i].name)
		}
	}
	return nil
}

type want struct {
	name        string
	first, last uint64
	ebr         uint64 // MBR logical partitions only
}

func checkPlaced(t *testing.T, plan *Plan, wants []want) {
	t.Helper()
	if len(plan.Partitions) != len(wants) {
		t.Fatalf("%d partitions, want %d", len(plan.Partitions), len(wants))
	}
	for i, w := range wants {
		p := plan.Partitions[i]
		if p.Name != w.name || p.FirstLBA != w.first || p.LastLBA != w.last || p.EBR != w.ebr {
			t.Errorf("partition %d: %s at %d-%d (EBR %d), want %s at %d-%d (EBR %d)", i, p.Name, p.FirstLBA, p.LastLBA, p.EBR, w.name, w.first, w.last, w.ebr)
		}
	}
	if err := checkPlan(plan); err != nil {
		t.Error(err)
	}
}

// The NXP i.MX8 boards' GPT layout: the boot loader at sector 66 (OffsetInSectors), where the
// boot ROM reads it; the next partition follows it at the default alignment.
const imx8 = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>BOOTLOADER</Name><TotalSectors>4096</TotalSectors><Type>{07DE03AA-F07C-4800-A28A-9B9FF76E9F47}</Type><OffsetInSectors>66</OffsetInSectors></Partition>
    <Partition><Name>BOOTFIRMWARE</Name><TotalSectors>4096</TotalSectors><Type>{1D30ADF8-0AEF-4D83-B78C-AC719086C709}</Type></Partition>
    <Partition><Name>EFIESP</Name><FileSystem>FAT</FileSystem><TotalSectors>65536</TotalSectors><Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type></Partition>
    <Partition><Name>MainOS</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><MinFreeSectors>1048576</MinFreeSectors><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x1000</ClusterSize><FileSystem>NTFS</FileSystem></Partition>
    <Partition><Name>Data</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><UseAllSpace>true</UseAllSpace><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x4000</ClusterSize><FileSystem>NTFS</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize>
</DeviceLayout>`

func mustParse(t *testing.T, xml string) *devicelayout.DeviceLayout {
	t.Helper()
	d, err := devicelayout.ParseDeviceLayout("dl.xml", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPlaceOffsetInSectors(t *testing.T) {
	d := mustParse(t, imx8)
	plan, err := Place(d, d.Stores[0], 1<<23, nil, nil, "s")
	if err != nil {
		t.Fatal(err)
	}
	// By hand: BOOTLOADER 66..4161; BOOTFIRMWARE at the next 1 MiB (2048 sectors) boundary, 6144;
	// EFIESP at 10240; MainOS at the next 8 MiB (16384 sectors) boundary after 75776, 81920;
	// Data from the next 8 MiB boundary after 1130496 (1130496 = 69*16384) to the last usable
	// sector, 2^23-34.
	checkPlaced(t, plan, []want{
		{"BOOTLOADER", 66, 4161, 0}, {"BOOTFIRMWARE", 6144, 10239, 0}, {"EFIESP", 10240, 75775, 0},
		{"MainOS", 81920, 81920 + 1048576 - 1, 0}, {"Data", 1130496, 1<<23 - 34, 0},
	})
}

func TestPlaceOverlaps(t *testing.T) {
	tests := []struct {
		name, xml string
		want      []string
	}{
		{"offset into the previous partition", strings.Replace(imx8, "<Type>{1D30ADF8-0AEF-4D83-B78C-AC719086C709}</Type>", "<Type>{1D30ADF8-0AEF-4D83-B78C-AC719086C709}</Type><OffsetInSectors>4000</OffsetInSectors>", 1),
			[]string{"partition BOOTLOADER (sectors 66-4161, dl.xml:3:5)", "partition BOOTFIRMWARE (sectors 4000-8095, dl.xml:4:5)", "overlap"}},
		{"offset into the GPT", strings.Replace(imx8, "<OffsetInSectors>66<", "<OffsetInSectors>2<", 1),
			[]string{"the protective MBR and primary GPT (sectors 0-33)", "partition BOOTLOADER (sectors 2-4097, dl.xml:3:5)", "overlap"}},
		{"offset beyond the disk", strings.Replace(imx8, "<OffsetInSectors>66<", "<OffsetInSectors>8388600<", 1),
			[]string{"dl.xml:3:5: partition BOOTLOADER at OffsetInSectors 8388600 with 4096 sectors ends beyond the 8388608-sector disk"}},
		{"offset into the backup GPT", strings.Replace(imx8, "</Partitions>", "<Partition><Name>TAIL</Name><Type>{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}</Type><TotalSectors>40</TotalSectors><OffsetInSectors>8388560</OffsetInSectors></Partition></Partitions>", 1),
			[]string{"partition TAIL (sectors 8388560-8388599, dl.xml:8:3)", "the backup GPT (sectors 8388575-8388607)", "overlap"}},
		{"offset behind a later partition", strings.Replace(imx8, "<Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type>", "<Type>{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}</Type><OffsetInSectors>100</OffsetInSectors>", 1),
			[]string{"partition BOOTLOADER (sectors 66-4161", "partition EFIESP (sectors 100-65635", "overlap"}},
		{"MBR offsets overlapping", strings.Replace(hummingboard, "<Bootable>", "<OffsetInSectors>4000</OffsetInSectors><Bootable>", 1),
			[]string{"partition BOOTLOADER (sectors 2-4097", "partition EFIESP (sectors 4000-135071", "overlap"}},
		{"MBR logical offset without room for its EBR", strings.Replace(hummingboard, "<TotalSectors>1228800</TotalSectors>", "<TotalSectors>1228800</TotalSectors><OffsetInSectors>1196100</OffsetInSectors>", 1),
			[]string{"partition MainOS (sectors 147456-1196031", "the extended boot record of CrashDump (sector 1195972)", "overlap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := devicelayout.ParseDeviceLayout("dl.xml", []byte(tt.xml))
			if err == nil {
				_, err = Place(d, d.Stores[0], 1<<23, nil, nil, "s")
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
		})
	}
}

// The kit's MBR4GB layout: with MBR_META four partitions, all primary (made in TestMain, from
// mbr8R).
var mbr4 string

func mbr4From(mbr8R string) string {
	return strings.Replace(mbr8R, `    <Partition>
      <Name>MMOS</Name>
      <FileSystem>FAT32</FileSystem>
      <TotalSectors>4096000</TotalSectors>
      <Type>0x0C</Type>
    </Partition>
`, "", 1)
}

// The NXP i.MX6/7 boards' MBR layout: a raw boot loader at sector 2, five partitions, so that
// with MBR_META two of them are logical partitions.
const hummingboard = `<DeviceLayout xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Partitions>
    <Partition><Name>BOOTLOADER</Name><TotalSectors>4096</TotalSectors><Type>0x4d</Type><OffsetInSectors>2</OffsetInSectors></Partition>
    <Partition><Name>EFIESP</Name><FileSystem>FAT</FileSystem><TotalSectors>131072</TotalSectors><Type>0x0c</Type><Bootable>true</Bootable></Partition>
    <Partition><Name>MainOS</Name><Type>0x07</Type><MinFreeSectors>1048576</MinFreeSectors><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x1000</ClusterSize><FileSystem>NTFS</FileSystem></Partition>
    <Partition><Name>CrashDump</Name><Type>0x0C</Type><TotalSectors>1228800</TotalSectors><FileSystem>FAT32</FileSystem></Partition>
    <Partition><Name>Data</Name><Type>0x07</Type><UseAllSpace>true</UseAllSpace><ByteAlignment>0x800000</ByteAlignment><ClusterSize>0x4000</ClusterSize><FileSystem>NTFS</FileSystem></Partition>
  </Partitions>
  <SectorSize>512</SectorSize><ChunkSize>128</ChunkSize><DefaultPartitionByteAlignment>0x200000</DefaultPartitionByteAlignment>
</DeviceLayout>`

func TestPlaceMBR(t *testing.T) {
	tests := []struct {
		name, xml string
		disk      uint64
		want      []want
	}{
		// By hand, 512-byte sectors, 4096-sector (2 MiB) default alignment, 64 KiB (128
		// sectors) before each logical partition for its EBR, UseAllSpace last in whole 128 KiB
		// (256-sector) blocks.
		{"kit MBR8GB-R", mbr8R, 1 << 24, []want{
			{"EFIESP", 4096, 69631, 0},
			{"MainOS", 81920, 1130495, 0},                  // 8 MiB alignment
			{"MMOS", 1130496, 1130496 + 4096000 - 1, 0},    // 1130496 = 276*4096
			{"MBR_META", 5226624, 5226624 + 2047, 5226496}, // logical: EBR, 128 sectors, then MBR_META (sector-aligned)
			{"Data", 5242880, 1<<24 - 1, 5242880 - 128}},   // next 8 MiB boundary after 5228800
		},
		{"kit MBR4GB: four primary partitions", mbr4, 1 << 23, []want{
			{"EFIESP", 4096, 69631, 0},
			{"MainOS", 81920, 1130495, 0},
			{"MBR_META", 1130496, 1130496 + 2047, 0},
			{"Data", 1146880, 1146880 + (1<<23-1146880)/256*256 - 1, 0}}, // 70*16384
		},
		{"i.MX6 HummingBoard", hummingboard, 1 << 23, []want{
			{"BOOTLOADER", 2, 4097, 0},
			{"EFIESP", 8192, 139263, 0},
			{"MainOS", 147456, 1196031, 0},               // 9*16384
			{"CrashDump", 1200128, 2428927, 1200000},     // 1196032+128 rounded up to 293*4096
			{"MBR_META", 2429056, 2431103, 2428928},      // 2428928+128
			{"Data", 2441216, 1<<23 - 1, 2441216 - 128}}, // 149*16384; 5947392 sectors are 23232 blocks

		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, tt.xml)
			plan, err := Place(d, d.Stores[0], tt.disk, nil, nil, "s")
			if err != nil {
				t.Fatal(err)
			}
			if !plan.MBR || plan.DiskSignature != 0xAE420040 {
				t.Errorf("MBR %v signature %#x", plan.MBR, plan.DiskSignature)
			}
			checkPlaced(t, plan, tt.want)
		})
	}
}

func TestMBRTables(t *testing.T) {
	d := mustParse(t, mbr8R)
	plan, err := Place(d, d.Stores[0], 1<<24, nil, nil, "s")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := plan.MBRTables()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	entry := func(b []byte, i int) [4]uint64 {
		e := b[446+16*i:]
		return [4]uint64{uint64(e[0]), uint64(e[4]), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))}
	}
	// Placement by hand in TestPlaceMBR: EFIESP 4096+65536, MainOS 81920+1048576, MMOS
	// 1130496+4096000, MBR_META 5226624 (EBR 5226496), Data 5242880 (EBR 5242752) to the end.
	mbr, ebr1, ebr2, meta := tables[0], tables[1], tables[2], tables[3]
	if len(tables) != 4 || mbr.LBA != 0 || ebr1.LBA != 5226496 || ebr2.LBA != 5242752 || meta.LBA != 5226624 {
		t.Fatalf("tables at %v", []uint64{mbr.LBA, ebr1.LBA, ebr2.LBA, meta.LBA})
	}
	wantMBR := [][4]uint64{{0x80, 0x0c, 4096, 65536}, {0, 0x07, 81920, 1048576}, {0, 0x0c, 1130496, 4096000}, {0, 0x05, 5226496, 1<<24 - 5226496}}
	for i, w := range wantMBR {
		if got := entry(mbr.Data, i); got != w {
			t.Errorf("MBR entry %d = %v, want %v", i, got, w)
		}
	}
	if le.Uint32(mbr.Data[440:]) != 0xAE420040 || mbr.Data[510] != 0x55 || mbr.Data[511] != 0xAA {
		t.Errorf("MBR signature %x, boot signature %x", mbr.Data[440:444], mbr.Data[510:])
	}
	// EBR entries: the logical partition from its EBR; the next EBR from the extended start.
	if got := entry(ebr1.Data, 0); got != [4]uint64{0, 0x70, 128, 2048} {
		t.Errorf("EBR 1 entry 0 = %v", got)
	}
	if got := entry(ebr1.Data, 1); got != [4]uint64{0, 0x05, 5242752 - 5226496, 1<<24 - 5242752} {
		t.Errorf("EBR 1 entry 1 = %v", got)
	}
	if got := entry(ebr2.Data, 0); got != [4]uint64{0, 0x07, 128, 1<<24 - 5242880} {
		t.Errorf("EBR 2 entry 0 = %v", got)
	}
	if got := entry(ebr2.Data, 1); got != [4]uint64{} {
		t.Errorf("last EBR links on: %v", got)
	}
	m := meta.Data
	if le.Uint32(m) != 0x00080001 || le.Uint32(m[4:]) != (1<<20-12)/96 || le.Uint32(m[8:]) != 5 {
		t.Fatalf("MBR_META header %x", m[:12])
	}
	for i, w := range []struct {
		name string
		off  uint64
	}{{"EFIESP", 4096 * 512}, {"MainOS", 81920 * 512}, {"MMOS", 1130496 * 512}, {"MBR_META", 5226624 * 512}, {"Data", 5242880 * 512}} {
		e := m[12+96*i:]
		name := string(bytes.ReplaceAll(e[8:8+72], []byte{0}, nil))
		if le.Uint64(e) != w.off || name != w.name {
			t.Errorf("MBR_META entry %d: %q at %d, want %q at %d", i, name, le.Uint64(e), w.name, w.off)
		}
	}
	// MainOS keeps ImageApp's well-known ID, in GPT byte order.
	if got := fmt.Sprintf("%x", m[12+96+80:12+96+96]); got != "e28c6ba78701134c8fca8651c9b0620a" {
		t.Errorf("MainOS GUID bytes %s", got)
	}
}
