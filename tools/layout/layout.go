// Package layout reads DeviceLayout.xml (v1 and v2) and OEMDevicePlatform.xml, the two files
// that decide a device's partitions, and places the partitions on the disk
// (FORMATS.md section 3, docs/set-device-platform-information.md).
package layout

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/xmlpath"
)

// Namespaces of DeviceLayout v1 and v2 and of OEMDevicePlatform.
const (
	NamespaceV1 = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"
	NamespaceV2 = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate/v2"
)

// Partition is one Partition element of a device layout.
type Partition struct {
	Name                         string
	Type                         string // GPT type GUID "{...}" or an MBR type byte
	ID                           string // GPT partition GUID, optional
	FileSystem                   string // FAT, FAT32, NTFS or "" (raw)
	TotalSectors                 uint64
	MinFreeSectors               uint64
	UseAllSpace                  bool
	Bootable                     bool
	ReadOnly                     bool
	Hidden                       bool
	AttachDriveLetter            bool
	RequiredToFlash              bool
	PrimaryPartition             bool
	RequiresCompression          bool
	Compressed                   bool
	UpdateType                   string
	ByteAlignment                uint64
	ClusterSize                  uint64
	GeneratedFileOverheadSectors uint64
	SingleSectorAlignment        bool
}

// Store is a v2 store; a v1 layout has one implicit store.
type Store struct {
	ID                            string
	StoreType                     string
	DevicePath                    string
	SizeInSectors                 uint64
	OnlyAllocateDefinedGptEntries bool
	Partitions                    []*Partition
}

// DeviceLayout is a parsed DeviceLayout.xml.
type DeviceLayout struct {
	Version                       int // 1 or 2
	SectorSize                    uint32
	ChunkSizeKB                   uint32 // 0 when absent: FFU writers use their default
	DefaultPartitionByteAlignment uint64
	VersionTag                    string
	Stores                        []*Store
}

// MainStore is the store holding MainOS (the only store of a v1 layout).
func (d *DeviceLayout) MainStore() *Store {
	for _, s := range d.Stores {
		for _, p := range s.Partitions {
			if strings.EqualFold(p.Name, "MainOS") {
				return s
			}
		}
	}
	return d.Stores[0]
}

// Partition finds a partition by name, case-insensitively.
func (d *DeviceLayout) Partition(name string) *Partition {
	for _, s := range d.Stores {
		for _, p := range s.Partitions {
			if strings.EqualFold(p.Name, name) {
				return p
			}
		}
	}
	return nil
}

// DevicePlatform is a parsed OEMDevicePlatform.xml.
type DevicePlatform struct {
	MinSectorCount                     uint64
	DevicePlatformIDs                  []string
	AdditionalMainOSFreeSectorsRequest uint64
	MMOSPartitionTotalSectorsOverride  uint64
	MainOSRTCDataReservedSectors       uint64
	CompressedPartitions               []string
	UncompressedPartitions             []string
}

type parser struct {
	file string
	err  error
}

func (p *parser) fail(el *etree.Element, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %s: %s", p.file, xmlpath.Of(el), fmt.Sprintf(format, args...))
	}
}

func (p *parser) text(el *etree.Element) string { return strings.TrimSpace(el.Text()) }

func (p *parser) uint(el *etree.Element) uint64 {
	s := p.text(el)
	base := 10
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		s, base = s[2:], 16
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		p.fail(el, "%q is not a non-negative number (decimal, or hexadecimal with 0x)", p.text(el))
	}
	return v
}

func (p *parser) bool(el *etree.Element) bool {
	switch strings.ToLower(p.text(el)) {
	case "true":
		return true
	case "false":
		return false
	}
	p.fail(el, "%q: expected true or false", p.text(el))
	return false
}

func readRoot(file string, data []byte, tag string) (*etree.Element, *parser, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, nil, fmt.Errorf("%s: not well-formed XML: %v", file, err)
	}
	root := doc.Root()
	if root == nil || root.Tag != tag {
		return nil, nil, fmt.Errorf("%s: root element must be <%s>", file, tag)
	}
	return root, &parser{file: file}, nil
}

