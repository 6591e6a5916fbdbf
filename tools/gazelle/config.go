package gazelle

import (
	"flag"
	"log"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/rule"
)

// DefaultLoad is the .bzl file the generated rules are loaded from.
const DefaultLoad = "@rules_oemimage//rules:defs.bzl"

// Naming keys of # gazelle:oemimage_naming: one per kind of generated target.
const (
	namePackage  = "mobile_package"
	nameFM       = "feature_manifest"
	nameFMList   = "merged_packages"
	nameMergedFM = "merged_fm"
	nameImage    = "oem_image"
)

var defaultNaming = map[string]string{
	namePackage:  "{short}",
	nameFM:       "{stem}",
	nameFMList:   "{stem}",
	nameMergedFM: "{stem}_merged",
	nameImage:    "{stem}",
}

// Directives, documented in docs/gazelle.md.
const (
	dLoad         = "oemimage_load"
	dNaming       = "oemimage_naming"
	dPath         = "oemimage_path"
	dMsPackages   = "oemimage_ms_packages"
	dMerged       = "oemimage_merged"
	dMergeFM      = "oemimage_merge_fm"
	dMergeVersion = "oemimage_merge_version"
	dMergeFMID    = "oemimage_merge_fmid"
	dMergeOwner   = "oemimage_merge_owner"
	dMergeLangs   = "oemimage_merge_languages"
	dMergeRes     = "oemimage_merge_resolutions"
	dMergeVars    = "oemimage_merge_variables"
	dPackageGroup = "oemimage_package_group"
	dVisibility   = "oemimage_visibility"
)

// defaultVisibility is what generated targets get: images take packages and feature manifests
// from other directories (the kit, the BSP, the OEM's tree).
var defaultVisibility = []string{"//visibility:public"}

// oemConfig is the configuration of one directory; Configure copies the parent's.
type oemConfig struct {
	load   string
	naming map[string]string
	// vars maps lower-case $(var) names, env maps upper-case %VAR% names, to repository paths.
	vars, env map[string]string

	msPackages []string
	merged     []string // OEMInput file name patterns whose AdditionalFMs take merged FMs
	mergeFMs   []string // FM file name patterns that get a single-FM merged_packages target

	mergeVersion, mergeFMID, mergeOwner string
	mergeLanguages, mergeResolutions    []string
	mergeVariables                      [][2]string

	// packageGroup is the filegroup of this directory (not inherited by subdirectories).
	packageGroup string

	// visibility of the targets generated from here on; set only on new targets.
	visibility []string
}

func (c *oemConfig) clone() *oemConfig {
	n := *c
	n.naming = copyMap(c.naming)
	n.vars = copyMap(c.vars)
	n.env = copyMap(c.env)
	n.packageGroup = ""
	return &n
}

