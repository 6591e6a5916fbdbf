package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
)

// MBR disks (DeviceLayouts with MBR type bytes: the IoT Core kit's MBR4GB/MBR8GB-R, the NXP
// i.MX6/7 boards): the MBR at sector 0, logical partitions chained by extended boot records
// (EBRs) inside one extended partition, and ImageApp's MBR_META partition (type 0x70) that
// names the partitions, which an MBR cannot.

const (
	mbrSignatureOffset = 510
	mbrTypeProtective  = 0xEE
	// MBRTypeMeta is the type byte of ImageApp's MBR_META partition.
	MBRTypeMeta       = 0x70
	mbrMetaSignature  = 0x00080001
	mbrMetaHeaderSize = 12
	mbrMetaEntrySize  = 96
	mbrMetaNameChars  = 36
	// MaxMBRPartitions bounds the logical partitions followed through the EBR chain, and the
	// MBR_META entries read: ImageApp's layouts have at most a handful, the project's writer 128.
	MaxMBRPartitions = 128
	// SystemStoreSignature is the disk signature ImageApp writes into the FFU's MBR blocks
	// (ImageConstants SYSTEM_STORE_SIGNATURE).
	SystemStoreSignature = 0xAE420040
	// MBRBootable marks an entry with the MBR boot flag (0x80) in Partition.Attributes,
	// as GPT's legacy-BIOS-bootable bit.
	MBRBootable = 1 << 2
)

// errProtective marks a GPT's protective MBR, which ReadMBR refuses.
var errProtective = errors.New("the disk has a GPT")

// IsProtectiveMBR reports whether ReadMBR refused a GPT's protective MBR.
func IsProtectiveMBR(err error) bool { return errors.Is(err, errProtective) }

// MBR is an MBR partition table as found on a disk.
type MBR struct {
	SectorSize    uint32
	DiskSignature uint32
	// Entries are the partitions (extended containers left out), in table order: the
	// primary ones, then the logical ones along the EBR chain. Index is the number Linux gives
	// the partition (1-4 primary, 5 on logical); Type is the type byte as "0x07"; GUID and
	// Name come from MBR_META, and a partition it does not name is called "PARTITION<Index>".
	// Attributes has bit 2 (GPT's legacy-BIOS-bootable) for the boot flag.
	Entries []Partition
	// HasMeta reports whether an MBR_META partition named the partitions.
	HasMeta bool

	records []mbrRecord // sector 0 and each EBR, in chain order
	meta    [2]int64    // byte range of MBR_META's header and entries; zero without one
}

// mbrRecord is a boot record (the MBR or an EBR) and which of its slots hold which entries.
type mbrRecord struct {
	lba  uint64
	data []byte      // the sector as read
	slot map[int]int // entry slot (0-3) -> index into Entries
}

// IsMBRType reports whether a partition type string is an MBR type byte ("0x07"), as in an
// MBR disk's entries, rather than a GPT type GUID.
func IsMBRType(t string) bool { return strings.HasPrefix(t, "0x") && len(t) == 4 }