// ParseDeviceLayout reads a DeviceLayout.xml; file names it in errors.
func ParseDeviceLayout(file string, data []byte) (*DeviceLayout, error) {
	root, p, err := readRoot(file, data, "DeviceLayout")
	if err != nil {
		return nil, err
	}
	d := &DeviceLayout{SectorSize: 512}
	switch root.NamespaceURI() {
	case NamespaceV1:
		d.Version = 1
	case NamespaceV2:
		d.Version = 2
	default:
		return nil, fmt.Errorf("%s: <DeviceLayout> namespace %q, expected %q (v1) or %q (v2)", file, root.NamespaceURI(), NamespaceV1, NamespaceV2)
	}
	v1Store := &Store{ID: "MainOSStore", DevicePath: "", OnlyAllocateDefinedGptEntries: false}
	for _, el := range root.ChildElements() {
		switch el.Tag {
		case "Partitions":
			if d.Version != 1 {
				p.fail(el, "a v2 layout lists partitions inside <Stores><Store>")
				break
			}
			v1Store.Partitions = p.partitions(el)
		case "Stores":
			if d.Version != 2 {
				p.fail(el, "<Stores> belongs to v2 layouts (namespace %s)", NamespaceV2)
				break
			}
			for _, s := range el.ChildElements() {
				if s.Tag != "Store" {
					p.fail(s, "unknown element <%s> (expected Store)", s.Tag)
					continue
				}
				d.Stores = append(d.Stores, p.store(s))
			}
		case "SectorSize":
			d.SectorSize = uint32(p.uint(el))
		case "ChunkSize":
			d.ChunkSizeKB = uint32(p.uint(el))
		case "DefaultPartitionByteAlignment":
			d.DefaultPartitionByteAlignment = p.uint(el)
		case "VersionTag":
			d.VersionTag = p.text(el)
		default:
			p.fail(el, "unknown element <%s> (expected Partitions, Stores, SectorSize, ChunkSize, DefaultPartitionByteAlignment or VersionTag)", el.Tag)
		}
	}
	if d.Version == 1 {
		d.Stores = []*Store{v1Store}
	}
	if p.err != nil {
		return nil, p.err
	}
	switch {
	case d.SectorSize != 512 && d.SectorSize != 4096:
		return nil, fmt.Errorf("%s: SectorSize %d: expected 512 or 4096", file, d.SectorSize)
	case d.ChunkSizeKB > 1024:
		return nil, fmt.Errorf("%s: ChunkSize %d KB: expected 1 to 1024", file, d.ChunkSizeKB)
	case len(d.Stores) == 0:
		return nil, fmt.Errorf("%s: no store", file)
	}
	names := map[string]bool{}
	for _, s := range d.Stores {
		if len(s.Partitions) == 0 {
			return nil, fmt.Errorf("%s: store %q has no partitions", file, s.ID)
		}
		allSpace := 0
		for _, pt := range s.Partitions {
			key := strings.ToLower(pt.Name)
			if names[key] {
				return nil, fmt.Errorf("%s: partition %s is defined twice", file, pt.Name)
			}
			names[key] = true
			if pt.UseAllSpace {
				allSpace++
			}
		}
		if allSpace > 1 {
			return nil, fmt.Errorf("%s: store %q has %d UseAllSpace partitions; at most one may use the remaining space", file, s.ID, allSpace)
		}
	}
	return d, nil
}

func (p *parser) store(el *etree.Element) *Store {
	s := &Store{}
	for _, c := range el.ChildElements() {
		switch c.Tag {
		case "Id":
			s.ID = p.text(c)
		case "StoreType":
			s.StoreType = p.text(c)
		case "DevicePath":
			s.DevicePath = p.text(c)
		case "SizeInSectors":
			s.SizeInSectors = p.uint(c)
		case "OnlyAllocateDefinedGptEntries":
			s.OnlyAllocateDefinedGptEntries = p.bool(c)
		case "Partitions":
			s.Partitions = p.partitions(c)
		default:
			p.fail(c, "unknown element <%s>", c.Tag)
		}
	}
	return s
}

func (p *parser) partitions(el *etree.Element) []*Partition {
	var out []*Partition
	for _, c := range el.ChildElements() {
		if c.Tag != "Partition" {
			p.fail(c, "unknown element <%s> (expected Partition)", c.Tag)
			continue
		}
		out = append(out, p.partition(c))
	}
	return out
}

