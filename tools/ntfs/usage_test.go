package ntfs

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// TestUsageNtfsinfo has ntfs-3g's ntfsinfo count the free clusters of volumes the writer made,
// and Usage agree.
func TestUsageNtfsinfo(t *testing.T) {
	info := checker.Find(t, "ntfsinfo")
	re := regexp.MustCompile(`Free Clusters: (\d+)`)
	for _, tt := range []struct {
		name  string
		size  int64
		opt   Options
		files []file
	}{
		{"empty", 32 << 20, Options{}, nil},
		{"files", 64 << 20, Options{}, []file{{`\Windows\a.bin`, bytes.Repeat([]byte("a"), 300000)}, {`\b.txt`, []byte("b")}}},
		{"512-byte clusters, odd size", 16<<20 + 3*512, Options{ClusterSize: 512}, []file{{`\c.bin`, make([]byte, 70000)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := build(t, tt.size, tt.opt, tt.files)
			m := re.FindStringSubmatch(checker.Run(t, "", info, "-m", path))
			if m == nil {
				t.Fatal("ntfsinfo printed no free clusters")
			}
			want, _ := strconv.ParseInt(m[1], 10, 64)
			v := openVolume(t, path)
			cs, clusters, free, err := v.Usage()
			if err != nil {
				t.Fatal(err)
			}
			if free != want || clusters != v.clusters || cs != v.cs {
				t.Errorf("Usage: %d of %d clusters of %d bytes free; ntfsinfo: %d free", free, clusters, cs, want)
			}
		})
	}
}
