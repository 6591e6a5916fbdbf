package disk

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/testgpt"
)

// gptDisk is an in-memory disk of sectors 512-byte sectors with a primary GPT at LBA 1 (128
// entries of 128 bytes from LBA 2) holding one partition at LBAs 40..99. change may alter the
// header and the entry array before the CRCs are computed.
func gptDisk(sectors int, change func(hdr, entries []byte)) []byte {
	return gptDiskN(sectors, 128, 40, 99, change)
}

// gptDiskN is gptDisk with count entries and the partition at LBAs first..last; usable LBAs
// start after the array and end as many sectors before the end.
func gptDiskN(sectors, count int, first, last uint64, change func(hdr, entries []byte)) []byte {
	const ss = 512
	disk := make([]byte, sectors*ss)
	le := binary.LittleEndian
	hdr, entries := disk[ss:2*ss], make([]byte, count*128)
	arraySectors := uint64((count*128 + ss - 1) / ss)
	copy(hdr, gptSignature)
	le.PutUint32(hdr[8:], 0x00010000)
	le.PutUint32(hdr[12:], gptMinHeaderSize)
	le.PutUint64(hdr[24:], 1)
	le.PutUint64(hdr[32:], uint64(sectors-1))
	le.PutUint64(hdr[40:], 2+arraySectors)
	le.PutUint64(hdr[48:], uint64(sectors)-2-arraySectors)
	le.PutUint64(hdr[72:], 2)
	le.PutUint32(hdr[80:], uint32(count))
	le.PutUint32(hdr[84:], 128)
	copy(entries[0:], testgpt.BasicData[:])
	entries[16] = 1
	le.PutUint64(entries[32:], first)
	le.PutUint64(entries[40:], last)
	copy(entries[56:], "M\x00a\x00i\x00n\x00")
	if change != nil {
		change(hdr, entries)
	}
	fixGPTCRCs(disk, ss, entries)
	return disk
}

// fixGPTCRCs writes entries at the header's entry LBA, when they fit, and sets both CRCs of the
// header at LBA 1 as the header's own fields say, so that a test (or the fuzzer) reaches the
// checks behind them.
func fixGPTCRCs(disk []byte, ss int, entries []byte) {
	if len(disk) < 2*ss || string(disk[ss:ss+8]) != gptSignature {
		return
	}
	le := binary.LittleEndian
	hdr := disk[ss : 2*ss]
	if at := le.Uint64(hdr[72:]); entries != nil && at < uint64(len(disk)/ss) && uint64(len(entries)) <= uint64(len(disk))-at*uint64(ss) {
		copy(disk[at*uint64(ss):], entries)
	}
	n := uint64(le.Uint32(hdr[80:])) * uint64(le.Uint32(hdr[84:]))
	if at := le.Uint64(hdr[72:]); at < uint64(len(disk)/ss) && n <= uint64(len(disk))-at*uint64(ss) {
		le.PutUint32(hdr[88:], crc32.ChecksumIEEE(disk[at*uint64(ss):at*uint64(ss)+n]))
	}
	if hsize := le.Uint32(hdr[12:]); hsize >= 20 && hsize <= uint32(ss) {
		le.PutUint32(hdr[16:], headerCRC(hdr[:hsize]))
	}
}

