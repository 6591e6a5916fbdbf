// Package layout places a device layout's store on a disk (Place): each partition's sectors,
// GUID and attribute bits, the UseAllSpace partition, MBR_META and the EBRs of an MBR disk, as
// ImageApp does; the placed partitions are the disk.Partitions tools/disk writes. The
// DeviceLayout itself is parsed by tools/devicelayout.
package layout

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/devicelayout"
	"github.com/oemimage/rules_oemimage/tools/disk"
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

// MaxPartitions bounds a store's partitions: the GPT's entry array has 128 entries, and an MBR
// layout gets no more, so that its chain of extended boot records stays short.
const MaxPartitions = 128

// Placed is a layout's partition with its place on the disk: its partition-table entry (the
// one type tools/disk writes and reads: Name, LBAs, GUID, GPT attribute bits; Type is the
// entry's, an upper-case GPT type GUID or an MBR type byte "0x0c") and the layout's
// description of it.
type Placed struct {
	disk.Partition
	Layout *devicelayout.Partition
	// Meta marks the MBR_META partition the writer adds to an MBR disk: it is not in the
	// layout (nor in the FFU manifest).
	Meta bool
}

// newPlaced is partition p of the layout at sectors first..last.
func newPlaced(p *devicelayout.Partition, first, last uint64) *Placed {
	return &Placed{Partition: disk.Partition{Name: p.Name, FirstLBA: first, LastLBA: last}, Layout: p}
}

// gptType is the entry's type of a GPT layout's partition: its Type, a GPT type GUID (with or
// without braces), upper case.
func gptType(p *devicelayout.Partition) (string, error) {
	t := strings.ToUpper(strings.Trim(strings.TrimSpace(p.Type), "{}"))
	if len(t) != 36 || strings.Count(t, "-") != 4 {
		return "", fmt.Errorf("%s: partition %s: Type %q is not a GPT type GUID", p.Pos, p.Name, p.Type)
	}
	return t, nil
}

