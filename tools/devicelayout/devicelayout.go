// Package devicelayout reads DeviceLayout.xml (v1 and v2) and OEMDevicePlatform.xml, the two
// files that decide a device's partitions (FORMATS.md section 3,
// docs/set-device-platform-information.md). It parses and checks them only; tools/layout
// places the partitions on a disk.
package devicelayout

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// Namespaces of DeviceLayout v1 and v2 and of OEMDevicePlatform.
const (
	NamespaceV1 = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"
	NamespaceV2 = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate/v2"
)

// Partition is one Partition element of a device layout.
type Partition struct {
	Name                         string
	Type                         string // GPT type GUID "{...}" or an MBR type byte ("0x07")
	MBRType                      byte   // the type byte of an MBR layout's partition; 0 in a GPT layout
	ID                           string // GPT partition GUID, optional
	FileSystem                   string // FAT, FAT32, NTFS or "" (raw)
	TotalSectors                 uint64
	MinFreeSectors               uint64
	UseAllSpace                  bool
	OffsetInSectors              uint64 // the first sector, fixed by the layout; 0: after the previous partition
	Bootable                     bool
	ReadOnly                     bool
	Hidden                       bool
	AttachDriveLetter            bool
	RequiredToFlash              bool
	RequiresCompression          bool
	Compressed                   bool
	UpdateType                   string
	ByteAlignment                uint64
	ClusterSize                  uint64
	GeneratedFileOverheadSectors uint64
	SingleSectorAlignment        bool
	PrimaryPartition             string       // the partition this one duplicates; "" for itself
	Pos                          manifest.Pos // where its <Partition> element is
}

// Store is a v2 store; a v1 layout has one implicit store.
type Store struct {
	ID                            string
	StoreType                     string
	DevicePath                    string
	SizeInSectors                 uint64
	OnlyAllocateDefinedGptEntries bool
	Partitions                    []*Partition
	Pos                           manifest.Pos // where its <Store> element is (the root for v1)

	el *etree.Element
}

// DeviceLayout is a parsed DeviceLayout.xml.
type DeviceLayout struct {
	Version                       int // 1 or 2
	SectorSize                    uint32
	ChunkSizeKB                   uint32 // 0 when absent: FFU writers use their default
	DefaultPartitionByteAlignment uint64
	VersionTag                    string
	Stores                        []*Store
	// MBR is true when the partitions have MBR type bytes (the first partition's <Type> decides,
	// as in ImageApp): the disk gets an MBR, extended boot records and an MBR_META partition
	// instead of a GPT.
	MBR bool
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
	x    *manifest.Doc
	seen map[*etree.Element]once
	bad  bool // a value of the element being read did not parse: skip the checks that need it
}

// once tracks the children of an element that may appear at most once.
type once map[string]*etree.Element

// first reports a second occurrence of el's tag in parent and returns false for it.
func (p *parser) first(parent, el *etree.Element) bool {
	o := p.seen[parent]
	if o == nil {
		o = once{}
		p.seen[parent] = o
	}
	if prev, ok := o[el.Tag]; ok {
		p.x.Errorf(el, "<%s> appears twice in <%s> (first at line %d); expected it at most once", el.Tag, parent.Tag, p.x.Pos(prev).Line)
		return false
	}
	o[el.Tag] = el
	return true
}

// text is a value element's trimmed text; child elements are reported.
func (p *parser) text(el *etree.Element) string {
	for _, c := range el.ChildElements() {
		p.x.Errorf(c, "unexpected element <%s> in <%s>; expected only text", c.Tag, el.Tag)
	}
	return strings.TrimSpace(el.Text())
}

func (p *parser) uint(el *etree.Element) uint64 {
	s := p.text(el)
	v, ok := parseUint(s)
	if !ok {
		p.x.Errorf(el, "<%s> is %q; expected a non-negative number (decimal, or hexadecimal with 0x)", el.Tag, s)
		p.bad = true
	}
	return v
}

func parseUint(s string) (uint64, bool) {
	base := 10
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s, base = s[2:], 16
	}
	v, err := strconv.ParseUint(s, base, 64)
	return v, err == nil && s != "" && s[0] != '+'
}

