package ntfs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf16"
)

func openVolume(t *testing.T, path string) *Volume {
	t.Helper()
	img, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	st, err := img.Stat()
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(img, 0, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReader reads back what the writer wrote: the tree, every file's bytes and attributes.
func TestReader(t *testing.T) {
	files := testFiles()
	files = append(files, file{`\Windows\hidden.ini`, []byte("h")})
	path, _ := build(t, 64<<20, Options{Label: "MainOS", Serial: 42}, files)
	v := openVolume(t, path)
	if v.Label() != "MainOS" || v.Serial() != 42 {
		t.Errorf("label %q serial %d, want MainOS 42", v.Label(), v.Serial())
	}
	want := map[string][]byte{}
	for _, f := range files {
		want[f.path] = f.data
	}
	var got []string
	err := v.Walk(func(p string, fi FileInfo, f *File) error {
		got = append(got, strings.ReplaceAll(p, `\`, "/"))
		if !fi.ModTime.Equal(DefaultModTime) {
			t.Errorf("%s: time %v", p, fi.ModTime)
		}
		if fi.IsDir() {
			if f != nil {
				t.Errorf("%s: a directory with a data stream", p)
			}
			return nil
		}
		if fi.Attr != AttrArchive || fi.Size != int64(len(want[p])) {
			t.Errorf("%s: attributes %#x size %d, want %#x %d", p, fi.Attr, fi.Size, AttrArchive, len(want[p]))
		}
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if !bytes.Equal(data, want[p]) {
			t.Errorf("%s: read %d bytes that differ from the %d written", p, len(data), len(want[p]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if w := treePaths(files); !reflect.DeepEqual(got, w) {
		t.Errorf("walk lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
	for _, f := range files[:8] { // OpenFile finds files by path too
		r, err := v.OpenFile(strings.ToUpper(f.path))
		if err != nil {
			t.Fatal(err)
		}
		if data, err := io.ReadAll(r); err != nil || !bytes.Equal(data, f.data) {
			t.Errorf("OpenFile %s: %d bytes that differ from the %d written (%v)", f.path, len(data), len(f.data), err)
		}
	}
	fi, err := v.Stat(`\Programs\Contoso Camera\Camera App.exe`)
	if err != nil || fi.ShortName != "CAMERA~1.EXE" || fi.Name != "Camera App.exe" {
		t.Errorf("Stat: %+v %v, want short name CAMERA~1.EXE", fi, err)
	}
	if fi, err := v.Stat(`\WINDOWS\system32\NTOSKRNL.EXE`); err != nil || fi.Name != "ntoskrnl.exe" {
		t.Errorf("case-insensitive Stat: %+v %v", fi, err)
	}
	if _, err := v.Stat(`\Windows\nothere`); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Stat of a missing file: %v", err)
	}
}

// TestReaderLargeDirectory looks up every one of 10,000 names by descending the index, which
// finds them only if the B-tree is in $UpCase order, and lists them in that order.
func TestReaderLargeDirectory(t *testing.T) {
	var files []file
	var names []string
	for i := 0; i < 10000; i++ {
		name := fmt.Sprintf("%s%05d.dat", []string{"file", "File", "FILE", "fïle", "Ωfile"}[i%5], i*7919%10000)
		names = append(names, name)
		files = append(files, file{`\big\` + name, []byte(fmt.Sprint(i))})
	}
	path, _ := build(t, 64<<20, Options{}, files)
	v := openVolume(t, path)
	for i, f := range files {
		fi, err := v.Stat(f.path)
		if err != nil || fi.Size != int64(len(f.data)) {
			t.Fatalf("Stat %s (entry %d): %+v %v", f.path, i, fi, err)
		}
	}
	dirInfo, err := v.Stat(`\big`)
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := v.record(dirInfo.Record)
	if err != nil {
		t.Fatal(err)
	}
	if b := find(attrs, atBitmap, "$I30"); b == nil || b.resident {
		t.Error("the index bitmap of 10,000 entries (over 512 blocks) should be non-resident")
	}
	list, err := v.ReadDir(`\big`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fi := range list {
		got = append(got, fi.Name)
	}
	sort.Slice(names, func(i, j int) bool {
		return collate(utf16.Encode([]rune(names[i])), utf16.Encode([]rune(names[j]))) < 0
	})
	if !reflect.DeepEqual(got, names) {
		t.Errorf("ReadDir lists %d names, want %d in collation order", len(got), len(names))
	}
}
