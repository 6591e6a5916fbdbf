package ffudiff

import (
	"fmt"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/disk"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// partitionOrder is the partitions of both images by upper-case name: A's in table order, then
// those only B has, in B's order.
func (c *comparison) partitionOrder() []string {
	var names []string
	seen := map[string]bool{}
	for _, im := range []*volume.Image{c.a.im, c.b.im} {
		for _, e := range im.GPT.Entries {
			if k := strings.ToUpper(e.Name); !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	return names
}

// Describe describes a partition of an image, by name; nil if it has none of that name.
func Describe(im *volume.Image, name string) *PartitionInfo {
	e := im.Partition(name)
	if e == nil {
		return nil
	}
	_, size := im.Extent(e)
	return &PartitionInfo{FirstLBA: e.FirstLBA, LastLBA: e.LastLBA, Bytes: size, Type: e.Type, GUID: e.GUID, Attributes: e.Attributes, FileSystem: FileSystem(im, e)}
}

// FileSystem names what a partition holds by its boot sector: FAT12/16/32, NTFS, or raw.
func FileSystem(im *volume.Image, e *disk.Partition) string {
	switch {
	case im.IsNTFS(e):
		return "NTFS"
	case im.IsFAT(e):
		if v, err := im.FAT(e); err == nil {
			return v.Type().String()
		}
		return "FAT (unreadable)"
	}
	return "raw"
}

// partitions compares the partition tables by name.
func (c *comparison) partitions() {
	for _, k := range c.partitionOrder() {
		a, b := Describe(c.a.im, k), Describe(c.b.im, k)
		switch {
		case b == nil:
			c.r.Partitions = append(c.r.Partitions, Partition{Name: c.a.im.Partition(k).Name, Change: "removed", A: a})
		case a == nil:
			c.r.Partitions = append(c.r.Partitions, Partition{Name: c.b.im.Partition(k).Name, Change: "added", B: b})
		default:
			if p := comparePartition(c.b.im.Partition(k).Name, a, b); p != nil {
				c.r.Partitions = append(c.r.Partitions, *p)
			}
		}
	}
}

func comparePartition(name string, a, b *PartitionInfo) *Partition {
	var fields []Field
	f := func(n, x, y string) {
		if x != y {
			fields = append(fields, Field{n, x, y})
		}
	}
	f("bytes", fmt.Sprint(a.Bytes), fmt.Sprint(b.Bytes))
	f("first LBA", fmt.Sprint(a.FirstLBA), fmt.Sprint(b.FirstLBA))
	f("last LBA", fmt.Sprint(a.LastLBA), fmt.Sprint(b.LastLBA))
	f("type", a.Type, b.Type)
	f("GUID", a.GUID, b.GUID)
	f("attributes", fmt.Sprintf("%#x", a.Attributes), fmt.Sprintf("%#x", b.Attributes))
	f("file system", a.FileSystem, b.FileSystem)
	if len(fields) == 0 {
		return nil
	}
	change := "changed"
	if a.Bytes != b.Bytes {
		change = "resized"
	}
	return &Partition{Name: name, Change: change, A: a, B: b, Fields: fields}
}

// openVolumes opens the file system of every partition of both images that has one. A
// partition whose boot sector says FAT or NTFS but that does not open is a note: its files are
// not compared, its blocks are.
func (c *comparison) openVolumes() {
	for _, s := range []*side{&c.a, &c.b} {
		s.vols, s.fs = map[string]volume.Reader{}, map[string]string{}
		for i := range s.im.GPT.Entries {
			e := &s.im.GPT.Entries[i]
			k := strings.ToUpper(e.Name)
			s.fs[k] = FileSystem(s.im, e)
			if !s.im.IsNTFS(e) && !s.im.IsFAT(e) {
				continue
			}
			v, err := s.im.Volume(e)
			if err != nil {
				c.note("%s: %s: %v: its files are not compared", s.im.Path, e.Name, err)
				continue
			}
			s.vols[k] = v
		}
	}
}