func (p *parser) bool(el *etree.Element) bool {
	switch v := p.text(el); strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	default:
		p.x.Errorf(el, "<%s> is %q; expected true or false", el.Tag, v)
		p.bad = true
	}
	return false
}

// readRoot parses data with the project's positioned XML reader (UTF-8 or UTF-16 with a byte
// order mark) and checks the root element's name. The root's namespace picks the namespace its
// children must be in: ns[0] unless the root is in one of the others.
func readRoot(file string, data []byte, tag string, ns ...string) (*parser, *etree.Element, error) {
	x, err := manifest.ParseDoc(file, data, ns[0])
	if err != nil {
		return nil, nil, err
	}
	root := x.Root()
	if root.Tag != tag {
		x.Errorf(root, "root element is <%s>; expected <%s>", root.FullTag(), tag)
		return nil, nil, x.Err()
	}
	got := root.NamespaceURI()
	if got != ns[0] {
		for _, other := range ns[1:] {
			if got == other {
				// Parse again so that the shared reader checks children against this one.
				if x, err = manifest.ParseDoc(file, data, other); err != nil {
					return nil, nil, err
				}
				root = x.Root()
			}
		}
	}
	if !x.CheckNS(root) {
		return nil, nil, x.Err()
	}
	return &parser{x: x, seen: map[*etree.Element]once{}}, root, nil
}

var layoutChildren = []string{"Partitions", "Stores", "SectorSize", "ChunkSize", "DefaultPartitionByteAlignment", "VersionTag"}

// ParseDeviceLayout reads a DeviceLayout.xml; file names it in errors, which give the line and
// column of the element at fault.
func ParseDeviceLayout(file string, data []byte) (*DeviceLayout, error) {
	p, root, err := readRoot(file, data, "DeviceLayout", NamespaceV1, NamespaceV2)
	if err != nil {
		return nil, err
	}
	x := p.x
	d := &DeviceLayout{SectorSize: 512, Version: 1}
	if root.NamespaceURI() == NamespaceV2 {
		d.Version = 2
	}
	v1Store := &Store{ID: "MainOSStore", Pos: x.Pos(root), el: root}
	var sectorEl *etree.Element
	var partEls []*etree.Element
	for _, el := range x.Children(root) {
		if !p.first(root, el) && el.Tag != "Partitions" && el.Tag != "Stores" {
			continue
		}
		switch el.Tag {
		case "Partitions":
			if d.Version != 1 {
				x.Errorf(el, "<Partitions> directly in <DeviceLayout>: a v2 layout (namespace %s) lists partitions inside <Stores><Store>", NamespaceV2)
				break
			}
			ps, els := p.partitions(el)
			v1Store.Partitions = append(v1Store.Partitions, ps...)
			partEls = append(partEls, els...)
		case "Stores":
			if d.Version != 2 {
				x.Errorf(el, "<Stores> belongs to v2 layouts (namespace %s); expected <Partitions> in a v1 layout", NamespaceV2)
				break
			}
			for _, s := range x.Children(el) {
				if s.Tag != "Store" {
					x.UnknownChild(el, s, []string{"Store"})
					continue
				}
				st, els := p.store(s)
				d.Stores = append(d.Stores, st)
				partEls = append(partEls, els...)
			}
		case "SectorSize":
			sectorEl = el
			d.SectorSize = uint32(min(p.uint(el), 1<<32-1))
		case "ChunkSize":
			if v := p.uint(el); v < 1 || v > 1024 {
				x.Errorf(el, "<ChunkSize> is %d KB; expected 1 to 1024", v)
			} else {
				d.ChunkSizeKB = uint32(v)
			}
		case "DefaultPartitionByteAlignment":
			d.DefaultPartitionByteAlignment = p.uint(el)
			if a := d.DefaultPartitionByteAlignment; a&(a-1) != 0 {
				x.Errorf(el, "<DefaultPartitionByteAlignment> %#x is not a power of two", a)
			}
		case "VersionTag":
			d.VersionTag = p.text(el)
		default:
			x.UnknownChild(root, el, layoutChildren)
		}
	}
	if d.Version == 1 {
		d.Stores = []*Store{v1Store}
	}
	if err := x.Err(); err != nil {
		return nil, err
	}
	if d.SectorSize != 512 && d.SectorSize != 4096 {
		x.Errorf(sectorEl, "<SectorSize> is %d; expected 512 or 4096", d.SectorSize)
	}
	if len(d.Stores) == 0 {
		x.Errorf(root, "no <Store> in <Stores>; expected at least one")
	}
	p.check(d, partEls)
	if err := x.Err(); err != nil {
		return nil, err
	}
	return d, nil
}

