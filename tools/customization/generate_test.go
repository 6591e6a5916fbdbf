package customization

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// plainPackage writes a package with one file and no policy.
func plainPackage(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Contoso.Plain.spkg")
	m := spkg.Manifest{Identity: spkg.Identity{Owner: "Contoso", Component: "Plain", Version: spkg.Version{Major: 1}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
	if _, err := spkg.WriteFile(path, m, nil, cab.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func selectionOf(hostPaths ...string) *resolve.Selection {
	sel := &resolve.Selection{OEMInput: "OEMInput.xml", Product: "Windows Phone", Device: "Phone1", CPUType: "arm", BuildType: "fre", ReleaseType: "Test"}
	for _, p := range hostPaths {
		name := filepath.Base(p)
		sel.Packages = append(sel.Packages, &resolve.Package{ID: strings.TrimSuffix(name, ".spkg"), Name: name, HostPath: p,
			Reasons: []resolve.Reason{{FeatureID: "BASE", Group: "BASE"}}})
	}
	return sel
}

// unlocated adds a package without a host file to sel.
func unlocated(sel *resolve.Selection) *resolve.Selection {
	sel.Packages = append(sel.Packages, &resolve.Package{ID: "Missing", Name: "Missing.spkg", Reasons: []resolve.Reason{{FeatureID: "BASE", Group: "BASE"}}})
	return sel
}

// Generate: the customization flow for a selection, which gets the packages appended.
func TestGenerate(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TESTDATA": testdata}
	policy, plain := policyPackage(t), plainPackage(t)
	tests := []struct {
		name        string
		sel         *resolve.Selection
		answer      string
		strict      bool
		wantErr     string
		wantWarning string // on Warnings
	}{
		{name: "policies of the selection", sel: selectionOf(plain, policy), answer: "testdata/root.xml", strict: true},
		{name: "no policy declares the settings: left out", sel: selectionOf(plain), answer: "testdata/root.xml", wantWarning: "testdata/root.xml:"},
		{name: "no policy declares the settings: strict", sel: selectionOf(plain), answer: "testdata/root.xml", strict: true, wantErr: `root.xml:25:7: setting "Brightness" of group "Contoso/Display" is not declared`},
		{name: "a package not located", sel: unlocated(selectionOf(policy)), answer: "testdata/root.xml", wantErr: "package Missing.spkg was not located"},
		{name: "a package that cannot be read", sel: selectionOf(filepath.Join(t.TempDir(), "Gone.spkg")), answer: "testdata/root.xml", wantErr: "package "},
		{name: "no answer file", sel: selectionOf(policy), answer: "testdata/none.xml", wantErr: "testdata/none.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings bytes.Buffer
			opened := map[string]int{}
			keep := map[string]*spkg.Package{}
			r := Request{AnswerFile: tt.answer, Version: spkg.Version{Major: 1, Minor: 2, QFE: 3, Build: 4}, Dir: t.TempDir(), Env: env,
				Strict: tt.strict, Warnings: &warnings,
				Open: func(path string) (*spkg.Package, error) {
					opened[path]++
					p, err := spkg.Open(path)
					if err == nil {
						keep[path] = p
					}
					return p, err
				}}
			before := len(tt.sel.Packages)
			paths, err := Generate(tt.sel, r)
			defer func() {
				for _, p := range keep {
					p.Close()
				}
			}()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %q", err, tt.wantErr)
				}
				if len(tt.sel.Packages) != before {
					t.Errorf("a failed run changed the selection")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(warnings.String(), tt.wantWarning) || (tt.wantWarning == "") != (warnings.Len() == 0) {
				t.Errorf("warnings %q, want %q", warnings.String(), tt.wantWarning)
			}
			if len(paths) == 0 || len(tt.sel.Packages) != before+len(paths) {
				t.Fatalf("%d packages written, selection of %d -> %d", len(paths), before, len(tt.sel.Packages))
			}
			for i, p := range paths {
				sp := tt.sel.Packages[before+i]
				r := sp.Reasons[0]
				if sp.HostPath != p || sp.Name != filepath.Base(p) || r.Group != Group || r.FeatureID != "CUSTOMIZATION" || r.Source.File != tt.answer {
					t.Errorf("selection entry %+v for %s", sp, p)
				}
				if !strings.HasPrefix(sp.Name, "Contoso.Phone1.Customizations.") {
					t.Errorf("package %s not named after the selection's Device", sp.Name)
				}
			}
			// Each selected package opened once, through Open, and left open for the caller.
			for _, sp := range tt.sel.Packages[:before] {
				if opened[sp.HostPath] != 1 {
					t.Errorf("%s opened %d times", sp.Name, opened[sp.HostPath])
				}
				if p := keep[sp.HostPath]; p == nil {
					t.Errorf("%s not opened", sp.Name)
				} else if _, err := p.ReadFile(p.Manifest.Files[0].DevicePath); len(p.Manifest.Files) > 0 && err != nil {
					t.Errorf("%s was closed: %v", sp.Name, err)
				}
			}
		})
	}
}
