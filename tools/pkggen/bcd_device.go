package pkggen

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// <DeviceValue> of a BCD layout file: the binary device data (REG_BINARY "Element") that the
// converter's BcdElementDeviceInput writes for a GPTDevice, an MBRDevice or a RamdiskDevice,
// the schema's only three forms. docs/formats.md (BCDStore) has the evidence. The layout, all
// integers little-endian:
//
//	element    := options GUID (16 bytes) + device
//	device     := type u32, flags u32, size u32 (16 + len(identifier)), 0 u32, identifier
//	boot       := type 5, flags 0, identifier 56 zero bytes                      (72 bytes)
//	GPT        := type 6, flags 0, identifier = partition GUID (16), hard disk:
//	              block-I/O type 0 u32, partition style 0 (GPT) u32, disk GUID (16),
//	              zero-padded to 56                                              (72 bytes)
//	ramdisk    := type 0 (block I/O), flags 1, identifier = block-I/O type 3 u32, 0 u32,
//	              image base 0 u32, image size 0 u64, image offset 0 u32, then a file:
//	              version 1 u32, length u32 (12 + len(parent) + len(path)), type 5 u32,
//	              parent device, path UTF-16LE with a terminating 0 u16
//
// GUIDs are in .NET's Guid.ToByteArray order (the first three groups little-endian).

// Device types, block-I/O types and partition styles of the converter's device data.
const (
	bcdDevBlockIO     = 0 // BcdElementBootDevice.DeviceType.BlockIo
	bcdDevBoot        = 5 // DeviceType.Boot
	bcdDevPartitionEx = 6 // DeviceType.PartitionEx
	bcdBlockHardDisk  = 0 // BlockIoType.HardDisk
	bcdBlockRamdisk   = 3 // BlockIoType.RamDisk
	bcdBlockFile      = 5 // BlockIoType.File
	bcdPartStyleGPT   = 0 // PartitionFormat.Gpt

	bcdDeviceHeader  = 16 // type, flags, size, reserved
	bcdIdentifierLen = 56 // the boot and PartitionEx identifiers (BaseBootDeviceSizeInBytes 72 - 16)
	bcdOptionsLen    = 16 // the options GUID before the device

	// maxBCDDevicePath bounds a ramdisk's FilePath (UTF-16 units), Windows' longest path.
	maxBCDDevicePath = 32767
)

// bcdPartitionIDs are the partition GUIDs the converter gives a <Partition><Name> (the schema's
// enumeration; ImageConstants' MAINOS/SYSTEM/MMOS_PARTITION_ID). ImageApp gives the partitions
// of those names the same GUIDs when it lays out a GPT store (and normalizes them in the FFU),
// so the bytes PkgGen writes are the final ones: nothing is patched at image time for GPT.
var bcdPartitionIDs = map[string]string{
	"MAINOS": "{a76b8ce2-0187-4c13-8fca-8651c9b0620a}",
	"EFIESP": "{8183040a-8b44-4592-92f7-c6d9ee0560f7}",
	"MMOS":   "{27a47557-8243-4c8e-9d30-846844c29c52}",
}

// guidBytes is a GUID ("{8-4-4-4-12}", checked by bcdGUID) in .NET's ToByteArray order.
func guidBytes(s string) []byte {
	h := strings.NewReplacer("{", "", "}", "", "-", "").Replace(s)
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 { // callers match bcdGUID first
		return make([]byte, 16)
	}
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	return b
}

