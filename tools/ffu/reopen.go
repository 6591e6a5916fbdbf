package ffu

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// StoredExtents are the byte ranges of store s's disk that the FFU stores (every location of
// every write descriptor, one block each), sorted and merged. Phase 1's wipe blocks are among
// them: they hold the GPT once the later phases are written.
func (rd *Reader) StoredExtents(s int) []disk.Extent {
	st := rd.Stores[s]
	bs := int64(st.Header.BlockSize)
	var offs []int64
	for _, e := range st.Entries {
		for _, l := range e.Locations {
			if off, ok := l.Offset(st.DiskSize, st.Header.BlockSize); ok {
				offs = append(offs, off)
			}
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	var out []disk.Extent
	for _, off := range offs {
		if n := len(out); n > 0 && off <= out[n-1].Offset+out[n-1].Length {
			out[n-1].Length = max(out[n-1].Length, off+bs-out[n-1].Offset)
			continue
		}
		out = append(out, disk.Extent{Offset: off, Length: bs})
	}
	return out
}

// Rewrite returns the Image Write needs to write this FFU again from disk (its raw disk,
// perhaps changed, with the same partition table): the manifest's [FullFlash], [Store] and
// [Partition] fields and the store's geometry. Allocated is left empty, CatalogTime zero: the
// caller says which bytes hold data and when the catalog is made, and sets a changed
// partition's UsedSectors to 0 (they are kept as the manifest gives them). An FFU of several
// stores, of a block size other than 128 KiB, or whose manifest has a key Write does not write
// is refused, naming what: writing it again would lose it.
func (rd *Reader) Rewrite(disk io.ReaderAt) (*Image, error) {
	if len(rd.Stores) != 1 {
		return nil, fmt.Errorf("%d stores: only an FFU of one store can be written again", len(rd.Stores))
	}
	st := rd.Stores[0]
	if st.Header.BlockSize != BlockSize {
		return nil, fmt.Errorf("store block size %d: only %d-byte blocks are written", st.Header.BlockSize, BlockSize)
	}
	img := &Image{
		Disk:        disk,
		DiskSize:    st.DiskSize,
		SectorSize:  st.SectorSize,
		ChunkSizeKB: rd.Security.ChunkSizeKB,
		V2:          st.Header.MajorVersion == 2,
	}
	ff := rd.manifest.Section("FullFlash")
	if ff == nil {
		return nil, fmt.Errorf("manifest: no [FullFlash] section")
	}
	ids := map[int]string{}
	for _, kv := range ff.Keys {
		switch {
		case kv.Key == "Version":
		case kv.Key == "Description":
			img.Description = kv.Value
		case kv.Key == "OSVersion":
			img.OSVersion = kv.Value
		case kv.Key == "AntiTheftVersion":
			img.AntiTheftVersion = kv.Value
		case kv.Key == "RulesVersion":
			img.RulesVersion = kv.Value
		case kv.Key == "RulesData":
			img.RulesData = kv.Value
		case strings.HasPrefix(kv.Key, "DevicePlatformId"):
			n, err := strconv.Atoi(strings.TrimPrefix(kv.Key, "DevicePlatformId"))
			if err != nil || n < 0 || n >= len(ff.Keys) {
				return nil, fmt.Errorf("manifest [FullFlash] %s: expected DevicePlatformId0, 1, ...", kv.Key)
			}
			ids[n] = kv.Value
		default:
			return nil, fmt.Errorf("manifest [FullFlash] key %s: not one the writer writes (expected Version, Description, OSVersion, AntiTheftVersion, RulesVersion, RulesData, DevicePlatformIdN)", kv.Key)
		}
	}
	for i := 0; i < len(ids); i++ {
		id, ok := ids[i]
		if !ok {
			return nil, fmt.Errorf("manifest [FullFlash]: DevicePlatformId%d is missing among %d platform IDs", i, len(ids))
		}
		img.PlatformIDs = append(img.PlatformIDs, id)
	}
	for _, kv := range st.Manifest.Store.Keys {
		switch kv.Key {
		case "SectorSize":
		case "MinSectorCount":
			n, err := strconv.ParseUint(kv.Value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("manifest [Store] MinSectorCount %q: expected a number", kv.Value)
			}
			img.Store.MinSectorCount = n
		case "StoreId":
			img.Store.StoreID = kv.Value
		case "DevicePath":
			img.Store.DevicePath = kv.Value
		case "IsMainOSStore":
			img.Store.IsMainOSStore = strings.EqualFold(kv.Value, "True")
		case "OnlyAllocateDefinedGptEntries":
			img.Store.OnlyAllocateDefinedGptEntries = strings.EqualFold(kv.Value, "True")
		default:
			return nil, fmt.Errorf("manifest [Store] key %s: not one the writer writes", kv.Key)
		}
	}
	for i, sec := range st.Manifest.Partitions {
		p, err := partitionOf(sec)
		if err != nil {
			return nil, fmt.Errorf("manifest [Partition] %d: %v", i+1, err)
		}
		img.Partitions = append(img.Partitions, p)
	}
	return img, nil
}

func partitionOf(sec *Section) (Partition, error) {
	var p Partition
	num := func(kv KeyValue) (uint64, error) {
		n, err := strconv.ParseUint(kv.Value, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%s %q: expected a number", kv.Key, kv.Value)
		}
		return n, nil
	}
	for _, kv := range sec.Keys {
		flag := strings.EqualFold(kv.Value, "True")
		var err error
		var n uint64
		switch kv.Key {
		case "Name":
			p.Name = kv.Value
		case "Type":
			p.Type = kv.Value
		case "Id":
			p.ID = kv.Value
		case "Primary":
			p.Primary = kv.Value
		case "FileSystem":
			p.FileSystem = kv.Value
		case "ReadOnly":
			p.ReadOnly = flag
		case "Hidden":
			p.Hidden = flag
		case "AttachDriveLetter":
			p.AttachDriveLetter = flag
		case "Bootable":
			p.Bootable = flag
		case "RequiredToFlash":
			p.RequiredToFlash = flag
		case "UseAllSpace":
			p.UseAllSpace = flag
		case "TotalSectors":
			if p.TotalSectors, err = strconv.ParseUint(kv.Value, 10, 64); err != nil {
				return p, fmt.Errorf("TotalSectors %q: expected a number", kv.Value)
			}
		case "UsedSectors":
			// Kept: a caller that changes the partition sets it to 0, recomputed from the
			// blocks it then stores.
			if p.UsedSectors, err = strconv.ParseUint(kv.Value, 10, 64); err != nil {
				return p, fmt.Errorf("UsedSectors %q: expected a number", kv.Value)
			}
		case "ByteAlignment":
			n, err = num(kv)
			p.ByteAlignment = uint32(n)
		case "ClusterSize":
			n, err = num(kv)
			p.ClusterSize = uint32(n)
		case "SectorAlignment":
			n, err = num(kv)
			p.SectorAlignment = uint32(n)
		default:
			return p, fmt.Errorf("key %s: not one the writer writes", kv.Key)
		}
		if err != nil {
			return p, err
		}
	}
	if p.Name == "" {
		return p, fmt.Errorf("no Name")
	}
	return p, nil
}
