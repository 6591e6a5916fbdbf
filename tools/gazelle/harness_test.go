package gazelle

import (
	"bytes"
	"flag"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/merger"
	"github.com/bazelbuild/bazel-gazelle/resolve"
	"github.com/bazelbuild/bazel-gazelle/rule"
	"github.com/bazelbuild/bazel-gazelle/walk"
)

// runGazelle does what `gazelle update` (cmd/gazelle/fix-update.go) does with this language
// alone, in the repository at root: configure and walk every directory, generate, merge, index,
// resolve, fix loads and write the changed BUILD files. It returns what gazelle logged, with
// gazelle's "gazelle: " prefix.
func runGazelle(t testing.TB, root string) string {
	t.Helper()
	var logs bytes.Buffer
	oldOut, oldPrefix, oldFlags := log.Writer(), log.Prefix(), log.Flags()
	log.SetOutput(&logs)
	log.SetPrefix("gazelle: ")
	log.SetFlags(0)
	defer func() {
		log.SetOutput(oldOut)
		log.SetPrefix(oldPrefix)
		log.SetFlags(oldFlags)
	}()

	lang := NewLanguage()
	cexts := []config.Configurer{&config.CommonConfigurer{}, &walk.Configurer{}, &resolve.Configurer{}, lang}
	c := config.New()
	fs := flag.NewFlagSet("gazelle", flag.ContinueOnError)
	for _, cext := range cexts {
		cext.RegisterFlags(fs, "update", c)
	}
	if err := fs.Parse([]string{"-repo_root=" + root}); err != nil {
		t.Fatal(err)
	}
	for _, cext := range cexts {
		if err := cext.CheckFlags(fs, c); err != nil {
			t.Fatal(err)
		}
	}
	kinds := lang.Kinds()
	mrslv := func(r *rule.Rule, pkgRel string) resolve.Resolver {
		if _, ok := kinds[r.Kind()]; ok {
			return lang
		}
		return nil
	}
	ix := resolve.NewRuleIndex(mrslv, lang)

	type visit struct {
		rel     string
		c       *config.Config
		rules   []*rule.Rule
		imports []interface{}
		empty   []*rule.Rule
		file    *rule.File
		mapped  []config.MappedKind
	}
	var visits []visit
	walk.Walk(c, cexts, []string{c.RepoRoot}, walk.VisitAllUpdateSubdirsMode, func(dir, rel string, c *config.Config, update bool, f *rule.File, subdirs, regularFiles, genFiles []string) {
		if !update {
			return
		}
		res := lang.GenerateRules(language.GenerateArgs{
			Config: c, Dir: dir, Rel: rel, File: f,
			Subdirs: subdirs, RegularFiles: regularFiles, GenFiles: genFiles,
		})
		if len(res.Gen) != len(res.Imports) {
			t.Fatalf("%s: %d rules, %d imports", rel, len(res.Gen), len(res.Imports))
		}
		if f == nil && len(res.Gen) == 0 {
			return
		}
		var mapped []config.MappedKind
		for _, r := range res.Gen {
			if repl, ok := c.KindMap[r.Kind()]; ok {
				mapped = append(mapped, repl)
				r.SetKind(repl.KindName)
			}
		}
		if f == nil {
			f = rule.EmptyFile(filepath.Join(dir, c.DefaultBuildFileName()), rel)
			for _, r := range res.Gen {
				r.Insert(f)
			}
		} else {
			merger.MergeFile(f, res.Empty, res.Gen, merger.PreResolve, kinds)
		}
		visits = append(visits, visit{rel, c, res.Gen, res.Imports, res.Empty, f, mapped})
		for _, r := range f.Rules {
			ix.AddRule(c, r, f)
		}
	})
	ix.Finish()
	for _, v := range visits {
		for i, r := range v.rules {
			lang.Resolve(v.c, ix, nil, r, v.imports[i], label.New(c.RepoName, v.rel, r.Name()))
		}
		merger.MergeFile(v.file, v.empty, v.rules, merger.PostResolve, kinds)
	}
	for _, v := range visits {
		loads := lang.Loads()
		for _, m := range v.mapped {
			loads = appendKindMapping(loads, m)
		}
		merger.FixLoads(v.file, loads)
		content := v.file.Format()
		if bytes.Equal(content, v.file.Content) {
			continue
		}
		if err := os.WriteFile(v.file.Path, content, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return logs.String()
}

// appendKindMapping is cmd/gazelle's appendOrMergeKindMapping.
func appendKindMapping(loads []rule.LoadInfo, m config.MappedKind) []rule.LoadInfo {
	for i, l := range loads {
		if l.Name == m.KindLoad {
			loads[i].Symbols = append(append([]string(nil), l.Symbols...), m.KindName)
			return loads
		}
	}
	return append(loads, rule.LoadInfo{Name: m.KindLoad, Symbols: []string{m.KindName}})
}

// The golden cases: testdata/<case>/ in gazelle_generation_test's layout. BUILD.in files are
// the BUILD files before the run (BUILD.bazel), BUILD.out the expected ones; expectedStderr.txt
// is what gazelle logs. Every case is run twice: the second run must change nothing.
// OEMGAZELLE_UPDATE=1 writes the results back as BUILD.out and expectedStderr.txt.
func TestGolden(t *testing.T) {
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cs := range cases {
		if !cs.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join("testdata", cs.Name(), "WORKSPACE")); err != nil {
			continue // not a case: e.g. testdata/fuzz, the fuzzers' corpus
		}
		n++
		name := cs.Name()
		t.Run(name, func(t *testing.T) { runCase(t, filepath.Join("testdata", name)) })
	}
	if n == 0 {
		t.Fatal("no golden cases in testdata")
	}
}

func runCase(t *testing.T, src string) {
	root := t.TempDir()
	goldens := map[string]string{} // rel dir -> expected BUILD.bazel
	var wantStderr string
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch d.Name() {
		case "expectedStderr.txt":
			wantStderr = string(data)
			return nil
		case "expectedStdout.txt", "expectedExitCode.txt", "README.md":
			return nil
		case "BUILD.out":
			goldens[filepath.Dir(rel)] = string(data)
			return nil
		case "BUILD.in":
			rel = filepath.Join(filepath.Dir(rel), "BUILD.bazel")
		}
		out := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o777); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Paths as gazelle_generation_test redacts them.
	redact := func(s string) string { return strings.ReplaceAll(s, root, "%WORKSPACEPATH%") }

	stderr := redact(runGazelle(t, root))
	got := readBuildFiles(t, root)
	if os.Getenv("OEMGAZELLE_UPDATE") != "" {
		for dir, content := range got {
			if err := os.WriteFile(filepath.Join(src, dir, "BUILD.out"), []byte(content), 0o666); err != nil {
				t.Fatal(err)
			}
		}
		if stderr != "" || wantStderr != "" {
			if err := os.WriteFile(filepath.Join(src, "expectedStderr.txt"), []byte(stderr), 0o666); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if strings.TrimSpace(stderr) != strings.TrimSpace(wantStderr) {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, wantStderr)
	}
	compareBuildFiles(t, got, goldens)

	// Second run: nothing changes, and the same problems are reported.
	stderr2 := redact(runGazelle(t, root))
	if stderr2 != stderr {
		t.Errorf("second run, stderr:\n%s\nfirst run:\n%s", stderr2, stderr)
	}
	compareBuildFiles(t, readBuildFiles(t, root), got)
}

func readBuildFiles(t *testing.T, root string) map[string]string {
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "BUILD.bazel" {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		got[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func compareBuildFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	var dirs []string
	for d := range got {
		dirs = append(dirs, d)
	}
	for d := range want {
		if _, ok := got[d]; !ok {
			dirs = append(dirs, d)
		}
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		g, gok := got[d]
		w, wok := want[d]
		switch {
		case !gok:
			t.Errorf("%s/BUILD.bazel: not written, want:\n%s", d, w)
		case !wok:
			t.Errorf("%s/BUILD.bazel: written but has no BUILD.out:\n%s", d, g)
		case g != w:
			t.Errorf("%s/BUILD.bazel:\n%s\nwant:\n%s", d, g, w)
		}
	}
}
