package pkggen

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/registry"
)

// <BCDStore Source="x.bcd.xml"/> (specifying-components-in-a-package-project-file.md; the
// manufacturing-mode doc's example): a BCD layout file, schema BcdLayout.xsd of namespace
// BCDNamespace, converted as the original's BcdConverter (ImageStorageServiceManaged, which
// PkgGen calls) converts it: into registry text for the BCD hive, keys under
// HKEY_LOCAL_MACHINE\BCD (its HiveBase, the $(hklm.bcd) macro), carried by the neutral package
// as \Windows\Packages\RegistryFiles\<Owner.Component[.SubComponent]>_BCDStore_<n>.reg (FileType
// Registry; n counts the project's BCDStore elements from 0). docs/formats.md has the evidence.

// BCDNamespace is the namespace of BCD layout files.
const BCDNamespace = "http://schemas.microsoft.com/phone/2011/10/BootConfiguration"

// BCDHiveBase is where the converter roots the BCD store's keys.
const BCDHiveBase = `HKEY_LOCAL_MACHINE\BCD`

// bcdFormat is the format of an element's data (bits 24-27 of its type).
type bcdFormat uint32

const (
	bcdDevice bcdFormat = 1 + iota
	bcdString
	bcdObject
	bcdObjectList
	bcdInteger
	bcdBoolean
	bcdIntegerList
)

// valueElement is the <ValueType> child each format takes.
var valueElement = map[bcdFormat]string{
	bcdDevice: "DeviceValue", bcdString: "StringValue", bcdObject: "ObjectValue", bcdObjectList: "ObjectListValue",
	bcdInteger: "IntegerValue", bcdBoolean: "BooleanValue", bcdIntegerList: "IntegerListValue",
}

