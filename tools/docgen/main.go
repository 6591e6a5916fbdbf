// Command docgen writes docs/rules.md from the docstrings of rules/defs.bzl and the files it
// loads. Stardoc cannot run offline with Bazel 4.2.3, so this reads the .bzl files with
// go.starlark.net instead.
//
//	go run ./tools/docgen            # from the repository root: rewrites docs/rules.md
//	go run ./tools/docgen -check     # exit 1 if docs/rules.md is stale
//	bazel run //tools/docgen         # same as the first, from anywhere in the workspace
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", "", "repository root (default: $BUILD_WORKSPACE_DIRECTORY or .)")
	out := flag.String("o", "docs/rules.md", "output file, relative to the root")
	check := flag.Bool("check", false, "do not write; exit 1 if the output is stale")
	flag.Parse()
	if *root == "" {
		*root = os.Getenv("BUILD_WORKSPACE_DIRECTORY") // set by bazel run
		if *root == "" {
			*root = "."
		}
	}
	doc, err := Generate(*root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
	path := filepath.Join(*root, *out)
	if *check {
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, []byte(doc)) {
			fmt.Fprintf(os.Stderr, "docgen: %s is stale: run 'go run ./tools/docgen' from the repository root\n", *out)
			os.Exit(1)
		}
		return
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
}
