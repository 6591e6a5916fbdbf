package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Corrupt FFUs through every verb that opens one (defect class 1: nil-receiver panics).
func init() {
	for _, verb := range [][]string{{"ffu", "info"}, {"ffu", "verify"}, {"ffu", "diff"}, {"imgtowim"}, {"report"}} {
		verb := verb
		for _, in := range []struct{ name, data string }{
			{"empty", ""},
			{"header-only", "\x20\x00\x00\x00SignedImage \x00\x00\x10\x00"},
			{"garbage", strings.Repeat("\xa5", 8192)},
		} {
			in := in
			addHostile(hostileCase{
				name: strings.Join(verb, "-") + "/" + in.name,
				setup: func(t *testing.T, dir string) []string {
					writeFile(t, dir, in.name+".ffu", []byte(in.data))
					args := append(append([]string{}, verb...), in.name+".ffu")
					switch verb[len(verb)-1] {
					case "imgtowim":
						args = append(args, "out.wim")
					case "diff":
						args = append(args, in.name+".ffu")
					case "report":
						args = append(args, "-o", "out.html")
					}
					return args
				},
				want: []string{in.name + ".ffu"},
			})
		}
	}
}

// The report's selection: a file far larger than a selection, and a directory, are refused by
// name before the image is read.
func init() {
	for _, c := range []struct {
		name string
		make func(t *testing.T, dir string)
		want string
	}{
		{"sparse-1TiB", func(t *testing.T, dir string) {
			writeFile(t, dir, "sel.json", nil)
			if err := os.Truncate(filepath.Join(dir, "sel.json"), 1<<40); err != nil {
				t.Fatal(err)
			}
		}, "sel.json"},
		{"directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "sel.json"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "sel.json"},
		{"not-json", func(t *testing.T, dir string) { writeFile(t, dir, "sel.json", []byte("<xml/>")) }, "sel.json"},
	} {
		c := c
		addHostile(hostileCase{
			name: "report/selection-" + c.name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "in.ffu", []byte(strings.Repeat("\xa5", 8192)))
				c.make(t, dir)
				return []string{"report", "in.ffu", "--selection=sel.json", "-o", "out.html"}
			},
			want: []string{"--selection", c.want},
		})
	}
}
