package fat

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// TestUsageFsck has fsck.fat count the used clusters of volumes mkfs.fat and mcopy wrote, and
// Usage agree: the FAT12, FAT16 and FAT32 readers of free entries.
func TestUsageFsck(t *testing.T) {
	mkfs, mcopy, fsck := checker.Find(t, "mkfs.fat"), checker.Find(t, "mcopy"), checker.Find(t, "fsck.fat")
	dir := t.TempDir()
	src := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(src, make([]byte, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(\d+)/(\d+) clusters`)
	for _, tt := range []struct {
		bits string
		size int64
	}{{"12", 4 << 20}, {"16", 32 << 20}, {"32", 64 << 20}} {
		t.Run("FAT"+tt.bits, func(t *testing.T) {
			img := filepath.Join(dir, "fat"+tt.bits+".img")
			if err := os.WriteFile(img, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, tt.size); err != nil {
				t.Fatal(err)
			}
			checker.Run(t, "", mkfs, "-F", tt.bits, img)
			checker.Run(t, "", mcopy, "-i", img, src, "::f.bin")
			m := re.FindStringSubmatch(checker.Run(t, "", fsck, "-n", img))
			if m == nil {
				t.Fatal("fsck.fat printed no used/total clusters")
			}
			used, _ := strconv.ParseInt(m[1], 10, 64)
			total, _ := strconv.ParseInt(m[2], 10, 64)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			v, err := Open(f, 0, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			cb, clusters, free, err := v.Usage()
			if err != nil {
				t.Fatal(err)
			}
			if clusters != total || clusters-free != used || cb*(used) < 100000 {
				t.Errorf("Usage: %d clusters of %d bytes, %d free; fsck.fat: %d of %d used", clusters, cb, free, used, total)
			}
		})
	}
}

// TestUsageCorruptFAT: a FAT that cannot be read is an error, not a count.
func TestUsageCorruptFAT(t *testing.T) {
	b := memVolume(t, 8<<20, Options{}, []file{{`\a.txt`, []byte("a")}})
	v, err := Open(b, 0, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := v.Usage(); err != nil {
		t.Fatal(err)
	}
	short := b[:v.fatOff+v.fatBytes/2]
	v.r = short
	for i := range v.cache {
		v.cache[i] = fatBlock{}
	}
	if _, _, _, err := v.Usage(); err == nil {
		t.Error("Usage of a truncated FAT: no error")
	}
}