// ReadMBR reads and checks an MBR partition table (sector 0, the EBR chain, MBR_META). A GPT's
// protective MBR is refused: read the GPT then. Every entry must lie on the disk, partitions
// must not overlap, the EBR chain must move forward inside its extended partition.
func ReadMBR(r io.ReaderAt, diskSize int64, sectorSize uint32) (*MBR, error) {
	ss := int64(sectorSize)
	if ss < 512 || ss > MaxSectorSize || ss&(ss-1) != 0 {
		return nil, fmt.Errorf("MBR: sector size %d is not a power of two from 512 to %d", sectorSize, MaxSectorSize)
	}
	sectors := uint64(diskSize / ss)
	if sectors < 2 {
		return nil, fmt.Errorf("MBR: disk of %d bytes has no room for a partition table", diskSize)
	}
	m := &MBR{SectorSize: sectorSize}
	rec0, err := readRecord(r, 0, ss)
	if err != nil {
		return nil, err
	}
	m.DiskSignature = binary.LittleEndian.Uint32(rec0.data[440:])
	m.records = append(m.records, rec0)
	var ext *[2]uint64 // the extended partition's first sector and size
	for i := 0; i < 4; i++ {
		e := rec0.data[mbrEntriesOffset+16*i:]
		typ, start, n := e[4], uint64(binary.LittleEndian.Uint32(e[8:])), uint64(binary.LittleEndian.Uint32(e[12:]))
		if typ == 0 {
			continue
		}
		if typ == mbrTypeProtective {
			return nil, fmt.Errorf("MBR: entry %d is a GPT protective entry (type 0xee): %w", i+1, errProtective)
		}
		if err := checkSpan(fmt.Sprintf("MBR entry %d (type %#02x)", i+1, typ), start, n, 1, sectors); err != nil {
			return nil, err
		}
		if IsExtendedType(typ) {
			if ext != nil {
				return nil, fmt.Errorf("MBR: entries %d and an earlier one are both extended partitions; expected at most one", i+1)
			}
			ext = &[2]uint64{start, n}
			continue
		}
		rec0.slot[i] = len(m.Entries)
		m.Entries = append(m.Entries, mbrEntry(i+1, e, start, n))
	}
	if ext != nil {
		if err := m.readChain(r, ss, ext[0], ext[1]); err != nil {
			return nil, err
		}
	}
	if err := m.checkOverlaps(); err != nil {
		return nil, err
	}
	if err := m.readMeta(r, ss); err != nil {
		return nil, err
	}
	return m, nil
}

// IsExtendedType reports the type bytes readers take for extended-partition containers.
func IsExtendedType(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 || t == 0x13 }

func readRecord(r io.ReaderAt, lba uint64, ss int64) (mbrRecord, error) {
	b := make([]byte, ss)
	if _, err := r.ReadAt(b, int64(lba)*ss); err != nil {
		return mbrRecord{}, fmt.Errorf("MBR: reading the boot record at sector %d: %w", lba, err)
	}
	if b[mbrSignatureOffset] != 0x55 || b[mbrSignatureOffset+1] != 0xAA {
		what := "the MBR"
		if lba != 0 {
			what = "the extended boot record"
		}
		return mbrRecord{}, fmt.Errorf("MBR: %s at sector %d has no 55 AA boot signature (found %02x %02x)", what, lba, b[510], b[511])
	}
	return mbrRecord{lba: lba, data: b, slot: map[int]int{}}, nil
}

// checkSpan checks that n sectors from start lie within [lo, hi).
func checkSpan(what string, start, n, lo, hi uint64) error {
	switch {
	case n == 0 || start == 0:
		return fmt.Errorf("MBR: %s starts at sector %d with %d sectors; expected a non-empty partition after sector 0", what, start, n)
	case start < lo || start >= hi || n > hi-start:
		return fmt.Errorf("MBR: %s at sectors %d-%d is outside sectors %d-%d", what, start, start+n-1, lo, hi-1)
	}
	return nil
}

func mbrEntry(index int, e []byte, start, n uint64) Partition {
	g := Partition{Index: index, Type: fmt.Sprintf("0x%02x", e[4]), FirstLBA: start, LastLBA: start + n - 1}
	if e[0]&0x80 != 0 {
		g.Attributes = MBRBootable
	}
	return g
}

