// Command oemimage reimplements the Windows 10 Mobile imaging tools (ImgGen, FeatureMerger,
// ImgToWIM, CustomizationGen, PkgGen, ImageApp's update) for Linux. Each Microsoft tool is one
// verb; the verbs accept the documented command lines of the originals, so existing scripts
// keep working.
//
// Exit status: 0 success, 1 the input or the work failed, 2 bad usage or a verb that is not
// implemented yet; `ffu diff` exits as diff(1): 0 identical, 1 different, 2 trouble.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/locate"
)

// verb is one subcommand. syntax is the documented command line of the original tool.
type verb struct {
	name     string
	original string // the Microsoft tool this verb stands for, if any
	syntax   string
	summary  string
	run      func(args []string, stdout, stderr io.Writer) error
}

// errNotImplemented marks verbs whose issue has not landed yet: they must fail, never fake output.
var errNotImplemented = errors.New("not implemented yet")

// usageError is bad usage: exit status 2, with the verb's syntax printed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// origin is what --bazel-target and --bazel-attr said (zero outside Bazel).
var origin locate.Origin

// exitStatus is an outcome with an exit status of its own: `ffu diff` exits 1 when the images
// differ (err nil: the report is the output, nothing more is printed) and 2 when the
// comparison fails, as diff(1) does.
type exitStatus struct {
	code int
	err  error
}

func (e exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func notImplemented([]string, io.Writer, io.Writer) error { return errNotImplemented }

var verbs = []verb{
	{
		name: "imggen", original: "ImgGen.cmd",
		syntax: "oemimage imggen OutputFile OEMInputXML MSPackageRoot [OEMCustomizationXML OEMCustomizationVer] " +
			"[/CPUType:arm] [--package=PATH ...] [--fm=PATH ...] [--selection=FILE [--unused-inputs=FILE]] [--timings=false] [--customization-out=DIR] [--var=NAME=DIR ...] [--trusted-root=CERT [--tsa-root=CERT]]",
		summary: "build a full flash update (FFU) image and its side files from an OEMInput file",
		run:     runImggen,
	},
	{
		name: "featuremerger", original: "FeatureMerger.exe",
		syntax: "oemimage featuremerger InputFile OutputPackageDir OutputPackageVersion OutputFMDir /FMID:id " +
			"/Languages:a;b /Resolutions:WxH;WxH /OwnerName:name /Variables:_cputype=arm;buildtype=fre " +
			"[/OwnerType:OEM] [/MergePackageRootReplacement:path] [+|-Incremental] [+|-Compress]\n" +
			"       oemimage featuremerger FMFileList.xml OutputPackageDir OutputPackageVersion OutputFMDir " +
			"/InputFMDirPath:dir /Variables:_cputype=arm;buildtype=fre [...]",
		summary: "merge the packages of feature manifests into WSPC-compliant packages and write the new FMs",
		run:     runFeatureMerger,
	},
	{
		name: "imgtowim", original: "ImgToWIM.exe",
		syntax:  "oemimage imgtowim <FFUFileName> <WIMFileName> [--compression=lzx|xpress|none]",
		summary: "capture the MainOS partition of an FFU image as a bootable WIM file",
		run:     runImgToWIM,
	},
	{
		name: "customizationgen", original: "CustomizationGen.cmd",
		syntax: "oemimage customizationgen OutputDirectory OEMInputXML MSPackageRoot OEMCustomizationXML OEMCustomizationVer " +
			"[/CPUType:arm] [--package=PATH ...] [--fm=PATH ...] [--var=NAME=DIR ...]",
		summary: "turn a customization answer file into customization packages",
		run:     runCustomizationGen,
	},
	{
		name: "pkggen", original: "PkgGen.exe",
		syntax: "oemimage pkggen project.pkg.xml [/output:dir] [/version:a.b.c.d] [/build:fre|chk] [/cpu:arm] " +
			"[/language:a;b] [/resolution:WxH;WxH] [/config:PkgGen.cfg.xml] [/variables:name=value;...] [+|-compress] [+|-diagnostic] " +
			"[--cert=FILE --key=FILE | --pfx=FILE [--password-file=FILE] | --pkcs11-module=LIB.so --pkcs11-token=LABEL --pkcs11-key=LABEL [--pkcs11-pin-file=FILE] [--cert=FILE]]",
		summary: "build .spkg packages from a package project file",
		run:     runPkggen,
	},
	{
		name: "imageapp", original: "ImageApp.exe",
		syntax:  "oemimage imageapp <imageFile.ffu> /UpdateInputXML:<updateInputfile.xml> [--output=FILE.ffu] [--package=PATH ...] [--timings=false]",
		summary: "add new or newer packages to an existing FFU image (Production, Test and Health images; never Retail)",
		run:     runImageApp,
	},
	{
		name: "sign", original: "Sign.cmd /pk",
		syntax: "oemimage sign (--cert=FILE --key=FILE | --pfx=FILE [--password-file=FILE] |\n" +
			"       --pkcs11-module=LIB.so --pkcs11-token=LABEL --pkcs11-key=LABEL [--pkcs11-pin-file=FILE] [--cert=FILE])\n" +
			"       FILE.cat|PACKAGE.spkg [-o OUT]",
		summary: "sign a catalog, or a package's content.cat, with a certificate and key (SHA-256, chain embedded)",
		run:     runSign,
	},
	{
		name:    "ffu",
		syntax:  "oemimage ffu info|verify|extract FILE.ffu [OUTPUT]\n       oemimage ffu verify --trusted-root=CERT [--tsa-root=CERT] FILE.ffu\n       oemimage ffu diff A.ffu B.ffu [--json]",
		summary: "inspect, verify, extract or compare FFU images",
		run:     runFFU,
	},
	{
		name: "imagesigner", original: "ImageSigner.exe",
		syntax: "oemimage imagesigner sign <FFU> <catalog file>\n" +
			"       oemimage imagesigner getcatalog <FFU> <catalog file>\n" +
			"       oemimage imagesigner truncate <FFU> <truncated FFU>",
		summary: "put a signed catalog into an FFU, extract its catalog, or cut it to the head a signing request needs",
		run:     runImageSigner,
	},
	{
		name:    "report",
		syntax:  "oemimage report FILE.ffu [--selection=FILE] -o report.html",
		summary: "write one self-contained HTML report of an image: partition map, packages and why, sizes, side files",
		run:     runReport,
	},
	{
		name:    "resolve",
		syntax:  "oemimage resolve OEMInput.xml MSPackageRoot [/CPUType:arm] [--json] [--package=PATH ...] [--fm=PATH ...] [--core-fm=PATH]",
		summary: "print the packages an OEMInput selects, with the reason for each (--json: the selection imggen --selection reads)",
		run:     runResolve,
	},
}

func findVerb(name string) *verb {
	for i := range verbs {
		// Windows tools are case-insensitive; so are the verbs.
		if strings.EqualFold(verbs[i].name, name) {
			return &verbs[i]
		}
	}
	return nil
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "/?", "-?", "help":
		return true
	}
	return false
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: oemimage VERB [ARGS]")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "verbs:")
	for _, v := range verbs {
		s := v.summary
		if v.original != "" {
			s += " (" + v.original + ")"
		}
		fmt.Fprintf(w, "  %-17s %s\n", v.name, s)
	}
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "'oemimage help VERB' prints a verb's command line.")
}