// Plan is a store laid out on a disk.
type Plan struct {
	SectorSize  uint32
	DiskSectors uint64
	DiskGUID    string
	// Partitions in partition-table order. For an MBR disk this includes MBR_META; the first
	// three are primary partitions and, when there are more than four, the others are logical
	// partitions inside one extended partition (the fourth MBR entry).
	Partitions []*Placed
	MBR        bool
	// DiskSignature is an MBR disk's signature (offset 440): ImageApp's system store signature.
	DiskSignature uint32
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

// Logical reports whether the i-th partition of an MBR plan is a logical partition.
func (p *Plan) Logical(i int) bool { return p.MBR && len(p.Partitions) > 4 && i >= 3 }

// GPTSectors is the size of one GPT copy's entry array plus header, for 128 entries of 128 bytes.
func GPTSectors(sectorSize uint32) uint64 {
	return 1 + (128*128+uint64(sectorSize)-1)/uint64(sectorSize)
}

// SystemStoreSignature is the MBR disk signature ImageApp gives the main store (ImageConstants
// SYSTEM_STORE_SIGNATURE): the FFU's partition-table blocks carry it.
const SystemStoreSignature = 0xAE420040

// MBRMetaBytes is the size of the MBR_META partition (ImageConstants MBR_METADATA_PARTITION_SIZE).
const MBRMetaBytes = 1 << 20

// ebrGap is the room ImageApp leaves before each logical partition for its extended boot
// record (64 KiB, as its size estimate for UseAllSpace counts it).
const ebrGap = 64 << 10

// Place lays out store s on a disk of diskSectors sectors, in layout order.
//
// A partition takes TotalSectors; with MinFreeSectors it takes the sectors its content needs
// (content(name), from the caller) plus MinFreeSectors plus extra[name]. It starts at its
// OffsetInSectors when the layout gives one, else at the next aligned sector after the
// previous partition. On a GPT disk the UseAllSpace partition takes what is left: partitions
// after it are placed back from the end of the disk. On an MBR disk the partitions are those of
// ImageApp: MBR_META takes the UseAllSpace partition's place in the order (or comes last), and
// the UseAllSpace partition comes last, rounded down to whole 128 KiB blocks.
// A partition that overlaps another one or a partition table is an error naming both.
// seed makes the disk GUID and the GUIDs of partitions without an Id depend on the image.
func Place(d *devicelayout.DeviceLayout, s *devicelayout.Store, diskSectors uint64, content func(name string) uint64, extra map[string]uint64, seed string) (*Plan, error) {
	if len(s.Partitions) > MaxPartitions {
		return nil, fmt.Errorf("%s: store %q has %d partitions; at most %d fit a partition table", s.Pos, s.ID, len(s.Partitions), MaxPartitions)
	}
	pl := &placer{d: d, s: s, disk: diskSectors, ss: uint64(d.SectorSize), content: content, extra: extra}
	var plan *Plan
	var err error
	if d.MBR {
		plan, err = pl.placeMBR()
	} else {
		plan, err = pl.placeGPT()
	}
	if err != nil {
		return nil, err
	}
	plan.SectorSize, plan.DiskSectors = d.SectorSize, diskSectors
	plan.DiskGUID = GUID("disk", seed)
	for i, p := range plan.Partitions {
		p.GUID = partitionGUID(p.Layout, seed)
		if plan.MBR {
			// As ReadMBR gives the entry: numbered as Linux does (logical ones from 5), the
			// type byte, the boot flag as GPT's legacy-BIOS-bootable bit.
			p.Index, p.Type = i+1, fmt.Sprintf("0x%02x", p.Layout.MBRType)
			if plan.Logical(i) {
				p.Index = 5 + i - 3
			}
			if p.Layout.Bootable {
				p.Attributes = disk.MBRBootable
			}
			continue
		}
		p.Index, p.Attributes = i, attributes(p.Layout)
		if p.Type, err = gptType(p.Layout); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

type placer struct {
	d       *devicelayout.DeviceLayout
	s       *devicelayout.Store
	disk    uint64
	ss      uint64
	content func(string) uint64
	extra   map[string]uint64
}

// size is what a partition needs, in sectors (0 for UseAllSpace), saturating rather than
// wrapping on absurd values.
func (pl *placer) size(p *devicelayout.Partition) uint64 {
	switch {
	case p.TotalSectors != 0:
		return p.TotalSectors
	case p.MinFreeSectors != 0:
		n := addSat(p.MinFreeSectors, pl.extra[strings.ToLower(p.Name)])
		if pl.content != nil {
			n = addSat(n, pl.content(p.Name))
		}
		return n
	}
	return 0
}

func addSat(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// align is a partition's start alignment in sectors: ByteAlignment, else the layout's
// DefaultPartitionByteAlignment, else DefaultAlignment; one sector with SingleSectorAlignment.
func (pl *placer) align(p *devicelayout.Partition) uint64 {
	a := p.ByteAlignment
	if a == 0 {
		a = pl.d.DefaultPartitionByteAlignment
	}
	if a == 0 {
		a = DefaultAlignment
	}
	if p.SingleSectorAlignment || a < pl.ss {
		return 1
	}
	return a / pl.ss
}

// alignUp rounds v up to a multiple of a; ok is false past the disk.
func (pl *placer) alignUp(v, a uint64) (uint64, bool) {
	if v > pl.disk || a > pl.disk {
		return 0, false
	}
	r := (v + a - 1) / a * a
	return r, r <= pl.disk
}

// span is an occupied range of sectors, for the overlap check.
type span struct {
	first, last uint64
	what        string
}

func partSpan(p *Placed) span {
	return span{p.FirstLBA, p.LastLBA, fmt.Sprintf("partition %s (sectors %d-%d, %s)", p.Name, p.FirstLBA, p.LastLBA, p.Layout.Pos)}
}

// checkOverlaps reports the first two spans that share a sector, naming both.
func checkOverlaps(spans []span) error {
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].first < spans[j].first })
	// Sorted by start, spans are disjoint if and only if each ends before the next one starts.
	for i := 1; i < len(spans); i++ {
		if spans[i].first <= spans[i-1].last {
			return fmt.Errorf("%s and %s overlap; expected disjoint partitions (check OffsetInSectors and the sizes)", spans[i-1].what, spans[i].what)
		}
	}
	return nil
}

// start places p at its OffsetInSectors or at the next aligned sector from cur.
func (pl *placer) start(p *devicelayout.Partition, cur uint64) (uint64, error) {
	if p.OffsetInSectors != 0 {
		return p.OffsetInSectors, nil
	}
	start, ok := pl.alignUp(cur, pl.align(p))
	if !ok {
		return 0, pl.tooSmall()
	}
	return start, nil
}

// place puts p at start with n sectors, checking it ends on the disk.
func (pl *placer) place(p *devicelayout.Partition, start, n uint64) (*Placed, error) {
	if n == 0 || n > pl.disk || start > pl.disk-n {
		if p.OffsetInSectors != 0 && n <= pl.disk {
			return nil, fmt.Errorf("%s: partition %s at OffsetInSectors %d with %d sectors ends beyond the %d-sector disk", p.Pos, p.Name, start, n, pl.disk)
		}
		return nil, pl.tooSmall()
	}
	return newPlaced(p, start, start+n-1), nil
}

func (pl *placer) placeGPT() (*Plan, error) {
	gpt := GPTSectors(pl.d.SectorSize)
	firstUsable := 1 + gpt // protective MBR, then header and entries
	if pl.disk <= firstUsable+gpt {
		return nil, fmt.Errorf("%s: disk of %d sectors is too small for its partition tables", pl.s.Pos, pl.disk)
	}
	lastUsable := pl.disk - 1 - gpt
	parts := pl.s.Partitions
	placed := make([]*Placed, len(parts))
	allSpace := -1
	for i, p := range parts {
		if p.UseAllSpace {
			allSpace = i
		}
	}
	// Forward from the start up to the UseAllSpace partition (or all of them).
	cur := firstUsable
	end := len(parts)
	if allSpace >= 0 {
		end = allSpace
	}
	for i := 0; i < end; i++ {
		start, err := pl.start(parts[i], cur)
		if err != nil {
			return nil, err
		}
		if placed[i], err = pl.place(parts[i], start, pl.size(parts[i])); err != nil {
			return nil, err
		}
		cur = placed[i].LastLBA + 1
	}
	// Backward from the end for the partitions after UseAllSpace, which then fills the gap.
	if allSpace >= 0 {
		top := lastUsable + 1
		for i := len(parts) - 1; i > allSpace; i-- {
			p := parts[i]
			n := pl.size(p)
			start := p.OffsetInSectors
			if start == 0 {
				if n > top {
					return nil, pl.tooSmall()
				}
				start = (top - n) / pl.align(p) * pl.align(p)
			}
			var err error
			if placed[i], err = pl.place(p, start, n); err != nil {
				return nil, err
			}
			top = min(top, start)
		}
		p := parts[allSpace]
		start, ok := pl.alignUp(cur, pl.align(p))
		if !ok || start >= top {
			return nil, fmt.Errorf("%s: no space is left for %s (UseAllSpace): the other partitions take the whole %d-sector disk", p.Pos, p.Name, pl.disk)
		}
		placed[allSpace] = newPlaced(p, start, top-1)
	}
	spans := []span{{0, firstUsable - 1, "the protective MBR and primary GPT (sectors 0-" + fmt.Sprint(firstUsable-1) + ")"}}
	for _, p := range placed {
		if p.LastLBA > lastUsable && p.Layout.OffsetInSectors == 0 {
			return nil, pl.tooSmall()
		}
		spans = append(spans, partSpan(p))
	}
	spans = append(spans, span{lastUsable + 1, pl.disk - 1, fmt.Sprintf("the backup GPT (sectors %d-%d)", lastUsable+1, pl.disk-1)})
	if err := checkOverlaps(spans); err != nil {
		return nil, err
	}
	return &Plan{Partitions: placed}, nil
}

// mbrOrder is ImageApp's partition order on an MBR disk (ImageStorage.CreateVirtualDisk):
// MBR_META in the UseAllSpace partition's place, or last; the UseAllSpace partition last.
func (pl *placer) mbrOrder() []*devicelayout.Partition {
	meta := &devicelayout.Partition{Name: MBRMetaName, Type: fmt.Sprintf("0x%02x", MBRMetaType), MBRType: MBRMetaType,
		TotalSectors: MBRMetaBytes / pl.ss, SingleSectorAlignment: true, RequiredToFlash: true, Pos: pl.s.Pos}
	var out []*devicelayout.Partition
	var allSpace *devicelayout.Partition
	for _, p := range pl.s.Partitions {
		if p.UseAllSpace {
			allSpace = p
			out = append(out, meta)
			continue
		}
		out = append(out, p)
	}
	if allSpace == nil {
		return append(out, meta)
	}
	return append(out, allSpace)
}

func (pl *placer) placeMBR() (*Plan, error) {
	if pl.disk > 1<<32 {
		return nil, fmt.Errorf("%s: an MBR addresses at most 2^32 sectors; the disk has %d (use a GPT layout)", pl.s.Pos, pl.disk)
	}
	if pl.disk < 2 {
		return nil, fmt.Errorf("%s: disk of %d sectors is too small for its partition table", pl.s.Pos, pl.disk)
	}
	order := pl.mbrOrder()
	plan := &Plan{MBR: true, DiskSignature: SystemStoreSignature}
	gap := ebrGap / pl.ss
	spans := []span{{0, 0, "the MBR (sector 0)"}}
	cur := uint64(1)
	for i, p := range order {
		logical := len(order) > 4 && i >= 3
		from := cur
		if logical && p.OffsetInSectors == 0 {
			from = addSat(cur, gap)
		}
		start, err := pl.start(p, from)
		if err != nil {
			return nil, err
		}
		var pp *Placed
		if p.UseAllSpace {
			// The rest of the disk, in whole 128 KiB blocks as ImageApp sizes it.
			block := uint64(128<<10) / pl.ss
			if start >= pl.disk {
				return nil, fmt.Errorf("%s: no space is left for %s (UseAllSpace): the other partitions take the whole %d-sector disk", p.Pos, p.Name, pl.disk)
			}
			n := (pl.disk - start) / block * block
			if n == 0 {
				return nil, fmt.Errorf("%s: no space is left for %s (UseAllSpace): less than 128 KiB remains after sector %d of the %d-sector disk", p.Pos, p.Name, start, pl.disk)
			}
			pp = newPlaced(p, start, start+n-1)
		} else if pp, err = pl.place(p, start, pl.size(p)); err != nil {
			return nil, err
		}
		pp.Meta = p.MBRType == MBRMetaType && p.Name == MBRMetaName
		if logical {
			if start < gap {
				return nil, fmt.Errorf("%s: logical partition %s at sector %d leaves no room before it for its extended boot record", p.Pos, p.Name, start)
			}
			pp.EBR = start - gap
			spans = append(spans, span{pp.EBR, pp.EBR, fmt.Sprintf("the extended boot record of %s (sector %d)", p.Name, pp.EBR)})
		}
		spans = append(spans, partSpan(pp))
		plan.Partitions = append(plan.Partitions, pp)
		cur = pp.LastLBA + 1
	}
	if err := checkOverlaps(spans); err != nil {
		return nil, err
	}
	if err := plan.checkExtended(); err != nil {
		return nil, err
	}
	return plan, nil
}

// checkExtended checks what the MBR's structure needs beyond disjoint partitions: logical
// partitions in disk order (each extended boot record links to the next one further on), and
// no primary partition inside the extended partition that spans them.
func (p *Plan) checkExtended() error {
	if len(p.Partitions) <= 4 {
		return nil
	}
	logical := p.Partitions[3:]
	for i := 1; i < len(logical); i++ {
		if logical[i].EBR <= logical[i-1].LastLBA {
			return fmt.Errorf("%s: logical partition %s (sector %d) comes before %s (sector %d) on the disk; the logical partitions (the fourth on) must be in disk order", logical[i].Layout.Pos, logical[i].Name, logical[i].FirstLBA, logical[i-1].Name, logical[i-1].FirstLBA)
		}
	}
	first, last := logical[0].EBR, logical[len(logical)-1].LastLBA
	for _, q := range p.Partitions[:3] {
		if q.FirstLBA <= last && q.LastLBA >= first {
			return fmt.Errorf("%s: primary partition %s (sectors %d-%d) lies inside the extended partition (sectors %d-%d) that holds the fourth partition on", q.Layout.Pos, q.Name, q.FirstLBA, q.LastLBA, first, last)
		}
	}
	return nil
}

func (pl *placer) tooSmall() error {
	var parts []string
	var total uint64
	for _, p := range pl.s.Partitions {
		if !p.UseAllSpace {
			parts = append(parts, fmt.Sprintf("%s %d", p.Name, pl.size(p)))
			total = addSat(total, pl.size(p))
		}
	}
	return fmt.Errorf("%s: the partitions need %d sectors (%s) but the disk has %d (MinSectorCount, %d-byte sectors); raise MinSectorCount or shrink the layout",
		pl.s.Pos, total, strings.Join(parts, ", "), pl.disk, pl.ss)
}

func partitionGUID(p *devicelayout.Partition, seed string) string {
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
func attributes(p *devicelayout.Partition) uint64 {
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

// GUID derives a stable GUID (version-4 layout, RFC 4122 variant) from parts: the same inputs
// give the same GUID on every machine, different inputs different GUIDs.
func GUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0F | 0x40
	h[8] = h[8]&0x3F | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
