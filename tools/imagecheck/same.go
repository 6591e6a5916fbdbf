package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/volume"
)

// Files that record how an image was assembled rather than what it holds: a merged package
// has other DSM and catalog names than its sources, and the histories list other packages.
func packagingRecord(path string) bool {
	p := strings.ToLower(path)
	return strings.HasPrefix(p, `\windows\packages\dsmfiles\`) ||
		strings.HasPrefix(p, `\windows\system32\catroot\`) ||
		p == `\windows\imageupdate\updatehistory.xml` ||
		p == `\shareddata\dushared\updateoutput.xml`
}

// deviceFiles lists partition\path -> SHA-256 of every file of every FAT32 and NTFS partition.
func deviceFiles(image string) (map[string]string, error) {
	im, err := volume.OpenImage(image, false)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	out := map[string]string{}
	for i := range im.GPT.Entries {
		e := &im.GPT.Entries[i]
		if !im.IsFAT32(e) && !im.IsNTFS(e) {
			continue // raw, or FAT12/16 (EFIESP): checked by fsck.fat and mtype instead
		}
		vol, err := im.Volume(e)
		if err != nil {
			return nil, fmt.Errorf("%s: partition %s: %v", image, e.Name, err)
		}
		err = vol.Walk(func(en volume.Entry, r io.Reader) error {
			if en.Dir || packagingRecord(en.Path) {
				return nil
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				return err
			}
			out[e.Name+en.Path] = fmt.Sprintf("%x", h.Sum(nil))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: partition %s: %v", image, e.Name, err)
		}
	}
	return out, nil
}

// sameFiles checks that two images hold the same device files with the same content (what
// merging must preserve), packaging records aside.
func sameFiles(a, b string, w io.Writer) error {
	fa, err := deviceFiles(a)
	if err != nil {
		return err
	}
	fb, err := deviceFiles(b)
	if err != nil {
		return err
	}
	var diffs []string
	for p, h := range fa {
		if hb, ok := fb[p]; !ok {
			diffs = append(diffs, "only in "+a+": "+p)
		} else if hb != h {
			diffs = append(diffs, "content differs: "+p)
		}
	}
	for p := range fb {
		if _, ok := fa[p]; !ok {
			diffs = append(diffs, "only in "+b+": "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		return fmt.Errorf("the images differ:\n  %s", strings.Join(diffs, "\n  "))
	}
	fmt.Fprintf(w, "%s and %s hold the same %d device files\n", a, b, len(fa))
	return nil
}