// readChain follows the EBRs of the extended partition [extStart, extStart+extSize): each
// describes one logical partition (relative to the EBR) and links to the next EBR (relative
// to the extended partition's start), which must come later on the disk.
func (m *MBR) readChain(r io.ReaderAt, ss int64, extStart, extSize uint64) error {
	end := extStart + extSize
	lba := extStart
	for k := 0; ; k++ {
		if k >= MaxMBRPartitions {
			return fmt.Errorf("MBR: the extended partition at sector %d chains more than %d logical partitions", extStart, MaxMBRPartitions)
		}
		rec, err := readRecord(r, lba, ss)
		if err != nil {
			return err
		}
		le := binary.LittleEndian
		var next uint64
		for i := 0; i < 4; i++ {
			e := rec.data[mbrEntriesOffset+16*i:]
			typ, rel, n := e[4], uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
			if typ == 0 {
				continue
			}
			if IsExtendedType(typ) {
				if next != 0 || i == 0 {
					return fmt.Errorf("MBR: the extended boot record at sector %d has a link in entry %d; expected the logical partition in entry 1 and at most one link", lba, i+1)
				}
				if err := checkSpan(fmt.Sprintf("the link of the extended boot record at sector %d", lba), extStart+rel, n, lba+1, end); err != nil {
					return err
				}
				next = extStart + rel
				continue
			}
			if i != 0 {
				return fmt.Errorf("MBR: the extended boot record at sector %d has a partition in entry %d; expected it in entry 1", lba, i+1)
			}
			if err := checkSpan(fmt.Sprintf("logical partition %d (type %#02x, extended boot record at sector %d)", 5+k, typ, lba), lba+rel, n, lba+1, end); err != nil {
				return err
			}
			rec.slot[i] = len(m.Entries)
			m.Entries = append(m.Entries, mbrEntry(5+k, e, lba+rel, n))
		}
		m.records = append(m.records, rec)
		if next == 0 {
			return nil
		}
		lba = next // strictly after this EBR: the chain cannot loop
	}
}

func (m *MBR) checkOverlaps() error {
	type span struct {
		first, last uint64
		what        string
	}
	var spans []span
	for _, r := range m.records {
		spans = append(spans, span{r.lba, r.lba, fmt.Sprintf("the boot record at sector %d", r.lba)})
	}
	for _, e := range m.Entries {
		spans = append(spans, span{e.FirstLBA, e.LastLBA, fmt.Sprintf("partition %d (sectors %d-%d)", e.Index, e.FirstLBA, e.LastLBA)})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].first < spans[j].first })
	for i := 1; i < len(spans); i++ {
		if spans[i].first <= spans[i-1].last {
			return fmt.Errorf("MBR: %s and %s overlap", spans[i-1].what, spans[i].what)
		}
	}
	return nil
}

// readMeta names the partitions from MBR_META, when there is one; the others get
// "PARTITION<Index>".
func (m *MBR) readMeta(r io.ReaderAt, ss int64) error {
	defer func() {
		for i := range m.Entries {
			if m.Entries[i].Name == "" {
				m.Entries[i].Name = fmt.Sprintf("PARTITION%d", m.Entries[i].Index)
			}
		}
	}()
	var meta *Partition
	for i := range m.Entries {
		if m.Entries[i].Type == fmt.Sprintf("0x%02x", MBRTypeMeta) {
			if meta != nil {
				return fmt.Errorf("MBR: partitions %d and %d are both MBR_META (type 0x70); expected one", meta.Index, m.Entries[i].Index)
			}
			meta = &m.Entries[i]
		}
	}
	if meta == nil {
		return nil
	}
	size := int64(meta.LastLBA-meta.FirstLBA+1) * ss
	off := int64(meta.FirstLBA) * ss
	hdr := make([]byte, mbrMetaHeaderSize)
	if _, err := r.ReadAt(hdr, off); err != nil {
		return fmt.Errorf("MBR_META (partition %d): reading its header at sector %d: %w", meta.Index, meta.FirstLBA, err)
	}
	le := binary.LittleEndian
	if sig := le.Uint32(hdr); sig != mbrMetaSignature {
		return fmt.Errorf("MBR_META (partition %d, sector %d): signature %#08x, expected %#08x", meta.Index, meta.FirstLBA, sig, mbrMetaSignature)
	}
	count := uint64(le.Uint32(hdr[8:]))
	if count > MaxMBRPartitions+1 || int64(mbrMetaHeaderSize+count*mbrMetaEntrySize) > size {
		return fmt.Errorf("MBR_META (partition %d, sector %d): %d entries; expected at most %d that fit its %d bytes", meta.Index, meta.FirstLBA, count, MaxMBRPartitions+1, size)
	}
	ents := make([]byte, count*mbrMetaEntrySize)
	if _, err := r.ReadAt(ents, off+mbrMetaHeaderSize); err != nil {
		return fmt.Errorf("MBR_META (partition %d): reading %d entries: %w", meta.Index, count, err)
	}
	m.meta = [2]int64{off, off + mbrMetaHeaderSize + int64(len(ents))}
	m.HasMeta = true
	byOffset := map[uint64]int{}
	for i, e := range m.Entries {
		byOffset[e.FirstLBA*uint64(ss)] = i
	}
	named := map[string]int{}
	for k := uint64(0); k < count; k++ {
		e := ents[k*mbrMetaEntrySize:]
		i, ok := byOffset[le.Uint64(e)]
		if !ok || m.Entries[i].Name != "" {
			continue // a partition the table no longer has (a flash-only table) or named already
		}
		name := utf16Name(e[8 : 8+2*mbrMetaNameChars])
		if name == "" {
			continue
		}
		if prev, dup := named[strings.ToLower(name)]; dup {
			return fmt.Errorf("MBR_META (sector %d): partitions %d and %d are both named %q", meta.FirstLBA, m.Entries[prev].Index, m.Entries[i].Index, name)
		}
		named[strings.ToLower(name)] = i
		m.Entries[i].Name = name
		m.Entries[i].GUID = guidString(e[8+2*mbrMetaNameChars : 8+2*mbrMetaNameChars+16])
	}
	return nil
}

