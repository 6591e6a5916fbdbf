package layout

import (
	"fmt"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// MBR layouts (DeviceLayout partitions with MBR type bytes, e.g. the IoT Core kit's MBR4GB and
// MBR8GB-R and the NXP i.MX6/7 boards): ImageApp adds a 1 MiB MBR_META partition (type 0x70)
// that records each partition's name, since an MBR has no names.
const (
	MBRMetaType = disk.MBRTypeMeta
	MBRMetaName = "MBR_META"
)

// MBRTables encodes an MBR plan's partition tables (disk.MBRTables): the MBR at sector 0, one
// extended boot record per logical partition, and the MBR_META partition's header and entries.
func (p *Plan) MBRTables() ([]disk.Record, error) {
	if !p.MBR {
		return nil, fmt.Errorf("not an MBR plan")
	}
	parts := make([]disk.Partition, len(p.Partitions))
	for i, pt := range p.Partitions {
		parts[i] = pt.Partition
	}
	return disk.MBRTables(p.SectorSize, p.DiskSignature, parts)
}
