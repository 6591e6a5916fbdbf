package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no args", nil, 2, "", "usage: oemimage VERB"},
		{"help", []string{"help"}, 0, "imggen", ""},
		{"help verb", []string{"help", "imgtowim"}, 0, "oemimage imgtowim <FFUFileName> <WIMFileName>", ""},
		{"windows help switch", []string{"FeatureMerger", "/?"}, 0, "/InputFMDirPath:", ""},
		{"unknown verb", []string{"imgburn"}, 2, "", `unknown verb "imgburn"`},
		{"help unknown verb", []string{"help", "imgburn"}, 2, "", `unknown verb "imgburn"`},
		// Until their issues land, verbs fail plainly with status 2 and write nothing.
		{"imggen missing OEMInput", []string{"imggen", "out.ffu", "OEMInput.xml", "kit"}, 1, "", "oemimage imggen: OEMInput.xml: does not exist; expected a regular file"},
		{"imggen customization", []string{"imggen", "out.ffu", "OEMInput.xml", "kit", "c.xml", "1.0.0.0"}, 1, "", "oemimage imggen: OEMInput.xml: does not exist; expected a regular file"},
		{"imggen customization version", []string{"imggen", "out.ffu", "OEMInput.xml", "kit", "c.xml", "1.0"}, 2, "", "OEMCustomizationVer \"1.0\": expected a version"},
		{"imggen customization-out without answer file", []string{"imggen", "out.ffu", "OEMInput.xml", "kit", "--customization-out=."}, 2, "", "need OEMCustomizationXML"},
		{"imggen usage", []string{"imggen", "out.ffu"}, 2, "", "expected OutputFile OEMInputXML MSPackageRoot"},
		{"imggen tsa-root without trusted-root", []string{"imggen", "out.ffu", "OEMInput.xml", "kit", "--tsa-root=tsa.pem"}, 2, "", "--tsa-root needs --trusted-root"},
		{"featuremerger without variables", []string{"featuremerger", "fm.xml", "out", "1.0.0.0", "fms"}, 2, "", "/Variables: must set _cputype"},
		{"featuremerger bad version", []string{"featuremerger", "fm.xml", "out", "1.0", "fms"}, 2, "", "OutputPackageVersion"},
		{"imgtowim case-insensitive", []string{"ImgToWIM", "a.ffu", "a.wim"}, 1, "Reading the image file: a.ffu", "a.ffu: does not exist; expected a regular file"},
		{"imgtowim LZX", []string{"imgtowim", "a.ffu", "a.wim", "--compression=lzx"}, 1, "Reading the image file: a.ffu", "a.ffu: does not exist; expected a regular file"},
		{"imgtowim bad compression", []string{"imgtowim", "a.ffu", "a.wim", "--compression=lzms"}, 2, "", "takes lzx, xpress or none"},
		{"customizationgen usage", []string{"customizationgen", "out", "OEMInput.xml", "kit", "c.xml"}, 2, "", "expected OutputDirectory OEMInputXML MSPackageRoot OEMCustomizationXML OEMCustomizationVer (all required), got 4"},
		{"customizationgen missing output directory", []string{"customizationgen", "no-such-dir", "OEMInput.xml", "kit", "c.xml", "1.0.0.0"}, 1, "", "OutputDirectory no-such-dir: expected an existing directory"},
		{"pkggen missing project", []string{"pkggen", "x.pkg.xml"}, 1, "", "oemimage pkggen: x.pkg.xml: does not exist; expected a regular file"},
		{"pkggen usage", []string{"pkggen"}, 2, "", "expected one project file"},
		{"pkggen unknown switch", []string{"pkggen", "x.pkg.xml", "/bogus:1"}, 2, "", "unknown switch /bogus"},
		{"pkggen /onecore with a value", []string{"pkggen", "x.pkg.xml", "/onecore:yes"}, 2, "", "/onecore takes no value, got /onecore:yes"},
		{"pkggen unknown switch without value", []string{"pkggen", "x.pkg.xml", "/onecoreuap"}, 2, "", "unknown switch /onecoreuap (expected one of +|-compress"},
		{"ffu missing file", []string{"ffu", "info", "a.ffu"}, 1, "", "oemimage ffu: a.ffu: does not exist; expected a regular file"},
		{"ffu usage", []string{"ffu", "extract", "a.ffu"}, 2, "", "extract needs FILE.ffu and OUTPUT"},
		{"resolve missing OEMInput", []string{"resolve", "OEMInput.xml", "kit"}, 1, "", "oemimage resolve: OEMInput.xml: does not exist; expected a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit status = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantStdout == "" && stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestEveryVerbDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range verbs {
		if seen[v.name] {
			t.Errorf("verb %q listed twice", v.name)
		}
		seen[v.name] = true
		if !strings.HasPrefix(v.syntax, "oemimage "+v.name) || v.summary == "" || v.run == nil {
			t.Errorf("verb %q: syntax, summary and run must be set", v.name)
		}
	}
	for _, want := range []string{"imggen", "featuremerger", "imgtowim", "customizationgen", "pkggen", "ffu", "resolve", "imageapp"} {
		if !seen[want] {
			t.Errorf("verb %q missing", want)
		}
	}
}

