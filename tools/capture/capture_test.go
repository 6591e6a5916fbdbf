package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
	"github.com/oemimage/rules_oemimage/tools/wim"
)

// image builds an FFU with imggen; layout false leaves DeviceLayout.xml out of MainOS (an
// image ImgGen did not make), by putting the layout package in EFIESP.
func image(t *testing.T, layoutInMainOS bool) string {
	t.Helper()
	o := testimage.Options{}
	if !layoutInMainOS {
		o.LayoutPartition = "EFIESP"
	}
	out, err := testimage.FFU(t.TempDir(), "capture", o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestToWIM(t *testing.T) {
	good := image(t, true)
	noLayout := image(t, false)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.ffu")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		comp    wim.Compression
		wantErr string
	}{
		{name: "LZX", in: good, comp: wim.LZX},
		{name: "XPRESS", in: good, comp: wim.XPRESS},
		{name: "none", in: good, comp: wim.None},
		{name: "no device layout in MainOS", in: noLayout, wantErr: noLayout + `: MainOS: `},
		{name: "truncated", in: truncated, wantErr: truncated},
		{name: "a directory", in: filepath.Dir(good), wantErr: filepath.Dir(good) + ": a directory; expected a regular file; no WIM written"},
		{name: "missing", in: filepath.Join(t.TempDir(), "none.ffu"), wantErr: "none.ffu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outDir := t.TempDir()
			out := filepath.Join(outDir, "mainos.wim")
			var progress, warnings bytes.Buffer
			err := ToWIM(tt.in, out, Options{Compression: tt.comp, Time: time.Unix(1e9, 0), Progress: &progress, Warnings: &warnings})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %q", err, tt.wantErr)
				}
				if left, _ := os.ReadDir(outDir); len(left) != 0 {
					t.Errorf("a failed capture left %d files", len(left))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(progress.String(), "WIM creation complete.\n") || warnings.Len() != 0 {
				t.Errorf("progress %q, warnings %q", progress.String(), warnings.String())
			}
			// wimlib-imagex, an independent reader, lists what MainOS holds.
			wimlib := checker.Find(t, "wimlib-imagex")
			list := checker.Run(t, "", wimlib, "dir", out, "1")
			for _, want := range []string{"/Windows/System32/ntoskrnl.exe", "/Windows/ImageUpdate/DeviceLayout.xml", "/Windows/ImageUpdate/UpdateHistory.xml"} {
				if !strings.Contains(list, want) {
					t.Errorf("wimlib-imagex dir: no %s in\n%s", want, list)
				}
			}
			checker.Run(t, "", wimlib, "verify", out)
		})
	}
}
