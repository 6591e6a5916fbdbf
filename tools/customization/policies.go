package customization

import (
	"fmt"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/mcsf"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// LoadPolicies reads the policy files (mcsf.PolicyDir\*.policy.xml) of the packages at the
// given host paths, in order. Messages name a policy file as <package file>\<device path>.
func LoadPolicies(packages []string) (*mcsf.Policies, error) {
	ps := &mcsf.Policies{}
	for _, path := range packages {
		if err := loadPackagePolicies(ps, path); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func loadPackagePolicies(ps *mcsf.Policies, path string) error {
	p, err := spkg.Open(path)
	if err != nil {
		return fmt.Errorf("package %v", err)
	}
	defer p.Close()
	for _, fe := range p.Manifest.Files {
		if !mcsf.IsPolicyPath(fe.DevicePath) {
			continue
		}
		name := filepath.Base(path) + fe.DevicePath
		// Policy files are read whole: bound them first. spkg.Open checked that a Regular
		// file's FileSize is its size in the cabinet; other types carry no checked size.
		if fe.FileType != "Regular" {
			return fmt.Errorf("%s is a %s file; expected a Regular file (a policy document)", name, fe.FileType)
		}
		if fe.FileSize > mcsf.MaxFileBytes {
			return fmt.Errorf("%s: %d bytes; expected at most %d, the limit on a file read whole", name, fe.FileSize, mcsf.MaxFileBytes)
		}
		data, err := p.ReadFile(fe.DevicePath)
		if err != nil {
			return err
		}
		groups, err := mcsf.ParsePolicy(name, data)
		if err != nil {
			return err
		}
		if err := ps.Add(groups); err != nil {
			return err
		}
	}
	return nil
}