func TestReadGPTRejects(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name   string
		change func(hdr, entries []byte)
		want   string // "" reads the partition
	}{
		{"good", nil, ""},
		{"2^32-1 entries", func(h, _ []byte) { le.PutUint32(h[80:], 0xFFFFFFFF) }, "4294967295 entries of 128 bytes is more than 4194304 bytes"},
		{"entry size 4104", func(h, _ []byte) { le.PutUint32(h[84:], 4104); le.PutUint32(h[80:], 4) }, "entry size 4104 (must be a multiple of 8 from 128 to 4096)"},
		{"entry size 120", func(h, _ []byte) { le.PutUint32(h[84:], 120) }, "entry size 120"},
		{"entry size 132", func(h, _ []byte) { le.PutUint32(h[84:], 132) }, "entry size 132"},
		{"header size", func(h, _ []byte) { le.PutUint32(h[12:], 600) }, "header size 600 is outside 92..512"},
		{"array beyond the disk", func(h, _ []byte) { le.PutUint64(h[72:], 190) }, "entry array at LBA 190 (16384 bytes) is beyond the disk"},
		{"last usable beyond the disk", func(h, _ []byte) { le.PutUint64(h[48:], 200) }, "usable LBAs 34..200 are not within the disk (200 sectors)"},
		{"first usable after last", func(h, _ []byte) { le.PutUint64(h[40:], 170) }, "usable LBAs 170..166"},
		{"entry first after last", func(_, e []byte) { le.PutUint64(e[32:], 120) }, `entry 0 ("Main") has LBAs 120..99, outside the usable LBAs 34..166`},
		{"entry beyond the disk", func(_, e []byte) { le.PutUint64(e[40:], 1<<40) }, `entry 0 ("Main") has LBAs 40..1099511627776`},
		{"entry before the usable LBAs", func(_, e []byte) { le.PutUint64(e[32:], 1) }, `entry 0 ("Main") has LBAs 1..99`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk := gptDisk(200, tt.change)
			g, err := ReadGPT(bytes.NewReader(disk), int64(len(disk)), 512)
			if tt.want == "" {
				if err != nil || len(g.Entries) != 1 || g.Entries[0].Name != "Main" {
					t.Fatalf("ReadGPT: %+v, %v", g, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("header CRC", func(t *testing.T) {
		disk := gptDisk(200, nil)
		disk[512+40]++
		if _, err := ReadGPT(bytes.NewReader(disk), int64(len(disk)), 512); err == nil || !strings.Contains(err.Error(), "header CRC32") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("sector size", func(t *testing.T) {
		disk := gptDisk(200, nil)
		if _, err := ReadGPT(bytes.NewReader(disk), 1<<40, 1<<31); err == nil || !strings.Contains(err.Error(), "sector size 2147483648 is not a power of two from 512 to 65536") {
			t.Fatalf("err = %v", err)
		}
	})
}

// FuzzGPT reads the primary and backup GPT of a disk of sectors 512-byte sectors whose LBA 1
// on holds data; with fix, the CRCs of the header at LBA 1 are made right first, so that the
// fuzzer gets past them to the fields. A table that is read has its entries inside the disk.
// The inputs are the header and entry sectors only (1 KiB): the fuzzer minimizes every input
// that finds new code, and minimizing whole disks took longer than a CI run.
func FuzzGPT(f *testing.F) {
	le := binary.LittleEndian
	for _, change := range []func(h, e []byte){
		nil,
		func(h, _ []byte) { le.PutUint32(h[80:], 0xFFFFFFFF) },
		func(h, _ []byte) { le.PutUint32(h[84:], 0xFFFFFFF8) },
		func(h, _ []byte) { le.PutUint64(h[72:], 1<<63) },
		func(h, _ []byte) { le.PutUint64(h[48:], 1<<63) },
		func(_, e []byte) { le.PutUint64(e[40:], 1<<63) },
	} {
		disk := gptDiskN(16, 4, 4, 9, change)
		f.Add(disk[512:1024+512], uint16(16), false)
		f.Add(disk[512:1024+512], uint16(16), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, sectors uint16, fix bool) {
		sectors = min(max(sectors, 3), 4096) // a disk of at most 2 MiB
		disk := make([]byte, int(sectors)*512)
		copy(disk[512:], data)
		if fix {
			fixGPTCRCs(disk, 512, nil)
		}
		size := int64(len(disk))
		for _, ss := range []uint32{512, 4096} {
			for _, read := range []func(io.ReaderAt, int64, uint32) (*GPT, error){ReadGPT, ReadBackupGPT} {
				g, err := read(bytes.NewReader(disk), size, ss)
				if err != nil {
					continue
				}
				sectors := uint64(size) / uint64(ss)
				if g.LastUsableLBA >= sectors || uint64(len(g.entries)) != uint64(g.EntryCount)*uint64(g.EntrySize) {
					t.Fatalf("table of %d entries of %d bytes, usable up to LBA %d, on %d sectors", g.EntryCount, g.EntrySize, g.LastUsableLBA, sectors)
				}
				var all []int
				for _, e := range g.Entries {
					if e.FirstLBA > e.LastLBA || e.FirstLBA < g.FirstUsableLBA || e.LastLBA > g.LastUsableLBA {
						t.Fatalf("entry %d has LBAs %d..%d, usable %d..%d", e.Index, e.FirstLBA, e.LastLBA, g.FirstUsableLBA, g.LastUsableLBA)
					}
					all = append(all, e.Index)
				}
				if h, e := g.WithoutEntries(all); len(h) != int(ss) || len(e) != len(g.entries) {
					t.Fatalf("table without its entries: %d-byte header, %d bytes of entries", len(h), len(e))
				}
			}
		}
	})
}
