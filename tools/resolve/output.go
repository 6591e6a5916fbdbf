package resolve

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// WriteUpdateInput writes the selection as an UpdateInput.xml (root <UpdateOSInput>), the file
// ImageApp hands to the update engine: Description and PackageFiles/PackageFile. Each
// PackageFile is preceded by a comment "ID: reason; reason" (Reason.String), so the file stays
// valid against the UpdateOSInput schema. A PackageFile holds the located host path, or the
// Windows path when no Locator was used. No DateTime: the output is deterministic.
func (s *Selection) WriteUpdateInput(w io.Writer) error {
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := d.CreateElement("UpdateOSInput")
	root.CreateAttr("xmlns", manifest.Namespace)
	if s.Description != "" {
		root.CreateElement("Description").SetText(s.Description)
	}
	root.CreateComment(comment("oemimage resolve " + s.OEMInput + ": Product=" + s.Product + " CPUType=" + s.CPUType +
		" BuildType=" + s.BuildType + " ReleaseType=" + s.ReleaseType))
	for _, f := range s.FMs {
		root.CreateComment(comment(f.Role + " feature manifest " + f.File))
	}
	pf := root.CreateElement("PackageFiles")
	for _, p := range s.Packages {
		reasons := make([]string, len(p.Reasons))
		for i, r := range p.Reasons {
			reasons[i] = r.String()
		}
		pf.CreateComment(comment(p.ID + ": " + strings.Join(reasons, "; ")))
		pf.CreateElement("PackageFile").SetText(p.File())
	}
	d.Indent(2)
	_, err := d.WriteTo(w)
	return err
}

// File is the path written for the package: the located host file, else the Windows path.
func (p *Package) File() string {
	if p.HostPath != "" {
		return p.HostPath
	}
	return p.Path
}

// comment makes text safe for an XML comment ("--" is not allowed inside one).
func comment(text string) string {
	for strings.Contains(text, "--") {
		text = strings.ReplaceAll(text, "--", "- -")
	}
	return " " + text + " " // the trailing space keeps a final '-' from touching "-->"
}

// jsonSelection is the selection as JSON: `oemimage resolve --json` writes it, and
// `imggen --selection` reads it back (ReadSelection), so every field a Selection needs is here.
type jsonSelection struct {
	OEMInput         string        `json:"oemInput"`
	Description      string        `json:"description"`
	Product          string        `json:"product"`
	Device           string        `json:"device"`
	CPUType          string        `json:"cpuType"`
	BuildType        string        `json:"buildType"`
	ReleaseType      string        `json:"releaseType"`
	FormatDPP        bool          `json:"formatDPP,omitempty"`
	Notes            []string      `json:"notes,omitempty"`
	FeatureManifests []jsonFM      `json:"featureManifests"`
	Packages         []jsonPackage `json:"packages"`
}

type jsonFM struct {
	File        string `json:"file"`
	Role        string `json:"role"`
	ID          string `json:"id,omitempty"`
	OwnerType   string `json:"ownerType,omitempty"`
	ReleaseType string `json:"releaseType,omitempty"`
}

type jsonPackage struct {
	ID                       string       `json:"id"`
	Name                     string       `json:"name"`
	Path                     string       `json:"path"`
	HostPath                 string       `json:"hostPath,omitempty"`
	Partition                string       `json:"partition,omitempty"`
	FeatureIdentifierPackage bool         `json:"featureIdentifierPackage,omitempty"`
	Reasons                  []jsonReason `json:"reasons"`
}

type jsonReason struct {
	FeatureID   string `json:"featureId"`
	Group       string `json:"group"`
	Element     string `json:"element"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Column      int    `json:"column"`
	SatelliteOf string `json:"satelliteOf,omitempty"`
	Language    string `json:"language,omitempty"`
	Resolution  string `json:"resolution,omitempty"`
	Text        string `json:"text"`
}

// WriteJSON writes the selection as JSON (docs/model.md shows the shape).
func (s *Selection) WriteJSON(w io.Writer) error {
	j := jsonSelection{OEMInput: s.OEMInput, Description: s.Description, Product: s.Product, Device: s.Device, CPUType: s.CPUType,
		BuildType: s.BuildType, ReleaseType: s.ReleaseType, FormatDPP: s.FormatDPP, Notes: s.Notes, FeatureManifests: []jsonFM{}, Packages: []jsonPackage{}}
	for _, f := range s.FMs {
		j.FeatureManifests = append(j.FeatureManifests, jsonFM(f))
	}
	for _, p := range s.Packages {
		jp := jsonPackage{ID: p.ID, Name: p.Name, Path: p.Path, HostPath: p.HostPath, Partition: p.Partition,
			FeatureIdentifierPackage: p.FeatureIdentifierPackage}
		for _, r := range p.Reasons {
			elem := r.Group.Element()
			if r.Group == GroupPackageFiles {
				elem = "PackageFiles"
			}
			jp.Reasons = append(jp.Reasons, jsonReason{FeatureID: r.FeatureID, Group: string(r.Group), Element: elem,
				File: r.Source.File, Line: r.Source.Line, Column: r.Source.Col, SatelliteOf: r.SatelliteOf,
				Language: r.Language, Resolution: r.Resolution, Text: r.String()})
		}
		j.Packages = append(j.Packages, jp)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
