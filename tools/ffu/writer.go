package ffu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
)

// Image is what Write turns into an FFU: a raw disk that already holds its primary and backup
// GPT and its file systems, which byte ranges of it hold data, and the manifest fields.
type Image struct {
	// Disk is the raw disk, DiskSize bytes (usually a sparse host file). Its size must be a
	// multiple of the 128 KiB block size, as ImageApp requires of MinSectorCount.
	Disk     io.ReaderAt
	DiskSize int64
	// SectorSize is the disk's sector size (512 or 4096), also [Store] SectorSize.
	SectorSize uint32
	// ChunkSizeKB is the hash chunk size in KB (DeviceLayout ChunkSize): 1..1024, 0 means 256.
	ChunkSizeKB uint32

	// [FullFlash]
	Description      string
	OSVersion        string
	PlatformIDs      []string // DevicePlatformId0..n and the store header's szPlatformId
	AntiTheftVersion string   // empty means "1.1", what ImageApp writes
	RulesVersion     string   // written when not empty
	RulesData        string   // written when not empty

	Store StoreInfo // [Store]
	// V2 writes store header v2 (NumOfStores, StoreIndex, StorePayloadSize, DevicePath), which
	// ImageApp does when the DeviceLayout is v2.
	V2 bool

	// Partitions lists every partition of the GPT, in the order the manifest gives them (GPT
	// order). RequiredToFlash=false partitions are left out of the flash-only GPT and their
	// data goes to phase 3.
	Partitions []Partition

	// Allocated are the byte ranges of the disk that hold data (file-system metadata and
	// allocated clusters). They are rounded out to whole blocks; only those blocks and the GPT
	// blocks are stored. Blocks are never skipped because they hold zeros.
	Allocated []disk.Extent

	// CatalogTime is the catalog's thisUpdate; zero means DefaultCatalogTime.
	CatalogTime time.Time

	blockSize  int64 // tests only: 0 means BlockSize
	wipeBlocks int   // tests only: phase 1 blocks; 0 means 128 KiB of blocks, as ImageApp
}

// StoreInfo is the [Store] section.
type StoreInfo struct {
	// MinSectorCount is DiskSize/SectorSize; 0 fills it in, another value is an error.
	MinSectorCount                uint64
	StoreID                       string // StoreId, written when not empty
	IsMainOSStore                 bool
	DevicePath                    string // written when not empty; also the v2 store header's
	OnlyAllocateDefinedGptEntries bool
}

// Partition is a partition of the disk with its manifest [Partition] fields.
type Partition struct {
	Name string
	// FirstLBA and LastLBA must match the GPT entry of that name; both zero takes them from it.
	FirstLBA, LastLBA uint64
	RequiredToFlash   bool

	Type              string // empty: the GPT entry's type GUID, "{...}"
	ID                string // Id, written when not empty
	Primary           string // written when not empty
	FileSystem        string // written when not empty
	ReadOnly          bool   // the flags are written (as True) only when set, as ImageApp does
	Hidden            bool
	AttachDriveLetter bool
	Bootable          bool
	UseAllSpace       bool   // "UseAllSpace = true" instead of TotalSectors and UsedSectors
	TotalSectors      uint64 // 0: the partition's size in sectors
	// UsedSectors 0 writes the sectors of the partition that the FFU stores: those in the
	// blocks holding its allocated data (see Image.Allocated), clipped to the partition.
	UsedSectors     uint64
	ByteAlignment   uint32 // written when not zero, like the next two
	ClusterSize     uint32
	SectorAlignment uint32
}

// Result describes a written FFU.
type Result struct {
	Size      int64  // bytes of the FFU
	Catalog   []byte // the catalog, also the <name>.cat side file
	HashTable []byte
	// Write descriptors (= payload blocks) per phase.
	Phase1, Phase2, Phase3 int
	PayloadBytes           int64
}

type sourceKind uint8

const (
	srcZero sourceKind = iota
	srcDisk            // index is the disk block (from the start)
	srcMem             // index is into plan.mem (and plan.tables)
)

