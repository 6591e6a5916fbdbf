package ffu

import (
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// benchDisk is an 8 GiB sparse disk with about 512 MiB allocated: 16 MiB in EFIESP, 400 MiB in
// MainOS as 1 MiB files every 7 MiB, 96 MiB in Data (not required to flash).
func benchDisk(b *testing.B) *testDisk {
	b.Helper()
	const mib, gib = 1 << 20, 1 << 30
	d := newTestDisk(b, 8*gib, 512, []testPart{
		{"EFIESP", typeESP, 2048, 34*mib/512 - 1, true, 0},
		{"MainOS", typeBasicData, 34 * mib / 512, 4*gib/512 - 1, true, 0},
		{"Data", typeBasicData, 4 * gib / 512, 8*gib/512 - 2048, false, 0},
	})
	buf := make([]byte, mib)
	rand.New(rand.NewSource(1)).Read(buf)
	put := func(off, n int64) {
		for done := int64(0); done < n; done += mib {
			buf[0]++ // no two MiB alike
			d.writeAt(b, buf[:min(mib, n-done)], off+done)
		}
		d.allocated = append(d.allocated, disk.Extent{Offset: off, Length: n})
	}
	put(1*mib, 16*mib)
	for i := int64(0); i < 400; i++ {
		put(40*mib+i*7*mib, mib)
	}
	put(5*gib, 96*mib)
	return d
}

// BenchmarkWrite8GiB writes the FFU of benchDisk; MB/s are of FFU bytes written.
func BenchmarkWrite8GiB(b *testing.B) {
	d := benchDisk(b)
	out := filepath.Join(b.TempDir(), "bench.ffu")
	img := d.image(256, false)
	res, err := WriteFile(out, img)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := WriteFile(out, img); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(res.Size)/(1<<20), "ffu-MiB")
}

// BenchmarkVerify8GiB verifies that FFU.
func BenchmarkVerify8GiB(b *testing.B) {
	d := benchDisk(b)
	out := filepath.Join(b.TempDir(), "bench.ffu")
	res, err := WriteFile(out, d.image(256, false))
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(res.Size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := Open(f, res.Size)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyReference copies as many bytes as the FFU holds from the disk's allocated
// extents to a file, in 128 KiB reads: the floor the writer is measured against.
func BenchmarkCopyReference(b *testing.B) {
	d := benchDisk(b)
	out := filepath.Join(b.TempDir(), "copy.bin")
	var total int64
	for _, e := range d.allocated {
		total += e.Length
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range d.allocated {
			if _, err := io.CopyBuffer(onlyWriter{f}, io.NewSectionReader(d.f, e.Offset, e.Length), make([]byte, BlockSize)); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
}

type onlyWriter struct{ w io.Writer } // hides ReadFrom, so the copy really goes through a buffer

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
