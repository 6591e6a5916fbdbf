package pkggen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
)

// DescriptorSuffix names the package descriptors mobile_package writes from its attributes.
const DescriptorSuffix = ".pkg.json"

// MaxDescriptorBytes bounds a descriptor (a package of a million files stays under it).
const MaxDescriptorBytes = 64 << 20

// Descriptor is a package project given as data, as the mobile_package rule writes it from its
// attributes (json.encode) rather than as XML built from strings. It means what a package
// project with one OSComponent Files group (or one BinaryPartition) means, and is read by
// turning it into that project, so both forms have one meaning and one set of checks: values
// are expanded as a project's are. Device paths start with a backslash, as the rule checks.
type Descriptor struct {
	Label           string `json:"label"` // the target, for messages
	Owner           string `json:"owner"`
	Component       string `json:"component"`
	SubComponent    string `json:"sub_component"`
	OwnerType       string `json:"owner_type"`
	ReleaseType     string `json:"release_type"`
	Partition       string `json:"partition"`
	BinaryPartition bool   `json:"binary_partition"`
	Language        string `json:"language"`   // the package is this language's satellite
	Resolution      string `json:"resolution"` // or this resolution's
	Files           []struct {
		Source     string `json:"source"`      // relative to the working directory (the execroot)
		DevicePath string `json:"device_path"` // \dir\name
	} `json:"files"`
}

// LoadDescriptor reads a descriptor and returns the packages it produces, as Load does for a
// project file. Errors name the descriptor and the files entry at fault.
func LoadDescriptor(path string, opt Options) ([]*Package, error) {
	buildType, cpu, err := opt.types()
	if err != nil {
		return nil, err
	}
	data, err := readfile.ReadRegular(path, MaxDescriptorBytes)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Descriptor
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %v; expected a package descriptor as mobile_package writes it", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: data after the descriptor; expected one JSON object", path)
	}
	project, err := d.project(path)
	if err != nil {
		return nil, err
	}
	// Relative sources of the project are relative to its directory: the descriptor's.
	return load(path, project, opt, buildType, cpu)
}

// project is the package project the descriptor stands for.
func (d *Descriptor) project(path string) ([]byte, error) {
	where := path
	if d.Label != "" {
		where = fmt.Sprintf("%s (%s)", path, d.Label)
	}
	if d.Language != "" && d.Resolution != "" {
		return nil, fmt.Errorf("%s: language %q and resolution %q; expected at most one", where, d.Language, d.Resolution)
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("Package")
	root.CreateAttr("xmlns", Namespace)
	for _, a := range [][2]string{{"Owner", d.Owner}, {"Component", d.Component}, {"SubComponent", d.SubComponent},
		{"OwnerType", d.OwnerType}, {"ReleaseType", d.ReleaseType}, {"Partition", d.Partition}} {
		if a[1] != "" {
			root.CreateAttr(a[0], (a[1]))
		}
	}
	comps := root.CreateElement("Components")
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	// Sources are relative to the working directory; the project's are relative to its own.
	source := func(s string) (string, error) {
		abs, err := filepath.Abs(s)
		if err != nil {
			return "", err
		}
		rel, err := filepath.Rel(dir, abs)
		if err != nil {
			return "", err
		}
		return (rel), nil
	}
	if d.BinaryPartition {
		root.CreateAttr("BinaryPartition", "true")
		if len(d.Files) != 1 {
			return nil, fmt.Errorf("%s: a binary partition package has %d files; expected exactly one, the partition's image", where, len(d.Files))
		}
		src, err := source(d.Files[0].Source)
		if err != nil {
			return nil, err
		}
		comps.CreateElement("BinaryPartition").CreateAttr("ImageSource", src)
	} else {
		files := comps.CreateElement("OSComponent").CreateElement("Files")
		if d.Language != "" {
			files.CreateAttr("Language", "("+(d.Language)+")")
		} else if d.Resolution != "" {
			files.CreateAttr("Resolution", "("+(d.Resolution)+")")
		}
		for i, f := range d.Files {
			if !strings.HasPrefix(f.DevicePath, `\`) || len(f.DevicePath) < 2 || f.Source == "" {
				return nil, fmt.Errorf("%s: files[%d] (source %q, device path %q): expected a source and a device path starting with \\", where, i, f.Source, f.DevicePath)
			}
			src, err := source(f.Source)
			if err != nil {
				return nil, err
			}
			slash := strings.LastIndexByte(f.DevicePath, '\\')
			dest := f.DevicePath[:slash]
			if dest == "" {
				dest = `\`
			}
			el := files.CreateElement("File")
			el.CreateAttr("Source", src)
			el.CreateAttr("DestinationDir", (dest))
			el.CreateAttr("Name", (f.DevicePath[slash+1:]))
		}
	}
	doc.Indent(2)
	var b bytes.Buffer
	if _, err := doc.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
