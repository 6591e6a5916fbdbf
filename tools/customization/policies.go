package customization

import (
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
		return err
	}
	defer p.Close()
	for _, fe := range p.Manifest.Files {
		if !mcsf.IsPolicyPath(fe.DevicePath) {
			continue
		}
		data, err := p.ReadFile(fe.DevicePath)
		if err != nil {
			return err
		}
		groups, err := mcsf.ParsePolicy(filepath.Base(path)+fe.DevicePath, data)
		if err != nil {
			return err
		}
		if err := ps.Add(groups); err != nil {
			return err
		}
	}
	return nil
}