// bcdElementTypes are the WellKnownType names of BcdLayout.xsd with the element type the
// converter's BcdElementDataTypes gives each: class << 28 | format << 24 | subclass.
var bcdElementTypes = map[string]uint32{
	"Allow Flight Signatures": 0x1600007e, "Allow Pre-release Signatures": 0x16000049, "Allow User To Reset Phone": 0x26000206,
	"Application Path": 0x12000002, "Auto-recovery Enabled": 0x16000009, "Boot Device": 0x11000001,
	"Boot Menu Policy": 0x250000c2, "Boot Sequence": 0x24000002, "Boot Status Policy": 0x250000e0,
	"Boot UX Error Screen": 0x1500007d, "Boot UX Fade Disable": 0x1600006a, "Boot UX Logo Transition Enable": 0x1600007a,
	"Boot UX Logo Transition Time": 0x15000079, "Boot UX Progress Animation Disable": 0x16000069, "Boot UX Text Disable": 0x16000068,
	"BootFlowAPI Global": 0x25000aaa, "BSD Filepath": 0x12000044, "BSD Preserve Previous Entries": 0x16000045,
	"Console Extended Input": 0x16000050, "Custom Action List": 0x27000030, "Debug Transport Path": 0x22000013,
	"Debugger Baud Rate": 0x15000014, "Debugger Bus Parameters": 0x12000019, "Debugger Enabled": 0x16000010,
	"Debugger Ignore Usermode Exceptions": 0x16000017, "Debugger Network DHCP": 0x1600001c, "Debugger Network Host IP": 0x1500001a,
	"Debugger Network Key": 0x1200001d, "Debugger Network Port": 0x1500001b, "Debugger Start Policy": 0x15000018,
	"Debugger Type": 0x15000011, "Debugger USB Target Name": 0x12000016, "Debugging Enabled": 0x26000006,
	"Default Object": 0x23000003, "Description": 0x12000004, "Detect Kernel and HAL": 0x26000010,
	"Developer Menu Action": 0x54000003, "Disable Integrity Checks": 0x16000048, "Disable Platform ID Check": 0x26000205,
	"Display Advanced Options": 0x16000040, "Display Boot Menu": 0x26000020, "Display Option Edit": 0x16000041,
	"Display Order": 0x24000001, "EMS Enabled": 0x16000020, "Enable Boot Debug Policy": 0x26000145,
	"Enable Boot Order Clean": 0x26000146, "Enable Device Id": 0x26000147, "Enable FFU Loader": 0x26000148,
	"Enable IU Loader": 0x26000149, "Enable Mass Storage": 0x2600014a, "Enable Platform ID Check": 0x26000204,
	"Enable Reset TPM": 0x2600014e, "Enable RPMB Provisioning": 0x2600014b, "Enable Secure Boot Policy": 0x2600014c,
	"Enable Start Charge": 0x2600014d, "Enable UFP Mode": 0x26000207, "FFU Update Mode": 0x26000201,
	"Flashing Action": 0x54000001, "Force FFU": 0x26000203, "Force No Keyboard": 0x16000072,
	"Graphics Mode Disable": 0x16000046, "Hypervisor Debugger Baud Rate": 0x250000f5, "Hypervisor Debugger Port Number": 0x250000f4,
	"Hypervisor Debugger Type": 0x250000f3, "Inherit": 0x14000006, "Kernel Debugger Enabled": 0x260000a0,
	"Kernel EMS Enabled": 0x260000b0, "Load Options": 0x12000030, "Manufacturing Mode": 0x22000140,
	"Memory Capture Mode Address": 0x25000500, "OEM Charging Boot Threshold": 0x25000510, "OEM Charging Mode Enabled": 0x26000512,
	"OEM Charging Mode Threshold": 0x25000511, "OS Loader Type": 0x21000001, "PAE Policy": 0x25000021,
	"Persist Boot Sequence": 0x26000031, "Port Number": 0x15000013, "Preferred Locale": 0x12000005,
	"Process Custom Actions First": 0x26000028, "Quiet Boot Enable": 0x26000041, "Ramdisk SDI Device": 0x31000003,
	"Ramdisk SDI Path": 0x32000004, "Recovery Sequence": 0x14000008, "Remove Memory": 0x25000031,
	"Reset My Phone Action": 0x54000002, "Resume Object": 0x23000006, "System Root": 0x22000002,
	"Timeout Value": 0x25000004, "UFP Log Location": 0x25000209, "Use Mincrypl for Hashing": 0x26000208,
	"WinPE Image": 0x26000022, "WpDmp Log File": 0x22000502, "WpDmp Settings File": 0x22000501,
}

// bcdObject is a well-known BCD object: its GUID (lower case, as the converter's Guid.ToString
// writes it) and its object type (Description\Type).
type bcdObjectInfo struct {
	id  string
	typ uint32
}

