package disk

import (
	"bytes"
	"strings"
	"testing"
)

// What MBRTables writes, ReadMBR reads back: three primary partitions, then logical ones
// (MBR_META among them) along the EBR chain, names and GUIDs from MBR_META, the boot flag.
func TestMBRTablesRoundTrip(t *testing.T) {
	const ss = 512
	parts := []Partition{
		{Index: 1, Name: "EFIESP", Type: "0x0c", GUID: "11111111-2222-4333-8444-555555555555", FirstLBA: 64, LastLBA: 319, Attributes: MBRBootable},
		{Index: 2, Name: "MainOS", Type: "0x07", GUID: "21111111-2222-4333-8444-555555555555", FirstLBA: 320, LastLBA: 831},
		{Index: 3, Name: "MMOS", Type: "0x0c", GUID: "31111111-2222-4333-8444-555555555555", FirstLBA: 832, LastLBA: 1087},
		{Index: 5, Name: "MBR_META", Type: "0x70", GUID: "41111111-2222-4333-8444-555555555555", FirstLBA: 1216, LastLBA: 1279, EBR: 1088},
		{Index: 6, Name: "Data", Type: "0x07", GUID: "51111111-2222-4333-8444-555555555555", FirstLBA: 1408, LastLBA: 4095, EBR: 1280},
	}
	recs, err := MBRTables(ss, SystemStoreSignature, parts)
	if err != nil {
		t.Fatal(err)
	}
	img := make(memWriter, 4096*ss)
	for _, r := range recs {
		if _, err := img.WriteAt(r.Data, int64(r.LBA)*ss); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ReadMBR(bytes.NewReader(img), int64(len(img)), ss)
	if err != nil {
		t.Fatal(err)
	}
	if m.DiskSignature != SystemStoreSignature || !m.HasMeta || len(m.Entries) != len(parts) {
		t.Fatalf("read back signature %#x, meta %v, %d entries", m.DiskSignature, m.HasMeta, len(m.Entries))
	}
	for i, e := range m.Entries {
		p := parts[i]
		if e.Index != p.Index || e.Name != p.Name || e.Type != p.Type || !strings.EqualFold(e.GUID, p.GUID) ||
			e.FirstLBA != p.FirstLBA || e.LastLBA != p.LastLBA || e.Attributes != p.Attributes {
			t.Errorf("entry %d read back as %+v, written %+v", i, e, p)
		}
	}
	for _, bad := range []struct {
		change func(p []Partition)
		want   string
	}{
		{func(p []Partition) { p[1].Type = "{ebd0a0a2-b9e5-4433-87c0-68b6b72699c7}" }, "MainOS: type \"{ebd0a0a2"},
		{func(p []Partition) { p[3].Type = "0x07" }, "no MBR_META partition"},
		{func(p []Partition) { p[4].GUID = "x" }, "MBR_META: partition Data: GUID"},
	} {
		c := append([]Partition(nil), parts...)
		bad.change(c)
		if _, err := MBRTables(ss, 0, c); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("MBRTables: %v, want %q", err, bad.want)
		}
	}
}
