package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/syntax"
)

// The tests run from tools/docgen, under `go test` and under `bazel test` (whose runfiles hold
// rules/ and docs/rules.md as data), so the repository root is two levels up.
const repoRoot = "../.."

func TestRulesDocUpToDate(t *testing.T) {
	got, err := Generate(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(repoRoot, "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("docs/rules.md is stale: run 'go run ./tools/docgen' from the repository root")
	}
}

func TestEveryRuleAndAttributeDocumented(t *testing.T) {
	doc, err := Generate(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	// The public names are read from defs.bzl's syntax, independently of Generate's evaluation,
	// so a new export without a section fails here.
	exports, err := topLevelAssigns(filepath.Join(repoRoot, "rules", "defs.bzl"))
	if err != nil {
		t.Fatal(err)
	}
	public := 0
	for name := range exports {
		if strings.HasPrefix(name, "_") {
			continue
		}
		public++
		if !strings.Contains(doc, "\n### "+name+"\n") {
			t.Errorf("generated reference lacks %q, which rules/defs.bzl exports", name)
		}
	}
	if public < 10 {
		t.Errorf("rules/defs.bzl: %d public names, expected the ruleset's rules, macros and providers", public)
	}
	// An attribute row with an empty description means a missing doc= in a rule.
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `") && strings.HasSuffix(line, "|  |") {
			t.Errorf("undocumented: %s", line)
		}
	}
}

func TestGenerateFixture(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rules/defs.bzl", `"""Module doc."""
load("//rules/private:r.bzl", _r = "r", _m = "m")
load(":p.bzl", _P = "P")
r = _r
m = _m
P = _P
`)
	write("rules/p.bzl", `P = provider(doc = "A provider.", fields = {"a": "field a"})`)
	write("rules/private/r.bzl", `
def _impl(ctx):
    # Globals of implementations are resolved at load: each needs a stand-in.
    ctx.actions.write(ctx.outputs.x, json.encode(struct(a = 1)))
    return [platform_common.ToolchainInfo(), DefaultInfo(), OutputGroupInfo()]

r = rule(implementation = _impl, doc = """Rule doc
    indented second line.""", attrs = {
    "s": attr.string(default = "x", values = ["x", "y"], doc = "an | s"),
    "l": attr.label(mandatory = True, doc = "a label"),
    "_hidden": attr.label(default = Label("//x")),
})

def m(name, files = None, **kwargs):
    """Macro doc."""
    r(name = name, **kwargs)
`)
	doc, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Module doc.",
		"### r\n\nRule doc\nindented second line.",
		"| `l` | label | required | a label |",
		"| `s` | string | `\"x\"` | an \\| s One of \"x\", \"y\". |",
		"m(name, files, **kwargs)",
		"Macro doc.",
		"| `a` | field a |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("missing %q in:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "_hidden") {
		t.Errorf("private attribute documented:\n%s", doc)
	}
}

func TestGenerateErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "rules", "defs.bzl"), []byte(`load("@other//x:y.bzl", "z")`), 0o644)
	if _, err := Generate(root); err == nil || !strings.Contains(err.Error(), "only labels of this repository") {
		t.Errorf("external load: err = %v", err)
	}
	os.WriteFile(filepath.Join(root, "rules", "defs.bzl"), []byte("x = rule(attrs = {\"a\": 1})"), 0o644)
	if _, err := Generate(root); err == nil || !strings.Contains(err.Error(), "not an attr") {
		t.Errorf("bad attr: err = %v", err)
	}
	// A public export docgen cannot document is an error, not a silent omission.
	for _, src := range []string{`X = ["a"]`, `x = struct(a = 1)`, `x = DefaultInfo`} {
		os.WriteFile(filepath.Join(root, "rules", "defs.bzl"), []byte(src), 0o644)
		if _, err := Generate(root); err == nil || !strings.Contains(err.Error(), "not a rule, macro or provider") {
			t.Errorf("%s: err = %v", src, err)
		}
	}
}

// topLevelAssigns maps the names a .bzl file assigns at top level (name = expr) to their values.
func topLevelAssigns(file string) (map[string]syntax.Expr, error) {
	f, err := syntax.Parse(file, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]syntax.Expr{}
	for _, stmt := range f.Stmts {
		if a, ok := stmt.(*syntax.AssignStmt); ok && a.Op == syntax.EQ {
			if id, ok := a.LHS.(*syntax.Ident); ok {
				out[id.Name] = a.RHS
			}
		}
	}
	return out, nil
}
