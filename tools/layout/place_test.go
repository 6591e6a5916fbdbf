package layout

import (
	"fmt"
	"sort"
)

// checkPlan checks what every plan must satisfy: partitions inside the disk and outside its
// partition tables, disjoint.
func checkPlan(p *Plan) error {
	lo, hi := uint64(1)+GPTSectors(p.SectorSize), p.DiskSectors-1-GPTSectors(p.SectorSize)
	if p.MBR {
		lo, hi = 1, p.DiskSectors-1
	}
	ps := append([]*Placed(nil), p.Partitions...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].FirstLBA < ps[j].FirstLBA })
	for i, pt := range ps {
		if pt.FirstLBA < lo || pt.LastLBA > hi || pt.LastLBA < pt.FirstLBA {
			return fmt.Errorf("partition %s at %d-%d is outside %d-%d", pt.Name, pt.FirstLBA, pt.LastLBA, lo, hi)
		}
		if i > 0 && pt.FirstLBA <= ps[i-1].LastLBA {
			return fmt.Errorf("partitions %s and %s overlap", ps[i-1].Name, pt.Name)
		}
	}
	return nil
}
