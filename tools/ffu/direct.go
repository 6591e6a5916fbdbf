package ffu

import (
	"fmt"
	"io"
	"sort"
)

// Writing an image through a raw disk file costs the payload twice: the file systems write it
// to the disk file, Write reads it back and writes it again into the FFU. A Layout removes the
// disk file. Once the extents an image's file systems will allocate are known (imggen knows
// them from a pass over the packages' file lists that writes nothing), the FFU's every byte
// has its place: Plan lays the file out, Disk gives the file systems a disk whose writes land
// straight in the FFU's payload blocks, and Finish writes the headers and hashes the file as
// it now is. The bytes are those Write makes from the same disk.

// File is the FFU being written: Disk writes into it, Finish reads it back to hash it.
type File interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
}

// Layout is an FFU laid out before its disk is written.
type Layout struct {
	img   *Image
	p     *plan
	slots []slot // disk block -> payload block, by disk block then payload block
}

// slot says that payload block index holds disk block block.
type slot struct{ block, index uint32 }

// Plan lays out the FFU of img: img.Allocated must be the extents the disk's file systems
// will hold once written, and img.Disk need hold only the partition tables (the rest of it is
// not read).
func (img *Image) Plan() (*Layout, error) {
	p, err := img.plan()
	if err != nil {
		return nil, err
	}
	l := &Layout{img: img, p: p}
	for k, s := range p.sources {
		if s.kind == srcDisk {
			l.slots = append(l.slots, slot{s.index, uint32(k)})
		}
	}
	sort.Slice(l.slots, func(i, j int) bool {
		a, b := l.slots[i], l.slots[j]
		return a.block < b.block || a.block == b.block && a.index < b.index
	})
	return l, nil
}

// payloadOffset is the file offset of payload block k.
func (l *Layout) payloadOffset(k uint32) int64 {
	p := l.p
	return p.secRegion + p.imgRegion + p.storeMeta + int64(k)*p.bs
}

// Disk empties f, gives it the FFU's size and returns the disk as the file systems write it:
// a write lands in the payload blocks that hold its disk blocks (a block stored twice, in
// phase 2 and phase 3, in both); a write to a block the FFU does not store is dropped, as Write
// would not read it; the blocks the partition tables are made from are kept in memory for
// Finish.
func (l *Layout) Disk(f File) (*Disk, error) {
	if err := emptyTo(f, l.p.secRegion+l.p.body); err != nil {
		return nil, err
	}
	d := &Disk{l: l, f: f, tables: map[uint32][]byte{}}
	for _, t := range l.p.tables {
		if d.tables[t.block] == nil {
			d.tables[t.block] = make([]byte, l.p.bs)
		}
	}
	return d, nil
}

// Disk is the disk of a Layout being written (Layout.Disk).
type Disk struct {
	l      *Layout
	f      File
	tables map[uint32][]byte // table blocks, whole
	early  *early            // hashing chunks as they become final (ExpectWrites), or nil
}

// WriteAt writes b at disk offset off.
func (d *Disk) WriteAt(b []byte, off int64) (int, error) {
	bs := d.l.p.bs
	if off < 0 || off > d.l.img.DiskSize-int64(len(b)) {
		return 0, fmt.Errorf("ffu: disk write of %d bytes at offset %d is outside the %d-byte disk", len(b), off, d.l.img.DiskSize)
	}
	done := 0
	for done < len(b) {
		pos := off + int64(done)
		blk, inner := uint32(pos/bs), pos%bs
		n := int(min(int64(len(b)-done), bs-inner))
		part := b[done : done+n]
		if t := d.tables[blk]; t != nil {
			copy(t[inner:], part)
		}
		slots := d.l.slots
		i := sort.Search(len(slots), func(i int) bool { return slots[i].block >= blk })
		j := i
		for ; j < len(slots) && slots[j].block == blk; j++ {
			if _, err := d.f.WriteAt(part, d.l.payloadOffset(slots[j].index)+inner); err != nil {
				return done, err
			}
		}
		if d.early != nil && j > i {
			d.early.wrote(d.l, blk, n, slots[i:j])
		}
		done += n
	}
	return done, nil
}

// ReadAt reads the table blocks, the only ones Finish reads.
func (d *Disk) ReadAt(b []byte, off int64) (int, error) {
	bs := d.l.p.bs
	t := d.tables[uint32(off/bs)]
	if t == nil || off%bs+int64(len(b)) > bs {
		return 0, fmt.Errorf("ffu: internal error: disk read of %d bytes at offset %d outside a table block", len(b), off)
	}
	return copy(b, t[off%bs:]), nil
}

// Finish writes the rest of the FFU into the file its Disk has written: the headers, the
// table blocks, then, once the file is hashed, the security header. Blocks of zeros need no
// writing: Disk left the file's holes there.
func (l *Layout) Finish(d *Disk) (*Result, error) {
	p, f := l.p, d.f
	if err := p.loadTables(d); err != nil {
		return nil, err
	}
	region, meta := p.headers()
	if _, err := f.WriteAt(region, p.secRegion); err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(meta, p.secRegion+p.imgRegion); err != nil {
		return nil, err
	}
	for k, s := range p.sources {
		if s.kind == srcMem {
			if _, err := f.WriteAt(p.mem[s.index], l.payloadOffset(uint32(k))); err != nil {
				return nil, err
			}
		}
	}
	var table []byte
	if d.early != nil {
		var err error
		if table, err = d.early.finish(d.l, f); err != nil {
			return nil, err
		}
	} else {
		table = make([]byte, p.body/p.chunk*hashSize)
		fill := func(buf []byte, off int64) error {
			_, err := f.ReadAt(buf, p.secRegion+off)
			return err
		}
		if err := hashStream(p.body, p.chunk, table, fill, nil); err != nil {
			return nil, err
		}
	}
	sec, catalog, err := p.security(table, l.img.CatalogTime)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(sec, 0); err != nil {
		return nil, err
	}
	return &Result{
		Size: p.secRegion + p.body, Catalog: catalog, HashTable: table,
		Phase1: p.phase1, Phase2: p.phase2, Phase3: p.phase3,
		PayloadBytes: p.payload,
	}, nil
}
