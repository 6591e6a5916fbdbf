package ffu

import (
	"errors"
	"fmt"
)

// diskTable is the partition table Write stores: a GPT (primary and backup) or an MBR (with
// its EBRs and MBR_META), as ImageApp's GptDataEntryGenerator and MbrDataEntryGenerator do.
type diskTable struct {
	entries []GPTEntry
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

// readTable reads the disk's GPT or, when it has none but an MBR, the MBR.
func (img *Image) readTable(bs int64) (*diskTable, error) {
	primary, gptErr := ReadGPT(img.Disk, img.DiskSize, img.SectorSize)
	if gptErr != nil {
		m, mbrErr := ReadMBR(img.Disk, img.DiskSize, img.SectorSize)
		switch {
		case errors.Is(mbrErr, errProtective):
			return nil, gptErr
		case mbrErr != nil:
			return nil, fmt.Errorf("%v; and as an MBR disk: %v", gptErr, mbrErr)
		}
		return img.mbrTable(m, bs)
	}
	backup, err := ReadBackupGPT(img.Disk, img.DiskSize, img.SectorSize)
	if err != nil {
		return nil, err
	}
	if primary.AlternateLBA != backup.HeaderLBA {
		return nil, fmt.Errorf("primary GPT: backup header LBA %d, but the disk's last LBA is %d", primary.AlternateLBA, backup.HeaderLBA)
	}
	if string(primary.entries) != string(backup.entries) {
		return nil, fmt.Errorf("backup GPT entry array (LBA %d) differs from the primary one (LBA %d)", backup.EntriesLBA, primary.EntriesLBA)
	}
	ss := int64(img.SectorSize)
	t := &diskTable{
		entries: primary.Entries, what: "primary GPT",
		primary: primary.blocks(img.DiskSize, bs), backup: backup.blocks(img.DiskSize, bs),
		flashOnly: func(blk []byte, off int64, drop []int) {
			hdr, ents := primary.withoutEntries(drop)
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

func (img *Image) mbrTable(m *MBR, bs int64) (*diskTable, error) {
	if !m.HasMeta {
		return nil, errors.New("MBR disk without an MBR_META partition (type 0x70): its partitions have no names to match the manifest's")
	}
	var entries []GPTEntry
	for _, e := range m.Entries {
		if e.TypeGUID != fmt.Sprintf("0x%02x", mbrTypeMeta) {
			entries = append(entries, e)
		}
	}
	ss := int64(img.SectorSize)
	put := func(blk []byte, off int64, recs []mbrRecord) {
		for _, r := range recs {
			overlay(blk, off, r.data, int64(r.lba)*ss)
		}
	}
	return &diskTable{
		entries: entries, what: "MBR", mbr: true, primary: m.blocks(bs),
		flashOnly: func(blk []byte, off int64, drop []int) {
			var idx []int // into m.Entries
			for _, d := range drop {
				for i, e := range m.Entries {
					if e.Index == d {
						idx = append(idx, i)
					}
				}
			}
			put(blk, off, m.withoutEntries(idx))
		},
		final: func(blk []byte, off int64) { put(blk, off, m.withoutEntries(nil)) },
	}, nil
}
