package ffudiff

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// dsmDir is where a package's DSM lies in its partition (spkg.Manifest.ManifestPath).
const dsmDir = `\WINDOWS\PACKAGES\DSMFILES\`

// entry is what is kept of one file or directory: no content, its SHA-256.
type entry struct {
	path  string
	dir   bool
	size  int64
	attrs byte
	sum   [sha256.Size]byte
}

// Tree is one partition's files by upper-case path, the DSMs found in it, and the package
// owning each file by them.
type Tree struct {
	entries map[string]*entry
	owners  map[string]string
	// DSMs are the package manifests of the partition (\Windows\Packages\DsmFiles), in walk
	// order; one that does not parse is a note instead.
	DSMs []DSM
}

// DSM is a package manifest found in a partition.
type DSM struct {
	Path     string // its device path
	Manifest *spkg.Manifest
}

// TreeFile is a file or directory of a Tree.
type TreeFile struct {
	Path    string
	Dir     bool
	Size    int64
	Package string // the package whose DSM lists it; "" if none does
}

// Files lists the tree's entries in upper-case path order.
func (t *Tree) Files() []TreeFile {
	keys := make([]string, 0, len(t.entries))
	for k := range t.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]TreeFile, len(keys))
	for i, k := range keys {
		e := t.entries[k]
		out[i] = TreeFile{Path: e.path, Dir: e.dir, Size: e.size, Package: t.owners[k]}
	}
	return out
}

// Walk lists every file of a volume (path, size, attributes) and parses the DSMs it finds,
// reading no other file's content: what a report of the image needs. where names the volume
// in errors, and note takes what is not an error (a DSM that does not parse).
func Walk(vol volume.Reader, where string, note func(string, ...any)) (*Tree, error) {
	return walk(vol, where, note, false)
}

// walk lists every file of a volume and parses its DSMs; if hash, it also reads every file's
// content, hashing it as it streams (what a comparison of contents needs).
func walk(vol volume.Reader, where string, note func(string, ...any), hash bool) (*Tree, error) {
	t := &Tree{entries: map[string]*entry{}, owners: map[string]string{}}
	h := sha256.New()
	var dsm bytes.Buffer
	err := vol.Walk(func(e volume.Entry, r io.Reader) error {
		en := &entry{path: e.Path, dir: e.Dir, size: e.Size, attrs: e.Attrs}
		t.entries[strings.ToUpper(e.Path)] = en
		if e.Dir {
			return nil
		}
		isDSM := isDSMPath(e.Path) && e.Size <= volume.MaxReadFile
		if !hash && !isDSM {
			return nil
		}
		h.Reset()
		dst := io.Writer(h)
		if isDSM {
			dsm.Reset()
			dst = io.MultiWriter(h, &dsm)
		}
		n, err := io.Copy(dst, r)
		if err != nil {
			return fmt.Errorf("%s: %v", e.Path, err)
		}
		if n != e.Size {
			return fmt.Errorf("%s: read %d bytes of the %d its entry states", e.Path, n, e.Size)
		}
		h.Sum(en.sum[:0])
		if isDSM {
			t.own(e.Path, dsm.Bytes(), where, note)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	return t, nil
}

func isDSMPath(p string) bool {
	u := strings.ToUpper(p)
	return strings.HasPrefix(u, dsmDir) && strings.HasSuffix(u, ".DSM.XML") && !strings.Contains(u[len(dsmDir):], `\`)
}

// own records the files a DSM lists as its package's. A DSM that does not parse is a note.
func (t *Tree) own(path string, data []byte, where string, note func(string, ...any)) {
	m, err := spkg.ParseManifest(data, where+path)
	if err != nil {
		note("%v: its files are not attributed to a package", err)
		return
	}
	t.DSMs = append(t.DSMs, DSM{path, m})
	for _, fe := range m.Files {
		t.owners[strings.ToUpper(fe.DevicePath)] = m.Name()
	}
}

// files compares the files of every partition both images have a file system in.
func (c *comparison) files() error {
	for _, k := range c.partitionOrder() {
		va, vb := c.a.vols[k], c.b.vols[k]
		if va == nil || vb == nil {
			// Both raw: the blocks compare them; one raw: say so, once both images have it.
			if (va != nil || vb != nil) && c.a.im.Partition(k) != nil && c.b.im.Partition(k) != nil {
				c.note("%s: files not compared: %s in a, %s in b", c.b.im.Partition(k).Name, c.a.fs[k], c.b.fs[k])
			}
			continue
		}
		name := c.b.im.Partition(k).Name
		ta, err := walk(va, c.a.im.Path+": "+name, c.note, true)
		if err != nil {
			return err
		}
		tb, err := walk(vb, c.b.im.Path+": "+name, c.note, true)
		if err != nil {
			return err
		}
		// Attributes compare only between like file systems: the NTFS reader reports none.
		c.r.Files = append(c.r.Files, compareTrees(name, ta, tb, c.a.fs[k] == c.b.fs[k])...)
	}
	return nil
}

// compareTrees lists what differs between two partitions' files, by path (upper-case order);
// attributes too if attrs.
func compareTrees(partition string, a, b *Tree, attrs bool) []File {
	keys := make([]string, 0, len(a.entries)+len(b.entries))
	for k := range a.entries {
		keys = append(keys, k)
	}
	for k := range b.entries {
		if a.entries[k] == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []File
	for _, k := range keys {
		ea, eb := a.entries[k], b.entries[k]
		f := File{Partition: partition, SizeA: -1, SizeB: -1, Package: b.owners[k]}
		switch {
		case eb == nil:
			f.Path, f.Dir, f.SizeA, f.Change, f.Package = ea.path, ea.dir, ea.size, "removed", a.owners[k]
		case ea == nil:
			f.Path, f.Dir, f.SizeB, f.Change = eb.path, eb.dir, eb.size, "added"
		default:
			f.Path, f.Dir, f.SizeA, f.SizeB = eb.path, eb.dir, ea.size, eb.size
			switch {
			case ea.dir != eb.dir:
				f.Change = "type"
			case ea.size != eb.size || ea.sum != eb.sum:
				f.Change = "content"
			case attrs && ea.attrs != eb.attrs:
				f.Change = "attributes"
			default:
				continue
			}
		}
		if f.Dir {
			f.SizeA, f.SizeB = min(f.SizeA, 0), min(f.SizeB, 0)
		}
		out = append(out, f)
	}
	return out
}
