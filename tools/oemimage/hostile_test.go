package main

// The hostile-input regression suite: each case writes inputs nobody sane would (a corrupt
// FFU, a decompression bomb, a macro that doubles itself, a named pipe where a file belongs)
// and runs the real binary on them in a child process, under the limits CI enforces:
// a 2 GiB address space (prlimit --as) and a time bound. A case passes when the verb exits
// non-zero (or zero, where the case says the input is valid after all), prints no Go panic,
// names the file at fault, and leaves nothing behind: the case's directory holds exactly the
// files it held before the run, and the run's TMPDIR is empty.
//
// Cases are registered from hostile_*_test.go files, one per reader, with addHostile.

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// hostileCase is one input and the verb run on it.
type hostileCase struct {
	name string
	// setup writes the inputs into dir and returns the verb's arguments. It runs in the test
	// process, so it may use the project's writers to make a valid input it then corrupts.
	setup func(t *testing.T, dir string) []string
	// want is what the output must contain: the file, element or value at fault.
	want []string
	// exitZero marks an input that is valid after all (for instance a documented form the
	// original accepts); the other checks still apply, except that outputs may appear.
	exitZero bool
	// timeout overrides the default bound (hostileTimeout).
	timeout time.Duration
}

var hostileCases []hostileCase

func addHostile(c ...hostileCase) { hostileCases = append(hostileCases, c...) }

const (
	hostileAddressSpace = "2147483648" // bytes: prlimit --as, as in CI
	hostileTimeout      = 60 * time.Second
	asMainEnv           = "OEMIMAGE_TEST_AS_MAIN"
)

// TestMain lets the suite run this test binary as the oemimage command itself: with
// OEMIMAGE_TEST_AS_MAIN=1 it is main, so the child runs exactly the code under test.
func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// snapshot lists every path below dir with its size (directories as -1).
func snapshot(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			m[rel] = -1
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m[rel] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func diffSnapshots(before, after map[string]int64) (added, changed []string) {
	for p, s := range after {
		b, ok := before[p]
		switch {
		case !ok:
			added = append(added, p)
		case b != s:
			changed = append(changed, p)
		}
	}
	sort.Strings(added)
	sort.Strings(changed)
	return added, changed
}

func TestHostileInputs(t *testing.T) {
	if len(hostileCases) == 0 {
		t.Fatal("no hostile cases registered")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	prlimit, prErr := exec.LookPath("prlimit")
	seen := map[string]bool{}
	for _, c := range hostileCases {
		if seen[c.name] {
			t.Fatalf("hostile case %q registered twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			work := filepath.Join(root, "work")
			tmp := filepath.Join(root, "tmp")
			for _, d := range []string{work, tmp} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			args := c.setup(t, work)
			before := snapshot(t, work)

			timeout := c.timeout
			if timeout == 0 {
				timeout = hostileTimeout
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			var cmd *exec.Cmd
			// The race detector reserves far more address space than 2 GiB: under -race the
			// suite runs without the limit (tests/test_all.sh runs it again without -race).
			if prErr == nil && !raceEnabled {
				cmd = exec.CommandContext(ctx, prlimit, append([]string{"--as=" + hostileAddressSpace, "--", self}, args...)...)
			} else {
				cmd = exec.CommandContext(ctx, self, args...)
			}
			cmd.Dir = work
			cmd.Env = append(childEnv(), asMainEnv+"=1", "TMPDIR="+tmp, "GOTRACEBACK=all")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			runErr := cmd.Run()
			elapsed := time.Since(start)
			text := out.String()
			if ctx.Err() != nil {
				t.Fatalf("no answer within %v: %s", timeout, tail(text))
			}
			if strings.Contains(text, "panic:") || strings.Contains(text, "goroutine ") || strings.Contains(text, "fatal error:") {
				t.Fatalf("the run crashed:\n%s", tail(text))
			}
			code := 0
			if ee, ok := runErr.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if runErr != nil {
				t.Fatal(runErr)
			}
			if c.exitZero && code != 0 {
				t.Errorf("exit %d, want 0 (a valid input): %s", code, tail(text))
			}
			if !c.exitZero && code == 0 {
				t.Errorf("exit 0 on a hostile input: %s", tail(text))
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output does not name %q:\n%s", w, tail(text))
				}
			}
			added, changed := diffSnapshots(before, snapshot(t, work))
			if !c.exitZero && (len(added) > 0 || len(changed) > 0) {
				t.Errorf("a failed run left files behind: added %v, changed %v", added, changed)
			}
			if left := snapshot(t, tmp); len(left) > 1 {
				t.Errorf("temporary files left in TMPDIR: %v", left)
			}
			t.Logf("exit %d in %v: %s", code, elapsed.Round(time.Millisecond), firstLine(text))
		})
	}
}

// childEnv is the test's environment without Bazel's test-runner variables: with TEST_SRCDIR
// and TEST_WORKSPACE set, rules_go's test main changes into the runfiles before main runs, and
// the child would not see the case's directory.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEST_SRCDIR=") && !strings.HasPrefix(kv, "TEST_WORKSPACE=") {
			env = append(env, kv)
		}
	}
	return env
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// writeFile writes data to dir/name, for setups.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