// bcdDeviceData is a device: its header and identifier.
func bcdDeviceData(typ, flags uint32, identifier []byte) []byte {
	b := make([]byte, 0, bcdDeviceHeader+len(identifier))
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(bcdDeviceHeader+len(identifier)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	return append(b, identifier...)
}

// bcdBootDevice is the boot device ("the device the boot application was loaded from"); the
// converter writes it for every MBRDevice, whose partition ImageApp fills in at image time.
func bcdBootDevice() []byte { return bcdDeviceData(bcdDevBoot, 0, make([]byte, bcdIdentifierLen)) }

// bcdGPTDevice is a PartitionEx device: a GPT partition of a disk, both by GUID.
func bcdGPTDevice(disk, partition []byte) []byte {
	id := make([]byte, 0, bcdIdentifierLen)
	id = append(id, partition...)
	id = binary.LittleEndian.AppendUint32(id, bcdBlockHardDisk)
	id = binary.LittleEndian.AppendUint32(id, bcdPartStyleGPT)
	id = append(id, disk...)
	id = append(id, make([]byte, bcdIdentifierLen-len(id))...)
	return bcdDeviceData(bcdDevPartitionEx, 0, id)
}

// bcdRamdiskDevice is a ramdisk loaded from path on parent.
func bcdRamdiskDevice(path string, parent []byte) []byte {
	p := utf16z(path)
	id := make([]byte, 0, 36+len(parent)+len(p))
	id = binary.LittleEndian.AppendUint32(id, bcdBlockRamdisk)
	id = binary.LittleEndian.AppendUint32(id, 0)
	id = binary.LittleEndian.AppendUint32(id, 0) // image base
	id = binary.LittleEndian.AppendUint64(id, 0) // image size
	id = binary.LittleEndian.AppendUint32(id, 0) // image offset
	id = binary.LittleEndian.AppendUint32(id, 1) // file: version
	id = binary.LittleEndian.AppendUint32(id, uint32(12+len(parent)+len(p)))
	id = binary.LittleEndian.AppendUint32(id, bcdBlockFile)
	id = append(id, parent...)
	id = append(id, p...)
	return bcdDeviceData(bcdDevBlockIO, 1, id)
}

// deviceValue converts a <DeviceValue> (name is its element type, for messages).
func (bp *bcdParser) deviceValue(v *etree.Element, name string) ([]byte, bool) {
	x := bp.x
	cs := x.Children(v)
	forms := []string{"GPTDevice", "MBRDevice", "RamdiskDevice"}
	if len(cs) != 1 {
		x.Errorf(v, "<DeviceValue> (for %s) holds %d elements; expected one of <%s>", quote(name), len(cs), strings.Join(forms, ">, <"))
		return nil, false
	}
	d := cs[0]
	options := make([]byte, bcdOptionsLen)
	var dev []byte
	ok := false
	switch d.Tag {
	case "GPTDevice":
		dev, ok = bp.gptDevice(d)
	case "MBRDevice":
		dev, ok = bp.mbrDevice(d)
	case "RamdiskDevice":
		// The converter's ramdisk always names the Ramdisk Options object, whatever
		// <RamdiskOptions> says.
		options = guidBytes(bcdObjects["Ramdisk Options"].id)
		dev, ok = bp.ramdiskDevice(d)
	default:
		x.UnknownChild(v, d, forms)
	}
	if !ok {
		return nil, false
	}
	return append(options, dev...), true
}

// guidText reads a GuidString element: a GUID in braces, exactly (the schema's pattern).
func (bp *bcdParser) guidText(el *etree.Element, example string) (string, bool) {
	bp.x.Attrs(el)
	s, ok := bp.text(el)
	if !ok {
		return "", false
	}
	if !bcdGUID.MatchString(s) {
		bp.x.Errorf(el, "<%s> is %s; expected a GUID in braces with nothing around it, e.g. %s (BcdLayout.xsd's GuidString)", el.Tag, quote(s), example)
		return "", false
	}
	return s, true
}

// require reports the children of el's xs:all that are missing.
func (bp *bcdParser) require(el *etree.Element, got map[string]*etree.Element, names ...string) bool {
	var missing []string
	for _, n := range names {
		if got[n] == nil {
			missing = append(missing, "<"+n+">")
		}
	}
	if len(missing) > 0 {
		bp.x.Errorf(el, "<%s> has no %s; expected %s", el.Tag, strings.Join(missing, " or "), strings.Join(wrapTags(names), ", "))
		return false
	}
	return true
}

func wrapTags(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "<" + n + ">"
	}
	return out
}

