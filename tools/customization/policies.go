package customization

import (
	"fmt"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// LoadPolicies reads the policy files (answerfile.PolicyDir\*.policy.xml) of the packages at the
// given host paths, in order. Messages name a policy file as <package file>\<device path>.
func LoadPolicies(packages []string) (*answerfile.Policies, error) {
	return loadPolicies(packages, nil)
}

// loadPolicies is LoadPolicies with the packages opened by open, which keeps them (they are
// not closed here); nil opens each with spkg.Open and closes it after.
func loadPolicies(packages []string, open func(path string) (*spkg.Package, error)) (*answerfile.Policies, error) {
	ps := &answerfile.Policies{}
	for _, path := range packages {
		p, err := openPackage(path, open)
		if err != nil {
			return nil, fmt.Errorf("package %v", err)
		}
		err = addPolicies(ps, filepath.Base(path), p)
		if open == nil {
			p.Close()
		}
		if err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func openPackage(path string, open func(path string) (*spkg.Package, error)) (*spkg.Package, error) {
	if open == nil {
		return spkg.Open(path)
	}
	return open(path)
}

// addPolicies adds the policy files of p, the package file named file.
func addPolicies(ps *answerfile.Policies, file string, p *spkg.Package) error {
	for _, fe := range p.Manifest.Files {
		if !answerfile.IsPolicyPath(fe.DevicePath) {
			continue
		}
		name := file + fe.DevicePath
		// Policy files are read whole: bound them first. spkg.Open checked that a Regular
		// file's FileSize is its size in the cabinet; other types carry no checked size.
		if fe.FileType != "Regular" {
			return fmt.Errorf("%s is a %s file; expected a Regular file (a policy document)", name, fe.FileType)
		}
		if fe.FileSize > answerfile.MaxFileBytes {
			return fmt.Errorf("%s: %d bytes; expected at most %d, the limit on a file read whole", name, fe.FileSize, answerfile.MaxFileBytes)
		}
		data, err := p.ReadFile(fe.DevicePath)
		if err != nil {
			return err
		}
		groups, err := answerfile.ParsePolicy(name, data)
		if err != nil {
			return err
		}
		if err := ps.Add(groups); err != nil {
			return err
		}
	}
	return nil
}