// bcdObjects are the converter's BootObjectList: an object is named by its FriendlyName, which
// gives its GUID and type (compared ignoring case).
var bcdObjects = map[string]bcdObjectInfo{
	"Windows Boot Manager":                {"{9dea862c-5cdd-4e70-acc1-f32b344d4795}", 0x10100002},
	"Windows Loader":                      {"{7619dcc9-fafe-11d9-b411-000476eba25f}", 0x10200003},
	"Firmware BootMgr":                    {"{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}", 0x10200003},
	"Windows Phone Update OS":             {"{311b88b5-9b30-491d-bad9-167ca3e2d417}", 0x10200003},
	"MMOS":                                {"{a5935ff2-32ba-4617-bf36-5ac314b3f9bf}", 0x10200003},
	"Mobile Startup App":                  {"{01de5a27-8705-40db-bad6-96fa5187d4a6}", 0x1020000a},
	"Full Flash Update":                   {"{0ff5f24a-3785-4aeb-b8fe-4226215b88c4}", 0x1020000a},
	"Reset My Phone App":                  {"{bd8951c4-eabd-4c6f-aafb-4ddb4eb0469b}", 0x1020000a},
	"Preboot Crash Dump Application":      {"{012cdeb8-68fe-4fb9-be98-dbf20d98c261}", 0x1020000a},
	"MMOS Launcher App":                   {"{874ef8bb-d20f-4364-b545-a36e88ec40b0}", 0x1020000a},
	"Developer Menu App":                  {"{0d1b5e40-42f1-41e7-a690-8dd3ce23cc11}", 0x1020000a},
	"Relock App":                          {"{f8e167d7-bedf-41ff-a32e-27043a83cc89}", 0x1020000a},
	"HoloLens Display Initialization App": {"{17b80a47-c57b-460f-af39-9bd2d4080a26}", 0x1020000a},
	"Windows Memory Tester":               {"{b2721d73-1db4-4c62-bf78-c548a880142d}", 0x10200005},
	"Windows Resume App":                  {"{147aa509-0358-4473-b83b-d950dda00615}", 0x10200004},
	"Debugger Settings Group":             {"{4636856e-540f-4170-a130-a84776f4c654}", 0x20100000},
	"EMS Settings Group":                  {"{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}", 0x20100000},
	"Global Settings Group":               {"{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}", 0x20100000},
	"Hypervisor Settings Group":           {"{7ff607e0-4395-11db-b0de-0800200c9a66}", 0x20200003},
	"Boot Loader Settings Group":          {"{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}", 0x20200003},
	"Ramdisk Options":                     {"{ae5534e0-a924-466c-b836-758539a3ee3a}", 0x30000004},
}

var bcdGUID = regexp.MustCompile(`^\{[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\}$`)

// maxBCDListItems bounds one ObjectList or IntegerList. With it a store's registry text is
// bounded whatever the file's size: keys are recorded once, objects and element types come
// from the tables above, and an element given twice is an error, so a store has at most
// len(bcdObjects) * (3 + len(bcdElementTypes)) + 5 keys and values.
const maxBCDListItems = 1024

// bcdParser reads one BCD layout file.
type bcdParser struct {
	x      *manifest.Doc
	values []registry.Value
	seen   map[string]*etree.Element // element key -> where it was given
	keys   map[string]bool           // keys recorded alone
}

// ParseBCD reads a BCD layout file (file names it in messages) and returns the registry keys and
// values the converter writes for it. Every problem is reported at its line and column.
func ParseBCD(file string, data []byte) ([]registry.Value, error) {
	x, err := manifest.ParseDoc(file, data, BCDNamespace)
	if err != nil {
		return nil, err
	}
	bp := &bcdParser{x: x, seen: map[string]*etree.Element{}, keys: map[string]bool{}}
	root := x.Root()
	if root.Tag != "BootConfigurationDatabase" {
		x.Errorf(root, "root element is <%s>; expected <BootConfigurationDatabase>", root.FullTag())
		return nil, x.Err()
	}
	if !x.CheckNS(root) {
		return nil, x.Err()
	}
	x.Attrs(root, "SaveKeyToRegistry", "IncludeDescriptions", "IncludeRegistryHeader")
	if bp.saveKey(root) {
		bp.add(registry.Value{Key: BCDHiveBase})
	}
	if root.SelectAttr("IncludeDescriptions") != nil && x.BoolAttr(root, "IncludeDescriptions") {
		d := BCDHiveBase + `\Description`
		bp.add(registry.Value{Key: d, Name: "KeyName", Type: "REG_SZ", Data: utf16z("BCD00000000")})
		bp.add(registry.Value{Key: d, Name: "System", Type: "REG_DWORD", Data: le32(1)})
		bp.add(registry.Value{Key: d, Name: "TreatAsSystem", Type: "REG_DWORD", Data: le32(1)})
	}
	// IncludeRegistryHeader only decides whether the converter's text starts with the
	// "Windows Registry Editor Version 5.00" line; tools/registry always writes it.
	x.BoolAttr(root, "IncludeRegistryHeader")
	var objects *etree.Element
	for _, el := range x.Children(root) {
		switch {
		case el.Tag != "Objects":
			x.UnknownChild(root, el, []string{"Objects"})
		case objects != nil:
			x.Errorf(el, "<Objects> appears twice in <BootConfigurationDatabase>; expected it once")
		default:
			objects = el
		}
	}
	if objects == nil {
		x.Errorf(root, "<BootConfigurationDatabase> has no <Objects>; expected one (PkgGen's converter fails on a store without objects)")
		return nil, x.Err()
	}
	bp.objects(objects)
	if err := x.Err(); err != nil {
		return nil, err
	}
	return bp.values, nil
}

