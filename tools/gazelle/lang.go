// Package gazelle is a gazelle language that writes the BUILD files of a Windows 10 Mobile
// image tree: mobile_package targets for package projects (.pkg.xml), feature_manifest targets
// for feature manifests, merged_packages targets for FMFileLists and oem_image targets for
// OEMInput files, with the packages and FMs they reference resolved across the repository.
// docs/gazelle.md describes the directives.
package gazelle

import (
	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/rule"
)

const langName = "oemimage"

// Kinds of rules the language generates.
const (
	kindPackage = "mobile_package"
	kindFM      = "feature_manifest"
	kindMerged  = "merged_packages"
	kindImage   = "oem_image"
	kindGroup   = "filegroup"
)

var ruleKinds = []string{kindFM, kindMerged, kindPackage, kindImage}

type oemLang struct {
	// files indexes checked-in package files (.spkg, .cab), which are files, not rules, so
	// gazelle's RuleIndex does not hold them: import spec -> labels.
	files map[string][]label.Label
	// packagesUnder lists, per directory, the package labels generated there, for
	// # gazelle:oemimage_package_group of a parent (subdirectories are generated first).
	packagesUnder map[string][]label.Label
	// packageSources holds the files (repository-relative, lower case) that package projects
	// take as File Sources, found by Configure, which visits a directory before its
	// subdirectories, while GenerateRules visits them after: a core FM that travels inside a
	// package (kit/fm/MicrosoftPhoneFM.xml of kit/Microsoft.PhoneFM.pkg.xml) gets no target,
	// so its directory does not become a package that would break the project's label.
	packageSources map[string]bool
}

// NewLanguage returns the oemimage language for a gazelle_binary.
func NewLanguage() language.Language {
	return &oemLang{files: map[string][]label.Label{}, packagesUnder: map[string][]label.Label{}, packageSources: map[string]bool{}}
}

func (*oemLang) Name() string { return langName }

func (*oemLang) Kinds() map[string]rule.KindInfo {
	return map[string]rule.KindInfo{
		kindPackage: {
			MatchAttrs:    []string{"pkg_xml"},
			NonEmptyAttrs: map[string]bool{"pkg_xml": true},
			MergeableAttrs: map[string]bool{
				"pkg_xml": true, "srcs": true, "owner": true, "component": true, "sub_component": true,
				"partition": true, "release_type": true, "owner_type": true, "languages": true, "resolutions": true,
				"no_base_package": true, "binary_partition": true,
			},
		},
		kindFM: {
			MatchAttrs:     []string{"src"},
			NonEmptyAttrs:  map[string]bool{"src": true},
			MergeableAttrs: map[string]bool{"src": true},
			ResolveAttrs:   map[string]bool{"packages": true},
		},
		kindMerged: {
			MatchAttrs:      []string{"fm_file_list", "fm"},
			NonEmptyAttrs:   map[string]bool{"fm_file_list": true, "fm": true},
			SubstituteAttrs: map[string]bool{"fm": true},
			MergeableAttrs:  map[string]bool{"fm_file_list": true, "fm": true},
			ResolveAttrs:    map[string]bool{"fms": true},
		},
		// Matched by name only: several images may be built from one OEMInput (e.g. a retail
		// image from merged and one from unmerged FMs); a hand-written one is left alone.
		kindImage: {
			NonEmptyAttrs:  map[string]bool{"oem_input": true},
			MergeableAttrs: map[string]bool{"oem_input": true},
			ResolveAttrs:   map[string]bool{"feature_manifests": true, "packages": true},
		},
		kindGroup: {
			NonEmptyAttrs:  map[string]bool{"srcs": true},
			MergeableAttrs: map[string]bool{"srcs": true},
		},
	}
}

func (*oemLang) Loads() []rule.LoadInfo {
	return []rule.LoadInfo{{Name: DefaultLoad, Symbols: append([]string(nil), ruleKinds...)}}
}

func (*oemLang) Fix(c *config.Config, f *rule.File) {}

func (*oemLang) Embeds(r *rule.Rule, from label.Label) []label.Label { return nil }