type blockSource struct {
	kind  sourceKind
	index uint32
}

// tableBlock is a payload block made from a disk block holding partition tables: the disk's
// bytes there, patched (the flash-only GPT without the partitions not required to flash, the
// final MBR).
type tableBlock struct {
	block uint32
	patch func(blk []byte, off int64)
}

// plan is everything Write decides before it writes a byte.
type plan struct {
	bs, chunk                int64
	manifest                 []byte
	header                   StoreHeader
	entries                  []BlockEntry
	sources                  []blockSource
	tables                   []tableBlock // what plan.mem is made of, by loadTables
	mem                      [][]byte
	phase1, phase2, phase3   int
	secRegion, imgRegion     int64
	storeMeta, payload, body int64 // body: from the image header to EOF, chunk-aligned
	catalogLen               int
	tableWhat                string // "primary GPT" or "MBR", for errors
}

// loadTables makes the table blocks from the disk's bytes: the tables and whatever else
// their blocks hold (the start of a partition sharing the first block).
func (p *plan) loadTables(disk io.ReaderAt) error {
	p.mem = make([][]byte, len(p.tables))
	for i, t := range p.tables {
		blk := make([]byte, p.bs)
		off := int64(t.block) * p.bs
		if _, err := disk.ReadAt(blk, off); err != nil {
			return fmt.Errorf("disk: reading %s block %d (offset %d): %w", p.tableWhat, t.block, off, err)
		}
		t.patch(blk, off)
		p.mem[i] = blk
	}
	return nil
}

// Write writes img as an FFU to w, from w's start. The security header, catalog and hash table
// are written last, once the rest has been hashed.
func Write(w io.WriteSeeker, img *Image) (*Result, error) {
	p, err := img.plan()
	if err != nil {
		return nil, err
	}
	if err := p.loadTables(img.Disk); err != nil {
		return nil, err
	}
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	// The security region is written twice: zeros now so the file grows in order, the real
	// bytes once the hash table is known.
	if err := writeZeros(w, p.secRegion); err != nil {
		return nil, err
	}
	region, meta := p.headers()
	table := make([]byte, p.body/p.chunk*hashSize)
	fill := func(buf []byte, off int64) error { return p.fill(buf, off, region, meta, img.Disk) }
	sink := func(buf []byte) error { _, err := w.Write(buf); return err }
	if err := hashStream(p.body, p.chunk, table, fill, sink); err != nil {
		return nil, err
	}
	sec, catalog, err := p.security(table, img.CatalogTime)
	if err != nil {
		return nil, err
	}
	if _, err := w.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := w.Write(sec); err != nil {
		return nil, err
	}
	size := p.secRegion + p.body
	if _, err := w.Seek(size, io.SeekStart); err != nil {
		return nil, err
	}
	// A file that held something longer before is cut to the FFU's size.
	if t, ok := w.(interface{ Truncate(int64) error }); ok {
		if err := t.Truncate(size); err != nil {
			return nil, err
		}
	}
	return &Result{
		Size: size, Catalog: catalog, HashTable: table,
		Phase1: p.phase1, Phase2: p.phase2, Phase3: p.phase3,
		PayloadBytes: p.payload,
	}, nil
}

// headers returns the image header region (header and manifest) and the store's metadata
// (store header and write descriptors), each padded to its size in the file.
func (p *plan) headers() (region, meta []byte) {
	region = make([]byte, p.imgRegion)
	le := binary.LittleEndian
	le.PutUint32(region[0:], imageHeaderSize)
	copy(region[4:16], imageSignature)
	le.PutUint32(region[16:], uint32(len(p.manifest)))
	le.PutUint32(region[20:], uint32(p.chunk/1024))
	copy(region[imageHeaderSize:], p.manifest)
	meta = make([]byte, 0, p.storeMeta)
	meta = append(meta, p.header.encode()...)
	meta = append(meta, encodeEntries(p.entries)...)
	return region, meta[:p.storeMeta]
}