// check applies the rules that span partitions: unique names, at most one UseAllSpace per
// store, one partition style (GPT or MBR) for the whole layout, alignments of whole sectors.
// els are the <Partition> elements in the order of the stores' partitions.
func (p *parser) check(d *DeviceLayout, els []*etree.Element) {
	x := p.x
	names := map[string]*Partition{}
	i := 0
	for _, s := range d.Stores {
		if len(s.Partitions) == 0 {
			x.Errorf(s.el, "store %q has no partitions; expected at least one <Partition>", s.ID)
		}
		var allSpace *Partition
		for _, pt := range s.Partitions {
			el := els[i]
			i++
			key := strings.ToLower(pt.Name)
			if prev, dup := names[key]; dup {
				x.Errorf(el, "partition %s is defined twice (first at line %d); expected unique names", pt.Name, prev.Pos.Line)
			}
			names[key] = pt
			if pt.UseAllSpace {
				if allSpace != nil {
					x.Errorf(el, "partition %s: store %q already has a UseAllSpace partition (%s); at most one may use the remaining space", pt.Name, s.ID, allSpace.Name)
				}
				allSpace = pt
			}
			if pt.ByteAlignment != 0 && pt.ByteAlignment < uint64(d.SectorSize) {
				x.Errorf(el, "partition %s: ByteAlignment %#x is smaller than the %d-byte sector; expected a power of two of at least the sector size", pt.Name, pt.ByteAlignment, d.SectorSize)
			}
		}
	}
	if len(d.Stores) == 0 || len(d.Stores[0].Partitions) == 0 {
		return // reported above
	}
	first := d.Stores[0].Partitions
	d.MBR = first[0].MBRType != 0
	i = 0
	for _, s := range d.Stores {
		for _, pt := range s.Partitions {
			el := els[i]
			i++
			if (pt.MBRType != 0) != d.MBR {
				style := map[bool]string{true: "an MBR type byte", false: "a GPT type GUID"}
				x.Errorf(el, "partition %s: <Type> %s is %s, but the first partition (%s) makes this %s layout; expected %s", pt.Name, pt.Type,
					style[pt.MBRType != 0], first[0].Name, map[bool]string{true: "an MBR", false: "a GPT"}[d.MBR], style[d.MBR])
			}
		}
	}
	if d.MBR && d.Version == 2 && len(d.Stores) > 1 {
		x.Errorf(d.Stores[1].el, "an MBR layout has one store; expected a single <Store>")
	}
}

var storeChildren = []string{"Id", "StoreType", "DevicePath", "SizeInSectors", "OnlyAllocateDefinedGptEntries", "Partitions"}

func (p *parser) store(el *etree.Element) (*Store, []*etree.Element) {
	s := &Store{Pos: p.x.Pos(el), el: el}
	var els []*etree.Element
	for _, c := range p.x.Children(el) {
		if !p.first(el, c) {
			continue
		}
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
			s.Partitions, els = p.partitions(c)
		default:
			p.x.UnknownChild(el, c, storeChildren)
		}
	}
	return s, els
}

func (p *parser) partitions(el *etree.Element) ([]*Partition, []*etree.Element) {
	var out []*Partition
	var els []*etree.Element
	for _, c := range p.x.Children(el) {
		if c.Tag != "Partition" {
			p.x.UnknownChild(el, c, []string{"Partition"})
			continue
		}
		out = append(out, p.partition(c))
		els = append(els, c)
	}
	return out, els
}

var partitionChildren = []string{"Name", "Type", "Id", "FileSystem", "TotalSectors", "MinFreeSectors", "UseAllSpace",
	"OffsetInSectors", "Bootable", "ReadOnly", "Hidden", "AttachDriveLetter", "RequiredToFlash", "PrimaryPartition",
	"RequiresCompression", "Compressed", "UpdateType", "ByteAlignment", "ClusterSize", "GeneratedFileOverheadSectors",
	"SingleSectorAlignment"}

