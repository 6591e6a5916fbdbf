package ffu

import (
	"errors"
	"fmt"
	"slices"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// diskTable is the partition table Write stores: a GPT (primary and backup) or an MBR (with
// its EBRs and MBR_META), as ImageApp's GptDataEntryGenerator and MbrDataEntryGenerator do.
type diskTable struct {
	entries []disk.Partition
	what    string   // "primary GPT" or "MBR", for messages
	primary []uint32 // blocks of the table (and, for an MBR, MBR_META's header)
	backup  []uint32 // blocks of the backup GPT; none for an MBR
	mbr     bool
	// flashOnly overlays the flash-only table on blk, a block read from disk offset off: the
	// table without the entries whose Index is in drop.
	flashOnly func(blk []byte, off int64, drop []int)
	// final overlays the final table on blk; nil when the disk's own bytes are final.
	final func(blk []byte, off int64)
}

// The Microsoft tool reads and writes at least 16 KiB of GPT entries
// (GuidPartitionTable.MIN_GPT_PARTITION_ARRAY_SIZE), whatever the header's count.
const gptMinArrayBytes = 16384

// gptBlocks returns the indexes (from the start of the disk) of the blocks the table occupies as
// the Microsoft tool reads and writes it: the header sector (for the primary table also the
// protective MBR at LBA 0) and at least 16 KiB of entries from the entry array's LBA.
func gptBlocks(g *disk.GPT, diskSize int64, blockSize int64) []uint32 {
	ss := int64(g.SectorSize)
	array := max(int64(g.EntryCount)*int64(g.EntrySize), gptMinArrayBytes)
	hdrStart := int64(g.HeaderLBA) * ss
	ranges := [][2]int64{{hdrStart, hdrStart + ss}, {int64(g.EntriesLBA) * ss, min(int64(g.EntriesLBA)*ss+array, diskSize)}}
	if g.HeaderLBA == 1 {
		ranges = append(ranges, [2]int64{0, ss})
	}
	var out []uint32
	for _, r := range ranges {
		for b := r[0] / blockSize; b*blockSize < r[1]; b++ {
			out = append(out, uint32(b))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readTable reads the disk's GPT or, when it has none but an MBR, the MBR.
func (img *Image) readTable(bs int64) (*diskTable, error) {
	primary, m, err := disk.ReadTable(img.Disk, img.DiskSize, img.SectorSize)
	if err != nil {
		return nil, err
	}
	if m != nil {
		return img.mbrTable(m, bs)
	}
	backup, err := disk.ReadBackupGPT(img.Disk, img.DiskSize, img.SectorSize)
	if err != nil {
		return nil, err
	}
	if primary.AlternateLBA != backup.HeaderLBA {
		return nil, fmt.Errorf("primary GPT: backup header LBA %d, but the disk's last LBA is %d", primary.AlternateLBA, backup.HeaderLBA)
	}
	if !primary.SameEntries(backup) {
		return nil, fmt.Errorf("backup GPT entry array (LBA %d) differs from the primary one (LBA %d)", backup.EntriesLBA, primary.EntriesLBA)
	}
	ss := int64(img.SectorSize)
	t := &diskTable{
		entries: primary.Entries, what: "primary GPT",
		primary: gptBlocks(primary, img.DiskSize, bs), backup: gptBlocks(backup, img.DiskSize, bs),
		flashOnly: func(blk []byte, off int64, drop []int) {
			hdr, ents := primary.WithoutEntries(drop)
			overlay(blk, off, hdr, int64(primary.HeaderLBA)*ss)
			overlay(blk, off, ents, int64(primary.EntriesLBA)*ss)
		},
	}
	seen := map[uint32]bool{}
	for _, b := range t.primary {
		seen[b] = true
	}
	for _, b := range t.backup {
		if seen[b] {
			return nil, fmt.Errorf("disk of %d bytes is too small: block %d holds both the primary and the backup GPT", img.DiskSize, b)
		}
	}
	return t, nil
}

func (img *Image) mbrTable(m *disk.MBR, bs int64) (*diskTable, error) {
	if !m.HasMeta {
		return nil, errors.New("MBR disk without an MBR_META partition (type 0x70): its partitions have no names to match the manifest's")
	}
	var entries []disk.Partition
	for _, e := range m.Entries {
		if e.Type != fmt.Sprintf("0x%02x", disk.MBRTypeMeta) {
			entries = append(entries, e)
		}
	}
	ss := int64(img.SectorSize)
	put := func(blk []byte, off int64, recs []disk.Record) {
		for _, r := range recs {
			overlay(blk, off, r.Data, int64(r.LBA)*ss)
		}
	}
	return &diskTable{
		entries: entries, what: "MBR", mbr: true, primary: m.TableBlocks(bs),
		flashOnly: func(blk []byte, off int64, drop []int) {
			var idx []int // into m.Entries
			for _, d := range drop {
				for i, e := range m.Entries {
					if e.Index == d {
						idx = append(idx, i)
					}
				}
			}
			put(blk, off, m.WithoutEntries(idx))
		},
		final: func(blk []byte, off int64) { put(blk, off, m.WithoutEntries(nil)) },
	}, nil
}
