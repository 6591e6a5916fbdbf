package disk

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/partition/gpt"
)

// gptCase is a table to write: the disk, and its partitions placed one after another.
type gptCase struct {
	name        string
	sectorSize  uint32
	diskSectors uint64
	parts       int
	names       func(i int) string
}

func (c gptCase) partitions() []Partition {
	types := []string{"C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "DE7D4029-0F5B-41C8-AE7E-F6C023A02B33"}
	attrs := []uint64{0, 1 << 63, 1<<60 | 1<<62, 1 << 2}
	var out []Partition
	first := uint64(2 + GPTArraySectors(c.sectorSize) + 5)
	for i := 0; i < c.parts; i++ {
		n := uint64(7 + i%5)
		out = append(out, Partition{Index: i, Name: c.names(i), Type: types[i%len(types)],
			GUID: fmt.Sprintf("%08X-1234-4ABC-8DEF-%012X", i*7919, i+1), FirstLBA: first, LastLBA: first + n - 1, Attributes: attrs[i%len(attrs)]})
		first += n + uint64(i%3)
	}
	return out
}

// The old writer: go-diskfs's, as imggen called it before WriteGPT.
func goDiskfsGPT(t *testing.T, path string, c gptCase, diskGUID string, parts []Partition) {
	t.Helper()
	tbl := &gpt.Table{LogicalSectorSize: int(c.sectorSize), PhysicalSectorSize: int(c.sectorSize), ProtectiveMBR: true, GUID: diskGUID}
	for _, p := range parts {
		tbl.Partitions = append(tbl.Partitions, &gpt.Partition{Index: p.Index + 1, Start: p.FirstLBA, End: p.LastLBA,
			Size: p.Sectors() * uint64(c.sectorSize), Type: gpt.Type(p.Type), Name: p.Name, GUID: p.GUID, Attributes: p.Attributes})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(c.diskSectors) * int64(c.sectorSize)); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Write(noSync{f}, int64(c.diskSectors)*int64(c.sectorSize)); err != nil {
		t.Fatal(err)
	}
}

type noSync struct{ f *os.File }

func (n noSync) Stat() (fs.FileInfo, error)                { return n.f.Stat() }
func (n noSync) Read(b []byte) (int, error)                { return n.f.Read(b) }
func (n noSync) ReadAt(b []byte, off int64) (int, error)   { return n.f.ReadAt(b, off) }
func (n noSync) WriteAt(b []byte, off int64) (int, error)  { return n.f.WriteAt(b, off) }
func (n noSync) Seek(off int64, whence int) (int64, error) { return n.f.Seek(off, whence) }
func (n noSync) Close() error                              { return nil }

// WriteGPT writes the bytes go-diskfs wrote (the writer imggen used before), for 512 and
// 4096-byte sectors, no partition to all 128, names of every length up to 36 UTF-16 units,
// every attribute bit imggen sets; and ReadGPT reads back what was written.
func TestWriteGPTMatchesGoDiskfs(t *testing.T) {
	short := func(i int) string { return []string{"EFIESP", "MainOS", "Data", "UEFI", "PLAT"}[i%5] }
	long := func(i int) string { return strings.Repeat("n", i%37) }
	uni := func(i int) string { return fmt.Sprintf("Ünï-%d-ü", i) }
	cases := []gptCase{
		{"512, none", 512, 2048, 0, short},
		{"512, three", 512, 1 << 15, 3, short},
		{"512, odd disk size", 512, 1<<14 + 77, 5, short},
		{"512, 128 entries", 512, 1 << 12, 128, long},
		{"512, unicode", 512, 1 << 14, 9, uni},
		{"4096, three", 4096, 1 << 12, 3, short},
		{"4096, 128 entries", 4096, 1 << 12, 128, long},
		{"4096, unicode", 4096, 4096, 12, uni},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts := c.partitions()
			diskGUID := fmt.Sprintf("%08X-AAAA-4BBB-8CCC-%012X", i+1, 0xD15C)
			old := filepath.Join(dir, fmt.Sprintf("old%d.img", i))
			goDiskfsGPT(t, old, c, diskGUID, parts)
			want, err := os.ReadFile(old)
			if err != nil {
				t.Fatal(err)
			}
			got := make(memWriter, len(want))
			if err := WriteGPT(got, c.sectorSize, c.diskSectors, diskGUID, parts); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				for k := range want {
					if got[k] != want[k] {
						t.Fatalf("byte %d (sector %d): %#02x, go-diskfs wrote %#02x", k, k/int(c.sectorSize), got[k], want[k])
					}
				}
			}
			g, err := ReadGPT(bytes.NewReader(got), int64(len(got)), c.sectorSize)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ReadBackupGPT(bytes.NewReader(got), int64(len(got)), c.sectorSize); err != nil {
				t.Fatal(err)
			}
			if len(g.Entries) != len(parts) || !strings.EqualFold(g.DiskGUID, diskGUID) {
				t.Fatalf("read back %d entries, disk GUID %s", len(g.Entries), g.DiskGUID)
			}
			for k, e := range g.Entries {
				p := parts[k]
				if e.Name != p.Name || !strings.EqualFold(e.Type, p.Type) || !strings.EqualFold(e.GUID, p.GUID) || e.FirstLBA != p.FirstLBA || e.LastLBA != p.LastLBA || e.Attributes != p.Attributes || e.Index != p.Index {
					t.Fatalf("entry %d read back as %+v, written %+v", k, e, p)
				}
			}
		})
	}
}