func (p *parser) partition(el *etree.Element) *Partition {
	x := p.x
	pt := &Partition{RequiredToFlash: true, Pos: x.Pos(el)}
	p.bad = false
	var typeEl *etree.Element
	for _, c := range x.Children(el) {
		if !p.first(el, c) {
			continue
		}
		switch c.Tag {
		case "Name":
			pt.Name = p.text(c)
		case "Type":
			pt.Type, typeEl = p.text(c), c
		case "Id":
			pt.ID = p.text(c)
		case "FileSystem":
			v := p.text(c)
			pt.FileSystem = strings.ToUpper(v)
			if pt.FileSystem != "FAT" && pt.FileSystem != "FAT32" && pt.FileSystem != "NTFS" {
				x.Errorf(c, "<FileSystem> is %q; expected NTFS, FAT or FAT32", v)
			}
		case "TotalSectors":
			pt.TotalSectors = p.uint(c)
		case "MinFreeSectors":
			pt.MinFreeSectors = p.uint(c)
		case "UseAllSpace":
			pt.UseAllSpace = p.bool(c)
		case "OffsetInSectors":
			pt.OffsetInSectors = p.uint(c)
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
			pt.PrimaryPartition = p.text(c)
		case "RequiresCompression":
			pt.RequiresCompression = p.bool(c)
		case "Compressed":
			pt.Compressed = p.bool(c)
		case "UpdateType":
			pt.UpdateType = p.text(c)
			switch pt.UpdateType {
			case "Never", "Manufacture", "Normal", "Critical":
			default:
				x.Errorf(c, "<UpdateType> is %q; expected Never, Manufacture, Normal or Critical", pt.UpdateType)
			}
		case "ByteAlignment":
			pt.ByteAlignment = p.uint(c)
			if a := pt.ByteAlignment; a&(a-1) != 0 {
				x.Errorf(c, "<ByteAlignment> %#x is not a power of two", a)
			}
		case "ClusterSize":
			pt.ClusterSize = p.uint(c)
			if v := pt.ClusterSize; v&(v-1) != 0 || v > 1<<21 {
				x.Errorf(c, "<ClusterSize> %#x: expected a power of two of at most 2 MiB (bytes)", v)
			}
		case "GeneratedFileOverheadSectors":
			pt.GeneratedFileOverheadSectors = p.uint(c)
		case "SingleSectorAlignment":
			pt.SingleSectorAlignment = p.bool(c)
		default:
			x.UnknownChild(el, c, partitionChildren)
			p.bad = true // perhaps a misspelt size: the size checks would only confuse
		}
	}
	switch {
	case p.bad:
	case pt.Name == "":
		x.Errorf(el, "<Partition> has no <Name>; expected the partition's name")
	case len(utf16.Encode([]rune(pt.Name))) > 36:
		x.Errorf(el, "partition name %q is longer than the 36 characters of a GPT entry", pt.Name)
	case pt.Type == "":
		x.Errorf(el, "partition %s: <Type> is required (a GPT type GUID, or an MBR type byte such as 0x07)", pt.Name)
	case pt.UseAllSpace && pt.TotalSectors != 0:
		x.Errorf(el, "partition %s: UseAllSpace and TotalSectors exclude each other", pt.Name)
	case pt.UseAllSpace && pt.OffsetInSectors != 0:
		x.Errorf(el, "partition %s: UseAllSpace and OffsetInSectors exclude each other", pt.Name)
	case !pt.UseAllSpace && pt.TotalSectors == 0 && pt.MinFreeSectors == 0:
		x.Errorf(el, "partition %s: expected TotalSectors, MinFreeSectors or UseAllSpace", pt.Name)
	}
	if typeEl != nil && pt.Type != "" {
		p.partitionType(pt, typeEl)
	}
	if id := strings.Trim(pt.ID, "{}"); id != "" && !isGUID(id) {
		x.Errorf(el, "partition %s: <Id> %q is not a GUID; expected {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", pt.Name, pt.ID)
	}
	return pt
}

