package resolve

import (
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Locator finds the file a selected package names.
type Locator interface {
	// Locate returns the host path of the package whose expanded Windows path is winPath
	// (the FM's Path joined with Name, variables expanded; unknown ones left in place).
	Locate(winPath string) (string, error)
}

// IndexLocator finds packages by file name among the files given to the tool (Bazel's
// --package=PATH). Only the file name must be free of unknown variables: the directory part
// ($(mspackageroot), %OEM_ROOT%, C:\...) is what Bazel replaces.
type IndexLocator struct{ Index *winpath.Index }

// Locate implements Locator.
func (l IndexLocator) Locate(winPath string) (string, error) {
	name := winpath.Base(winPath)
	if err := winpath.Check(name); err != nil {
		return "", err
	}
	return l.Index.Lookup(name)
}

// DiskLocator finds packages on disk: the whole path must expand, drive letters map through
// Mapper, and the look-up ignores case as Windows does.
type DiskLocator struct {
	Mapper winpath.Mapper
	Finder *winpath.Finder
}

// NewDiskLocator returns a DiskLocator with an empty directory cache.
func NewDiskLocator(m winpath.Mapper) *DiskLocator {
	return &DiskLocator{Mapper: m, Finder: winpath.NewFinder()}
}

// Locate implements Locator.
func (l *DiskLocator) Locate(winPath string) (string, error) {
	if err := winpath.Check(winPath); err != nil {
		return "", err
	}
	host, err := l.Mapper.ToHost(winPath)
	if err != nil {
		return "", err
	}
	return l.Finder.Find(host)
}
