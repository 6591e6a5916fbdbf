package testgpt

import (
	"encoding/binary"
	"unicode/utf16"
)

// MBRDisk builds an MBR disk by hand, byte by byte, for the MBR reader's tests and the FFU
// writer's: the boot records, their entries and an MBR_META partition.
type MBRDisk struct {
	B          []byte // the disk
	SectorSize int
}

// NewMBR is a disk of sectors sectors of ss bytes with an empty MBR.
func NewMBR(sectors, ss int) *MBRDisk {
	d := &MBRDisk{B: make([]byte, sectors*ss), SectorSize: ss}
	d.Record(0)
	return d
}

// Record marks the sector at lba as a boot record (its signature).
func (d *MBRDisk) Record(lba int) {
	d.B[lba*d.SectorSize+510], d.B[lba*d.SectorSize+511] = 0x55, 0xAA
}

// Entry sets slot i of the boot record at lba.
func (d *MBRDisk) Entry(lba, i int, boot bool, typ byte, start, n uint32) {
	e := d.B[lba*d.SectorSize+446+16*i:]
	if boot {
		e[0] = 0x80
	}
	e[4] = typ
	binary.LittleEndian.PutUint32(e[8:], start)
	binary.LittleEndian.PutUint32(e[12:], n)
}

// Meta writes an MBR_META header and entries at lba: name and byte offset of each.
func (d *MBRDisk) Meta(lba int, count uint32, names map[string]uint64) {
	m := d.B[lba*d.SectorSize:]
	binary.LittleEndian.PutUint32(m, 0x00080001)
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

// KitMBR is the shape of the kit's MBR8GB-R on a small disk: three primary partitions, then
// an extended one holding MBR_META and Data.
func KitMBR() *MBRDisk {
	d := NewMBR(4096, 512)
	d.Entry(0, 0, true, 0x0c, 64, 256)   // EFIESP 64-319
	d.Entry(0, 1, false, 0x07, 320, 512) // MainOS 320-831
	d.Entry(0, 2, false, 0x0c, 832, 256) // MMOS 832-1087
	d.Entry(0, 3, false, 0x05, 1088, 4096-1088)
	d.Record(1088)
	d.Entry(1088, 0, false, 0x70, 128, 64) // MBR_META 1216-1279
	d.Entry(1088, 1, false, 0x05, 1280-1088, 4096-1280)
	d.Record(1280)
	d.Entry(1280, 0, false, 0x07, 128, 4096-1408) // Data 1408-4095
	d.Meta(1216, 5, map[string]uint64{"EFIESP": 64 * 512, "MainOS": 320 * 512, "MMOS": 832 * 512, "MBR_META": 1216 * 512, "Data": 1408 * 512})
	return d
}
