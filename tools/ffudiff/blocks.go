package ffudiff

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/volume"
)

// storedOffsets are the disk offsets of the blocks an image's store writes: every other block
// of its disk is zeros.
func storedOffsets(im *volume.Image, seen map[int64]bool) {
	st := im.FFU.Stores[0]
	for _, e := range st.Entries {
		for _, l := range e.Locations {
			if off, ok := l.Offset(st.DiskSize, st.Header.BlockSize); ok {
				seen[off] = true
			}
		}
	}
}

// extent is a partition's bytes on a disk.
type extent struct {
	name       string
	start, end int64
}

func extents(im *volume.Image) []extent {
	var out []extent
	for i := range im.GPT.Entries {
		off, size := im.Extent(&im.GPT.Entries[i])
		out = append(out, extent{im.GPT.Entries[i].Name, off, off + size})
	}
	return out
}

// regionOf names the partition holding the block at off, by A's table, then B's: first one
// whose first sector the block holds (boot is true), else the one the block starts in.
func regionOf(off, bs int64, tables ...[]extent) (name string, boot bool) {
	for _, t := range tables {
		for _, e := range t {
			if e.start >= off && e.start < off+bs && e.start < e.end {
				return e.name, true
			}
		}
	}
	for _, t := range tables {
		for _, e := range t {
			if off >= e.start && off < e.end {
				return e.name, false
			}
		}
	}
	return OutsidePartitions, false
}

// blocks compares the two disks block by block, over the blocks either image stores (a block
// neither stores is zeros in both), and groups the differing ones by region.
func (c *comparison) blocks() error {
	sa, sb := c.a.im.FFU.Stores[0], c.b.im.FFU.Stores[0]
	if sa.Header.BlockSize != sb.Header.BlockSize {
		c.note("the block sizes differ (%d and %d bytes): disk blocks not compared", sa.Header.BlockSize, sb.Header.BlockSize)
		return nil
	}
	bs := int64(sa.Header.BlockSize)
	seen := map[int64]bool{}
	storedOffsets(c.a.im, seen)
	storedOffsets(c.b.im, seen)
	offsets := make([]int64, 0, len(seen))
	for off := range seen {
		offsets = append(offsets, off)
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	ta, tb := extents(c.a.im), extents(c.b.im)
	ba, bb := make([]byte, bs), make([]byte, bs)
	byName := map[string]int{} // index in c.r.Blocks
	for _, off := range offsets {
		same, err := c.sameBlock(off, ba, bb)
		if err != nil {
			return err
		}
		if same {
			continue
		}
		name, boot := regionOf(off, bs, ta, tb)
		i, ok := byName[name]
		if !ok {
			i = len(c.r.Blocks)
			byName[name] = i
			c.r.Blocks = append(c.r.Blocks, Region{Region: name, BlockSize: bs, Ranges: []BlockRange{}})
		}
		r := &c.r.Blocks[i]
		r.Blocks++
		r.BootSector = r.BootSector || boot
		if n := len(r.Ranges); n > 0 && r.Ranges[n-1].Offset+r.Ranges[n-1].Bytes == off {
			r.Ranges[n-1].Count++
			r.Ranges[n-1].Bytes += bs
		} else {
			r.Ranges = append(r.Ranges, BlockRange{First: off / bs, Count: 1, Offset: off, Bytes: bs})
		}
	}
	c.explain()
	return nil
}

// sameBlock compares the block at off of both disks; a block past one disk's end differs.
func (c *comparison) sameBlock(off int64, ba, bb []byte) (bool, error) {
	ina, err := readBlock(c.a.im, off, ba)
	if err != nil {
		return false, err
	}
	inb, err := readBlock(c.b.im, off, bb)
	if err != nil {
		return false, err
	}
	return ina && inb && bytes.Equal(ba, bb), nil
}

// readBlock reads the block at off of an image's extracted disk; false if the disk ends first.
func readBlock(im *volume.Image, off int64, buf []byte) (bool, error) {
	if off+int64(len(buf)) > im.FFU.Stores[0].DiskSize {
		return false, nil
	}
	if _, err := im.ReaderAt().ReadAt(buf, off); err != nil && err != io.EOF {
		return false, fmt.Errorf("%s: disk block at byte %d: %v", im.Path, off, err)
	}
	return true, nil
}

// explain marks the regions whose partition entry or files differ too.
func (c *comparison) explain() {
	changed := map[string]bool{}
	for _, p := range c.r.Partitions {
		changed[strings.ToUpper(p.Name)] = true
	}
	for _, f := range c.r.Files {
		changed[strings.ToUpper(f.Partition)] = true
	}
	tableChanged := len(c.r.Partitions) > 0
	for _, h := range c.r.Headers {
		tableChanged = tableChanged || h.Name == "partition table"
	}
	for i := range c.r.Blocks {
		r := &c.r.Blocks[i]
		if r.Region == OutsidePartitions {
			r.Explained = tableChanged
		} else {
			r.Explained = changed[strings.ToUpper(r.Region)]
		}
	}
}