// gptDevice reads a GptDeviceType: <DiskId> and <Partition> (<Name> or <Id>).
func (bp *bcdParser) gptDevice(d *etree.Element) ([]byte, bool) {
	x := bp.x
	x.Attrs(d)
	c := bp.one(d, "DiskId", "Partition")
	if !bp.require(d, c, "DiskId", "Partition") {
		return nil, false
	}
	disk, ok := bp.guidText(c["DiskId"], "{AE420040-13DD-41F2-AE7F-0DC35854C8D7}")
	if !ok {
		return nil, false
	}
	p := c["Partition"]
	x.Attrs(p)
	pc := bp.one(p, "Name", "Id")
	if len(pc) != 1 {
		if len(x.Children(p)) == len(pc) { // no unknown child was reported
			x.Errorf(p, "<Partition> has %d of <Name> and <Id>; expected exactly one", len(pc))
		}
		return nil, false
	}
	var part string
	if id := pc["Id"]; id != nil {
		if part, ok = bp.guidText(id, bcdPartitionIDs["MMOS"]); !ok {
			return nil, false
		}
	} else {
		n := pc["Name"]
		x.Attrs(n)
		s, ok := bp.text(n)
		if !ok {
			return nil, false
		}
		part, ok = bcdPartitionIDs[s]
		if !ok {
			hint := ""
			for k := range bcdPartitionIDs {
				if strings.EqualFold(k, strings.TrimSpace(s)) {
					hint = fmt.Sprintf(" (the schema's names are upper case: %s)", k)
				}
			}
			x.Errorf(n, "<Name> is %s; expected MAINOS, EFIESP or MMOS%s (BcdLayout.xsd's names; PkgGen knows no other partition's GUID, give it by <Id>)", quote(s), hint)
			return nil, false
		}
	}
	return bcdGPTDevice(guidBytes(disk), guidBytes(part)), true
}

// mbrDevice reads an MbrDeviceType. Its <DiskSignature> and <PartitionName> are required by the
// schema but unused by the converter, which writes the boot device: ImageApp replaces it at image
// time (UpdateBootConfigurationDatabase, on an MBR store only) with the partition's byte offset
// and the disk signature, which are known only then.
func (bp *bcdParser) mbrDevice(d *etree.Element) ([]byte, bool) {
	x := bp.x
	x.Attrs(d)
	c := bp.one(d, "DiskSignature", "PartitionName")
	if !bp.require(d, c, "DiskSignature", "PartitionName") {
		return nil, false
	}
	for _, n := range []string{"DiskSignature", "PartitionName"} {
		x.Attrs(c[n])
		if _, ok := bp.text(c[n]); !ok {
			return nil, false
		}
	}
	return bcdBootDevice(), true
}

// ramdiskDevice reads a RamdiskDevice: <RamdiskOptions>, <FilePath> and <ParentDevice>.
func (bp *bcdParser) ramdiskDevice(d *etree.Element) ([]byte, bool) {
	x := bp.x
	x.Attrs(d)
	c := bp.one(d, "RamdiskOptions", "FilePath", "ParentDevice")
	if !bp.require(d, c, "RamdiskOptions", "FilePath", "ParentDevice") {
		return nil, false
	}
	ro := c["RamdiskOptions"]
	x.Attrs(ro)
	s, ok := bp.text(ro)
	if !ok {
		return nil, false
	}
	switch strings.TrimSpace(s) {
	case "true", "false", "1", "0":
	default:
		x.Errorf(ro, "<RamdiskOptions> is %s; expected true, false, 1 or 0 (xs:boolean)", quote(s))
		return nil, false
	}
	fp := c["FilePath"]
	x.Attrs(fp)
	path, ok := bp.text(fp)
	if !ok {
		return nil, false
	}
	if n := len(utf16z(path))/2 - 1; n > maxBCDDevicePath {
		x.Errorf(fp, "<FilePath> is %d UTF-16 units long; expected at most %d", n, maxBCDDevicePath)
		return nil, false
	}
	pd := c["ParentDevice"]
	x.Attrs(pd)
	pcs := x.Children(pd)
	if len(pcs) != 1 {
		x.Errorf(pd, "<ParentDevice> holds %d elements; expected one <GPTDevice> or <MBRDevice>", len(pcs))
		return nil, false
	}
	var parent []byte
	switch p := pcs[0]; p.Tag {
	case "GPTDevice":
		parent, ok = bp.gptDevice(p)
	case "MBRDevice":
		parent, ok = bp.mbrDevice(p)
	case "RamdiskDevice":
		x.Errorf(p, "a ramdisk's <ParentDevice> is a <RamdiskDevice>; expected <GPTDevice> or <MBRDevice> (the converter: \"A RamDisk's parent device cannot be another ramdisk\")")
		return nil, false
	default:
		x.UnknownChild(pd, p, []string{"GPTDevice", "MBRDevice"})
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return bcdRamdiskDevice(path, parent), true
}