// add records a key or value; a key alone is recorded once (an object may be given twice).
func (bp *bcdParser) add(v registry.Value) {
	if v.Type == "" {
		k := strings.ToLower(v.Key)
		if bp.keys[k] {
			return
		}
		bp.keys[k] = true
	}
	bp.values = append(bp.values, v)
}

// saveKey reads the SaveKeyToRegistry attribute (xs:boolean, default true).
func (bp *bcdParser) saveKey(el *etree.Element) bool {
	if el.SelectAttr("SaveKeyToRegistry") == nil {
		return true
	}
	return bp.x.BoolAttr(el, "SaveKeyToRegistry")
}

func (bp *bcdParser) objects(el *etree.Element) {
	x := bp.x
	x.Attrs(el, "SaveKeyToRegistry")
	base := BCDHiveBase + `\Objects`
	if bp.saveKey(el) {
		bp.add(registry.Value{Key: base})
	}
	n := 0
	for _, o := range x.Children(el) {
		if o.Tag != "Object" {
			x.UnknownChild(el, o, []string{"Object"})
			continue
		}
		n++
		bp.object(o, base)
	}
	if n == 0 {
		x.Errorf(el, "<Objects> has no <Object>; expected at least one")
	}
}

// one collects el's children by tag, each at most once, reporting repeats and unknown tags.
func (bp *bcdParser) one(el *etree.Element, allowed ...string) map[string]*etree.Element {
	got := map[string]*etree.Element{}
	for _, c := range bp.x.Children(el) {
		known := false
		for _, a := range allowed {
			known = known || c.Tag == a
		}
		if !known {
			bp.x.UnknownChild(el, c, allowed)
			continue
		}
		if prev := got[c.Tag]; prev != nil {
			bp.x.Errorf(c, "<%s> appears twice in <%s> (first at line %d); expected it at most once", c.Tag, el.Tag, bp.x.Pos(prev).Line)
			continue
		}
		got[c.Tag] = c
	}
	return got
}

// text is el's character data as written (it must hold no elements).
func (bp *bcdParser) text(el *etree.Element) (string, bool) {
	var b strings.Builder
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			bp.x.Errorf(t, "unexpected element <%s> in <%s>; expected only text", t.Tag, el.Tag)
			return "", false
		case *etree.CharData:
			b.WriteString(t.Data)
		}
	}
	return b.String(), true
}

