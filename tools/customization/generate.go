package customization

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/resolve"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Request is one run of the customization flow of ImgGen.cmd and CustomizationGen.cmd: the
// answer file (OEMCustomizationXML) becomes customization packages in Dir.
type Request struct {
	AnswerFile string            // OEMCustomizationXML
	Version    spkg.Version      // OEMCustomizationVer
	Dir        string            // where the packages go (an existing directory)
	Env        map[string]string // $(NAME) in the answer files' paths
	Strict     bool              // +StrictSettingPolicies: a setting no policy declares is an error
	Warnings   io.Writer         // settings left out are reported here; nil for nowhere
	// Open opens a selected package for its policy files; the caller keeps (and closes) what
	// it returns, so that an image build opens each package once. nil: each is opened and
	// closed here.
	Open func(hostPath string) (*spkg.Package, error)
	// Signer signs the packages' catalogs (nil: unsigned). A Production image built with a
	// trusted root accepts its customization packages only signed by a chain to that root.
	Signer *catalog.Signer
}

// Group is the reason group of customization packages in a selection.
const Group manifest.Group = "OEMCustomizationXML"

// Generate writes the customization packages of r for the image of sel, checking the answer
// file's settings against the policy files of sel's packages, and appends the packages to sel
// (after the selected ones, as ImageApp lists them in UpdateInput.xml). It returns their paths.
// Settings no policy declares are warned about and left out, or with r.Strict fail the run.
func Generate(sel *resolve.Selection, r Request) ([]string, error) {
	caf, err := answerfile.Load(r.AnswerFile, r.Env)
	if err != nil {
		return nil, err
	}
	var hostPaths []string
	for _, p := range sel.Packages {
		if p.HostPath == "" {
			return nil, fmt.Errorf("package %s was not located", p.Name)
		}
		hostPaths = append(hostPaths, p.HostPath)
	}
	policies, err := loadPolicies(hostPaths, r.Open)
	if err != nil {
		return nil, err
	}
	res, err := answerfile.Resolve(caf, policies, r.Strict)
	if err != nil {
		return nil, err
	}
	if r.Warnings != nil {
		for _, w := range res.Warnings {
			fmt.Fprintf(r.Warnings, "%s: warning: %s\n", w.Pos, w.Msg)
		}
		if res.MoreWarnings > 0 {
			fmt.Fprintf(r.Warnings, "%s: warning: %d more settings or assets no policy declares are left out\n", caf.Root.Path, res.MoreWarnings)
		}
	}
	pkgs, err := Plan(res, Options{Device: sel.Device, Version: r.Version, CPUType: strings.ToUpper(sel.CPUType)})
	if err != nil {
		return nil, err
	}
	paths, err := Write(r.Dir, pkgs, r.Signer)
	if err != nil {
		return nil, err
	}
	source := manifest.Pos{File: r.AnswerFile}
	for _, p := range paths {
		name := filepath.Base(p)
		sel.Packages = append(sel.Packages, &resolve.Package{
			ID: strings.TrimSuffix(name, ".spkg"), Name: name, Path: p, HostPath: p,
			Reasons: []resolve.Reason{{FeatureID: "CUSTOMIZATION", Group: Group, Source: source}},
		})
	}
	return paths, nil
}

// GenerateFor is CustomizationGen.cmd: it selects the packages of the OEMInput of sr, then
// runs Generate for that selection.
func GenerateFor(sr resolve.Request, r Request) ([]string, error) {
	sel, err := resolve.ResolveFiles(sr)
	if err != nil {
		return nil, err
	}
	return Generate(sel, r)
}
