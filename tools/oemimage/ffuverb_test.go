package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/ffudiff"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// TestFFUDiff: `ffu diff` exits 0 for identical images, 1 for different ones (the report on
// standard output, text or JSON), 2 for an error naming the file or bad usage.
func TestFFUDiff(t *testing.T) {
	dir := t.TempDir()
	a, err := testimage.FFU(filepath.Join(dir, "a"), "diff", testimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := testimage.FFU(filepath.Join(dir, "b"), "diff", testimage.Options{EditPackages: func(p []testimage.Package) []testimage.Package {
		p[0].Data = "kernal"
		return p
	}})
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.ffu")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte{0xff}, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.ffu")
	for _, c := range []struct {
		name          string
		args          []string
		code          int
		stdout        string
		stderr        string
		json          bool
		wantIdentical bool
	}{
		{name: "identical", args: []string{a, a}, code: 0, stdout: "\nidentical\n"},
		{name: "different", args: []string{a, b}, code: 1, stdout: `content    MainOS\Windows\System32\ntoskrnl.exe (file, 6 -> 6 bytes, package Contoso.MainOS)`},
		{name: "json", args: []string{"--json", a, b}, code: 1, json: true},
		{name: "json identical", args: []string{a, a, "--json"}, code: 0, json: true, wantIdentical: true},
		{name: "case-insensitive", args: []string{"DIFF", a, a}, code: 0, stdout: "identical"},
		{name: "missing", args: []string{a, missing}, code: 2, stderr: "oemimage ffu: " + missing + ": does not exist"},
		{name: "not an FFU", args: []string{garbage, a}, code: 2, stderr: "oemimage ffu: " + garbage + ": not a valid FFU"},
		{name: "one file", args: []string{a}, code: 2, stderr: "diff takes two FFU files"},
		{name: "unknown flag", args: []string{a, b, "--brief"}, code: 2, stderr: "unknown flag --brief"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"ffu"}
			if !strings.EqualFold(c.args[0], "diff") {
				args = append(args, "diff")
			}
			code := run(append(args, c.args...), &stdout, &stderr)
			if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q", code, c.code, stdout.String(), stderr.String(), c.stdout, c.stderr)
			}
			if c.json {
				var r ffudiff.Report
				dec := json.NewDecoder(&stdout)
				dec.DisallowUnknownFields()
				if err := dec.Decode(&r); err != nil {
					t.Fatalf("--json output: %v", err)
				}
				if r.Identical != c.wantIdentical || (!r.Identical && len(r.Files) != 2) { // the file and its package's catalog
					t.Errorf("--json: identical %v, files %+v", r.Identical, r.Files)
				}
			}
		})
	}
}
