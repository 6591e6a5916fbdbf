// Package capture captures the MainOS partition of an FFU image as a bootable WIM, as
// ImgToWIM.exe does (oemimage imgtowim).
package capture

import (
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/volume"
	"github.com/oemimage/rules_oemimage/tools/wim"
)

// Options of a capture.
type Options struct {
	Compression wim.Compression // of the WIM's resources; the original's is LZX
	Time        time.Time       // the WIM's timestamps
	Progress    io.Writer       // ImgToWIM's progress lines; nil for none
	Warnings    io.Writer       // the FFU reader's warnings; nil for none
}

// ToWIM writes the MainOS partition of the FFU at in as the one, bootable image of the WIM at
// out, all or nothing, after checking the FFU's hashes and, as the original does, that the
// image has MainOS, EFIESP and \Windows\ImageUpdate\DeviceLayout.xml.
func ToWIM(in, out string, opt Options) error {
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	fmt.Fprintf(progress, "Reading the image file: %s\n", in)
	if _, err := readfile.Regular(in); err != nil {
		return fmt.Errorf("%v; no WIM written", err)
	}
	im, err := volume.OpenImage(in, true)
	if err != nil {
		return fmt.Errorf("%v; no WIM written", err)
	}
	defer im.Close()
	if opt.Warnings != nil {
		for _, w := range im.FFU.Warnings() {
			fmt.Fprintf(opt.Warnings, "oemimage imgtowim: warning: %s: %s\n", in, w)
		}
	}
	vol, err := mainOS(im, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "\nCreating WIM at '%s' ...\n\nCapturing 'MainOS'...\n", out)
	if err := write(im, vol, in, out, opt); err != nil {
		return err
	}
	fmt.Fprintln(progress, "WIM creation complete.")
	return nil
}

// mainOS is the MainOS volume of the image, checked as ImgToWIM checks it.
func mainOS(im *volume.Image, in string) (volume.Reader, error) {
	p := im.Partition("MainOS")
	if p == nil || im.Partition("EFIESP") == nil {
		return nil, fmt.Errorf("%s: the image needs MainOS and EFIESP partitions (has %s)", in, im.Names())
	}
	vol, err := im.Volume(p)
	if err != nil {
		return nil, fmt.Errorf("%s: MainOS: %v", in, err)
	}
	// The reason says which: a file the image lacks, or one that cannot be read (corrupt).
	if _, err := vol.ReadFile(imageconst.DeviceLayoutPath); err != nil {
		return nil, fmt.Errorf("%s: MainOS: %v; expected the device layout ImgGen writes there (not an image ImgGen made?)", in, err)
	}
	return vol, nil
}

// write captures vol into the WIM at out.
func write(im *volume.Image, vol volume.Reader, in, out string, opt Options) error {
	var set atomicfile.Set
	defer set.Abort()
	wf, err := set.Create(out)
	if err != nil {
		return err
	}
	h := sha256.Sum256(im.FFU.HashTable()) // the WIM's GUID follows the FFU's content
	var guid [16]byte
	copy(guid[:], h[:])
	w, err := wim.NewWriter(wf, wim.Options{Compression: opt.Compression, GUID: guid, Time: opt.Time, Name: "MainOS", Description: "MainOS of " + filepath.Base(in)})
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
	return set.Commit()
}