func (p *parser) partition(el *etree.Element) *Partition {
	pt := &Partition{RequiredToFlash: true}
	for _, c := range el.ChildElements() {
		switch c.Tag {
		case "Name":
			pt.Name = p.text(c)
		case "Type":
			pt.Type = p.text(c)
		case "Id":
			pt.ID = p.text(c)
		case "FileSystem":
			pt.FileSystem = strings.ToUpper(p.text(c))
			if pt.FileSystem != "FAT" && pt.FileSystem != "FAT32" && pt.FileSystem != "NTFS" {
				p.fail(c, "%q: expected NTFS, FAT or FAT32", p.text(c))
			}
		case "TotalSectors":
			pt.TotalSectors = p.uint(c)
		case "MinFreeSectors":
			pt.MinFreeSectors = p.uint(c)
		case "UseAllSpace":
			pt.UseAllSpace = p.bool(c)
		case "Bootable":
			pt.Bootable = p.bool(c)
		case "ReadOnly":
			pt.ReadOnly = p.bool(c)
		case "Hidden":
			pt.Hidden = p.bool(c)
		case "AttachDriveLetter":
			pt.AttachDriveLetter = p.bool(c)
		case "RequiredToFlash":
			pt.RequiredToFlash = p.bool(c)
		case "PrimaryPartition":
			pt.PrimaryPartition = p.bool(c)
		case "RequiresCompression":
			pt.RequiresCompression = p.bool(c)
		case "Compressed":
			pt.Compressed = p.bool(c)
		case "UpdateType":
			pt.UpdateType = p.text(c)
			switch pt.UpdateType {
			case "Never", "Manufacture", "Normal", "Critical":
			default:
				p.fail(c, "%q: expected Never, Manufacture, Normal or Critical", pt.UpdateType)
			}
		case "ByteAlignment":
			pt.ByteAlignment = p.uint(c)
		case "ClusterSize":
			pt.ClusterSize = p.uint(c)
		case "GeneratedFileOverheadSectors":
			pt.GeneratedFileOverheadSectors = p.uint(c)
		case "SingleSectorAlignment":
			pt.SingleSectorAlignment = p.bool(c)
		default:
			p.fail(c, "unknown element <%s>", c.Tag)
		}
	}
	switch {
	case pt.Name == "":
		p.fail(el, "<Name> is required")
	case len(pt.Name) > 36:
		p.fail(el, "name %q is longer than the 36 characters of a GPT entry", pt.Name)
	case pt.Type == "":
		p.fail(el, "partition %s: <Type> is required (a GPT type GUID)", pt.Name)
	case pt.UseAllSpace && pt.TotalSectors != 0:
		p.fail(el, "partition %s: UseAllSpace and TotalSectors exclude each other", pt.Name)
	case !pt.UseAllSpace && pt.TotalSectors == 0 && pt.MinFreeSectors == 0:
		p.fail(el, "partition %s: expected TotalSectors, MinFreeSectors or UseAllSpace", pt.Name)
	}
	if pt.ByteAlignment != 0 && pt.ByteAlignment&(pt.ByteAlignment-1) != 0 {
		p.fail(el, "partition %s: ByteAlignment %#x is not a power of two", pt.Name, pt.ByteAlignment)
	}
	return pt
}

// ParseDevicePlatform reads an OEMDevicePlatform.xml; file names it in errors.
func ParseDevicePlatform(file string, data []byte) (*DevicePlatform, error) {
	root, p, err := readRoot(file, data, "OEMDevicePlatform")
	if err != nil {
		return nil, err
	}
	if ns := root.NamespaceURI(); ns != NamespaceV1 {
		return nil, fmt.Errorf("%s: <OEMDevicePlatform> namespace %q, expected %q", file, ns, NamespaceV1)
	}
	dp := &DevicePlatform{}
	names := func(el *etree.Element) []string {
		var out []string
		for _, c := range el.ChildElements() {
			out = append(out, p.text(c))
		}
		return out
	}
	for _, el := range root.ChildElements() {
		switch el.Tag {
		case "MinSectorCount":
			dp.MinSectorCount = p.uint(el)
		case "DevicePlatformID":
			dp.DevicePlatformIDs = append(dp.DevicePlatformIDs, p.text(el))
		case "DevicePlatformIDs":
			dp.DevicePlatformIDs = append(dp.DevicePlatformIDs, names(el)...)
		case "AdditionalMainOSFreeSectorsRequest":
			dp.AdditionalMainOSFreeSectorsRequest = p.uint(el)
		case "MMOSPartitionTotalSectorsOverride":
			dp.MMOSPartitionTotalSectorsOverride = p.uint(el)
		case "MainOSRTCDataReservedSectors":
			dp.MainOSRTCDataReservedSectors = p.uint(el)
		case "CompressedPartitions":
			dp.CompressedPartitions = names(el)
		case "UncompressedPartitions":
			dp.UncompressedPartitions = names(el)
		case "Rules":
			// Integer and string rules constrain values of OEM customizations; they are kept by
			// the customization issue. Accepted here so that real platform files parse.
		default:
			p.fail(el, "unknown element <%s>", el.Tag)
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	if dp.MinSectorCount == 0 {
		return nil, fmt.Errorf("%s: <MinSectorCount> is required: it sets the size of the device's storage", file)
	}
	if len(dp.DevicePlatformIDs) == 0 {
		return nil, fmt.Errorf("%s: a DevicePlatformID (or DevicePlatformIDs/ID) is required", file)
	}
	for _, id := range dp.DevicePlatformIDs {
		if id == "" || len(id) > 191 {
			return nil, fmt.Errorf("%s: device platform ID %q: expected 1 to 191 characters (the FFU store header holds 192)", file, id)
		}
	}
	return dp, nil
}

// GUID derives a stable GUID (version-4 layout, RFC 4122 variant) from parts: the same inputs
// give the same GUID on every machine, different inputs different GUIDs.
func GUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0F | 0x40
	h[8] = h[8]&0x3F | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