// WriteGPT refuses what it cannot encode, naming the partition.
func TestWriteGPTRejects(t *testing.T) {
	ok := Partition{Name: "MainOS", Type: "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", GUID: "A76B8CE2-0187-4C13-8FCA-8651C9B0620A", FirstLBA: 40, LastLBA: 99}
	guid := "11111111-2222-4333-8444-555555555555"
	for _, tt := range []struct {
		name    string
		sectors uint64
		guid    string
		change  func(p *Partition)
		want    string
	}{
		{"type not a GUID", 1024, guid, func(p *Partition) { p.Type = "0x07" }, `GPT: partition MainOS: type: "0x07" is not a GUID`},
		{"type not hex", 1024, guid, func(p *Partition) { p.Type = "EBD0A0A2-B9E5-4433-87C0-68B6B72699CX" }, "is not a GUID: encoding/hex"},
		{"GUID", 1024, guid, func(p *Partition) { p.GUID = "" }, `partition MainOS: GUID: "" is not a GUID`},
		{"name", 1024, guid, func(p *Partition) { p.Name = strings.Repeat("x", 37) }, "longer than 36 UTF-16 units"},
		{"index", 1024, guid, func(p *Partition) { p.Index = 128 }, "entry 128 is outside the 128 entries"},
		{"disk GUID", 1024, "nope", func(p *Partition) {}, `disk GUID: "nope" is not a GUID`},
		{"small disk", 60, guid, func(p *Partition) {}, "has no room for two tables"},
	} {
		p := ok
		tt.change(&p)
		err := WriteGPT(make(memWriter, tt.sectors*512), 512, tt.sectors, tt.guid, []Partition{p})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	dup := []Partition{ok, ok}
	if err := WriteGPT(make(memWriter, 1024*512), 512, 1024, guid, dup); err == nil || !strings.Contains(err.Error(), "both at entry 0") {
		t.Errorf("two partitions at one entry: %v", err)
	}
}

// memWriter is a disk in memory.
type memWriter []byte

func (m memWriter) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > int64(len(m)) {
		return 0, fmt.Errorf("write of %d bytes at %d is outside the %d-byte disk", len(b), off, len(m))
	}
	return copy(m[off:], b), nil
}
