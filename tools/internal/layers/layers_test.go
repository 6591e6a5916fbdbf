// Package layers holds one test: every package of tools/ and bench/ imports only packages of
// lower layers, so the imports of the tool all point down (docs/architecture.md draws them).
// A new package must be given a layer here. The test reads the sources with go/parser; under
// Bazel, whose sandbox holds none of them, it skips (tests/test_all.sh runs it with go test).
package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/oemimage/rules_oemimage/"

// layers, lowest first. A package may import packages of lower layers only.
var layers = [][]string{
	// Leaf helpers the foundations share.
	{"tools/internal/utf16le", "tools/internal/readfile"},
	// Foundations: no project imports but the leaf helpers.
	{"tools/internal/atomicfile", "tools/catalog", "tools/internal/huffman", "tools/internal/inflate", "tools/internal/repeats", "tools/internal/repeats/repeatstest", "tools/internal/codectest", "tools/internal/checker",
		"tools/internal/testgpt", "tools/disk", "tools/winpath", "tools/xmlpath", "tools/docgen", "tools/registry", "tools/internal/imageconst", "bench/gendata",
		"tools/internal/p11"},
	// Formats and readers of one thing each.
	{"tools/lzx", "tools/fat", "tools/ntfs", "tools/ffu", "tools/manifest", "tools/catalog/catalogtest", "tools/internal/testfs"},
	// Containers built on them, and the XML models.
	{"tools/cab", "tools/wim", "tools/devicelayout", "tools/answerfile", "tools/volume", "tools/locate", "bench/ntfsdir"},
	{"tools/layout", "tools/spkg", "tools/cab/cabtest", "tools/capture", "bench/cabdir", "bench/cabwrite", "bench/wimcapture"},
	// The flows: package generation, selection, merging.
	{"tools/pkggen", "tools/resolve", "tools/merge", "tools/imagecheck", "tools/ffudiff", "bench/genimage"},
	{"tools/customization", "tools/gazelle", "tools/report"},
	{"tools/imggen"},
	// Test fixtures, and the command line on top.
	{"tools/internal/testimage"},
	{"tools/oemimage"},
}

func TestImportsPointDown(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "oemimage")); err != nil {
		t.Skip("the sources are not here (Bazel's sandbox); go test ./tools/... runs this test")
	}
	rank := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			rank[p] = i
		}
	}
	imports := map[string]map[string]bool{}
	fset := token.NewFileSet()
	for _, top := range []string{"tools", "bench"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			pkg := filepath.ToSlash(rel)
			if imports[pkg] == nil {
				imports[pkg] = map[string]bool{}
			}
			for _, s := range f.Imports {
				ip, _ := strconv.Unquote(s.Path.Value)
				if strings.HasPrefix(ip, module) {
					imports[pkg][strings.TrimPrefix(ip, module)] = true
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		r, ok := rank[p]
		if !ok {
			t.Errorf("%s has no layer: add it to layers in this test", p)
			continue
		}
		var deps []string
		for q := range imports[p] {
			deps = append(deps, q)
			if rq, ok := rank[q]; ok && rq >= r {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", p, r, q, rq)
			}
		}
		sort.Strings(deps)
		t.Logf("%d %s -> %s", r, p, strings.Join(deps, " "))
	}
	for p := range rank {
		if imports[p] == nil {
			t.Errorf("layers lists %s, which has no Go sources", p)
		}
	}
}
