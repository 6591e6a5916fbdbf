package disk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/oemimage/rules_oemimage/tools/internal/utf16le"
)

// Reading a GPT (UEFI 2.x section 5.3): find the primary and backup tables, check their CRCs
// and bounds, and for the FFU writer build the flash-only table without some entries.

const (
	gptSignature     = "EFI PART"
	gptMinHeaderSize = 92
	gptNameBytes     = 72
	gptMinEntrySize  = 128
	gptMaxEntrySize  = 4096    // bounds the entry size a header may claim; UEFI disks use 128
	gptMaxArrayBytes = 4 << 20 // entry count × size; 16 KiB is usual, 4 MiB is 32,768 entries of 128 bytes
)

// MaxSectorSize bounds the sector sizes read: disks have 512- or 4096-byte sectors, and a
// table's header is one sector.
const MaxSectorSize = 64 << 10

// GPT is a GUID partition table as found on a disk.
type GPT struct {
	SectorSize     uint32
	DiskGUID       string
	HeaderLBA      uint64 // MyLBA
	AlternateLBA   uint64
	FirstUsableLBA uint64
	LastUsableLBA  uint64
	EntriesLBA     uint64
	EntryCount     uint32
	EntrySize      uint32
	Entries        []Partition // the used entries, in array order

	header  []byte // the header sector
	entries []byte // the entry array, EntryCount*EntrySize bytes
}

// Partition is one partition of a disk's table, as placed, written and read: a GPT entry, or
// an MBR entry, whose Type is its type byte ("0x07") and whose name and GUID MBR_META holds.
type Partition struct {
	Index      int // position in the entry array (GPT); the number Linux gives it (MBR: 1-4, 5 on)
	Name       string
	Type       string // GPT: the type GUID; MBR: the type byte, "0x%02x"
	GUID       string
	FirstLBA   uint64
	LastLBA    uint64
	Attributes uint64 // GPT attribute bits; MBR: MBRBootable for the boot flag
	// EBR is, for a logical partition of an MBR disk, the sector of the extended boot record
	// that describes it; 0 for a primary partition (and as ReadMBR gives entries).
	EBR uint64
}

// Sectors is the partition's size in sectors.
func (p *Partition) Sectors() uint64 { return p.LastLBA - p.FirstLBA + 1 }

// ReadGPT reads and checks the primary GPT (header at LBA 1) of a disk.
func ReadGPT(r io.ReaderAt, diskSize int64, sectorSize uint32) (*GPT, error) {
	return readGPT(r, diskSize, sectorSize, 1, "primary")
}

// ReadBackupGPT reads and checks the backup GPT (header at the last LBA).
func ReadBackupGPT(r io.ReaderAt, diskSize int64, sectorSize uint32) (*GPT, error) {
	if sectorSize == 0 || diskSize < int64(sectorSize) {
		return nil, fmt.Errorf("backup GPT: disk of %d bytes has no last sector", diskSize)
	}
	return readGPT(r, diskSize, sectorSize, uint64(diskSize/int64(sectorSize))-1, "backup")
}