// partitionType reads <Type>: a GPT type GUID (with or without braces) or an MBR partition type
// byte, hexadecimal with 0x or decimal, as ImageApp parses it.
func (p *parser) partitionType(pt *Partition, el *etree.Element) {
	if isGUID(strings.Trim(pt.Type, "{}")) {
		return
	}
	v, ok := parseUint(pt.Type)
	switch {
	case !ok || v > 0xFF:
		p.x.Errorf(el, "partition %s: <Type> is %q; expected a GPT type GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} or an MBR type byte (0x00 to 0xFF)", pt.Name, pt.Type)
	case v == 0:
		p.x.Errorf(el, "partition %s: MBR type 0x00 marks an unused entry; expected the partition's type byte", pt.Name)
	case disk.IsExtendedType(byte(v)):
		p.x.Errorf(el, "partition %s: MBR type %#02x is an extended-partition container, which the writer makes itself; expected a data partition type", pt.Name, v)
	case byte(v) == disk.MBRTypeMeta:
		p.x.Errorf(el, "partition %s: MBR type %#02x is the MBR_META partition the writer adds; expected another type", pt.Name, v)
	case byte(v) == 0xEE:
		p.x.Errorf(el, "partition %s: MBR type 0xee marks a GPT protective MBR; use a GPT type GUID for a GPT layout", pt.Name)
	default:
		pt.MBRType = byte(v)
	}
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

var platformChildren = []string{"MinSectorCount", "DevicePlatformID", "DevicePlatformIDs", "AdditionalMainOSFreeSectorsRequest",
	"MMOSPartitionTotalSectorsOverride", "MainOSRTCDataReservedSectors", "CompressedPartitions", "UncompressedPartitions", "Rules"}

// ParseDevicePlatform reads an OEMDevicePlatform.xml; file names it in errors, which give the
// line and column of the element at fault.
func ParseDevicePlatform(file string, data []byte) (*DevicePlatform, error) {
	p, root, err := readRoot(file, data, "OEMDevicePlatform", NamespaceV1)
	if err != nil {
		return nil, err
	}
	x := p.x
	dp := &DevicePlatform{}
	list := func(el *etree.Element, tag string) []string {
		var out []string
		for _, c := range x.Children(el) {
			if c.Tag != tag {
				x.UnknownChild(el, c, []string{tag})
				continue
			}
			out = append(out, p.text(c))
		}
		return out
	}
	var idEl *etree.Element
	for _, el := range x.Children(root) {
		if el.Tag != "DevicePlatformID" && !p.first(root, el) {
			continue
		}
		switch el.Tag {
		case "MinSectorCount":
			dp.MinSectorCount = p.uint(el)
			if dp.MinSectorCount == 0 {
				x.Errorf(el, "<MinSectorCount> is 0; expected the size of the device's storage in sectors")
			}
		case "DevicePlatformID":
			dp.DevicePlatformIDs = append(dp.DevicePlatformIDs, p.text(el))
			idEl = el
		case "DevicePlatformIDs":
			dp.DevicePlatformIDs = append(dp.DevicePlatformIDs, list(el, "ID")...)
			idEl = el
		case "AdditionalMainOSFreeSectorsRequest":
			dp.AdditionalMainOSFreeSectorsRequest = p.uint(el)
		case "MMOSPartitionTotalSectorsOverride":
			dp.MMOSPartitionTotalSectorsOverride = p.uint(el)
		case "MainOSRTCDataReservedSectors":
			dp.MainOSRTCDataReservedSectors = p.uint(el)
		case "CompressedPartitions":
			dp.CompressedPartitions = list(el, "Name")
		case "UncompressedPartitions":
			dp.UncompressedPartitions = list(el, "Name")
		case "Rules":
			// Integer and string rules constrain values of OEM customizations; they are kept by
			// the customization issue. Accepted here so that real platform files parse.
		default:
			x.UnknownChild(root, el, platformChildren)
		}
	}
	if err := x.Err(); err != nil {
		return nil, err
	}
	if dp.MinSectorCount == 0 {
		x.Errorf(root, "<MinSectorCount> is required: it sets the size of the device's storage")
	}
	if len(dp.DevicePlatformIDs) == 0 {
		x.Errorf(root, "a DevicePlatformID (or DevicePlatformIDs/ID) is required")
	}
	for _, id := range dp.DevicePlatformIDs {
		if id == "" || len(id) > 191 {
			x.Errorf(idEl, "device platform ID %q: expected 1 to 191 characters (the FFU store header holds 192)", id)
		}
	}
	if err := x.Err(); err != nil {
		return nil, err
	}
	return dp, nil
}
