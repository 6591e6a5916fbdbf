package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// The .bzl files are executed with stand-ins for Bazel's builtins that record what rule(),
// provider() and attr.*() were given. Implementation functions are never called, but their
// names are resolved when a file is compiled, so every global they use needs a stand-in too.

type attrInfo struct {
	kind      string
	doc       string
	mandatory bool
	dflt      string
	values    []string
}

type ruleInfo struct {
	doc   string
	attrs map[string]*attrInfo
}

type providerInfo struct {
	doc    string
	fields map[string]string
	order  []string
}

// record is a Starlark value that carries what a builtin was called with.
type record struct {
	typ  string
	rule *ruleInfo
	prov *providerInfo
	attr *attrInfo
}

func (r *record) String() string        { return "<" + r.typ + ">" }
func (r *record) Type() string          { return r.typ }
func (r *record) Freeze()               {}
func (r *record) Truth() starlark.Bool  { return true }
func (r *record) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", r.typ) }

// A provider instance is callable in .bzl code (PackageInfo(...)), but only inside
// implementations, which never run here.
func (r *record) Name() string { return r.typ }
func (r *record) CallInternal(*starlark.Thread, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return starlark.None, nil
}

func kwString(kwargs []starlark.Tuple, name string) string {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == name {
			if s, ok := kv[1].(starlark.String); ok {
				return string(s)
			}
			return kv[1].String()
		}
	}
	return ""
}

func kwValue(kwargs []starlark.Tuple, name string) starlark.Value {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == name {
			return kv[1]
		}
	}
	return nil
}

func ruleBuiltin(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ri := &ruleInfo{doc: kwString(kwargs, "doc"), attrs: map[string]*attrInfo{}}
	if d, ok := kwValue(kwargs, "attrs").(*starlark.Dict); ok {
		for _, item := range d.Items() {
			name, _ := starlark.AsString(item[0])
			rec, ok := item[1].(*record)
			if !ok || rec.attr == nil {
				return nil, fmt.Errorf("attribute %q is not an attr.*() value", name)
			}
			ri.attrs[name] = rec.attr
		}
	}
	return &record{typ: "rule", rule: ri}, nil
}

func providerBuiltin(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	pi := &providerInfo{doc: kwString(kwargs, "doc"), fields: map[string]string{}}
	switch f := kwValue(kwargs, "fields").(type) {
	case *starlark.Dict:
		for _, item := range f.Items() {
			name, _ := starlark.AsString(item[0])
			doc, _ := starlark.AsString(item[1])
			pi.fields[name] = doc
			pi.order = append(pi.order, name)
		}
	case *starlark.List:
		for i := 0; i < f.Len(); i++ {
			name, _ := starlark.AsString(f.Index(i))
			pi.fields[name] = ""
			pi.order = append(pi.order, name)
		}
	}
	return &record{typ: "provider", prov: pi}, nil
}

func attrBuiltin(kind string) *starlark.Builtin {
	return starlark.NewBuiltin("attr."+kind, func(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		ai := &attrInfo{kind: kind, doc: kwString(kwargs, "doc")}
		if m, ok := kwValue(kwargs, "mandatory").(starlark.Bool); ok {
			ai.mandatory = bool(m)
		}
		if d := kwValue(kwargs, "default"); d != nil {
			ai.dflt = d.String()
		}
		if v, ok := kwValue(kwargs, "values").(*starlark.List); ok {
			for i := 0; i < v.Len(); i++ {
				ai.values = append(ai.values, v.Index(i).String())
			}
		}
		return &record{typ: "attr", attr: ai}, nil
	})
}

// passthrough returns its first argument or None: for Label(), select() and similar.
func passthrough(name string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		if len(args) > 0 {
			return args[0], nil
		}
		return starlark.None, nil
	})
}

