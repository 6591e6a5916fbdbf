package layout

import (
	"fmt"
	"strings"
)

// Well-known partition GUIDs ImageApp normalizes (FORMATS.md section 3).
var wellKnownIDs = map[string]string{
	"efiesp": "8183040A-8B44-4592-92F7-C6D9EE0560F7",
	"mainos": "A76B8CE2-0187-4C13-8FCA-8651C9B0620A",
	"mmos":   "27A47557-8243-4C8E-9D30-846844C29C52",
}

// GPT attribute bits (basic data partitions).
const (
	AttrLegacyBootable = 1 << 2
	AttrReadOnly       = 1 << 60
	AttrHidden         = 1 << 62
	AttrNoDriveLetter  = 1 << 63
)

// DefaultAlignment is the partition alignment when a layout gives none: 1 MiB, where flash
// erase blocks and FFU blocks (128 KiB) both line up.
const DefaultAlignment = 1 << 20

// Placed is a partition with its place on the disk.
type Placed struct {
	*Partition
	FirstLBA, LastLBA uint64
	GUID              string
	Attributes        uint64
}

// Sectors is the partition's size in sectors.
func (p *Placed) Sectors() uint64 { return p.LastLBA - p.FirstLBA + 1 }

// Plan is a store laid out on a disk.
type Plan struct {
	SectorSize  uint32
	DiskSectors uint64
	DiskGUID    string
	Partitions  []*Placed
	MBR         bool
}

// Partition finds a placed partition by name, case-insensitively.
func (p *Plan) Partition(name string) *Placed {
	for _, pt := range p.Partitions {
		if strings.EqualFold(pt.Name, name) {
			return pt
		}
	}
	return nil
}

// GPTSectors is the size of one GPT copy's entry array plus header, for 128 entries of 128 bytes.
func GPTSectors(sectorSize uint32) uint64 {
	return 1 + (128*128+uint64(sectorSize)-1)/uint64(sectorSize)
}

// Place lays out store s on a disk of diskSectors sectors, in layout order.
//
// A partition takes TotalSectors; with MinFreeSectors it takes the sectors its content needs
// (content(name), from the caller) plus MinFreeSectors plus extra[name]; the UseAllSpace
// partition takes what is left: partitions after it are placed back from the end of the disk.
// seed makes the disk GUID and the GUIDs of partitions without an Id depend on the image.
func Place(d *DeviceLayout, s *Store, diskSectors uint64, content func(name string) uint64, extra map[string]uint64, seed string) (*Plan, error) {
	ss := uint64(d.SectorSize)
	gpt := GPTSectors(d.SectorSize)
	firstUsable := 1 + gpt // protective MBR, then header and entries
	if diskSectors <= firstUsable+gpt {
		return nil, fmt.Errorf("disk of %d sectors is too small for its partition tables", diskSectors)
	}
	lastUsable := diskSectors - 1 - gpt
	plan := &Plan{SectorSize: d.SectorSize, DiskSectors: diskSectors, DiskGUID: GUID("disk", seed)}

	size := func(p *Partition) uint64 {
		switch {
		case p.TotalSectors != 0:
			return p.TotalSectors
		case p.MinFreeSectors != 0:
			n := p.MinFreeSectors + extra[strings.ToLower(p.Name)]
			if content != nil {
				n += content(p.Name)
			}
			return n
		}
		return 0
	}
	align := func(p *Partition) uint64 {
		a := p.ByteAlignment
		if a == 0 {
			a = d.DefaultPartitionByteAlignment
		}
		if a == 0 {
			a = DefaultAlignment
		}
		if p.SingleSectorAlignment || a < ss {
			return 1
		}
		return a / ss
	}
	placed := make([]*Placed, len(s.Partitions))
	allSpace := -1
	for i, p := range s.Partitions {
		if p.UseAllSpace {
			allSpace = i
		}
	}
	// Forward from the start up to the UseAllSpace partition (or all of them).
	cur := firstUsable
	end := len(s.Partitions)
	if allSpace >= 0 {
		end = allSpace
	}
	for i := 0; i < end; i++ {
		p := s.Partitions[i]
		a := align(p)
		start := (cur + a - 1) / a * a
		placed[i] = &Placed{Partition: p, FirstLBA: start, LastLBA: start + size(p) - 1}
		cur = start + size(p)
		if cur-1 > lastUsable {
			return nil, tooSmall(s, diskSectors, d.SectorSize, size)
		}
	}
	// Backward from the end for the partitions after UseAllSpace, which then fills the gap.
	if allSpace >= 0 {
		top := lastUsable + 1
		for i := len(s.Partitions) - 1; i > allSpace; i-- {
			p := s.Partitions[i]
			a := align(p)
			if size(p) > top {
				return nil, tooSmall(s, diskSectors, d.SectorSize, size)
			}
			start := (top - size(p)) / a * a
			placed[i] = &Placed{Partition: p, FirstLBA: start, LastLBA: start + size(p) - 1}
			top = start
		}
		p := s.Partitions[allSpace]
		a := align(p)
		start := (cur + a - 1) / a * a
		if start >= top {
			return nil, fmt.Errorf("no space is left for %s (UseAllSpace): the other partitions take the whole %d-sector disk", p.Name, diskSectors)
		}
		placed[allSpace] = &Placed{Partition: p, FirstLBA: start, LastLBA: top - 1}
	}
	for _, pl := range placed {
		if pl.LastLBA > lastUsable || pl.LastLBA < pl.FirstLBA {
			return nil, tooSmall(s, diskSectors, d.SectorSize, size)
		}
		pl.GUID = partitionGUID(pl.Partition, seed)
		pl.Attributes = attributes(pl.Partition)
	}
	plan.Partitions = placed
	return plan, nil
}

func tooSmall(s *Store, diskSectors uint64, ss uint32, size func(*Partition) uint64) error {
	var parts []string
	var total uint64
	for _, p := range s.Partitions {
		if !p.UseAllSpace {
			parts = append(parts, fmt.Sprintf("%s %d", p.Name, size(p)))
			total += size(p)
		}
	}
	return fmt.Errorf("the partitions need %d sectors (%s) but the disk has %d (MinSectorCount, %d-byte sectors); raise MinSectorCount or shrink the layout",
		total, strings.Join(parts, ", "), diskSectors, ss)
}

func partitionGUID(p *Partition, seed string) string {
	if id := strings.Trim(p.ID, "{}"); id != "" {
		return strings.ToUpper(id)
	}
	if id, ok := wellKnownIDs[strings.ToLower(p.Name)]; ok {
		return id
	}
	return GUID("partition", seed, p.Name)
}

// attributes maps a layout partition to GPT attribute bits. MainOS keeps a drive letter, as
// ImageApp clears NO_DRIVE_LETTER on it.
func attributes(p *Partition) uint64 {
	var a uint64
	if p.Bootable {
		a |= AttrLegacyBootable
	}
	if p.ReadOnly {
		a |= AttrReadOnly
	}
	if p.Hidden {
		a |= AttrHidden
	}
	if !p.AttachDriveLetter && !strings.EqualFold(p.Name, "MainOS") {
		a |= AttrNoDriveLetter
	}
	return a
}