func TestExpandParams(t *testing.T) {
	dir := t.TempDir()
	params := filepath.Join(dir, "args.params")
	if err := os.WriteFile(params, []byte("/CPUType:arm\r\n--package=a b.spkg\nout.ffu\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.params")
	os.WriteFile(empty, nil, 0o644)
	got, err := expandParams([]string{"imggen", "@" + params, "@" + empty, "@", "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"imggen", "/CPUType:arm", "--package=a b.spkg", "out.ffu", "@", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expandParams = %q, want %q", got, want)
	}
	if _, err := expandParams([]string{"@" + filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing params file: no error")
	}
	var stderr bytes.Buffer
	if code := run([]string{"@" + filepath.Join(dir, "missing")}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "params file") {
		t.Errorf("missing params file: code %d, stderr %q", code, stderr.String())
	}

	// Only regular files, and not too large: @/dev/zero used to read until memory ran out.
	fifo := filepath.Join(dir, "fifo.params")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.params")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, maxParamsBytes+1) != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{"/dev/zero", "params file: /dev/zero: a character device; expected a regular file"},
		{fifo, "fifo.params: a named pipe; expected a regular file"},
		{big, fmt.Sprintf("big.params: %d bytes; expected at most %d, the limit on a file read whole", maxParamsBytes+1, maxParamsBytes)},
	} {
		if _, err := expandParams([]string{"@" + tt.path}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("@%s: %v, want %q", tt.path, err, tt.want)
		}
	}
}

func TestStdoutFlag(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "help.txt")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--stdout=" + out, "help", "imgtowim"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), "<WIMFileName>") || stdout.Len() != 0 {
		t.Errorf("file %q (%v), stdout %q", data, err, stdout.String())
	}
	failed := filepath.Join(dir, "failed.txt")
	if code := run([]string{"--stdout=" + failed, "imgburn"}, &stdout, &stderr); code == 0 {
		t.Error("unknown verb succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed run left files behind: %v", entries)
	}
}

// Quiet runs (Bazel actions) keep the verb's progress unless the verb fails.
func TestRunQuietly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runQuietly(true, []string{"help"}, &stdout, &stderr); code != 0 || stdout.Len() != 0 || stderr.Len() != 0 {
		t.Errorf("quiet success: code %d, stdout %q, stderr %q; want 0 and nothing printed", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := runQuietly(true, []string{"imgtowim", "missing.ffu", "out.wim"}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "Reading the image file: missing.ffu") {
		t.Errorf("quiet failure: code %d, stderr %q; want the progress on stderr", code, stderr.String())
	}
	stdout.Reset()
	if code := runQuietly(false, []string{"help"}, &stdout, &stderr); code != 0 || stdout.Len() == 0 {
		t.Errorf("not quiet: code %d, stdout %q; want the usage", code, stdout.String())
	}
}

func TestEnterWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(".") // the working directory (and PWD) come back when the test ends, whatever it does
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "retail.ffu"), nil, 0o644)
	if err := enterWorkingDirectory(""); err != nil {
		t.Fatal(err)
	}
	if wd, _ := os.Getwd(); wd != old {
		t.Fatalf("no BUILD_WORKING_DIRECTORY moved to %s", wd)
	}
	if err := enterWorkingDirectory(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("retail.ffu"); err != nil {
		t.Errorf("a relative path does not resolve against BUILD_WORKING_DIRECTORY: %v", err)
	}
	if err := enterWorkingDirectory(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "BUILD_WORKING_DIRECTORY") {
		t.Errorf("missing directory: err = %v", err)
	}
}