func predeclared() starlark.StringDict {
	attrs := starlark.StringDict{}
	for _, k := range []string{"bool", "int", "int_list", "label", "label_keyed_string_dict", "label_list",
		"output", "output_list", "string", "string_dict", "string_list", "string_list_dict"} {
		attrs[k] = attrBuiltin(k)
	}
	return starlark.StringDict{
		"rule":               starlark.NewBuiltin("rule", ruleBuiltin),
		"provider":           starlark.NewBuiltin("provider", providerBuiltin),
		"attr":               starlarkstruct.FromStringDict(starlarkstruct.Default, attrs),
		"struct":             starlark.NewBuiltin("struct", starlarkstruct.Make),
		"Label":              passthrough("Label"),
		"select":             passthrough("select"),
		"depset":             passthrough("depset"),
		"DefaultInfo":        &record{typ: "DefaultInfo"},
		"OutputGroupInfo":    &record{typ: "OutputGroupInfo"},
		"native":             starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{}),
		"fail":               passthrough("fail"),
		"print":              passthrough("print"),
		"RunEnvironmentInfo": &record{typ: "RunEnvironmentInfo"},
		"platform_common": starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"ToolchainInfo": &record{typ: "ToolchainInfo"},
		}),
		"json": starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"encode": passthrough("json.encode"),
			"decode": passthrough("json.decode"),
			"indent": passthrough("json.indent"),
		}),
	}
}

// loader resolves labels of this repository ("//pkg:file.bzl", ":file.bzl",
// "@rules_oemimage//pkg:file.bzl") to files under root.
type loader struct {
	root  string
	cache map[string]*loadEntry
}

type loadEntry struct {
	globals starlark.StringDict
	err     error
}

func (l *loader) path(from, label string) (string, error) {
	label = strings.TrimPrefix(label, "@rules_oemimage")
	switch {
	case strings.HasPrefix(label, "//"):
		pkg, file, ok := strings.Cut(label[2:], ":")
		if !ok {
			return "", fmt.Errorf("load label %q has no ':'", label)
		}
		return filepath.Join(l.root, pkg, file), nil
	case strings.HasPrefix(label, ":"):
		return filepath.Join(filepath.Dir(from), label[1:]), nil
	}
	return "", fmt.Errorf("%s: load of %q: only labels of this repository can be documented", from, label)
}

func (l *loader) load(thread *starlark.Thread, file string) (starlark.StringDict, error) {
	if e, ok := l.cache[file]; ok {
		if e == nil {
			return nil, fmt.Errorf("load cycle at %s", file)
		}
		return e.globals, e.err
	}
	l.cache[file] = nil
	src, err := os.ReadFile(file)
	if err != nil {
		l.cache[file] = &loadEntry{err: err}
		return nil, err
	}
	child := &starlark.Thread{Name: file, Load: func(t *starlark.Thread, label string) (starlark.StringDict, error) {
		p, err := l.path(file, label)
		if err != nil {
			return nil, err
		}
		return l.load(t, p)
	}}
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}
	globals, err := starlark.ExecFileOptions(opts, child, file, src, predeclared())
	l.cache[file] = &loadEntry{globals: globals, err: err}
	return globals, err
}