func copyMap(m map[string]string) map[string]string {
	n := make(map[string]string, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

func getConfig(c *config.Config) *oemConfig {
	if oc, ok := c.Exts[langName].(*oemConfig); ok {
		return oc
	}
	return &oemConfig{load: DefaultLoad, naming: copyMap(defaultNaming), vars: map[string]string{}, env: map[string]string{}, visibility: defaultVisibility}
}

func (*oemLang) RegisterFlags(fs *flag.FlagSet, cmd string, c *config.Config) {}

func (*oemLang) CheckFlags(fs *flag.FlagSet, c *config.Config) error { return nil }

func (*oemLang) KnownDirectives() []string {
	return []string{dLoad, dNaming, dPath, dMsPackages, dMerged, dMergeFM, dMergeVersion, dMergeFMID,
		dMergeOwner, dMergeLangs, dMergeRes, dMergeVars, dPackageGroup, dVisibility}
}

func (l *oemLang) Configure(c *config.Config, rel string, f *rule.File) {
	oc := getConfig(c).clone()
	c.Exts[langName] = oc
	l.notePackageSources(c, rel)
	if f == nil {
		return
	}
	where := func(d rule.Directive) string {
		return path.Join(rel, "BUILD") + ": # gazelle:" + d.Key
	}
	for _, d := range f.Directives {
		fields := strings.Fields(d.Value)
		switch d.Key {
		case dLoad:
			oc.load = strings.TrimSpace(d.Value)
			if oc.load == "" {
				oc.load = DefaultLoad
			}
			// A kind mapping to the same name moves the load, as # gazelle:map_kind does.
			if c.KindMap == nil {
				c.KindMap = map[string]config.MappedKind{}
			}
			for _, k := range ruleKinds {
				if oc.load == DefaultLoad {
					delete(c.KindMap, k)
				} else {
					c.KindMap[k] = config.MappedKind{FromKind: k, KindName: k, KindLoad: oc.load}
				}
			}
		case dNaming:
			if len(fields) != 2 {
				log.Printf("%s: expected <kind> <template>, got %q", where(d), d.Value)
				continue
			}
			if _, ok := defaultNaming[fields[0]]; !ok {
				log.Printf("%s: unknown kind %q (expected one of %s)", where(d), fields[0], strings.Join(sortedKeys(defaultNaming), ", "))
				continue
			}
			oc.naming[fields[0]] = fields[1]
		case dPath:
			if len(fields) < 1 || len(fields) > 2 {
				log.Printf("%s: expected <$(var) or %%VAR%%> <directory>, got %q", where(d), d.Value)
				continue
			}
			v := fields[0]
			dir := ""
			if len(fields) == 2 {
				dir = path.Clean(strings.ReplaceAll(fields[1], `\`, "/"))
			}
			switch {
			case strings.HasPrefix(v, "$(") && strings.HasSuffix(v, ")") && len(v) > 3:
				setOrDelete(oc.vars, strings.ToLower(v[2:len(v)-1]), dir, len(fields) == 2)
			case strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%") && len(v) > 2:
				setOrDelete(oc.env, strings.ToUpper(v[1:len(v)-1]), dir, len(fields) == 2)
			default:
				log.Printf("%s: %q is neither $(var) nor %%VAR%%", where(d), v)
			}
		case dMsPackages:
			oc.msPackages = fields
		case dVisibility:
			if len(fields) == 0 {
				fields = defaultVisibility
			}
			oc.visibility = fields
		case dMerged:
			oc.merged = fields
		case dMergeFM:
			oc.mergeFMs = fields
		case dMergeVersion:
			oc.mergeVersion = strings.TrimSpace(d.Value)
		case dMergeFMID:
			oc.mergeFMID = strings.TrimSpace(d.Value)
		case dMergeOwner:
			oc.mergeOwner = strings.TrimSpace(d.Value)
		case dMergeLangs:
			oc.mergeLanguages = fields
		case dMergeRes:
			oc.mergeResolutions = fields
		case dMergeVars:
			oc.mergeVariables = nil
			for _, kv := range fields {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					log.Printf("%s: expected name=value, got %q", where(d), kv)
					continue
				}
				oc.mergeVariables = append(oc.mergeVariables, [2]string{k, v})
			}
		case dPackageGroup:
			if len(fields) > 1 {
				log.Printf("%s: expected one target name, got %q", where(d), d.Value)
				continue
			}
			oc.packageGroup = strings.TrimSpace(d.Value)
		}
	}
}

func setOrDelete(m map[string]string, k, v string, set bool) {
	if set {
		m[k] = v
	} else {
		delete(m, k)
	}
}

// matchesAny reports whether the file name matches one of the patterns (path.Match, case-insensitive).
func matchesAny(patterns []string, name string) bool {
	name = strings.ToLower(name)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), name); ok {
			return true
		}
	}
	return false
}

// notePackageSources records the File Sources of the package projects in directory rel
// (see oemLang.packageSources). Problems in a project are reported when its rule is generated.
func (l *oemLang) notePackageSources(c *config.Config, rel string) {
	dir := filepath.Join(c.RepoRoot, filepath.FromSlash(rel))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name()), ".pkg.xml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || rootElement(data) != "Package" {
			continue
		}
		p, err := parsePkgXML(path.Join(rel, e.Name()), data, dir)
		if err != nil {
			continue
		}
		for _, src := range p.Srcs {
			l.packageSources[strings.ToLower(path.Join(rel, src))] = true
		}
	}
}