func printVerbUsage(w io.Writer, v *verb) {
	fmt.Fprintf(w, "usage: %s\n\n%s", v.syntax, v.summary)
	if v.original != "" {
		fmt.Fprintf(w, "; accepts the documented command line of %s", v.original)
	}
	fmt.Fprintln(w, ".")
}

// maxParamsBytes bounds a params file. Bazel's hold one argument a line: 16 MiB is some
// 100,000 package paths.
const maxParamsBytes = 16 << 20

// expandParams replaces each @FILE argument by the lines of FILE: Bazel passes long command
// lines this way (params files in "multiline" format, one argument per line). FILE must be a
// regular file of at most maxParamsBytes (@/dev/zero would never end).
func expandParams(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if len(a) < 2 || a[0] != '@' {
			out = append(out, a)
			continue
		}
		data, err := readfile.ReadRegular(a[1:], maxParamsBytes)
		if err != nil {
			return nil, fmt.Errorf("params file: %w", err)
		}
		text := strings.TrimSuffix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
		if text != "" {
			out = append(out, strings.Split(text, "\n")...)
		}
	}
	return out, nil
}

// run is main without os.Exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	args, err := expandParams(args)
	if err != nil {
		fmt.Fprintf(stderr, "oemimage: %v\n", err)
		return 2
	}
	// --stdout=FILE before the verb sends the verb's output to FILE, written whole or not at all
	// (Bazel actions declare their outputs as files).
	if len(args) > 0 && strings.HasPrefix(args[0], "--stdout=") {
		path := strings.TrimPrefix(args[0], "--stdout=")
		var set atomicfile.Set
		defer set.Abort()
		f, err := set.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "oemimage: --stdout: %v\n", err)
			return 1
		}
		code := run(args[1:], f, stderr)
		if code == 0 {
			if err := set.Commit(); err != nil {
				fmt.Fprintf(stderr, "oemimage: --stdout: %v\n", err)
				code = 1
			}
		}
		return code
	}
	// --bazel-target=LABEL and --bazel-attr=ROLE=ATTR before the verb: the rule's target and the
	// attributes that give its inputs, named by messages about a missing input (locate.Origin).
	origin = locate.Origin{}
	for len(args) > 0 && strings.HasPrefix(args[0], "--bazel-") {
		if t, ok := strings.CutPrefix(args[0], "--bazel-target="); ok {
			origin.Target = t
		} else if a, ok := strings.CutPrefix(args[0], "--bazel-attr="); ok {
			if err := origin.Set(a); err != nil {
				fmt.Fprintf(stderr, "oemimage: %v\n", err)
				return 2
			}
		} else {
			fmt.Fprintf(stderr, "oemimage: unknown flag %s; expected --bazel-target=LABEL or --bazel-attr=ROLE=ATTR before the verb\n", args[0])
			return 2
		}
		args = args[1:]
	}
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	if isHelp(args[0]) {
		if len(args) > 1 {
			if v := findVerb(args[1]); v != nil {
				printVerbUsage(stdout, v)
				return 0
			}
			fmt.Fprintf(stderr, "oemimage: unknown verb %q\n", args[1])
			return 2
		}
		printUsage(stdout)
		return 0
	}
	v := findVerb(args[0])
	if v == nil {
		fmt.Fprintf(stderr, "oemimage: unknown verb %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	if len(args) > 1 && isHelp(args[1]) {
		printVerbUsage(stdout, v)
		return 0
	}
	err = v.run(args[1:], stdout, stderr)
	closeTokens()
	var ue usageError
	var es exitStatus
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errNotImplemented):
		fmt.Fprintf(stderr, "oemimage %s: not implemented yet\n", v.name)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "oemimage %s: %s\n", v.name, ue.msg)
		printVerbUsage(stderr, v)
		return 2
	case errors.As(err, &es):
		if es.err != nil {
			fmt.Fprintf(stderr, "oemimage %s: %v\n", v.name, es.err)
		}
		return es.code
	default:
		fmt.Fprintf(stderr, "oemimage %s: %v\n", v.name, err)
		return 1
	}
}

