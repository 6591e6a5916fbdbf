package customization

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// bounded runs f with a time bound: a named pipe that is opened blocks for ever.
func bounded(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10 s (a named pipe or a device opened?)", what)
		return nil
	}
}

// Every host file the packages are written from is a regular file: a named pipe or a device in
// a data asset directory, or a file replaced by one after the answer file was checked, is an
// error at the answer file's line, not a hang or an endless read.
func TestSpecialSourceFiles(t *testing.T) {
	at := answerfile.Pos{File: "/a.xml", Line: 7, Col: 3}
	root := &answerfile.File{Path: "/a.xml", Owner: "Contoso", OwnerType: "OEM"}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) *answerfile.Resolved
		want  string
	}{
		{"named pipe in a data asset directory", func(t *testing.T, dir string) *answerfile.Resolved {
			os.Mkdir(filepath.Join(dir, "maps"), 0o755)
			os.WriteFile(filepath.Join(dir, "maps", "a.map"), []byte("map"), 0o644)
			mkfifo(t, filepath.Join(dir, "maps", "b.map"))
			return &answerfile.Resolved{C: &answerfile.Customizations{Root: root, Static: answerfile.Section{
				DataAssets: []*answerfile.DataAsset{{Type: "MapData", Source: filepath.Join(dir, "maps"), Pos: at}}}}}
		}, "/a.xml:7:3: data asset {{DIR}}/maps/b.map: a named pipe; expected a regular file"},
		{"device in a data asset directory", func(t *testing.T, dir string) *answerfile.Resolved {
			os.Mkdir(filepath.Join(dir, "maps"), 0o755)
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "maps", "zero.map")); err != nil {
				t.Fatal(err)
			}
			return &answerfile.Resolved{C: &answerfile.Customizations{Root: root, Static: answerfile.Section{
				DataAssets: []*answerfile.DataAsset{{Type: "MapData", Source: filepath.Join(dir, "maps"), Pos: at}}}}}
		}, "/a.xml:7:3: data asset {{DIR}}/maps/zero.map: a character device"},
		{"data asset replaced by a named pipe", func(t *testing.T, dir string) *answerfile.Resolved {
			mkfifo(t, filepath.Join(dir, "m.map"))
			return &answerfile.Resolved{C: &answerfile.Customizations{Root: root, Static: answerfile.Section{
				DataAssets: []*answerfile.DataAsset{{Type: "MapData", Source: filepath.Join(dir, "m.map"), Pos: at}}}}}
		}, "/a.xml:7:3: data asset {{DIR}}/m.map: a named pipe; expected a regular file or a directory"},
		{"application replaced by a named pipe", func(t *testing.T, dir string) *answerfile.Resolved {
			mkfifo(t, filepath.Join(dir, "app.xap"))
			return &answerfile.Resolved{C: &answerfile.Customizations{Root: root, Static: answerfile.Section{
				Applications: []*answerfile.Application{{Source: filepath.Join(dir, "app.xap"), Pos: at}}}}}
		}, "/a.xml:7:3: {{DIR}}/app.xap: a named pipe; expected a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := tt.setup(t, dir)
			out := t.TempDir()
			err := bounded(t, "Plan and Write", func() error {
				pkgs, err := Plan(r, Options{Device: "Phone1", Version: spkg.Version{Major: 1}, CPUType: "ARM"})
				if err != nil {
					return err
				}
				_, err = Write(out, pkgs, nil)
				return err
			})
			if want := strings.ReplaceAll(tt.want, "{{DIR}}", dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("a failed run left %d files", len(entries))
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Policy files are read whole, so they are bounded; a package that is not a regular file is
// refused before it is opened.
func TestPolicyFileBounds(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "Contoso.Big.spkg")
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Big", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	size := int64(answerfile.MaxFileBytes + 1)
	payload := []spkg.Payload{{DevicePath: answerfile.PolicyDir + "Big.policy.xml", Size: size,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(zeros{}, size)), nil }}}
	if _, err := spkg.WriteFile(big, m, payload, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "Contoso.Pipe.spkg")
	mkfifo(t, pipe)
	tests := []struct{ pkg, want string }{
		{big, filepath.Base(big) + `\Windows\CustomizationPolicy\Big.policy.xml: 16777217 bytes; expected at most 16777216`},
		{pipe, "package " + pipe + ": a named pipe; expected a regular file"},
	}
	for _, tt := range tests {
		err := bounded(t, "LoadPolicies", func() error { _, err := LoadPolicies([]string{tt.pkg}); return err })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", filepath.Base(tt.pkg), err, tt.want)
		}
	}
}