// utf16Name decodes a NUL-terminated UTF-16LE name; control characters become '?', so that a
// name prints safely.
func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	rs := []rune(string(utf16.Decode(u)))
	for i, c := range rs {
		if c < 0x20 || c == 0x7F {
			rs[i] = '?'
		}
	}
	return string(rs)
}

// AsGPT gives the entries in the shape readers of GPT disks use (GPT.Entries); the GPT's other
// fields are left zero.
func (m *MBR) AsGPT() *GPT { return &GPT{SectorSize: m.SectorSize, Entries: m.Entries} }

// TableBlocks returns the indexes of the blocks (of blockSize bytes) that hold the partition
// tables: the MBR, every EBR and MBR_META's header and entries.
func (m *MBR) TableBlocks(blockSize int64) []uint32 {
	ss := int64(m.SectorSize)
	seen := map[uint32]bool{}
	var out []uint32
	add := func(lo, hi int64) {
		for b := lo / blockSize; b*blockSize < hi; b++ {
			if !seen[uint32(b)] {
				seen[uint32(b)] = true
				out = append(out, uint32(b))
			}
		}
	}
	for _, r := range m.records {
		add(int64(r.lba)*ss, int64(r.lba+1)*ss)
	}
	if m.HasMeta {
		add(m.meta[0], m.meta[1])
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Record is a boot record to write: its sector and bytes.
type Record struct {
	LBA  uint64
	Data []byte
}

// WithoutEntries returns the boot records with ImageApp's disk signature in the MBR and the
// entries at the given indexes into Entries zeroed (MbrDataEntryGenerator's RemovePartition:
// the entry is cleared, links and MBR_META stay), for the FFU's flash-only and final tables.
func (m *MBR) WithoutEntries(drop []int) []Record {
	gone := map[int]bool{}
	for _, i := range drop {
		gone[i] = true
	}
	out := make([]Record, len(m.records))
	for k, r := range m.records {
		b := append([]byte(nil), r.data...)
		if k == 0 {
			binary.LittleEndian.PutUint32(b[440:], SystemStoreSignature)
		}
		for slot, i := range r.slot {
			if gone[i] {
				clear(b[mbrEntriesOffset+16*slot : mbrEntriesOffset+16*slot+16])
			}
		}
		out[k] = Record{LBA: r.lba, Data: b}
	}
	return out
}

// ReadTable reads a disk's GPT or, when it has none but an MBR, the MBR (an MBR layout's
// image); m is nil for a GPT disk, and for an MBR disk g holds its entries (AsGPT).
func ReadTable(r io.ReaderAt, diskSize int64, sectorSize uint32) (g *GPT, m *MBR, err error) {
	g, gptErr := ReadGPT(r, diskSize, sectorSize)
	if gptErr == nil {
		return g, nil, nil
	}
	m, mbrErr := ReadMBR(r, diskSize, sectorSize)
	switch {
	case mbrErr == nil:
		return m.AsGPT(), m, nil
	case IsProtectiveMBR(mbrErr):
		return nil, nil, gptErr
	}
	return nil, nil, fmt.Errorf("%v; and as an MBR disk: %v", gptErr, mbrErr)
}