func main() {
	if err := enterWorkingDirectory(os.Getenv("BUILD_WORKING_DIRECTORY")); err != nil {
		fmt.Fprintf(os.Stderr, "oemimage: %v\n", err)
		os.Exit(2)
	}
	// OEMIMAGE_MEMPROFILE=FILE writes a heap profile taken at the largest live heap of the run
	// (memprofile.go), for finding what holds memory at the peak; OEMIMAGE_CPUPROFILE=FILE a CPU
	// profile of the run (go tool pprof FILE), for finding where a slow build spends its time.
	var stops []func()
	if path := os.Getenv("OEMIMAGE_MEMPROFILE"); path != "" {
		stops = append(stops, startMemProfile(path))
	}
	if path := os.Getenv("OEMIMAGE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
			} else {
				f.Close()
			}
		}
	}
	code := runQuietly(os.Getenv("OEMIMAGE_QUIET") == "1", os.Args[1:], os.Stdout, os.Stderr)
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	os.Exit(code)
}

// enterWorkingDirectory makes relative paths mean what the user typed under `bazel run`: the
// tool starts in its runfiles, and Bazel names the directory bazel run was called from in
// BUILD_WORKING_DIRECTORY (empty otherwise: actions and tests get no such variable).
func enterWorkingDirectory(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("BUILD_WORKING_DIRECTORY: %v", err)
	}
	return nil
}

// runQuietly is run; quiet keeps the verb's progress (its standard output) unless the verb
// fails. Bazel actions set OEMIMAGE_QUIET=1 (rules/private/common.bzl): quiet on success, the
// log stays in the side files, and a failure still shows what led to it.
func runQuietly(quiet bool, args []string, stdout, stderr io.Writer) int {
	if !quiet {
		return run(args, stdout, stderr)
	}
	var progress bytes.Buffer
	code := run(args, &progress, stderr)
	if code != 0 {
		stderr.Write(progress.Bytes())
	}
	return code
}
