package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/volume"
	"github.com/oemimage/rules_oemimage/tools/wim"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

const deviceLayoutPath = `\Windows\ImageUpdate\DeviceLayout.xml`

// runImgToWIM is `oemimage imgtowim <FFUFileName> <WIMFileName> [--compression=lzx|xpress|none]`:
// ImgToWIM's command line. It captures the MainOS partition of the FFU as the WIM's one,
// bootable image, after checking the FFU's hashes and, as the original does, that the image
// has MainOS, EFIESP and \Windows\ImageUpdate\DeviceLayout.xml.
func runImgToWIM(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{flags: []string{"compression"}})
	if err != nil {
		return err
	}
	if len(c.positional) != 2 {
		return usageError{fmt.Sprintf("expected <FFUFileName> <WIMFileName>, got %d argument(s)", len(c.positional))}
	}
	in, out := c.positional[0], c.positional[1]
	comp := wim.LZX // the original ImgToWIM's compression
	if v := c.flags["compression"]; len(v) > 0 {
		switch strings.ToLower(v[len(v)-1]) {
		case "none":
			comp = wim.None
		case "xpress":
			comp = wim.XPRESS
		case "lzx":
		default:
			return usageError{"--compression= takes lzx, xpress or none"}
		}
	}

	fmt.Fprintf(stdout, "Reading the image file: %s\n", in)
	im, err := volume.OpenImage(in, true)
	if err != nil {
		return fmt.Errorf("%v; no WIM written", err)
	}
	defer im.Close()
	mainOS := im.Partition("MainOS")
	if mainOS == nil || im.Partition("EFIESP") == nil {
		return fmt.Errorf("%s: the image needs MainOS and EFIESP partitions (has %s)", in, im.Names())
	}
	vol, err := im.Volume(mainOS)
	if err != nil {
		return fmt.Errorf("%s: MainOS: %v", in, err)
	}
	if _, err := vol.ReadFile(deviceLayoutPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: MainOS has no %s: not an image ImgGen made", in, deviceLayoutPath)
	} else if err != nil {
		return fmt.Errorf("%s: MainOS: %v", in, err) // a corrupt volume, not a missing file
	}
	when, err := imggen.EpochFromEnv(winpath.EnvMap(os.Environ()))
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\nCreating WIM at '%s' ...\n\nCapturing 'MainOS'...\n", out)
	wf, err := os.CreateTemp(filepath.Dir(out), ".imgtowim-*.wim")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			wf.Close()
			os.Remove(wf.Name())
		}
	}()
	h := sha256.Sum256(im.FFU.HashTable()) // the WIM's GUID follows the FFU's content
	var guid [16]byte
	copy(guid[:], h[:])
	w, err := wim.NewWriter(wf, wim.Options{Compression: comp, GUID: guid, Time: when, Name: "MainOS", Description: "MainOS of " + filepath.Base(in)})
	if err != nil {
		return err
	}
	// FAT has no reparse points: there are no top-level junction directories to leave out.
	err = vol.Walk(func(e volume.Entry, r io.Reader) error {
		if e.Dir {
			return w.AddDir(e.Path, wim.AttrDirectory)
		}
		return w.AddFile(e.Path, e.Size, r, wim.AttrArchive)
	})
	if err != nil {
		return fmt.Errorf("%s: capturing MainOS: %v", in, err)
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := wf.Close(); err != nil {
		return err
	}
	if err := os.Chmod(wf.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(wf.Name(), out); err != nil {
		return err
	}
	done = true
	fmt.Fprintln(stdout, "WIM creation complete.")
	return nil
}
