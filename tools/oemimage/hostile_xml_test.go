package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// Hostile XML through the verbs that read it: macro bombs (in a <Macro> and in /variables:),
// malformed and deeply nested files, a huge attribute, too many elements, a named pipe where the
// project belongs.
func init() {
	const ns = `xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00"`
	project := func(body string) string {
		return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Package " + ns + " Owner=\"Contoso\" Component=\"Bomb\">\n" + body + "\n</Package>\n"
	}
	chain := func(prefix string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("%s%d=%s", prefix, i, strings.Repeat(fmt.Sprintf("$(%s%d)", prefix, i+1), 16)))
		}
		return append(out, fmt.Sprintf("%s%d=%s", prefix, n, strings.Repeat("x", 16)))
	}
	macros := func(defs []string) string {
		var b strings.Builder
		b.WriteString("<Macros>")
		for _, d := range defs {
			id, v, _ := strings.Cut(d, "=")
			fmt.Fprintf(&b, "\n<Macro Id=%q Value=%q/>", id, v)
		}
		return b.String() + "</Macros>"
	}
	const files = `<Components><OSComponent><Files><File Source="a.txt" DestinationDir="$(m0)$(v0)"/></Files></OSComponent></Components>`
	// The inputs are made in setup, not here: init runs in the child process too, and must not
	// hold every case's input there.
	pkggen := func(name string, xml func() string, want []string, extra ...string) hostileCase {
		return hostileCase{
			name: "xml/pkggen-" + name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "a.txt", []byte("a"))
				writeFile(t, dir, "p.pkg.xml", []byte(xml()))
				return append([]string{"pkggen", "p.pkg.xml", "/output:out"}, extra...)
			},
			want: append([]string{"p.pkg.xml"}, want...),
		}
	}
	nested := func() string {
		return strings.Repeat("<Components>", 1_000_000) + strings.Repeat("</Components>", 1_000_000)
	}
	addHostile(
		pkggen("macro-self-bomb", func() string {
			return project("<Macros>\n<Macro Id=\"a\" Value=\"" + strings.Repeat("$(a)", 16) + "\"/></Macros>")
		},
			[]string{"p.pkg.xml:4:15: macro a: refers to itself through a cycle"}),
		pkggen("macro-chain-bomb", func() string { return project(macros(chain("m", 20)) + files) },
			[]string{"p.pkg.xml:20:17: macro m16: expands to more than 65536 bytes"}),
		pkggen("variables-bomb", func() string { return project(files) }, []string{"p.pkg.xml: /variables: macro v16: expands to more than 65536 bytes"},
			"/variables:"+strings.Join(chain("v", 20), ";")),
		pkggen("variables-cycle", func() string { return project(files) }, []string{"/variables: macro v0: refers to itself through a cycle"},
			"/variables:v0=$(v1)x;v1=$(V0)y"),
		pkggen("malformed", func() string {
			return "<Package " + ns + " Owner=\"C\" Component=\"X\">\n<Components><OSComponent>\n<Files></OSComponent>"
		},
			[]string{"p.pkg.xml:3:", "malformed XML"}),
		pkggen("deep-nesting", func() string { return project(nested()) }, []string{"p.pkg.xml:3:3061: elements nested more than 256 deep"}),
		pkggen("too-many-elements", func() string {
			return project("<Components>" + strings.Repeat("<OSComponent/>", 1<<20) + "</Components>")
		},
			[]string{"more than 1048576 elements"}),
		pkggen("huge-attribute", func() string {
			return project(`<Components><OSComponent><Files><File Source="` + strings.Repeat("x", 50<<20) + `"/></Files></OSComponent></Components>`)
		},
			[]string{"p.pkg.xml:3:33: a tag of 52428817 bytes; expected at most 1048576 bytes in one tag"}),
		pkggen("long-attribute", func() string {
			return strings.Replace(project(files), `Owner="Contoso"`, `Owner="`+strings.Repeat("$(runtime.apps)", 40000)+`"`, 1)
		},
			[]string{"p.pkg.xml:2:65: attribute Owner of <Package> is", "(600000 bytes)", "more than 65536 bytes after expansion"}),
		pkggen("long-attribute-name", func() string { return project(`<Components a` + strings.Repeat("x", 1<<19) + `="1"/>`) },
			[]string{"p.pkg.xml:3:13: unknown attribute axxxxxxxxx", "... on <Components>; expected nothing here"}),
		pkggen("huge-text", func() string { return project(strings.Repeat("x", 10<<20)) }, []string{"p.pkg.xml:2:", "10485762 bytes of text without markup"}),
		pkggen("too-large", func() string { return project(strings.Repeat(" ", 65<<20)) }, []string{"p.pkg.xml: 68157589 bytes; expected at most 67108864, the limit on a file read whole"}),
		hostileCase{
			name: "xml/pkggen-named-pipe",
			setup: func(t *testing.T, dir string) []string {
				if err := syscall.Mkfifo(dir+"/p.pkg.xml", 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"pkggen", "p.pkg.xml", "/output:out"}
			},
			want: []string{"p.pkg.xml: a named pipe; expected a regular file"},
		},
		hostileCase{
			name: "xml/resolve-deep-oeminput",
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "OEMInput.xml", []byte(`<OEMInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">`+"\n"+nested()+"</OEMInput>"))
				return []string{"resolve", "OEMInput.xml", "kit"}
			},
			want: []string{"OEMInput.xml:2:3061: elements nested more than 256 deep"},
		},
		hostileCase{
			name: "xml/resolve-malformed-oeminput",
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "OEMInput.xml", []byte("<OEMInput xmlns=\"http://schemas.microsoft.com/embedded/2004/10/ImageUpdate\">\n<SOC>x</Device>"))
				return []string{"resolve", "OEMInput.xml", "kit"}
			},
			want: []string{"OEMInput.xml:2:", "malformed XML"},
		},
	)
}
