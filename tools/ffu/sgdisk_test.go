package ffu

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/disk"
)

// sgdisk finds sgdisk (Debian gdisk), also in /usr/sbin and /sbin, which are not always on
// PATH. Without it the test skips, unless OEMIMAGE_REQUIRE_CHECKERS=1 (tests/test_all.sh).
func sgdisk(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("sgdisk"); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, "sgdisk")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("OEMIMAGE_REQUIRE_CHECKERS") == "1" {
		t.Fatal("sgdisk not found (Debian package gdisk): the bootstrap (tools/bazel) installs it")
	}
	t.Skip("sgdisk not installed")
	return ""
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestSgdisk has sgdisk, which nobody here wrote, make the partition table: the disk goes
// through Write, Open, Verify and Extract, sgdisk -v must find no problem in the extracted
// disk, and the extracted disk must equal the input byte for byte (everything that is not
// zero on the input is either GPT or allocated).
func TestSgdisk(t *testing.T) {
	tool := sgdisk(t)
	for _, tc := range []struct {
		name    string
		chunkKB uint32
		v2      bool
	}{{"v1_chunk128", 128, false}, {"v2_chunk256", 256, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "disk.img")
			const size = 64 << 20
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			runTool(t, tool, "-o",
				"-n", "1:2048:+4M", "-c", "1:EFIESP", "-t", "1:ef00",
				"-n", "2:0:+24M", "-c", "2:MainOS", "-t", "2:0700",
				"-n", "3:0:+8M", "-c", "3:CrashDump", "-t", "3:0700",
				"-n", "4:0:0", "-c", "4:Data", "-t", "4:0700",
				path)
			runTool(t, tool, "-v", path)

			g, err := disk.ReadGPT(f, size, 512)
			if err != nil {
				t.Fatalf("reading sgdisk's GPT: %v", err)
			}
			d := &testDisk{f: f, path: path, size: size, ss: 512}
			required := map[string]bool{"EFIESP": true, "MainOS": true}
			for i, e := range g.Entries {
				d.parts = append(d.parts, testPart{name: e.Name, first: e.FirstLBA, last: e.LastLBA, required: required[e.Name]})
				start := int64(e.FirstLBA) * 512
				d.fill(t, start, 3000, int64(i), false)                            // boot sector and metadata
				d.fill(t, start+3*BlockSize/2, 5*BlockSize+17, int64(i+10), false) // a file
				d.fill(t, int64(e.LastLBA+1)*512-700, 700, int64(i+20), false)     // the partition's last bytes
			}
			if len(d.parts) != 4 {
				t.Fatalf("sgdisk made %d partitions", len(d.parts))
			}
			img := d.image(tc.chunkKB, tc.v2)
			for i := range img.Partitions {
				img.Partitions[i].FirstLBA, img.Partitions[i].LastLBA = 0, 0 // from the GPT
			}
			ffuPath := filepath.Join(dir, "disk.ffu")
			if _, err := WriteFile(ffuPath, img); err != nil {
				t.Fatal(err)
			}
			ff, err := os.Open(ffuPath)
			if err != nil {
				t.Fatal(err)
			}
			defer ff.Close()
			st, _ := ff.Stat()
			r, err := Open(ff, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Verify(); err != nil {
				t.Fatal(err)
			}
			outPath := filepath.Join(dir, "extracted.img")
			out, err := os.Create(outPath)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if err := r.Extract(out); err != nil {
				t.Fatal(err)
			}
			v := runTool(t, tool, "-v", outPath)
			if !strings.Contains(v, "No problems found") {
				t.Errorf("sgdisk -v on the extracted disk:\n%s", v)
			}
			p := runTool(t, tool, "-p", outPath)
			for _, name := range []string{"EFIESP", "MainOS", "CrashDump", "Data"} {
				if !strings.Contains(p, name) {
					t.Errorf("sgdisk -p lacks %s:\n%s", name, p)
				}
			}
			in, _ := os.ReadFile(path)
			got, _ := os.ReadFile(outPath)
			if !bytes.Equal(in, got) {
				t.Error("the extracted disk differs from the input")
			}
			checkExtracted(t, d, got)
		})
	}
}
