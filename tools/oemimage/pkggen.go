package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/pkggen"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

var pkggenSpec = cmdSpec{
	values:  []string{"output", "version", "build", "cpu", "language", "resolution", "config", "variables", "onecore"},
	toggles: []string{"compress", "diagnostic"},
	flags:   append([]string{"expect"}, signingFlags...),
}

// runPkggen is `oemimage pkggen project.pkg.xml|descriptor.pkg.json [/output:dir] [/version:a.b.c.d] [/build:fre|chk]
// [/cpu:arm] [/language:a;b] [/resolution:WxH;...] [/config:file] [/variables:n=v;...]
// [+|-compress] [+|-diagnostic] [--expect=Name.spkg ...] [--cert=FILE --key=FILE | --pfx=FILE
// [--password-file=FILE]]`; with a signing identity each package's content.cat is signed.
func runPkggen(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, pkggenSpec)
	if err != nil {
		return err
	}
	if len(c.positional) != 1 {
		return usageError{fmt.Sprintf("expected one project file, got %d arguments", len(c.positional))}
	}
	version, err := spkg.ParseVersion(c.value("version", "0.0.0.0"))
	if err != nil {
		return usageError{"/version: " + err.Error()}
	}
	// /onecore, which the IoT kit's createpkg.cmd passes, selects how Microsoft's PkgGen
	// packages a OneCore (Windows 10) product; this tool writes the same SPKG either way
	// (docs/cli.md). It takes no value.
	if v, ok := c.values["onecore"]; ok && v != "" {
		return usageError{"/onecore takes no value, got /onecore:" + v}
	}
	vars, err := variables(c.value("variables", ""))
	if err != nil {
		return err
	}
	opt := pkggen.Options{
		Origin:      origin,
		Version:     version,
		BuildType:   c.value("build", "fre"),
		CPU:         c.value("cpu", "arm"),
		Languages:   list(c.value("language", "")),
		Resolutions: list(c.value("resolution", "")),
		Variables:   vars,
		Config:      c.value("config", ""),
		Env:         winpath.EnvMap(os.Environ()),
		Compress:    c.toggle("compress", false),
		Warn:        func(msg string) { fmt.Fprintln(stderr, msg) },
	}
	if opt.Signer, err = loadSigner(c); err != nil {
		return err
	}
	// pkggen.Load reads the project whole: a pipe or a huge file is refused first.
	if _, err := readfile.CheckRegular(c.positional[0], manifest.MaxFileSize); err != nil {
		return err
	}
	load := pkggen.Load
	if strings.HasSuffix(strings.ToLower(c.positional[0]), pkggen.DescriptorSuffix) {
		load = pkggen.LoadDescriptor // what mobile_package writes from its attributes
	}
	pkgs, err := load(c.positional[0], opt)
	if err != nil {
		return err
	}
	if expect := c.flags["expect"]; expect != nil {
		if err := checkExpected(pkgs, expect); err != nil {
			return err
		}
	}
	out := c.value("output", ".")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// One set of outputs for the whole project: a failure in any package leaves none.
	ms, err := pkggen.Build(pkgs, out, opt)
	if err != nil {
		return err
	}
	if c.toggle("diagnostic", false) {
		for i, pk := range pkgs {
			m := ms[i]
			fmt.Fprintf(stdout, "%s: %s %s, %d files\n", filepath.Join(out, pk.FileName()), m.Name(), m.Version, len(m.Files))
			for _, f := range pk.Files {
				fmt.Fprintf(stdout, "  %s <- %s\n", f.DevicePath, f.Source)
			}
		}
	}
	return nil
}

// checkExpected compares the packages a project produces with those the build declared.
func checkExpected(pkgs []*pkggen.Package, expect []string) error {
	want := map[string]bool{}
	for _, e := range expect {
		want[e] = true
	}
	var extra []string
	for _, name := range pkggen.Names(pkgs) {
		if !want[name] {
			extra = append(extra, name)
		}
		delete(want, name)
	}
	var missing []string
	for name := range want {
		missing = append(missing, name)
	}
	sort.Strings(missing)
	if len(extra) == 0 && len(missing) == 0 {
		return nil
	}
	var msg []string
	if len(missing) > 0 {
		msg = append(msg, "expected but not produced: "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		msg = append(msg, "produced but not expected: "+strings.Join(extra, ", "))
	}
	return fmt.Errorf("the project's packages differ from the ones declared (%s); check owner, component, sub_component, languages and resolutions", strings.Join(msg, "; "))
}
