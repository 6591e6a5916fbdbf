package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
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
	if _, err := readfile.Regular(in); err != nil {
		return fmt.Errorf("%v; no WIM written", err)
	}
	im, err := volume.OpenImage(in, true)
	if err != nil {
		return fmt.Errorf("%v; no WIM written", err)
	}
	defer im.Close()
	for _, w := range im.FFU.Warnings() {
		fmt.Fprintf(stderr, "oemimage imgtowim: warning: %s: %s\n", in, w)
	}
	mainOS := im.Partition("MainOS")
	if mainOS == nil || im.Partition("EFIESP") == nil {
		return fmt.Errorf("%s: the image needs MainOS and EFIESP partitions (has %s)", in, im.Names())
	}
	vol, err := im.Volume(mainOS)
	if err != nil {
		return fmt.Errorf("%s: MainOS: %v", in, err)
	}
	// The reason says which: a file the image lacks, or one that cannot be read (corrupt).
	if _, err := vol.ReadFile(deviceLayoutPath); err != nil {
		return fmt.Errorf("%s: MainOS: %v; expected the device layout ImgGen writes there (not an image ImgGen made?)", in, err)
	}
	when, err := imggen.EpochFromEnv(winpath.EnvMap(os.Environ()))
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\nCreating WIM at '%s' ...\n\nCapturing 'MainOS'...\n", out)
	var set atomicfile.Set
	defer set.Abort()
	wf, err := set.Create(out)
	if err != nil {
		return err
	}
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
		return fmt.Errorf("%s: %v", out, err)
	}
	if err := set.Commit(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "WIM creation complete.")
	return nil
}
