package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"go.starlark.net/syntax"

	"github.com/oemimage/rules_oemimage/tools/imggen"
)

// sideFilesBzl is where oem_image declares the side files it expects ImgGen to write.
var sideFilesBzl = filepath.Join(repoRoot, "rules", "private", "oem_image.bzl")

// stringList reads a list of string literals, the only form SIDE_FILES may take.
func stringList(e syntax.Expr) ([]string, error) {
	list, ok := e.(*syntax.ListExpr)
	if !ok {
		return nil, fmt.Errorf("not a list literal")
	}
	var out []string
	for _, el := range list.List {
		lit, ok := el.(*syntax.Literal)
		if !ok || lit.Token != syntax.STRING {
			start, _ := el.Span()
			return nil, fmt.Errorf("%s: element is not a string literal", start)
		}
		out = append(out, lit.Value.(string))
	}
	return out, nil
}

// The rule declares one output per side file and the tool writes them: a file one side has and
// the other lacks fails the build (undeclared or missing output), so the lists must agree.
func TestSideFilesParity(t *testing.T) {
	assigns, err := topLevelAssigns(sideFilesBzl)
	if err != nil {
		t.Fatal(err)
	}
	rhs, ok := assigns["SIDE_FILES"]
	if !ok {
		t.Fatalf("%s: no top-level SIDE_FILES", sideFilesBzl)
	}
	bzl, err := stringList(rhs)
	if err != nil {
		t.Fatalf("%s: SIDE_FILES: %v", sideFilesBzl, err)
	}
	goList := slices.Clone(imggen.SideFiles)
	slices.Sort(bzl)
	slices.Sort(goList)
	if !slices.Equal(bzl, goList) {
		t.Errorf("SIDE_FILES of %s = %s, imggen.SideFiles (tools/imggen/imggen.go) = %s: change both", sideFilesBzl, quoteAll(bzl), quoteAll(goList))
	}
	for name, l := range map[string][]string{"SIDE_FILES": bzl, "imggen.SideFiles": goList} {
		if len(l) == 0 || len(slices.Compact(slices.Clone(l))) != len(l) {
			t.Errorf("%s %s: empty or with duplicates", name, quoteAll(l))
		}
	}
}

func quoteAll(ss []string) string {
	out := "["
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += strconv.Quote(s)
	}
	return out + "]"
}

func TestStringList(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
		err  bool
	}{
		{`X = ["a", "b"]`, []string{"a", "b"}, false},
		{`X = []`, nil, false},
		{`X = ["a", B]`, nil, true},
		{`X = ("a",)`, nil, true},
		{`X = ["a"] + ["b"]`, nil, true},
	} {
		f, err := syntax.Parse("x.bzl", tc.src, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := stringList(f.Stmts[0].(*syntax.AssignStmt).RHS)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v", tc.src, got, err)
		}
	}
}
