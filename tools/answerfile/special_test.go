package answerfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a named pipe at dir/name: opening it for reading blocks until a writer comes,
// which none will.
func mkfifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

// sparse makes dir/name of size bytes without writing them.
func sparse(t *testing.T, dir, name string, size int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// loadBounded runs Load with a time bound: a path that blocks is a failure, not a hung test.
func loadBounded(t *testing.T, path string, env map[string]string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Load(path, env)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%s) did not return within 10 s (a named pipe or a device opened?)", path)
		return nil
	}
}

// Named pipes, devices, directories and oversized files where the answer file names a file are
// refused by name, at the answer file's line, before anything blocks or fills memory.
func TestSpecialFiles(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	asset := func(src string) string {
		return static(`<Settings Path="LockScreen"><Asset Name="Wallpapers" Source="` + src + `"/></Settings>`)
	}
	data := func(src string) string {
		return static(`<DataAssets Type="MapData"><DataAsset Source="` + src + `"/></DataAssets>`)
	}
	tests := []struct {
		name  string
		root  string
		setup func(t *testing.T, dir string)
		entry string // the file Load is given (default root.xml)
		want  []string
	}{
		{"named-pipe asset", answer("", asset(`$(ASSETS)\pipe.jpg`)), func(t *testing.T, dir string) { mkfifo(t, dir, "pipe.jpg") }, "",
			[]string{"root.xml:4:", "asset {{DIR}}/pipe.jpg: a named pipe; expected a regular file"}},
		{"device asset", answer("", asset(`/dev/zero`)), nil, "",
			[]string{"root.xml:4:", "asset /dev/zero: a character device; expected a regular file"}},
		{"directory asset", answer("", asset(`$(ASSETS)\sub`)), func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "sub"), 0o755) }, "",
			[]string{"root.xml:4:", "asset {{DIR}}/sub: a directory; expected a regular file"}},
		{"device application", answer("", static(`<Applications><Application Source="/dev/zero"/></Applications>`)), nil, "",
			[]string{"root.xml:4:", "application /dev/zero: a character device"}},
		{"named-pipe license", answer("", static(`<Applications><Application Source="$(ASSETS)\a.jpg" License="$(ASSETS)\lic.xml"/></Applications>`)),
			func(t *testing.T, dir string) { mkfifo(t, dir, "lic.xml") }, "",
			[]string{"root.xml:4:", "application license {{DIR}}/lic.xml: a named pipe"}},
		{"named-pipe data asset", answer("", data(`$(ASSETS)\maps`)), func(t *testing.T, dir string) { mkfifo(t, dir, "maps") }, "",
			[]string{"root.xml:4:", "data asset {{DIR}}/maps: a named pipe; expected a regular file or a directory"}},
		{"named-pipe import", answer("", imports("pipe.xml")), func(t *testing.T, dir string) { mkfifo(t, dir, "pipe.xml") }, "",
			[]string{"root.xml:3:", "import {{DIR}}/pipe.xml: a named pipe; expected a regular file"}},
		{"device import", answer("", `<Imports><Import Source="/dev/zero"/></Imports>`), nil, "",
			[]string{"root.xml:3:", "import /dev/zero: a character device; expected a regular file"}},
		{"directory import", answer("", imports("sub")), func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "sub"), 0o755) }, "",
			[]string{"root.xml:3:", "import {{DIR}}/sub: a directory"}},
		{"huge import", answer("", imports("huge.xml")), func(t *testing.T, dir string) { sparse(t, dir, "huge.xml", MaxFileBytes+1) }, "",
			[]string{"root.xml:3:", "import {{DIR}}/huge.xml: 16777217 bytes; expected at most 16777216"}},
		{"huge answer file", "", func(t *testing.T, dir string) { sparse(t, dir, "huge.xml", MaxFileBytes+1) }, "huge.xml",
			[]string{"answer file {{DIR}}/huge.xml: 16777217 bytes; expected at most 16777216"}},
		{"named-pipe answer file", "", func(t *testing.T, dir string) { mkfifo(t, dir, "pipe.xml") }, "pipe.xml",
			[]string{"answer file {{DIR}}/pipe.xml: a named pipe; expected a regular file"}},
		{"directory answer file", "", func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "sub"), 0o755) }, "sub",
			[]string{"answer file {{DIR}}/sub: a directory; expected a regular file"}},
		{"missing answer file", "", nil, "missing.xml",
			[]string{"answer file {{DIR}}/missing.xml: does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"a.jpg": "jpg"}
			if tt.root != "" {
				files["root.xml"] = tt.root
			}
			dir := writeFiles(t, files)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			entry := tt.entry
			if entry == "" {
				entry = "root.xml"
			}
			err := loadBounded(t, filepath.Join(dir, entry), map[string]string{"ASSETS": dir})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "{{DIR}}", dir); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
