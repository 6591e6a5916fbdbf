// Package checker runs the independent tools (cabextract, gcab, fsck.fat, mtools, sgdisk,
// wimlib-imagex...) that tests use to judge this project's outputs.
package checker

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Find returns the path of a tool, looking in PATH and the sbin directories test
// environments leave out. Without it the test is skipped, unless OEMIMAGE_REQUIRE_CHECKERS=1
// (tests/test_all.sh, CI), where a missing tool fails it.
func Find(t testing.TB, name string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/sbin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p
		}
	}
	if os.Getenv("OEMIMAGE_REQUIRE_CHECKERS") == "1" {
		t.Fatalf("%s not found: the bootstrap (tools/bazel) installs it", name)
	}
	t.Skipf("%s not installed", name)
	return ""
}

// Run runs a tool found by Find in dir ("" for the current one) and returns its combined
// output; a non-zero exit fails the test.
func Run(t testing.TB, dir, path string, args ...string) string {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	// mtools reads non-ASCII names in the locale's charset; Bazel runs tests with none.
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", path, strings.Join(args, " "), err, out)
	}
	return string(out)
}
