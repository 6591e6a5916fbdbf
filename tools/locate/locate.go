// Package locate finds the host file a Windows path of the XML names: by file name among the
// files given to the tool (Bazel's --package=PATH and --fm=PATH), or on disk. It is a leaf
// package (it needs only tools/winpath) so that every verb that looks files up, resolve and
// merge alike, shares one Locator and one rule for choosing it.
package locate

import (
	"fmt"

	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Locator finds the file a Windows path names.
type Locator interface {
	// Locate returns the host path of the file whose expanded Windows path is winPath
	// (directory and file name, variables expanded; unknown ones left in place).
	Locate(winPath string) (string, error)
}

// Index finds files by file name among the files given to the tool. Only the file name must
// be free of unknown variables: the directory part ($(mspackageroot), %OEM_ROOT%, C:\...) is
// what Bazel replaces.
type Index struct {
	Names *Names
	// Among, if set, names where the files come from in a failed look-up ("the --fm files").
	Among string
}

// Locate implements Locator.
func (l Index) Locate(winPath string) (string, error) {
	name := winpath.Base(winPath)
	if err := winpath.Check(name); err != nil {
		return "", err
	}
	p, err := l.Names.Lookup(name)
	if err != nil && l.Among != "" {
		return "", fmt.Errorf("%v; expected it among %s", err, l.Among)
	}
	return p, err
}

// Disk finds files on disk: the whole path must expand, drive letters map through Mapper,
// and the look-up ignores case as Windows does.
type Disk struct {
	Mapper winpath.Mapper
	Finder *winpath.Finder
}

// NewDisk returns a Disk locator with an empty directory cache.
func NewDisk(m winpath.Mapper) *Disk {
	return &Disk{Mapper: m, Finder: winpath.NewFinder()}
}

// Locate implements Locator.
func (l *Disk) Locate(winPath string) (string, error) {
	if err := winpath.Check(winPath); err != nil {
		return "", err
	}
	host, err := l.Mapper.ToHost(winPath)
	if err != nil {
		return "", err
	}
	return l.Finder.Find(host)
}

// Files is the one rule every verb follows: the files given on the command line, found by
// name, if there are any; otherwise the disk (disk, shared so that its directory cache
// serves every look-up of a run; nil makes a new one). among names the files in a failed
// look-up, e.g. "the --fm files" ("" adds nothing).
func Files(files []string, among string, disk *Disk) Locator {
	if len(files) > 0 {
		return Index{Names: NewNames(files), Among: among}
	}
	if disk == nil {
		disk = NewDisk(winpath.Mapper{})
	}
	return disk
}
