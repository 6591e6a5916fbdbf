package layout

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"
)

// MBR layouts (DeviceLayout partitions with MBR type bytes, e.g. the IoT Core kit's MBR4GB and
// MBR8GB-R and the NXP i.MX6/7 boards): ImageApp adds a 1 MiB MBR_META partition (type 0x70)
// that records each partition's name, since an MBR has no names.
const (
	MBRMetaType = 0x70
	MBRMetaName = "MBR_META"
	// MBRExtendedType is the type of the extended partition that holds the logical partitions
	// (the fifth partition on): the type the Microsoft reader takes for a container.
	MBRExtendedType = 0x05
)

// isExtendedType reports the type bytes readers take for extended-partition containers.
func isExtendedType(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 || t == 0x13 }

// MBR_META's header (MetadataPartitionHeader) and entries (MetadataPartitionEntry), as the
// Microsoft reader and the device's storage helper read them: u32 signature 0x00080001, u32
// maximum entry count, u32 entry count, then per partition u64 byte offset on the disk, its
// name in 36 UTF-16LE characters (NUL-padded) and its partition GUID (16 bytes).
const (
	MBRMetaSignature = 0x00080001
	MBRMetaHeader    = 12
	MBRMetaEntry     = 96
	mbrMetaNameChars = 36
)

// TableBytes are partition-table bytes of an MBR disk and the sector they start at.
type TableBytes struct {
	LBA  uint64
	Data []byte // whole sectors
}

// MBRTables encodes an MBR plan's partition tables: the MBR at sector 0, one extended boot
// record per logical partition, and the MBR_META partition's header and entries. Entries carry
// no CHS addresses (zeros, as ImageApp writes them): LBA only.
func (p *Plan) MBRTables() ([]TableBytes, error) {
	if !p.MBR {
		return nil, fmt.Errorf("not an MBR plan")
	}
	ss := int(p.SectorSize)
	mbr := make([]byte, ss)
	binary.LittleEndian.PutUint32(mbr[440:], p.DiskSignature)
	mbr[510], mbr[511] = 0x55, 0xAA
	out := []TableBytes{{0, mbr}}
	primary := p.Partitions
	var logical []*Placed
	if len(p.Partitions) > 4 {
		primary, logical = p.Partitions[:3], p.Partitions[3:]
	}
	for i, pt := range primary {
		putMBREntry(mbr[446+16*i:], pt.Layout.Bootable, pt.Layout.MBRType, pt.FirstLBA, pt.Sectors())
	}
	if len(logical) > 0 {
		ext := logical[0].EBR
		putMBREntry(mbr[446+16*3:], false, MBRExtendedType, ext, logical[len(logical)-1].LastLBA-ext+1)
		for k, pt := range logical {
			ebr := make([]byte, ss)
			ebr[510], ebr[511] = 0x55, 0xAA
			// The logical partition, relative to its EBR; the next EBR, relative to the
			// extended partition's start.
			putMBREntry(ebr[446:], pt.Layout.Bootable, pt.Layout.MBRType, pt.FirstLBA-pt.EBR, pt.Sectors())
			if k+1 < len(logical) {
				next := logical[k+1]
				putMBREntry(ebr[446+16:], false, MBRExtendedType, next.EBR-ext, next.LastLBA-next.EBR+1)
			}
			out = append(out, TableBytes{pt.EBR, ebr})
		}
	}
	meta, err := p.mbrMeta()
	if err != nil {
		return nil, err
	}
	return append(out, meta), nil
}

func putMBREntry(b []byte, bootable bool, typ byte, start, n uint64) {
	if bootable {
		b[0] = 0x80
	}
	b[4] = typ
	binary.LittleEndian.PutUint32(b[8:], uint32(start))
	binary.LittleEndian.PutUint32(b[12:], uint32(n))
}

// mbrMeta encodes MBR_META: every partition, MBR_META included, in table order.
func (p *Plan) mbrMeta() (TableBytes, error) {
	var meta *Placed
	for _, pt := range p.Partitions {
		if pt.Meta {
			meta = pt
		}
	}
	if meta == nil {
		return TableBytes{}, fmt.Errorf("MBR plan without %s", MBRMetaName)
	}
	ss := uint64(p.SectorSize)
	n := MBRMetaHeader + MBRMetaEntry*len(p.Partitions)
	b := make([]byte, (uint64(n)+ss-1)/ss*ss)
	le := binary.LittleEndian
	le.PutUint32(b[0:], MBRMetaSignature)
	le.PutUint32(b[4:], uint32((meta.Sectors()*ss-MBRMetaHeader)/MBRMetaEntry))
	le.PutUint32(b[8:], uint32(len(p.Partitions)))
	for i, pt := range p.Partitions {
		e := b[MBRMetaHeader+MBRMetaEntry*i:]
		le.PutUint64(e, pt.FirstLBA*ss)
		for j, u := range utf16.Encode([]rune(pt.Name)) {
			if j < mbrMetaNameChars {
				le.PutUint16(e[8+2*j:], u)
			}
		}
		g, err := guidBytes(pt.GUID)
		if err != nil {
			return TableBytes{}, fmt.Errorf("%s: partition %s: Id %v", pt.Layout.Pos, pt.Name, err)
		}
		copy(e[8+2*mbrMetaNameChars:], g[:])
	}
	return TableBytes{meta.FirstLBA, b}, nil
}

// guidBytes encodes a GUID string as .NET's Guid.ToByteArray and GPT entries do: the first
// three fields little-endian.
func guidBytes(s string) ([16]byte, error) {
	var g [16]byte
	id := strings.Trim(s, "{}")
	raw, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(raw) != 16 || !isGUID(id) {
		return g, fmt.Errorf("%q is not a GUID", s)
	}
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5], g[6], g[7] = raw[5], raw[4], raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, nil
}
