package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/volume"
)

// checkWIM has wimlib-imagex verify and apply the WIM, and compares what it applies with the
// MainOS partition of the image it was captured from: the same names, the same content.
func checkWIM(image, wimPath string, w io.Writer) error {
	if _, err := run("wimlib-imagex", "verify", wimPath); err != nil {
		return err
	}
	info, err := run("wimlib-imagex", "info", wimPath)
	if err != nil {
		return err
	}
	if !strings.Contains(info, "Boot Index:     1") {
		return fmt.Errorf("wimlib-imagex info: boot index is not 1:\n%s", info)
	}
	dir, err := os.MkdirTemp("", "imagecheck-wim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	applied := filepath.Join(dir, "applied")
	if _, err := run("wimlib-imagex", "apply", wimPath, "1", applied); err != nil {
		return err
	}
	want := map[string][]byte{}
	if err := mainOSFiles(image, want); err != nil {
		return err
	}
	got := map[string][]byte{}
	err = filepath.WalkDir(applied, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == applied {
			return err
		}
		rel, _ := filepath.Rel(applied, p)
		key := `\` + strings.ReplaceAll(rel, "/", `\`)
		if d.IsDir() {
			got[key+`\`] = nil
			return nil
		}
		b, err := os.ReadFile(p)
		got[key] = b
		return err
	})
	if err != nil {
		return err
	}
	var diffs []string
	for p, b := range want {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, "not applied: "+p)
		case !bytes.Equal(g, b):
			diffs = append(diffs, "content differs: "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "not in MainOS: "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		return fmt.Errorf("wimlib-imagex apply differs from MainOS:\n  %s", strings.Join(diffs, "\n  "))
	}
	fmt.Fprintf(w, "wimlib-imagex verify, info (boot index 1) and apply: %d entries, as in MainOS\n", len(want))
	return nil
}

// mainOSFiles reads every file (and, as path\, directory) of the image's MainOS.
func mainOSFiles(image string, out map[string][]byte) error {
	im, err := volume.OpenImage(image, false)
	if err != nil {
		return err
	}
	defer im.Close()
	mainOS := im.Partition("MainOS")
	if mainOS == nil {
		return fmt.Errorf("%s has no MainOS partition", image)
	}
	vol, err := im.Volume(mainOS)
	if err != nil {
		return err
	}
	return vol.Walk(func(en volume.Entry, r io.Reader) error {
		if en.Dir {
			out[en.Path+`\`] = nil
			return nil
		}
		b, err := io.ReadAll(r)
		out[en.Path] = b
		return err
	})
}
