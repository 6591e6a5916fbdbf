package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// The selection file imggen --selection reads (resolve --json): corrupt, oversized, not a
// file, or naming packages it should not.

// selectionFixture writes the packages of a small image under dir/pkgs and returns their
// selection, as resolve --json writes it, with host paths relative to dir.
func selectionFixture(t *testing.T, dir string) map[string]any {
	t.Helper()
	sel, err := testimage.Packages(filepath.Join(dir, "pkgs"), "hostile selection", testimage.Options{Base: dir})
	if err != nil {
		t.Fatal(err)
	}
	sel.Device = "Phone1"
	var b bytes.Buffer
	if err := sel.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name, data)
}

func selPackage(m map[string]any, i int) map[string]any {
	return m["packages"].([]any)[i].(map[string]any)
}

func init() {
	imggenArgs := func(extra ...string) []string {
		return append([]string{"imggen", "--timings=false", "--selection=sel.json", "out.ffu", "OEMInput.xml", "MSPackages"}, extra...)
	}
	// edited: a valid selection, changed by edit before it is written.
	edited := func(name string, edit func(t *testing.T, dir string, m map[string]any) []string, want ...string) hostileCase {
		return hostileCase{
			name: "selection/" + name,
			setup: func(t *testing.T, dir string) []string {
				m := selectionFixture(t, dir)
				extra := edit(t, dir, m)
				writeJSON(t, dir, "sel.json", m)
				return imggenArgs(extra...)
			},
			want: want,
		}
	}
	raw := func(name, data string, want ...string) hostileCase {
		return hostileCase{
			name: "selection/" + name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "sel.json", []byte(data))
				return imggenArgs()
			},
			want: want,
		}
	}
	addHostile(
		// The control: the fixture builds.
		hostileCase{
			name: "selection/valid",
			setup: func(t *testing.T, dir string) []string {
				writeJSON(t, dir, "sel.json", selectionFixture(t, dir))
				return imggenArgs("--unused-inputs=out.unused", "--package=pkgs", "--fm=fm.xml", "/CPUType:arm")
			},
			exitZero: true,
		},
		raw("truncated", `{"oemInput": "OEMInput.xml", "packages": [`, "sel.json: offset 42: the JSON ends early"),
		raw("not-json", "<UpdateOSInput/>", "sel.json: offset 1: invalid character '<'"),
		raw("trailing-data", `{"oemInput":"OEMInput.xml"} x`, "sel.json: offset 28: data after the selection"),
		raw("deep-nesting", `{"packages":`+strings.Repeat("[", 1<<20), "sel.json: offset ", "exceeded max depth"),
		raw("wrong-type", `{"packages":{}}`, "sel.json: offset 13: packages is a JSON object; expected an array"),
		edited("unknown-field", func(t *testing.T, dir string, m map[string]any) []string { m["packageFiles"] = []any{}; return nil },
			"sel.json: offset ", `unknown field "packageFiles"`),
		edited("unlocated-package", func(t *testing.T, dir string, m map[string]any) []string {
			delete(selPackage(m, 1), "hostPath")
			return nil
		},
			"sel.json: packages[1] (Contoso.EFIESP.spkg): hostPath is empty: the package was not located"),
		edited("hostpath-of-another-name", func(t *testing.T, dir string, m map[string]any) []string {
			selPackage(m, 0)["hostPath"] = "pkgs/Contoso.EFIESP.spkg"
			return nil
		}, "sel.json: packages[0] (Contoso.MainOS.spkg): hostPath pkgs/Contoso.EFIESP.spkg is not a file named Contoso.MainOS.spkg"),
		edited("name-twice", func(t *testing.T, dir string, m map[string]any) []string {
			m["packages"] = append(m["packages"].([]any), selPackage(m, 0))
			return nil
		}, "sel.json: packages[4] (Contoso.MainOS.spkg): the package name of packages[0] again"),
		edited("unknown-group", func(t *testing.T, dir string, m map[string]any) []string {
			selPackage(m, 2)["reasons"].([]any)[0].(map[string]any)["group"] = "LAYOUT"
			return nil
		}, `sel.json: packages[2] (Contoso.Layout.spkg): reasons[0]: featureId "DEVICELAYOUT", group "LAYOUT"`),
		edited("another-oeminput", func(t *testing.T, dir string, m map[string]any) []string { m["oemInput"] = "Other.xml"; return nil },
			"sel.json: the selection of Other.xml; expected one of OEMInput.xml"),
		edited("another-cpu", func(t *testing.T, dir string, m map[string]any) []string { return []string{"/CPUType:x86"} },
			"sel.json: a selection for CPU arm; expected one for x86 (/CPUType:)"),
		edited("package-not-given", func(t *testing.T, dir string, m map[string]any) []string {
			return []string{"--package=pkgs/Contoso.MainOS.spkg"}
		}, "sel.json: packages[1] (Contoso.EFIESP.spkg): pkgs/Contoso.EFIESP.spkg is not one of the --package files"),
		edited("hostpath-named-pipe", func(t *testing.T, dir string, m map[string]any) []string {
			if err := syscall.Mkfifo(filepath.Join(dir, "Contoso.Pipe.spkg"), 0o644); err != nil {
				t.Fatal(err)
			}
			p := selPackage(m, 0)
			p["name"], p["hostPath"] = "Contoso.Pipe.spkg", "Contoso.Pipe.spkg"
			return nil
		}, "Contoso.Pipe.spkg: a named pipe; expected a regular file"),
		edited("hostpath-corrupt-package", func(t *testing.T, dir string, m map[string]any) []string {
			writeFile(t, dir, "Contoso.Junk.spkg", bytes.Repeat([]byte{0xa5}, 4096))
			p := selPackage(m, 1)
			p["name"], p["hostPath"] = "Contoso.Junk.spkg", "Contoso.Junk.spkg"
			return nil
		}, "Contoso.Junk.spkg"),
		// 200,000 packages (some 30 MB): parsed within the bounds, the first missing file named.
		edited("many-packages", func(t *testing.T, dir string, m map[string]any) []string {
			var pkgs []any
			for i := 0; i < 200000; i++ {
				name := fmt.Sprintf("Contoso.P%d.spkg", i)
				pkgs = append(pkgs, map[string]any{"id": name, "name": name, "path": name, "hostPath": "none/" + name,
					"reasons": []any{map[string]any{"featureId": "BASE", "group": "BASE", "file": "fm.xml", "line": i, "column": 1}}})
			}
			m["packages"] = pkgs
			return nil
		}, "none/Contoso.P0.spkg"),
		hostileCase{
			name: "selection/sparse-1TiB",
			setup: func(t *testing.T, dir string) []string {
				f, err := os.Create(filepath.Join(dir, "sel.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Truncate(1 << 40); err != nil {
					t.Fatal(err)
				}
				f.Close()
				return imggenArgs()
			},
			want: []string{"sel.json: 1099511627776 bytes; expected at most 67108864, the limit on a file read whole"},
		},
		hostileCase{
			name: "selection/named-pipe",
			setup: func(t *testing.T, dir string) []string {
				if err := syscall.Mkfifo(filepath.Join(dir, "sel.json"), 0o644); err != nil {
					t.Fatal(err)
				}
				return imggenArgs()
			},
			want: []string{"sel.json: a named pipe; expected a regular file"},
		},
		hostileCase{
			name: "selection/unused-inputs-without-selection",
			setup: func(t *testing.T, dir string) []string {
				return []string{"imggen", "--unused-inputs=u", "out.ffu", "OEMInput.xml", "MSPackages"}
			},
			want: []string{"--unused-inputs= needs --selection="},
		},
	)
}