// moduleDoc is the docstring of a .bzl file: its first statement, if a string.
func moduleDoc(file string) string {
	f, err := syntax.Parse(file, nil, 0)
	if err != nil || len(f.Stmts) == 0 {
		return ""
	}
	if e, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
		if lit, ok := e.X.(*syntax.Literal); ok {
			if s, ok := lit.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// Generate renders the Markdown reference of everything rules/defs.bzl under root exports.
func Generate(root string) (string, error) {
	entry := filepath.Join(root, "rules", "defs.bzl")
	l := &loader{root: root, cache: map[string]*loadEntry{}}
	globals, err := l.load(&starlark.Thread{Name: "docgen"}, entry)
	if err != nil {
		if ee, ok := err.(*starlark.EvalError); ok {
			return "", fmt.Errorf("%s", ee.Backtrace())
		}
		return "", err
	}
	var rules, macros, providers []string
	for _, name := range globals.Keys() {
		if strings.HasPrefix(name, "_") {
			continue
		}
		switch v := globals[name].(type) {
		case *record:
			switch {
			case v.rule != nil:
				rules = append(rules, name)
			case v.prov != nil:
				providers = append(providers, name)
			default:
				return "", fmt.Errorf("%s: %s is a %s, not a rule, macro or provider: make it private (_%s) or document it", entry, name, v.typ, name)
			}
		case *starlark.Function:
			macros = append(macros, name)
		default:
			// Every public name of defs.bzl is API: none may be left out of the reference.
			return "", fmt.Errorf("%s: %s is a %s, not a rule, macro or provider: make it private (_%s) or document it", entry, name, v.Type(), name)
		}
	}
	sort.Strings(rules)
	sort.Strings(macros)
	sort.Strings(providers)

	var b strings.Builder
	b.WriteString("<!-- Generated by tools/docgen from rules/defs.bzl: do not edit. Regenerate with `go run ./tools/docgen`. -->\n\n")
	b.WriteString("# Rule reference\n\n")
	if d := moduleDoc(entry); d != "" {
		b.WriteString(strings.TrimSpace(dedent(d)) + "\n\n")
	}
	b.WriteString("Rules: " + links(rules) + "  \nMacros: " + links(macros) + "  \nProviders: " + links(providers) + "\n\n")

	b.WriteString("## Rules\n\n")
	for _, name := range rules {
		r := globals[name].(*record).rule
		fmt.Fprintf(&b, "### %s\n\n", name)
		b.WriteString(strings.TrimSpace(dedent(r.doc)) + "\n\n")
		b.WriteString("| Attribute | Type | Default | Description |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| `name` | name | required | A unique name for this target. |\n")
		var names []string
		for n := range r.attrs {
			if !strings.HasPrefix(n, "_") {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			a := r.attrs[n]
			dflt := "required"
			if !a.mandatory {
				dflt = "`" + defaultFor(a) + "`"
			}
			doc := a.doc
			if len(a.values) > 0 {
				doc += " One of " + strings.Join(a.values, ", ") + "."
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", n, a.kind, dflt, cell(doc))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Macros\n\n")
	for _, name := range macros {
		fn := globals[name].(*starlark.Function)
		var params []string
		for i := 0; i < fn.NumParams(); i++ {
			p, _ := fn.Param(i)
			params = append(params, p)
		}
		if fn.HasKwargs() {
			params = append(params, "**"+params[len(params)-1])
			params = append(params[:len(params)-2], params[len(params)-1])
		}
		fmt.Fprintf(&b, "### %s\n\n```\n%s(%s)\n```\n\n", name, name, strings.Join(params, ", "))
		b.WriteString(strings.TrimSpace(dedent(fn.Doc())) + "\n\n")
	}

	b.WriteString("## Providers\n\nDefined in [rules/providers.bzl](../rules/providers.bzl).\n\n")
	for _, name := range providers {
		p := globals[name].(*record).prov
		fmt.Fprintf(&b, "### %s\n\n%s\n\n| Field | Description |\n|---|---|\n", name, strings.TrimSpace(dedent(p.doc)))
		for _, f := range p.order {
			fmt.Fprintf(&b, "| `%s` | %s |\n", f, cell(p.fields[f]))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

func defaultFor(a *attrInfo) string {
	if a.dflt != "" {
		return a.dflt
	}
	switch a.kind {
	case "bool":
		return "False"
	case "int":
		return "0"
	case "string":
		return `""`
	case "label", "output":
		return "None"
	case "string_dict", "label_keyed_string_dict", "string_list_dict":
		return "{}"
	}
	return "[]"
}

func links(names []string) string {
	var out []string
	for _, n := range names {
		out = append(out, fmt.Sprintf("[%s](#%s)", n, strings.ToLower(n)))
	}
	return strings.Join(out, ", ")
}

// cell makes text fit in one Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

// dedent removes the common indentation of docstring lines after the first.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	if indent > 0 {
		for i := 1; i < len(lines); i++ {
			if len(lines[i]) >= indent {
				lines[i] = lines[i][indent:]
			} else {
				lines[i] = strings.TrimLeft(lines[i], " ")
			}
		}
	}
	return strings.Join(lines, "\n")
}
