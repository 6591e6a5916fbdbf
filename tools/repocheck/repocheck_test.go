// Package repocheck keeps rules/repositories.bzl, which WORKSPACE users get their Go modules
// from, in step with go.mod and go.sum, which `go test` and Bzlmod use.
package repocheck

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const repoRoot = "../.."

// requires returns module -> version of every require line of go.mod.
func requires(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	block := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.SplitN(line, "//", 2)[0])
		switch {
		case line == "require (":
			block = true
		case block && line == ")":
			block = false
		case block || strings.HasPrefix(line, "require "):
			f := strings.Fields(strings.TrimPrefix(line, "require "))
			if len(f) == 2 {
				out[f[0]] = f[1]
			}
		}
	}
	return out
}

// sums returns "module version" -> h1 hash of the module zips listed in go.sum.
func sums(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join(repoRoot, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 3 && !strings.HasSuffix(fields[1], "/go.mod") {
			out[fields[0]+" "+fields[1]] = fields[2]
		}
	}
	return out
}

var entry = regexp.MustCompile(`"([^"]+)": \("([a-z0-9_]+)", "([^"]+)", "(h1:[^"]+)"\)`)

func TestRepositoriesMatchGoMod(t *testing.T) {
	bzl, err := os.ReadFile(filepath.Join(repoRoot, "rules", "repositories.bzl"))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string][]string{}
	for _, m := range entry.FindAllStringSubmatch(string(bzl), -1) {
		declared[m[1]] = m[2:]
	}
	if len(declared) == 0 {
		t.Fatal("no GO_MODULES entries found in rules/repositories.bzl")
	}
	gazelleOnly := map[string]bool{}
	list := regexp.MustCompile(`(?s)GAZELLE_MODULES = \[(.*?)\]`).FindSubmatch(bzl)
	if list == nil {
		t.Fatal("no GAZELLE_MODULES list found in rules/repositories.bzl")
	}
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(list[1], -1) {
		gazelleOnly[string(m[1])] = true
	}
	goSums := sums(t)
	for mod, version := range requires(t) {
		if gazelleOnly[mod] {
			if _, ok := declared[mod]; ok {
				t.Errorf("%s is in both GO_MODULES and GAZELLE_MODULES", mod)
			}
			continue
		}
		d, ok := declared[mod]
		if !ok {
			t.Errorf("go.mod requires %s %s, but rules/repositories.bzl does not declare it", mod, version)
			continue
		}
		if d[1] != version {
			t.Errorf("%s: go.mod has %s, rules/repositories.bzl has %s", mod, version, d[1])
		}
		if want := goSums[mod+" "+version]; want != "" && d[2] != want {
			t.Errorf("%s %s: go.sum has %s, rules/repositories.bzl has %s", mod, version, want, d[2])
		}
	}
}
