package ffudiff

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// build writes the fixture image, changed by o, in a directory of its own.
func build(t *testing.T, o testimage.Options) string {
	t.Helper()
	p, err := testimage.FFU(t.TempDir(), "diff test", o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func edit(f func([]testimage.Package) []testimage.Package) testimage.Options {
	return testimage.Options{EditPackages: f}
}

var ntfsLayout = strings.Replace(testimage.Layout, "<MinFreeSectors>140000</MinFreeSectors><FileSystem>FAT32</FileSystem>", "<MinFreeSectors>140000</MinFreeSectors><FileSystem>NTFS</FileSystem>", 1)

// patchDisk changes one byte of the FFU at disk offset off (a block the image stores): the
// image's hashes no longer match, which Compare does not check.
func patchDisk(t *testing.T, path string, off int64) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	rd, err := ffu.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	s := rd.Stores[0]
	bs := int64(s.Header.BlockSize)
	at := int64(-1)
	for k, e := range s.Entries {
		for _, l := range e.Locations {
			if o, _ := l.Offset(s.DiskSize, s.Header.BlockSize); o == off/bs*bs {
				at = s.PayloadOffset + int64(k)*bs + off%bs
			}
		}
	}
	f.Close()
	if at < 0 {
		t.Fatalf("no stored block holds disk offset %d", off)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at] ^= 0xff
	out := filepath.Join(t.TempDir(), "patched.ffu")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// summary is a report in short lines, the way the cases state what they expect.
func summary(r *Report) []string {
	var out []string
	for _, h := range r.Headers {
		out = append(out, "header "+h.Name)
	}
	for _, p := range r.Partitions {
		line := "partition " + p.Change + " " + p.Name
		for _, f := range p.Fields {
			line += " " + f.Name
		}
		out = append(out, line)
	}
	for _, p := range r.Packages {
		line := "package " + p.Change + " " + p.Name
		if p.A != nil {
			line += " " + p.A.Version
		}
		if p.B != nil {
			line += " " + p.B.Version
		}
		out = append(out, line)
	}
	for _, f := range r.Files {
		out = append(out, "file "+f.Change+" "+f.Partition+f.Path+" "+f.Package)
	}
	for _, b := range r.Blocks {
		line := "blocks " + b.Region
		if b.Explained {
			line += " explained"
		}
		if b.BootSector {
			line += " boot"
		}
		out = append(out, line)
	}
	return out
}

func TestCompare(t *testing.T) {
	base := build(t, testimage.Options{})
	ntfs := build(t, testimage.Options{Layout: ntfsLayout})
	// Data (LBA 210944) made raw: its boot sector's signature broken, then a byte of it changed.
	const data = 210944 * 512
	raw := patchDisk(t, base, data+510)
	raw2 := patchDisk(t, raw, data+100)
	for _, c := range []struct {
		name string
		a, b string
		want []string // every line of summary(report), in order
		// contains: lines that must be among the summary (the rest follows from them: an
		// added package adds its DSM, catalog and directories, and changes the records)
		contains []string
		note     string // a note the report must have
	}{
		{name: "itself", a: base, b: base, want: nil},
		{name: "rebuilt elsewhere", a: base, b: build(t, testimage.Options{}), want: nil},
		{
			name: "one file's content, same size",
			a:    base,
			b: build(t, edit(func(p []testimage.Package) []testimage.Package {
				p[0].Data = "kernal"
				return p
			})),
			want: []string{
				"header catalog",
				"header hash table (1 chunks differ)",
				// The package's catalog holds the file's SHA-1: it changes with the file.
				`file content MainOS\Windows\System32\catroot\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\Contoso.MainOS.cat Contoso.MainOS`,
				`file content MainOS\Windows\System32\ntoskrnl.exe Contoso.MainOS`,
				"blocks MainOS explained",
			},
		},
		{
			name: "one file's content and size",
			a:    base,
			b: build(t, edit(func(p []testimage.Package) []testimage.Package {
				p[0].Data = "kernel, patched"
				return p
			})),
			contains: []string{
				`file content MainOS\Windows\Packages\DsmFiles\Contoso.MainOS.dsm.xml Contoso.MainOS`,
				`file content MainOS\Windows\System32\ntoskrnl.exe Contoso.MainOS`,
				"blocks MainOS explained",
			},
		},
		{
			name: "a package added",
			a:    base,
			b: build(t, edit(func(p []testimage.Package) []testimage.Package {
				return append(p, testimage.Package{Component: "Extra", Partition: "MainOS", Path: `\Programs\Extra\extra.exe`, Data: "extra", Group: manifest.GroupBase, Version: spkg.Version{Major: 1}})
			})),
			contains: []string{
				"package added Contoso.Extra 1.0.0.0",
				`file added MainOS\Programs `,
				`file added MainOS\Programs\Extra\extra.exe Contoso.Extra`,
				`file added MainOS\Windows\Packages\DsmFiles\Contoso.Extra.dsm.xml Contoso.Extra`,
				`file content MainOS\Windows\ImageUpdate\UpdateHistory.xml `,
				`file content Data\SharedData\DuShared\UpdateOutput.xml `,
			},
		},
		{
			name: "a package's version",
			a:    base,
			b: build(t, edit(func(p []testimage.Package) []testimage.Package {
				p[1].Version = spkg.Version{Major: 1, Build: 7}
				return p
			})),
			contains: []string{
				"package version Contoso.EFIESP 1.0.0.0 1.0.0.7",
				`file content EFIESP\Windows\Packages\DsmFiles\Contoso.EFIESP.dsm.xml Contoso.EFIESP`,
			},
		},
		{
			name: "a partition resized",
			a:    base,
			b:    build(t, testimage.Options{Layout: strings.Replace(testimage.Layout, "<TotalSectors>65536</TotalSectors>", "<TotalSectors>98304</TotalSectors>", 1)}),
			contains: []string{
				"header manifest [Store 1 Partition EFIESP] TotalSectors",
				"partition resized EFIESP bytes last LBA",
				"partition changed MainOS first LBA last LBA",
				"partition resized Data bytes first LBA",
			},
		},
		{
			name: "NTFS MainOS, one file's content",
			a:    ntfs,
			b: build(t, testimage.Options{Layout: ntfsLayout, EditPackages: func(p []testimage.Package) []testimage.Package {
				p[0].Data = "kernal"
				return p
			}}),
			contains: []string{
				`file content MainOS\Windows\System32\ntoskrnl.exe Contoso.MainOS`,
				"blocks MainOS explained",
			},
		},
		{
			name: "MainOS FAT32 and NTFS",
			a:    base,
			b:    ntfs,
			contains: []string{
				"header manifest [Store 1 Partition MainOS] FileSystem",
				"partition changed MainOS file system",
			},
		},
		{
			name: "a partition FAT32 and raw",
			a:    base,
			b:    raw,
			want: []string{"partition changed Data file system", "blocks Data explained boot"},
			note: "Data: files not compared: FAT32 in a, raw in b",
		},
		{
			name: "a raw partition",
			a:    raw,
			b:    raw2,
			want: []string{"blocks Data boot"},
		},
		{
			// The gap between the GPT and EFIESP lies in disk block 0.
			name: "a byte outside partitions",
			a:    base,
			b:    patchDisk(t, base, 0x10000),
			want: []string{"blocks outside partitions"},
		},
		{
			name: "a byte of free space",
			a:    base,
			b:    patchDisk(t, base, 273*131072-100), // the end of MainOS's last stored block
			want: []string{"blocks MainOS"},
		},
		{
			// Boot code of Data's FAT32 boot sector (LBA 210944): no file holds it.
			name: "a byte no file explains",
			a:    base,
			b:    patchDisk(t, base, data+100),
			want: []string{"blocks Data boot"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compare(c.a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			got := summary(r)
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if c.contains == nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n  %s\nwant\n  %s\ntext:\n%s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "), text.String())
			}
			for _, w := range c.contains {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("no %q in\n  %s\ntext:\n%s", w, strings.Join(got, "\n  "), text.String())
				}
			}
			if c.note != "" && !strings.Contains(strings.Join(r.Notes, "\n"), c.note) {
				t.Errorf("notes %q, want %q", r.Notes, c.note)
			}
			if r.Identical != (len(c.want) == 0 && c.contains == nil) {
				t.Errorf("Identical = %v", r.Identical)
			}
			if last := lastLine(text.String()); r.Identical != (last == "identical") {
				t.Errorf("text ends %q, Identical %v", last, r.Identical)
			}
			// The JSON reads back as the same report.
			var js bytes.Buffer
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(&js)
			dec.DisallowUnknownFields()
			var back Report
			if err := dec.Decode(&back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&back, r) {
				t.Errorf("JSON read back differs:\n%+v\n%+v", back, *r)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// Compare is deterministic: the same pair gives the same text.
func TestCompareDeterministic(t *testing.T) {
	a := build(t, testimage.Options{})
	b := build(t, edit(func(p []testimage.Package) []testimage.Package {
		return append(p, testimage.Package{Component: "Extra", Partition: "Data", Path: `\Extra\x.bin`, Data: "x", Group: manifest.GroupBase, Version: spkg.Version{Major: 2}})
	}))
	var first string
	for i := range 3 {
		r, err := Compare(a, b)
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		r.WriteText(&w)
		if i == 0 {
			first = w.String()
		} else if w.String() != first {
			t.Fatalf("run %d:\n%s\nfirst:\n%s", i, w.String(), first)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	dir := t.TempDir()
	good := build(t, testimage.Options{})
	garbage := filepath.Join(dir, "garbage.ffu")
	os.WriteFile(garbage, bytes.Repeat([]byte{0xff}, 4096), 0o644)
	missing := filepath.Join(dir, "missing.ffu")
	for _, c := range []struct {
		name, a, b, want string
	}{
		{"A missing", missing, good, missing},
		{"B missing", good, missing, missing},
		{"A not an FFU", garbage, good, garbage + ": not a valid FFU"},
		{"B not an FFU", good, garbage, garbage + ": not a valid FFU"},
		{"a directory", dir, good, dir},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compare(c.a, c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Compare: %v, want an error with %q", err, c.want)
			}
		})
	}
}
