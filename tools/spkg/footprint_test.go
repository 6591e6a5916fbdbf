package spkg

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

// maxBytesPerOpenPackage bounds what an open package of one payload file keeps on the heap
// (its manifest, cabinet index and file handle state: about 1.6 KiB when this was written, 3.1 KiB before the per-package maps went).
// imggen and featuremerger keep every package of a kit open at once; a map or a parsed
// document kept per package adds a KiB or more each, 20 MiB or more for 20,000 packages.
const maxBytesPerOpenPackage = 2304

// TestOpenPackageFootprint opens many small packages and measures the heap they retain,
// after a collection, per package: deterministic, unlike a peak resident size.
func TestOpenPackageFootprint(t *testing.T) {
	const n = 1000
	cabinets := make([][]byte, n)
	for i := range cabinets {
		m := testManifest()
		m.Component = fmt.Sprintf("Pkg%05d", i)
		data := strings.Repeat("x", 100)
		files := []Payload{{DevicePath: fmt.Sprintf(`\Windows\System32\Bench\%05d\file%05d.dll`, i, i), Size: int64(len(data)),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}}
		var mf cab.MemFile
		if _, err := Write(&mf, m, files, cab.Options{Compression: cab.MSZIP}); err != nil {
			t.Fatal(err)
		}
		cabinets[i] = mf.Bytes()
	}
	pkgs := make([]*Package, n)
	before := heapInUse()
	for i, c := range cabinets {
		p, err := newPackage(bytes.NewReader(c), int64(len(c)), fmt.Sprintf("p%d.spkg", i))
		if err != nil {
			t.Fatal(err)
		}
		pkgs[i] = p
	}
	after := heapInUse()
	per := (int64(after) - int64(before)) / n
	t.Logf("%d bytes retained per open package", per)
	if per > maxBytesPerOpenPackage {
		t.Errorf("an open package retains %d bytes of heap, more than %d: what does it keep per package?", per, maxBytesPerOpenPackage)
	}
	runtime.KeepAlive(pkgs)
	runtime.KeepAlive(cabinets)
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