// security returns the security header with the catalog of table and table itself (what goes
// at the start of the file) and the catalog.
func (p *plan) security(table []byte, catalogTime time.Time) (sec, catalog []byte, err error) {
	catalog, err = BuildCatalog(table, catalogTime)
	if err != nil {
		return nil, nil, err
	}
	if len(catalog) != p.catalogLen {
		return nil, nil, fmt.Errorf("ffu: internal error: catalog of %d bytes, %d planned", len(catalog), p.catalogLen)
	}
	le := binary.LittleEndian
	sec = make([]byte, securityHeaderSize, securityHeaderSize+len(catalog)+len(table))
	le.PutUint32(sec[0:], securityHeaderSize)
	copy(sec[4:16], securitySignature)
	le.PutUint32(sec[16:], uint32(p.chunk/1024))
	le.PutUint32(sec[20:], AlgSHA256)
	le.PutUint32(sec[24:], uint32(len(catalog)))
	le.PutUint32(sec[28:], uint32(len(table)))
	return append(append(sec, catalog...), table...), catalog, nil
}

// WriteFile writes the FFU to path, all or nothing (tools/internal/atomicfile): on error no
// file is left and path is untouched.
func WriteFile(path string, img *Image) (*Result, error) {
	var out atomicfile.Set
	defer out.Abort()
	f, err := out.Create(path)
	if err != nil {
		return nil, err
	}
	res, err := Write(f, img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := out.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// fill produces the bytes [off, off+len(buf)) of the file from the image header on: the image
// header region, the store metadata, the payload blocks from their sources, zeros to the end.
func (p *plan) fill(buf []byte, off int64, region, meta []byte, disk io.ReaderAt) error {
	payStart := p.imgRegion + p.storeMeta
	for len(buf) > 0 {
		var n int
		switch {
		case off < p.imgRegion:
			n = copy(buf, region[off:])
		case off < payStart:
			n = copy(buf, meta[off-p.imgRegion:])
		case off < payStart+p.payload:
			k := (off - payStart) / p.bs
			inner := (off - payStart) % p.bs
			n = int(min(int64(len(buf)), p.bs-inner))
			switch s := p.sources[k]; s.kind {
			case srcZero:
				clear(buf[:n])
			case srcMem:
				copy(buf[:n], p.mem[s.index][inner:])
			case srcDisk:
				doff := int64(s.index)*p.bs + inner
				if _, err := disk.ReadAt(buf[:n], doff); err != nil {
					return fmt.Errorf("disk: reading block %d (offset %d) for write descriptor %d: %w", s.index, doff, k, err)
				}
			}
		default:
			clear(buf)
			n = len(buf)
		}
		buf, off = buf[n:], off+int64(n)
	}
	return nil
}

var zeroBuf [64 << 10]byte

func writeZeros(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeroBuf)))
		if _, err := w.Write(zeroBuf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// plan checks img, reads its GPTs and lays out the whole file.
func (img *Image) plan() (*plan, error) {
	p, sectors, nblocks, err := img.newPlan()
	if err != nil {
		return nil, err
	}
	tbl, err := img.readTable(p.bs)
	if err != nil {
		return nil, err
	}
	parts, err := img.matchPartitions(tbl)
	if err != nil {
		return nil, err
	}
	gptBlocks := map[uint32]bool{}
	for _, b := range tbl.primary {
		gptBlocks[b] = true
	}
	for _, b := range tbl.backup {
		gptBlocks[b] = true
	}
	phase2Data, phase3Data, used, err := img.dataBlocks(parts, p.bs, gptBlocks)
	if err != nil {
		return nil, err
	}
	if err := p.descriptors(img, tbl, parts, phase2Data, phase3Data, nblocks); err != nil {
		return nil, err
	}
	if err := p.regions(img, parts, sectors, used); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlan checks the image's settings and disk geometry and returns the empty plan with the
// disk's sector and block counts.
func (img *Image) newPlan() (p *plan, sectors uint64, nblocks int64, err error) {
	p = &plan{bs: img.blockSize, chunk: int64(img.ChunkSizeKB) * 1024}
	if p.bs == 0 {
		p.bs = BlockSize
	}
	if img.ChunkSizeKB == 0 {
		p.chunk = DefaultChunkSizeKB * 1024
	}
	if img.ChunkSizeKB > MaxChunkSizeKB {
		return nil, 0, 0, fmt.Errorf("chunk size %d KB: the chunk size is 1..%d KB", img.ChunkSizeKB, MaxChunkSizeKB)
	}
	if img.Disk == nil {
		return nil, 0, 0, errors.New("no disk")
	}
	ss := int64(img.SectorSize)
	if ss < 512 || ss&(ss-1) != 0 || ss > p.bs {
		return nil, 0, 0, fmt.Errorf("sector size %d: must be a power of two from 512 to the block size %d", ss, p.bs)
	}
	if img.DiskSize <= 0 || img.DiskSize%p.bs != 0 {
		return nil, 0, 0, fmt.Errorf("disk size %d is not a positive multiple of the %d-byte block size (MinSectorCount must be a multiple of %d sectors)", img.DiskSize, p.bs, p.bs/ss)
	}
	nblocks = img.DiskSize / p.bs
	if nblocks > math.MaxUint32 {
		return nil, 0, 0, fmt.Errorf("disk size %d: more than 2^32 blocks", img.DiskSize)
	}
	sectors = uint64(img.DiskSize / ss)
	if img.Store.MinSectorCount != 0 && img.Store.MinSectorCount != sectors {
		return nil, 0, 0, fmt.Errorf("[Store] MinSectorCount %d does not match the disk: %d bytes are %d sectors", img.Store.MinSectorCount, img.DiskSize, sectors)
	}
	if sectors > math.MaxUint32 {
		return nil, 0, 0, fmt.Errorf("disk of %d sectors: MinSectorCount is 32 bits", sectors)
	}
	if err := checkPlatformIDs(img.PlatformIDs); err != nil {
		return nil, 0, 0, err
	}

	return p, sectors, nblocks, nil
}

// descriptors lays out the write descriptors in the three phases the flashing tool applies
// and fills the store header.
func (p *plan) descriptors(img *Image, tbl *diskTable, parts []disk.Partition, phase2Data, phase3Data []uint32, nblocks int64) error {
	gptPrimary, gptBackup := tbl.primary, tbl.backup
	// Phase 1: zero blocks over the start and the end of the disk, wiping both GPTs; one
	// entry per block with both locations, as GptDataEntryGenerator writes them. An MBR has
	// nothing at the end: MbrDataEntryGenerator wipes the start only.
	n1 := max(BlockSize/p.bs, 1)
	if img.wipeBlocks > 0 {
		n1 = int64(img.wipeBlocks)
	}
	total := int(n1) + len(phase2Data) + len(phase3Data) + 2*len(gptPrimary) + len(gptBackup)
	p.entries = make([]BlockEntry, 0, total)
	p.sources = make([]blockSource, 0, total)
	locs := make([]DiskLocation, 0, total+int(n1)) // one array for all descriptors
	add := func(src blockSource, l ...DiskLocation) {
		start := len(locs)
		locs = append(locs, l...)
		p.entries = append(p.entries, BlockEntry{Locations: locs[start:len(locs):len(locs)]})
		p.sources = append(p.sources, src)
	}
	for i := range uint32(n1) {
		if tbl.mbr {
			add(blockSource{kind: srcZero}, DiskLocation{DiskBegin, i})
		} else {
			add(blockSource{kind: srcZero}, DiskLocation{DiskBegin, i}, DiskLocation{DiskEnd, i})
		}
	}
	p.phase1 = len(p.entries)

	// Phase 2: data of the RequiredToFlash partitions, then the flash-only GPT.
	for _, b := range phase2Data {
		add(blockSource{srcDisk, b}, DiskLocation{DiskBegin, b})
	}
	var drop []int
	for i, part := range img.Partitions {
		if !part.RequiredToFlash {
			drop = append(drop, parts[i].Index)
		}
	}
	flashOnlyIndex := len(p.entries)
	p.tableWhat = tbl.what
	tableBlock := func(b uint32, patch func(blk []byte, off int64)) {
		add(blockSource{srcMem, uint32(len(p.tables))}, DiskLocation{DiskBegin, b})
		p.tables = append(p.tables, tableBlock{b, patch})
	}
	for _, b := range gptPrimary {
		tableBlock(b, func(blk []byte, off int64) { tbl.flashOnly(blk, off, drop) })
	}
	p.phase2 = len(p.entries) - p.phase1

	// Phase 3: data of the other partitions, the final primary GPT, the backup GPT counted
	// from the end of the disk.
	for _, b := range phase3Data {
		add(blockSource{srcDisk, b}, DiskLocation{DiskBegin, b})
	}
	finalIndex := len(p.entries)
	for _, b := range gptPrimary {
		if tbl.final == nil {
			add(blockSource{srcDisk, b}, DiskLocation{DiskBegin, b})
		} else {
			tableBlock(b, tbl.final)
		}
	}
	for _, b := range gptBackup {
		add(blockSource{srcDisk, b}, DiskLocation{DiskEnd, uint32(nblocks) - 1 - b})
	}
	p.phase3 = len(p.entries) - p.phase1 - p.phase2

	if int64(len(p.entries)) > math.MaxUint32 {
		return fmt.Errorf("%d write descriptors: more than 2^32", len(p.entries))
	}
	p.header = StoreHeader{
		MajorVersion: 1, FullFlashMajorVersion: 2,
		PlatformIDs:          img.PlatformIDs,
		BlockSize:            uint32(p.bs),
		WriteDescriptorCount: uint32(len(p.entries)),
		InitialTableIndex:    0, InitialTableCount: uint32(p.phase1),
		FlashOnlyTableIndex: uint32(flashOnlyIndex), FlashOnlyTableCount: uint32(len(gptPrimary)),
		FinalTableIndex: uint32(finalIndex), FinalTableCount: uint32(len(gptPrimary) + len(gptBackup)),
	}
	descLen := entriesSize(p.entries)
	if descLen > math.MaxUint32 {
		return fmt.Errorf("write descriptors of %d bytes: more than 2^32", descLen)
	}
	p.header.WriteDescriptorLength = uint32(descLen)
	p.payload = int64(len(p.entries)) * p.bs
	if img.V2 {
		units := utf16.Encode([]rune(img.Store.DevicePath))
		if len(units) > math.MaxUint16 {
			return fmt.Errorf("[Store] DevicePath of %d UTF-16 units: at most %d", len(units), math.MaxUint16)
		}
		p.header.MajorVersion = 2
		p.header.NumOfStores, p.header.StoreIndex = 1, 1
		p.header.StorePayloadSize = uint64(p.payload)
		p.header.DevicePath = img.Store.DevicePath
	}

	return nil
}

// regions builds the manifest and sizes the image, store and security regions.
func (p *plan) regions(img *Image, parts []disk.Partition, sectors uint64, used []uint64) error {
	var err error
	if p.manifest, err = img.manifest(parts, sectors, used); err != nil {
		return err
	}
	if int64(len(p.manifest)) > math.MaxUint32 {
		return errors.New("manifest larger than 4 GiB")
	}
	p.imgRegion = roundUp(imageHeaderSize+int64(len(p.manifest)), p.chunk)
	p.storeMeta = roundUp(int64(p.header.size())+int64(p.header.WriteDescriptorLength), p.bs)
	p.body = roundUp(p.imgRegion+p.storeMeta+p.payload, p.chunk)
	hashLen := p.body / p.chunk * hashSize
	cat, err := BuildCatalog(make([]byte, hashLen), img.CatalogTime)
	if err != nil {
		return err
	}
	p.catalogLen = len(cat)
	if hashLen > math.MaxUint32 {
		return fmt.Errorf("hash table of %d bytes: more than 2^32", hashLen)
	}
	p.secRegion = roundUp(securityHeaderSize+int64(p.catalogLen)+hashLen, p.chunk)
	return nil
}

// overlay copies src, which belongs at disk offset srcOff, into the part of blk (at blkOff)
// it overlaps.
func overlay(blk []byte, blkOff int64, src []byte, srcOff int64) {
	lo, hi := max(blkOff, srcOff), min(blkOff+int64(len(blk)), srcOff+int64(len(src)))
	if lo < hi {
		copy(blk[lo-blkOff:hi-blkOff], src[lo-srcOff:hi-srcOff])
	}
}

// matchPartitions pairs every Partition with its table entry by name, checks the LBAs, and
// checks that every used entry is listed.
func (img *Image) matchPartitions(g *diskTable) ([]disk.Partition, error) {
	byName := map[string]disk.Partition{}
	for _, e := range g.entries {
		if _, dup := byName[e.Name]; dup {
			return nil, fmt.Errorf("%s: two entries are called %q", g.what, e.Name)
		}
		byName[e.Name] = e
	}
	out := make([]disk.Partition, len(img.Partitions))
	seen := map[string]bool{}
	for i, part := range img.Partitions {
		if part.Name == "" {
			return nil, fmt.Errorf("partition %d has no name", i)
		}
		if seen[part.Name] {
			return nil, fmt.Errorf("partition %q is listed twice", part.Name)
		}
		seen[part.Name] = true
		e, ok := byName[part.Name]
		if !ok {
			return nil, fmt.Errorf("partition %q is not in the %s", part.Name, g.what)
		}
		if (part.FirstLBA != 0 || part.LastLBA != 0) && (part.FirstLBA != e.FirstLBA || part.LastLBA != e.LastLBA) {
			return nil, fmt.Errorf("partition %q: LBAs %d..%d, but %s entry %d has %d..%d", part.Name, part.FirstLBA, part.LastLBA, g.what, e.Index, e.FirstLBA, e.LastLBA)
		}
		if e.LastLBA < e.FirstLBA || e.LastLBA >= uint64(img.DiskSize)/uint64(img.SectorSize) {
			return nil, fmt.Errorf("partition %q: %s entry %d has LBAs %d..%d, outside the disk", part.Name, g.what, e.Index, e.FirstLBA, e.LastLBA)
		}
		out[i] = e
	}
	for _, e := range g.entries {
		if !seen[e.Name] {
			return nil, fmt.Errorf("%s entry %d (%q) is not in Partitions", g.what, e.Index, e.Name)
		}
	}
	sorted := slices.Clone(out)
	slices.SortFunc(sorted, func(a, b disk.Partition) int { return compareU64(a.FirstLBA, b.FirstLBA) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].FirstLBA <= sorted[i-1].LastLBA {
			return nil, fmt.Errorf("partitions %q and %q overlap", sorted[i-1].Name, sorted[i].Name)
		}
	}
	return out, nil
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dataBlocks turns the allocated extents into the data blocks of phase 2 (RequiredToFlash
// partitions in Partitions order, then allocated bytes outside every partition) and phase 3
// (the other partitions). A block shared by partitions of both kinds is in both phases; a
// block is in a phase once; GPT blocks are left out (the GPT phases write them whole). used
// is, per partition, its sectors in the blocks that hold its allocated data, GPT blocks too.
func (img *Image) dataBlocks(parts []disk.Partition, bs int64, gptBlocks map[uint32]bool) (phase2, phase3 []uint32, used []uint64, err error) {
	exts := make([]disk.Extent, 0, len(img.Allocated))
	for i, e := range img.Allocated {
		if e.Offset < 0 || e.Length < 0 || e.Offset > img.DiskSize-e.Length {
			return nil, nil, nil, fmt.Errorf("allocated extent %d (offset %d, length %d) is outside the %d-byte disk", i, e.Offset, e.Length, img.DiskSize)
		}
		if e.Length > 0 {
			exts = append(exts, e)
		}
	}
	sort.Slice(exts, func(i, j int) bool { return exts[i].Offset < exts[j].Offset })
	merged := exts[:0]
	for _, e := range exts {
		if n := len(merged); n > 0 && e.Offset <= merged[n-1].Offset+merged[n-1].Length {
			last := &merged[n-1]
			last.Length = max(last.Length, e.Offset+e.Length-last.Offset)
			continue
		}
		merged = append(merged, e)
	}

	ss := int64(img.SectorSize)
	type span struct {
		start, end int64
		part       int // index into img.Partitions
	}
	spans := make([]span, len(parts))
	for i, e := range parts {
		spans[i] = span{int64(e.FirstLBA) * ss, (int64(e.LastLBA) + 1) * ss, i}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })

	perPart := make([][]uint32, len(parts))
	used = make([]uint64, len(parts))
	counted := make([]int64, len(parts)) // the last block counted in used, per partition
	for i := range counted {
		counted[i] = -1
	}
	var outside []uint32
	appendBlock := func(list []uint32, b uint32) []uint32 {
		if gptBlocks[b] || (len(list) > 0 && list[len(list)-1] == b) {
			return list
		}
		return append(list, b)
	}
	for _, e := range merged {
		end := e.Offset + e.Length
		for b := e.Offset / bs; b*bs < end; b++ {
			lo, hi := max(e.Offset, b*bs), min(end, (b+1)*bs)
			// Partitions are sorted and disjoint: walk those that overlap [lo, hi) and see
			// whether they cover it.
			covered := lo
			k := sort.Search(len(spans), func(i int) bool { return spans[i].end > lo })
			for ; k < len(spans) && spans[k].start < hi; k++ {
				s := spans[k]
				perPart[s.part] = appendBlock(perPart[s.part], uint32(b))
				if counted[s.part] != b {
					counted[s.part] = b
					used[s.part] += uint64(min(s.end, (b+1)*bs)-max(s.start, b*bs)) / uint64(ss)
				}
				if s.start <= covered {
					covered = max(covered, s.end)
				}
			}
			if covered < hi {
				outside = appendBlock(outside, uint32(b))
			}
		}
	}
	// Partitions are disjoint, so a block can be in two lists only if it holds a partition
	// boundary: it is then the first or last block of a partition's list, and only those are
	// remembered to keep each block once per phase.
	edge := map[uint32]bool{}
	for _, l := range perPart {
		if len(l) > 0 {
			edge[l[0]], edge[l[len(l)-1]] = true, true
		}
	}
	seen := [2]map[uint32]bool{{}, {}} // phase 2, phase 3
	add := func(list *[]uint32, ph int, b uint32) {
		if edge[b] {
			if seen[ph][b] {
				return
			}
			seen[ph][b] = true
		}
		*list = append(*list, b)
	}
	for i, part := range img.Partitions {
		for _, b := range perPart[i] {
			if part.RequiredToFlash {
				add(&phase2, 0, b)
			} else {
				add(&phase3, 1, b)
			}
		}
	}
	for _, b := range outside {
		add(&phase2, 0, b)
	}
	return phase2, phase3, used, nil
}

// checkPlatformIDs checks what the store header can hold: printable ASCII IDs, each followed by
// a NUL, in 191 of szPlatformId's 192 bytes (ImageStoreHeader.Initialize).
func checkPlatformIDs(ids []string) error {
	if len(ids) == 0 {
		return errors.New("no device platform ID")
	}
	n := 0
	for i, id := range ids {
		if id == "" {
			return fmt.Errorf("device platform ID %d is empty", i)
		}
		for j := 0; j < len(id); j++ {
			if id[j] < 0x20 || id[j] > 0x7E {
				return fmt.Errorf("device platform ID %q: byte %#02x is not printable ASCII", id, id[j])
			}
		}
		n += len(id) + 1
	}
	if n > platformIDBytes-1 {
		return fmt.Errorf("device platform IDs take %d bytes with their NULs; the store header holds %d", n, platformIDBytes-1)
	}
	return nil
}

// iniValue makes a manifest value: surrounding spaces trimmed (readers drop them), non-ASCII
// characters replaced by '?' as .NET's ASCIIEncoding in ImageApp does, control characters
// (which would break the INI lines) refused.
func iniValue(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	var b strings.Builder
	for _, r := range v {
		switch {
		case r < 0x20 || r == 0x7F:
			return "", fmt.Errorf("manifest %s %q: control character %U", field, v, r)
		case r > 0x7E:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// manifest builds the INI text: [FullFlash], [Store], then a [Partition] per partition in
// Partitions order, each section's keys sorted (byte order). ImageApp's key order is that of a
// .NET Hashtable, i.e. unspecified; sorted keys make ours reproducible.
func (img *Image) manifest(parts []disk.Partition, sectors uint64, used []uint64) ([]byte, error) {
	var m Manifest
	var err error
	section := func(name string, kv map[string]string) {
		if err != nil {
			return
		}
		s := Section{Name: name}
		keys := make([]string, 0, len(kv))
		for k := range kv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, e := iniValue(name+" "+k, kv[k])
			if e != nil {
				err = e
				return
			}
			s.Keys = append(s.Keys, KeyValue{k, v})
		}
		m.Sections = append(m.Sections, s)
	}

	ff := map[string]string{"Version": "2.0", "AntiTheftVersion": img.AntiTheftVersion}
	if ff["AntiTheftVersion"] == "" {
		ff["AntiTheftVersion"] = "1.1"
	}
	for k, v := range map[string]string{"OSVersion": img.OSVersion, "Description": img.Description,
		"RulesVersion": img.RulesVersion, "RulesData": img.RulesData} {
		if v != "" {
			ff[k] = v
		}
	}
	for i, id := range img.PlatformIDs {
		ff["DevicePlatformId"+strconv.Itoa(i)] = id
	}
	section("FullFlash", ff)

	st := map[string]string{
		"SectorSize":                    strconv.FormatUint(uint64(img.SectorSize), 10),
		"MinSectorCount":                strconv.FormatUint(sectors, 10),
		"IsMainOSStore":                 boolString(img.Store.IsMainOSStore),
		"OnlyAllocateDefinedGptEntries": boolString(img.Store.OnlyAllocateDefinedGptEntries),
	}
	if img.Store.StoreID != "" {
		st["StoreId"] = img.Store.StoreID
	}
	if img.Store.DevicePath != "" {
		st["DevicePath"] = img.Store.DevicePath
	}
	section("Store", st)

	for i, part := range img.Partitions {
		e := parts[i]
		kv := map[string]string{"Name": part.Name, "Type": part.Type}
		if part.Type == "" {
			kv["Type"] = "{" + e.Type + "}"
			if disk.IsMBRType(e.Type) {
				kv["Type"] = e.Type
			}
		}
		opt := map[string]string{"Id": part.ID, "Primary": part.Primary, "FileSystem": part.FileSystem}
		for k, v := range opt {
			if v != "" {
				kv[k] = v
			}
		}
		flags := map[string]bool{"ReadOnly": part.ReadOnly, "Hidden": part.Hidden,
			"AttachDriveLetter": part.AttachDriveLetter, "Bootable": part.Bootable,
			"RequiredToFlash": part.RequiredToFlash}
		for k, v := range flags {
			if v {
				kv[k] = "True"
			}
		}
		if part.UseAllSpace {
			kv["UseAllSpace"] = "true" // lower case, as ImageApp writes it
		} else {
			total := part.TotalSectors
			if total == 0 {
				total = e.LastLBA - e.FirstLBA + 1
			}
			kv["TotalSectors"] = strconv.FormatUint(total, 10)
			if part.UsedSectors != 0 {
				used[i] = part.UsedSectors
			}
			kv["UsedSectors"] = strconv.FormatUint(used[i], 10)
		}
		nums := map[string]uint32{"ByteAlignment": part.ByteAlignment, "ClusterSize": part.ClusterSize,
			"SectorAlignment": part.SectorAlignment}
		for k, v := range nums {
			if v != 0 {
				kv[k] = strconv.FormatUint(uint64(v), 10)
			}
		}
		section("Partition", kv)
	}
	if err != nil {
		return nil, err
	}
	return m.Bytes(), nil
}
