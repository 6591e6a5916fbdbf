package imggen

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// The image does not depend on how many workers decode packages, nor on the prefetch budget:
// with a budget smaller than some packages (streamed by the writer) and larger than others
// (held in memory, waiting for budget), every output is the same as with one worker.
func TestBuildWorkersAndBudget(t *testing.T) {
	src := t.TempDir()
	sel := selection(t, src, "Test", testLayout)
	for i := range 24 {
		files := map[string]string{}
		for j := range i%4 + 1 {
			files[fmt.Sprintf(`\Programs\P%02d\f%d.bin`, i, j)] = strings.Repeat(fmt.Sprintf("%02d-%d.", i, j), 1+(i*977+j*331)%3000)
		}
		name, _ := makePackage(t, src, "Contoso", fmt.Sprintf("P%02d", i), "MainOS", files)
		sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name,
			HostPath: filepath.Join(src, name), Reasons: []resolve.Reason{{FeatureID: "Base", Group: manifest.GroupBase}}})
	}
	build := func(workers int, budget int64) map[string][]byte {
		t.Helper()
		defer func(b int64) { prefetchBudget = b }(prefetchBudget)
		prefetchBudget = budget
		out := t.TempDir()
		if err := Build(sel, Options{Output: filepath.Join(out, "image.ffu"), Workers: workers}); err != nil {
			t.Fatalf("workers %d, budget %d: %v", workers, budget, err)
		}
		got := map[string][]byte{}
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			got[e.Name()], _ = os.ReadFile(filepath.Join(out, e.Name()))
		}
		return got
	}
	want := build(1, 64<<20)
	for _, c := range []struct {
		workers int
		budget  int64
	}{{8, 64 << 20}, {3, 20 << 10}, {8, 1}} {
		got := build(c.workers, c.budget)
		for name, data := range want {
			if !bytes.Equal(data, got[name]) {
				t.Errorf("workers %d, budget %d: %s differs from the one-worker build", c.workers, c.budget, name)
			}
		}
	}
}

// A package that fails to decode fails the build with the error the writer would have met
// reading it itself, whatever the workers; the build does not hang on the packages after it.
func TestBuildWorkersCorruptPackage(t *testing.T) {
	src := t.TempDir()
	sel := selection(t, src, "Test", testLayout)
	for i := range 6 {
		name, _ := makePackage(t, src, "Contoso", fmt.Sprintf("C%d", i), "MainOS",
			map[string]string{fmt.Sprintf(`\Programs\C%d.bin`, i): strings.Repeat("payload ", 5000+i)})
		sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name,
			HostPath: filepath.Join(src, name), Reasons: []resolve.Reason{{FeatureID: "Base", Group: manifest.GroupBase}}})
	}
	// The third package again, MSZIP, with its payload's compressed bytes corrupted (the last
	// bytes of the cabinet: file data, not the header).
	bad := sel.Packages[len(sel.Packages)-4].HostPath
	p, err := spkg.Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	m := *p.Manifest
	p.Close()
	content := strings.Repeat("payload ", 5002)
	if _, err := spkg.WriteFile(bad, m, []spkg.Payload{{DevicePath: `\Programs\C2.bin`, Size: int64(len(content)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}}, cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) - 64; i < len(data)-8; i++ {
		data[i] ^= 0x5A
	}
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range []int{1, 4} {
		err := Build(sel, Options{Output: filepath.Join(t.TempDir(), "image.ffu"), Workers: w})
		if err == nil {
			t.Fatalf("workers %d: a corrupt package was installed", w)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] || !strings.Contains(msgs[0], filepath.Base(bad)) {
		t.Errorf("errors differ or do not name %s:\n%s\n%s", filepath.Base(bad), msgs[0], msgs[1])
	}
}
