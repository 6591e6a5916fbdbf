package spkg

import (
	"fmt"
	"io"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

// Source is a package whose files go into a merged package.
type Source struct {
	File    string // file name of the package, for messages and SourcePackage
	Package *Package
}

// WriteMerged writes a package holding the payload files of sources (their own DSMs and
// catalogs stay behind): m gives the merged identity; its Files are filled in, each with the
// SourcePackage it came from. The sources' cabinet folders are copied byte for byte, so
// nothing is decompressed and compressed again; opt.Compression applies to the new DSM.
// A device path in two sources is an error naming both.
func WriteMerged(w io.WriteSeeker, m Manifest, sources []Source, opt cab.Options) (*Manifest, error) {
	m.Files = nil
	owner := map[string]string{} // upper-case device path -> source file
	var raws []cab.RawFolder
	i := 0
	for _, src := range sources {
		p := src.Package
		folders := map[int]*cab.RawFolder{}
		var order []int
		for _, fe := range p.Manifest.Files {
			if fe.FileType == "Manifest" || fe.FileType == "Catalog" {
				continue
			}
			key := strings.ToUpper(fe.DevicePath)
			if other, ok := owner[key]; ok {
				return nil, fmt.Errorf("%s is in two packages: %s and %s", fe.DevicePath, other, src.File)
			}
			owner[key] = src.File
			cf := p.cab.Lookup(fe.CabPath)
			rf := folders[cf.Folder]
			if rf == nil {
				rf = &cab.RawFolder{From: p.cab, Source: src.File, Index: cf.Folder}
				folders[cf.Folder] = rf
				order = append(order, cf.Folder)
			}
			name := cabName(fe.DevicePath, i)
			i++
			rf.Files = append(rf.Files, cab.RawFile{Name: name, Origin: fe.DevicePath, Offset: cf.Offset(), Size: cf.Size, Attributes: cf.Attributes})
			source := fe.SourcePackage
			if source == "" {
				source = strings.TrimSuffix(src.File, ".spkg")
			}
			m.Files = append(m.Files, FileEntry{FileType: fe.FileType, DevicePath: fe.DevicePath, CabPath: name,
				Attributes: fe.Attributes, SourcePackage: source, FileSize: cf.Size})
		}
		for _, f := range order {
			raws = append(raws, *folders[f])
		}
	}
	meta, err := m.finish()
	if err != nil {
		return nil, err
	}
	if _, err := cab.WriteWithRaw(w, meta, raws, opt); err != nil {
		return nil, fmt.Errorf("package %s: %v", m.Name(), err)
	}
	return &m, nil
}