func readGPT(r io.ReaderAt, diskSize int64, ss uint32, lba uint64, which string) (*GPT, error) {
	if ss < 512 || ss > MaxSectorSize || ss&(ss-1) != 0 {
		return nil, fmt.Errorf("%s GPT: sector size %d is not a power of two from 512 to %d", which, ss, MaxSectorSize)
	}
	sectors := uint64(diskSize / int64(ss))
	if lba >= sectors {
		return nil, fmt.Errorf("%s GPT: LBA %d is beyond the disk (%d sectors)", which, lba, sectors)
	}
	hdr := make([]byte, ss)
	if _, err := r.ReadAt(hdr, int64(lba)*int64(ss)); err != nil {
		return nil, fmt.Errorf("%s GPT: reading the header at LBA %d: %w", which, lba, err)
	}
	if string(hdr[:8]) != gptSignature {
		return nil, fmt.Errorf("%s GPT: no %q signature at LBA %d", which, gptSignature, lba)
	}
	le := binary.LittleEndian
	hsize := le.Uint32(hdr[12:])
	if hsize < gptMinHeaderSize || hsize > ss {
		return nil, fmt.Errorf("%s GPT at LBA %d: header size %d is outside %d..%d", which, lba, hsize, gptMinHeaderSize, ss)
	}
	if got, want := headerCRC(hdr[:hsize]), le.Uint32(hdr[16:]); got != want {
		return nil, fmt.Errorf("%s GPT at LBA %d: header CRC32 %#08x, computed %#08x", which, lba, want, got)
	}
	g := &GPT{
		SectorSize:     ss,
		HeaderLBA:      le.Uint64(hdr[24:]),
		AlternateLBA:   le.Uint64(hdr[32:]),
		FirstUsableLBA: le.Uint64(hdr[40:]),
		LastUsableLBA:  le.Uint64(hdr[48:]),
		DiskGUID:       guidString(hdr[56:72]),
		EntriesLBA:     le.Uint64(hdr[72:]),
		EntryCount:     le.Uint32(hdr[80:]),
		EntrySize:      le.Uint32(hdr[84:]),
		header:         hdr,
	}
	if g.HeaderLBA != lba {
		return nil, fmt.Errorf("%s GPT at LBA %d: header says it is at LBA %d", which, lba, g.HeaderLBA)
	}
	if g.EntrySize < gptMinEntrySize || g.EntrySize > gptMaxEntrySize || g.EntrySize%8 != 0 {
		return nil, fmt.Errorf("%s GPT at LBA %d: entry size %d (must be a multiple of 8 from %d to %d)", which, lba, g.EntrySize, gptMinEntrySize, gptMaxEntrySize)
	}
	if g.LastUsableLBA >= sectors || g.FirstUsableLBA > g.LastUsableLBA {
		return nil, fmt.Errorf("%s GPT at LBA %d: usable LBAs %d..%d are not within the disk (%d sectors)", which, lba, g.FirstUsableLBA, g.LastUsableLBA, sectors)
	}
	arrayBytes := uint64(g.EntryCount) * uint64(g.EntrySize)
	if arrayBytes > gptMaxArrayBytes {
		return nil, fmt.Errorf("%s GPT at LBA %d: %d entries of %d bytes is more than %d bytes", which, lba, g.EntryCount, g.EntrySize, gptMaxArrayBytes)
	}
	if g.EntriesLBA >= sectors || g.EntriesLBA*uint64(ss)+arrayBytes > uint64(diskSize) {
		return nil, fmt.Errorf("%s GPT at LBA %d: entry array at LBA %d (%d bytes) is beyond the disk", which, lba, g.EntriesLBA, arrayBytes)
	}
	g.entries = make([]byte, arrayBytes)
	if _, err := r.ReadAt(g.entries, int64(g.EntriesLBA)*int64(ss)); err != nil {
		return nil, fmt.Errorf("%s GPT: reading the entry array at LBA %d: %w", which, g.EntriesLBA, err)
	}
	if got, want := crc32.ChecksumIEEE(g.entries), le.Uint32(hdr[88:]); got != want {
		return nil, fmt.Errorf("%s GPT at LBA %d: entry array CRC32 %#08x, computed %#08x", which, lba, want, got)
	}
	for i := 0; i < int(g.EntryCount); i++ {
		e := g.entries[i*int(g.EntrySize):]
		if allZero(e[:16]) {
			continue
		}
		ent := Partition{
			Index:      i,
			Type:       guidString(e[0:16]),
			GUID:       guidString(e[16:32]),
			FirstLBA:   le.Uint64(e[32:]),
			LastLBA:    le.Uint64(e[40:]),
			Attributes: le.Uint64(e[48:]),
			Name:       utf16le.CString(e[56 : 56+gptNameBytes]),
		}
		if ent.FirstLBA > ent.LastLBA || ent.FirstLBA < g.FirstUsableLBA || ent.LastLBA > g.LastUsableLBA {
			return nil, fmt.Errorf("%s GPT at LBA %d: entry %d (%q) has LBAs %d..%d, outside the usable LBAs %d..%d", which, lba, i, ent.Name, ent.FirstLBA, ent.LastLBA, g.FirstUsableLBA, g.LastUsableLBA)
		}
		g.Entries = append(g.Entries, ent)
	}
	return g, nil
}

// headerCRC is the CRC32 of a header with its CRC field taken as zero.
func headerCRC(h []byte) uint32 {
	c := bytes.Clone(h)
	clear(c[16:20])
	return crc32.ChecksumIEEE(c)
}

// WithoutEntries returns the header sector and entry array of a copy of the table in which the
// entries at the given indexes are zeroed, with both CRCs recomputed (the Microsoft tool's
// RemoveEntry and FixCrcs: entries are cleared in place, not compacted), for the FFU's
// flash-only table.
func (g *GPT) WithoutEntries(indexes []int) (header, entries []byte) {
	header, entries = bytes.Clone(g.header), bytes.Clone(g.entries)
	for _, i := range indexes {
		clear(entries[i*int(g.EntrySize) : (i+1)*int(g.EntrySize)])
	}
	le := binary.LittleEndian
	le.PutUint32(header[88:], crc32.ChecksumIEEE(entries))
	hsize := le.Uint32(header[12:])
	le.PutUint32(header[16:], headerCRC(header[:hsize]))
	return header, entries
}

// SameEntries reports whether g and o have the same entry array, byte for byte (a primary and
// a backup table must).
func (g *GPT) SameEntries(o *GPT) bool { return bytes.Equal(g.entries, o.entries) }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func guidString(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(b[0:]), le.Uint16(b[4:]), le.Uint16(b[6:]), b[8:10], b[10:16])
}