// objectNamed finds a well-known object by name (ignoring case, as the converter does),
// reporting an unknown one at el with the nearest name.
func (bp *bcdParser) objectNamed(el *etree.Element, name string) (bcdObjectInfo, bool) {
	for k, v := range bcdObjects {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	names := sortedKeys(bcdObjects)
	bp.x.Errorf(el, "%s is not a well-known BCD object; expected one of %s%s (PkgGen's converter takes an object's GUID from its name)",
		quote(name), strings.Join(names, ", "), manifest.DidYouMean(name, names))
	return bcdObjectInfo{}, false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (bp *bcdParser) object(o *etree.Element, base string) {
	x := bp.x
	x.Attrs(o, "SaveKeyToRegistry")
	c := bp.one(o, "FriendlyName", "Id", "RawType", "Elements")
	fn := c["FriendlyName"]
	if fn == nil {
		x.Errorf(o, "<Object> has no <FriendlyName>; expected the name of a well-known BCD object, e.g. Windows Loader")
		return
	}
	name, ok := bp.text(fn)
	if !ok {
		return
	}
	info, ok := bp.objectNamed(fn, strings.TrimSpace(name))
	if !ok {
		return
	}
	if id := c["Id"]; id != nil {
		if s, ok := bp.text(id); ok {
			s = strings.TrimSpace(s)
			switch {
			case !bcdGUID.MatchString(s):
				x.Errorf(id, "<Id> is %s; expected a GUID in braces, e.g. %s", quote(s), info.id)
			case !strings.EqualFold(s, info.id):
				x.Errorf(id, "<Id> is %s, but %s is %s; PkgGen's converter takes the GUID from <FriendlyName> and would not write %s", s, quote(name), info.id, s)
			}
		}
	}
	if rt := c["RawType"]; rt != nil {
		if s, ok := bp.text(rt); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			switch {
			case err != nil:
				x.Errorf(rt, "<RawType> is %s; expected a decimal integer (xs:integer)", quote(s))
			case n != int64(info.typ):
				x.Errorf(rt, "<RawType> is %d, but %s has type %d (0x%08x); PkgGen's converter takes the type from <FriendlyName>", n, quote(name), info.typ, info.typ)
			}
		}
	}
	key := base + `\` + info.id
	if bp.saveKey(o) {
		bp.add(registry.Value{Key: key})
		bp.add(registry.Value{Key: key + `\Description`, Name: "Type", Type: "REG_DWORD", Data: le32(info.typ)})
	}
	els := c["Elements"]
	if els == nil {
		x.Errorf(o, "<Object> has no <Elements>; expected one (PkgGen's converter fails on an object without)")
		return
	}
	bp.elements(els, key)
}

func (bp *bcdParser) elements(els *etree.Element, objKey string) {
	x := bp.x
	x.Attrs(els, "SaveKeyToRegistry")
	key := objKey + `\Elements`
	if bp.saveKey(els) {
		bp.add(registry.Value{Key: key})
	}
	n := 0
	for _, e := range x.Children(els) {
		if e.Tag != "Element" {
			x.UnknownChild(els, e, []string{"Element"})
			continue
		}
		n++
		bp.element(e, key)
	}
	if n == 0 {
		x.Errorf(els, "<Elements> has no <Element>; expected at least one")
	}
}

// wellKnown finds a WellKnownType by its exact name (the schema's enumeration is
// case-sensitive), reporting an unknown one with the nearest name.
func (bp *bcdParser) wellKnown(el *etree.Element, name string) (uint32, bool) {
	if t, ok := bcdElementTypes[name]; ok {
		return t, true
	}
	names := sortedKeys(bcdElementTypes)
	hint := manifest.DidYouMean(name, names)
	for _, k := range names {
		if strings.EqualFold(k, name) {
			hint = fmt.Sprintf(" (names are case-sensitive: %s)", k)
		}
	}
	bp.x.Errorf(el, "<WellKnownType> %s is not a well-known BCD element type of BcdLayout.xsd%s; expected a name such as Manufacturing Mode or Allow Pre-release Signatures", quote(name), hint)
	return 0, false
}

func (bp *bcdParser) element(e *etree.Element, elemsKey string) {
	x := bp.x
	x.Attrs(e)
	c := bp.one(e, "DataType", "ValueType")
	dt, vt := c["DataType"], c["ValueType"]
	if dt == nil || vt == nil {
		x.Errorf(e, "<Element> needs a <DataType> and a <ValueType>; expected both")
		return
	}
	x.Attrs(dt)
	t := bp.one(dt, "WellKnownType", "RawType")
	if len(t) != 1 {
		x.Errorf(dt, "<DataType> has %d of <WellKnownType> and <RawType>; expected exactly one", len(t))
		return
	}
	if raw := t["RawType"]; raw != nil {
		x.Errorf(raw, "<RawType> data types are refused by PkgGen's converter (\"Only WellKnownTypes are currently supported\"); expected <WellKnownType>")
		return
	}
	wk := t["WellKnownType"]
	x.Attrs(wk)
	name, ok := bp.text(wk)
	if !ok {
		return
	}
	typ, ok := bp.wellKnown(wk, strings.TrimSpace(name))
	if !ok {
		return
	}
	name = strings.TrimSpace(name)
	key := fmt.Sprintf(`%s\%08x`, elemsKey, typ)
	if prev := bp.seen[strings.ToLower(key)]; prev != nil {
		x.Errorf(e, "element %s (%08x) is given twice for this object (first at line %d); expected it once", quote(name), typ, x.Pos(prev).Line)
		return
	}
	bp.seen[strings.ToLower(key)] = e
	x.Attrs(vt)
	vs := x.Children(vt)
	if len(vs) != 1 {
		x.Errorf(vt, "<ValueType> has %d child elements; expected exactly one value element", len(vs))
		return
	}
	v := vs[0]
	format := bcdFormat(typ >> 24 & 0xF)
	want := valueElement[format]
	if v.Tag != want {
		all := []string{"BooleanValue", "StringValue", "ObjectValue", "ObjectListValue", "IntegerValue", "IntegerListValue", "DeviceValue"}
		known := false
		for _, a := range all {
			known = known || a == v.Tag
		}
		if !known {
			x.UnknownChild(vt, v, all)
			return
		}
		x.Errorf(v, "<%s> for %s, whose data is of format %s; expected <%s>", v.Tag, quote(name), formatName(format), want)
		return
	}
	x.Attrs(v)
	data, ok := bp.value(v, format, name)
	if !ok {
		return
	}
	rt := "REG_BINARY"
	switch format {
	case bcdString, bcdObject:
		rt = "REG_SZ"
	case bcdObjectList:
		rt = "REG_MULTI_SZ"
	}
	bp.add(registry.Value{Key: key, Name: "Element", Type: rt, Data: data})
}

func formatName(f bcdFormat) string {
	return map[bcdFormat]string{bcdDevice: "Device", bcdString: "String", bcdObject: "Object", bcdObjectList: "ObjectList",
		bcdInteger: "Integer", bcdBoolean: "Boolean", bcdIntegerList: "IntegerList"}[f]
}

// value converts a value element to the registry data the converter writes: a string as
// REG_SZ, a boolean as one byte, an integer (hexadecimal, 0x optional) as 8 bytes little-endian,
// an integer list as those concatenated, an object as its GUID, an object list as GUIDs, a
// device as its binary device data (bcd_device.go).
func (bp *bcdParser) value(v *etree.Element, format bcdFormat, name string) ([]byte, bool) {
	x := bp.x
	switch format {
	case bcdString:
		s, ok := bp.text(v)
		return utf16z(s), ok
	case bcdBoolean:
		s, ok := bp.text(v)
		if !ok {
			return nil, false
		}
		switch strings.TrimSpace(s) {
		case "true", "1":
			return []byte{1}, true
		case "false", "0":
			return []byte{0}, true
		}
		x.Errorf(v, "<BooleanValue> is %s; expected true, false, 1 or 0", quote(s))
		return nil, false
	case bcdInteger:
		s, ok := bp.text(v)
		if !ok {
			return nil, false
		}
		n, ok := bp.integer(v, s)
		return binary.LittleEndian.AppendUint64(nil, n), ok
	case bcdObject:
		s, ok := bp.text(v)
		if !ok {
			return nil, false
		}
		info, ok := bp.objectNamed(v, strings.TrimSpace(s))
		return utf16z(info.id), ok
	case bcdIntegerList, bcdObjectList:
		items, ok := bp.stringValues(v)
		if !ok {
			return nil, false
		}
		var out []byte
		var ids []string
		if format == bcdIntegerList && typeIs(name, "Custom Action List") && len(items)%2 != 0 {
			x.Errorf(v, "the Custom Action List has %d values; expected pairs of a scan key code and an element type", len(items))
			return nil, false
		}
		for i, it := range items {
			s, ok := bp.text(it)
			if !ok {
				return nil, false
			}
			if format == bcdObjectList {
				info, ok := bp.objectNamed(it, strings.TrimSpace(s))
				if !ok {
					return nil, false
				}
				ids = append(ids, info.id)
				continue
			}
			// In a Custom Action List every second value may name an element type.
			if typeIs(name, "Custom Action List") && i%2 == 1 {
				if t, known := bcdElementTypes[strings.TrimSpace(s)]; known {
					s = fmt.Sprintf("%08x", t)
				}
			}
			n, ok := bp.integer(it, s)
			if !ok {
				return nil, false
			}
			out = binary.LittleEndian.AppendUint64(out, n)
		}
		if format == bcdObjectList {
			return multiSz(ids), true
		}
		return out, true
	}
	return bp.deviceValue(v, name)
}

func typeIs(name, want string) bool { return strings.EqualFold(name, want) }

// stringValues reads <StringValues><StringValue/>...</StringValues>, bounded.
func (bp *bcdParser) stringValues(v *etree.Element) ([]*etree.Element, bool) {
	x := bp.x
	cs := x.Children(v)
	if len(cs) != 1 || cs[0].Tag != "StringValues" {
		x.Errorf(v, "<%s> holds %d elements; expected one <StringValues> of <StringValue> elements", v.Tag, len(cs))
		return nil, false
	}
	x.Attrs(cs[0])
	items := x.Children(cs[0])
	if len(items) == 0 || len(items) > maxBCDListItems {
		x.Errorf(cs[0], "<StringValues> has %d <StringValue>; expected 1 to %d", len(items), maxBCDListItems)
		return nil, false
	}
	for _, it := range items {
		if it.Tag != "StringValue" {
			x.UnknownChild(cs[0], it, []string{"StringValue"})
			return nil, false
		}
		x.Attrs(it)
	}
	return items, true
}

// integer parses a BCD integer as the converter does: hexadecimal always, an optional 0x, 64 bits.
func (bp *bcdParser) integer(el *etree.Element, s string) (uint64, bool) {
	t := strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(t, "0x"); ok {
		t = h
	} else if h, ok := strings.CutPrefix(t, "0X"); ok {
		t = h
	}
	n, err := strconv.ParseUint(t, 16, 64)
	if err != nil || t == "" || strings.ContainsAny(t, "+-_") {
		bp.x.Errorf(el, "<%s> is %s; expected a 64-bit hexadecimal number, 0x optional (the converter reads every BCD integer as hexadecimal: 30 is 0x30)", el.Tag, quote(s))
		return 0, false
	}
	return n, true
}

// bcdStore converts a <BCDStore>'s layout file for the neutral package.
func (b *builder) bcdStore(comp *etree.Element) {
	p := b.p
	p.doc.Attrs(comp, "Source")
	p.doc.Empty(comp)
	if comp.SelectAttr("Source") == nil {
		p.doc.Errorf(comp, "<BCDStore> has no Source; expected the BCD layout file (.bcd.xml) on the build machine")
		return
	}
	_, found, ok := p.source(comp, p.x, "Source")
	if !ok {
		return
	}
	data, err := manifest.ReadXMLFile(found)
	if err != nil {
		p.doc.AttrErrorf(comp, "Source", "Source: %s", clipMsg(err))
		return
	}
	values, err := ParseBCD(found, data)
	if err != nil {
		p.doc.AttrErrorf(comp, "Source", "Source: BCD layout: %s", clipMsg(err))
		return
	}
	if part := b.base.Partition; !strings.EqualFold(part, "EFIESP") {
		p.warnf(comp, "the BCD settings of %s go to the BCD store (%s), which is on the EFIESP partition; this package's Partition is %s (expected Partition=\"EFIESP\")", filepath.Base(found), BCDHiveBase, part)
	}
	b.neutral.bcd = append(b.neutral.bcd, values)
}
