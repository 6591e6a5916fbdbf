package layout

// MBR layouts (DeviceLayout partitions with MBR type bytes, e.g. the IoT Core kit's MBR4GB and
// MBR8GB-R and the NXP i.MX6/7 boards): ImageApp adds a 1 MiB MBR_META partition (type 0x70)
// that records each partition's name, since an MBR has no names.
const (
	MBRMetaType = 0x70
	MBRMetaName = "MBR_META"
	// MBRExtendedType is the type of the extended partition that holds the logical partitions
	// (the fifth partition on): the type the Microsoft reader takes for a container.
	MBRExtendedType = 0x05
)

// isExtendedType reports the type bytes readers take for extended-partition containers.
func isExtendedType(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 || t == 0x13 }
