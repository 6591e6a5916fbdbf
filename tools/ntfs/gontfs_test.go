package ntfs

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	gontfs "www.velocidex.com/golang/go-ntfs/parser"
)

// TestGoNTFS has Velocidex's go-ntfs, a reader written without this package in mind, list the
// tree and read every file.
func TestGoNTFS(t *testing.T) {
	tests := []struct {
		name string
		size int64
		opt  Options
	}{
		{"4K clusters", 64 << 20, Options{}},
		{"512-byte clusters", 64 << 20, Options{ClusterSize: 512}},
		{"64K clusters", 256 << 20, Options{ClusterSize: 64 << 10}},
		{"4K sectors", 64 << 20, Options{SectorSize: 4096}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { goNTFS(t, tt.size, tt.opt) })
	}
}

func goNTFS(t *testing.T, size int64, opt Options) {
	files := testFiles()
	path, _ := build(t, size, opt, files)
	img, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	pr, err := gontfs.NewPagedReader(img, 4096, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := gontfs.GetNTFSContext(pr, 0)
	if err != nil {
		t.Fatalf("go-ntfs does not open the volume: %v", err)
	}
	defer ctx.Close()
	want := map[string][]byte{}
	for _, f := range files {
		want[strings.ReplaceAll(f.path, `\`, "/")] = f.data
	}
	var got []string
	var walk func(dir string, e *gontfs.MFT_ENTRY)
	walk = func(dir string, e *gontfs.MFT_ENTRY) {
		for _, fi := range gontfs.ListDir(ctx, e) {
			if dir == "" && (strings.HasPrefix(fi.Name, "$") || fi.Name == ".") {
				continue
			}
			p := dir + "/" + fi.Name
			got = append(got, p)
			if fi.IsDir {
				sub, err := ctx.GetMFT(int64(idOf(t, fi.MFTId)))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				walk(p, sub)
				continue
			}
			rng, err := gontfs.GetDataForPath(ctx, p)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			data, err := io.ReadAll(io.NewSectionReader(rng, 0, fi.Size))
			if err != nil || !bytes.Equal(data, want[p]) {
				t.Errorf("%s: go-ntfs reads %d bytes (%v) that differ from the %d written", p, len(data), err, len(want[p]))
			}
		}
	}
	root, err := ctx.GetMFT(5)
	if err != nil {
		t.Fatal(err)
	}
	walk("", root)
	sort.Strings(got)
	if w := treePaths(files); !reflect.DeepEqual(got, w) {
		t.Errorf("go-ntfs lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
}

func idOf(t *testing.T, mftID string) int64 {
	id, _, _, _, err := gontfs.ParseMFTId(mftID)
	if err != nil {
		t.Fatalf("MFT id %q: %v", mftID, err)
	}
	return id
}
