package gazelle

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/rule"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// ref is a reference from an XML file to a package or FM, resolved in Resolve.
type ref struct {
	What       string // "package", "AdditionalFM", "PackageFile", "FM": for messages
	Full       string // Windows path as written (FM PackageFile: Path joined with Name)
	Path, Name string // FM PackageFile attributes, for messages
	Pos        manifest.Pos
	Satellites bool // the PackageFile has Language= or Resolution=: satellite targets count too
}

type fmImports struct{ Packages []ref }

type listImports struct{ FMs []ref }

type imageImports struct {
	FMs, Packages []ref
	Merged        bool
}

// privateFMNames holds, on a merged_packages rule for an FMFileList, the lower-case file names
// of the FMs it lists (for Imports, which runs before fms is resolved).
const privateFMNames = "_oemimage_fm_names"

type generated struct {
	r   *rule.Rule
	imp interface{}
}

func (l *oemLang) GenerateRules(args language.GenerateArgs) language.GenerateResult {
	oc := getConfig(args.Config)
	rel := args.Rel
	var gen []generated
	taken := map[string]string{} // rule name -> file it came from
	var pkgLabels []label.Label

	claim := func(name, fallback, file string) string {
		if name == "" {
			name = fallback
		}
		if other, ok := taken[name]; ok {
			if fallback != "" && fallback != name {
				if _, ok := taken[fallback]; !ok {
					taken[fallback] = file
					return fallback
				}
			}
			log.Printf("%s: target name %q is already taken by %s; set # gazelle:oemimage_naming", path.Join(rel, file), name, other)
			return ""
		}
		taken[name] = file
		return name
	}

	var fms []generated // feature_manifest rules, for # gazelle:oemimage_merge_fm
	var fmFiles []string
	for _, f := range args.RegularFiles {
		lower := strings.ToLower(f)
		fileRel := path.Join(rel, f)
		if strings.HasSuffix(lower, ".spkg") || strings.HasSuffix(lower, ".cab") {
			lb := label.New(args.Config.RepoName, rel, f)
			l.files["spkg:"+lower] = append(l.files["spkg:"+lower], lb)
			l.files["spkgpath:"+strings.ToLower(fileRel)] = append(l.files["spkgpath:"+strings.ToLower(fileRel)], lb)
			pkgLabels = append(pkgLabels, lb)
			continue
		}
		if !strings.HasSuffix(lower, ".xml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(args.Dir, f))
		if err != nil {
			log.Print(err)
			continue
		}
		switch rootElement(data) {
		case "Package":
			p, err := parsePkgXML(fileRel, data, filepath.Dir(filepath.Join(args.Dir, f)))
			if err != nil {
				log.Printf("%v; its target is left as it is", err)
				continue
			}
			for _, msg := range p.Problems {
				log.Print(msg)
			}
			pkgName := spkg.Name(p.Owner, p.Component, p.SubComponent, "", "")
			short := p.SubComponent
			if short == "" {
				short = p.Component
			}
			values := map[string]string{
				"stem": snake(stemOf(f, namePackage)), "owner": snake(p.Owner), "component": snake(p.Component),
				"sub_component": snake(p.SubComponent), "package": snake(pkgName), "short": snake(short),
			}
			name := claim(expandName(oc.naming[namePackage], values), snake(pkgName), f)
			if name == "" {
				continue
			}
			r := rule.NewRule(kindPackage, name)
			r.SetAttr("pkg_xml", f)
			r.SetAttr("owner", p.Owner)
			r.SetAttr("component", p.Component)
			if p.SubComponent != "" {
				r.SetAttr("sub_component", p.SubComponent)
			}
			// Only values that differ from the rule's defaults.
			if p.Partition != "MainOS" {
				r.SetAttr("partition", p.Partition)
			}
			if p.ReleaseType != "Production" {
				r.SetAttr("release_type", p.ReleaseType)
			}
			if p.OwnerType != "OEM" {
				r.SetAttr("owner_type", p.OwnerType)
			}
			if len(p.Languages) > 0 {
				r.SetAttr("languages", p.Languages)
			}
			if len(p.Resolutions) > 0 {
				r.SetAttr("resolutions", p.Resolutions)
			}
			if p.noBasePackage() {
				r.SetAttr("no_base_package", true)
			}
			if p.BinaryPartition {
				r.SetAttr("binary_partition", true)
			}
			if srcs := relTo(path.Dir(f), p.Srcs); len(srcs) > 0 {
				r.SetAttr("srcs", srcs)
			}
			gen = append(gen, generated{r, nil})
			pkgLabels = append(pkgLabels, label.New(args.Config.RepoName, rel, name))

		case "FeatureManifest":
			if l.packageSources[strings.ToLower(fileRel)] {
				continue // it travels inside a package (the core FM), not as an FM of its own
			}
			fm, err := manifest.ParseFeatureManifest(fileRel, data)
			if err != nil {
				logInvalid(fileRel, err)
				continue
			}
			name := claim(expandName(oc.naming[nameFM], map[string]string{"stem": snake(stemOf(f, nameFM))}), "", f)
			if name == "" {
				continue
			}
			r := rule.NewRule(kindFM, name)
			r.SetAttr("src", f)
			imp := fmImports{}
			for _, g := range manifest.Groups {
				for _, p := range fm.Packages(g) {
					imp.Packages = append(imp.Packages, ref{
						What: "package", Full: winpath.Join(p.Path, p.Name), Path: p.Path, Name: p.Name, Pos: p.Pos,
						Satellites: p.Language != "" || p.Resolution != "",
					})
				}
			}
			g := generated{r, imp}
			gen = append(gen, g)
			fms = append(fms, g)
			fmFiles = append(fmFiles, f)

		case "FMCollectionManifest":
			list, err := manifest.ParseFMFileList(fileRel, data)
			if err != nil {
				logInvalid(fileRel, err)
				continue
			}
			name := claim(expandName(oc.naming[nameFMList], map[string]string{"stem": snake(stemOf(f, nameFMList))}), "", f)
			if name == "" {
				continue
			}
			r := rule.NewRule(kindMerged, name)
			r.SetAttr("fm_file_list", f)
			oc.setMergeAttrs(r)
			imp := listImports{}
			var names []string
			for _, e := range list.FMs {
				imp.FMs = append(imp.FMs, ref{What: "FM", Full: e.Path, Pos: e.Pos})
				names = append(names, strings.ToLower(winpath.Base(e.Path)))
			}
			r.SetPrivateAttr(privateFMNames, names)
			gen = append(gen, generated{r, imp})

		case "OEMInput":
			in, err := manifest.ParseOEMInput(fileRel, data)
			if err != nil {
				logInvalid(fileRel, err)
				continue
			}
			name := claim(expandName(oc.naming[nameImage], map[string]string{"stem": snake(stemOf(f, nameImage))}), "", f)
			if name == "" {
				continue
			}
			r := rule.NewRule(kindImage, name)
			r.SetAttr("oem_input", f)
			if len(oc.msPackages) > 0 {
				r.SetAttr("ms_packages", oc.msPackages)
			}
			imp := imageImports{Merged: matchesAny(oc.merged, f)}
			for _, v := range in.AdditionalFMs {
				imp.FMs = append(imp.FMs, ref{What: "AdditionalFM", Full: v.Text, Pos: v.Pos})
			}
			for _, v := range in.PackageFiles {
				imp.Packages = append(imp.Packages, ref{What: "PackageFile", Full: v.Text, Pos: v.Pos})
			}
			gen = append(gen, generated{r, imp})
		}
	}

	// Single-FM merges: # gazelle:oemimage_merge_fm.
	for i, g := range fms {
		if !matchesAny(oc.mergeFMs, fmFiles[i]) {
			continue
		}
		values := map[string]string{"stem": snake(stemOf(fmFiles[i], nameMergedFM)), "fm": g.r.Name()}
		name := claim(expandName(oc.naming[nameMergedFM], values), "", fmFiles[i])
		if name == "" {
			continue
		}
		r := rule.NewRule(kindMerged, name)
		r.SetAttr("fm", ":"+g.r.Name())
		oc.setMergeAttrs(r)
		gen = append(gen, generated{r, nil})
	}

	if oc.packageGroup != "" {
		all := append([]label.Label(nil), pkgLabels...)
		for dir, labels := range l.packagesUnder {
			if rel == "" || strings.HasPrefix(dir, rel+"/") {
				all = append(all, labels...)
			}
		}
		if len(all) > 0 {
			if name := claim(oc.packageGroup, "", "# gazelle:"+dPackageGroup); name != "" {
				r := rule.NewRule(kindGroup, name)
				r.SetAttr("srcs", labelStrings(all, args.Config.RepoName, rel))
				gen = append(gen, generated{r, nil})
			}
		}
	}
	l.packagesUnder[rel] = pkgLabels

	var res language.GenerateResult
	for _, g := range gen {
		// Only on targets that are new: an existing one keeps the visibility it has, or has not.
		if !existing(args.File, g.r) {
			g.r.SetAttr("visibility", oc.visibility)
		}
		res.Gen = append(res.Gen, g.r)
		res.Imports = append(res.Imports, g.imp)
	}
	res.Empty = l.emptyRules(args, taken)
	return res
}

// emptyRules returns, for the existing rules of this language whose file (pkg_xml, src,
// fm_file_list, oem_input) was in this directory and is gone, an empty rule so that gazelle
// deletes them.
func (l *oemLang) emptyRules(args language.GenerateArgs, taken map[string]string) []*rule.Rule {
	if args.File == nil {
		return nil
	}
	present := map[string]bool{}
	for _, f := range args.RegularFiles {
		present[f] = true
	}
	for _, f := range args.GenFiles {
		present[f] = true
	}
	var empty []*rule.Rule
	for _, r := range args.File.Rules {
		var attr string
		switch r.Kind() {
		case kindPackage:
			attr = "pkg_xml"
		case kindFM:
			attr = "src"
		case kindMerged:
			attr = "fm_file_list"
		case kindImage:
			attr = "oem_input"
		default:
			continue
		}
		file := r.AttrString(attr)
		if file == "" || strings.ContainsAny(file, ":/") || present[file] {
			continue
		}
		if _, ok := taken[r.Name()]; ok {
			continue
		}
		empty = append(empty, rule.NewRule(r.Kind(), r.Name()))
	}
	return empty
}

func (oc *oemConfig) setMergeAttrs(r *rule.Rule) {
	if oc.mergeVersion != "" {
		r.SetAttr("version", oc.mergeVersion)
	}
	if oc.mergeFMID != "" {
		r.SetAttr("fmid", oc.mergeFMID)
	}
	if oc.mergeOwner != "" {
		r.SetAttr("owner_name", oc.mergeOwner)
	}
	if len(oc.mergeLanguages) > 0 {
		r.SetAttr("languages", oc.mergeLanguages)
	}
	if len(oc.mergeResolutions) > 0 {
		r.SetAttr("resolutions", oc.mergeResolutions)
	}
	if len(oc.mergeVariables) > 0 {
		vars := map[string]string{}
		for _, kv := range oc.mergeVariables {
			vars[kv[0]] = kv[1]
		}
		r.SetAttr("variables", vars)
	}
}

// relTo makes paths relative to dir (a slash path relative to the package) relative to the package.
func relTo(dir string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = path.Join(dir, p)
	}
	return out
}

// labelStrings formats labels relative to package pkg, deduplicated and in buildifier's order
// (local labels first).
func labelStrings(labels []label.Label, repo, pkg string) []string {
	seen := map[string]bool{}
	var out []string
	for _, lb := range labels {
		s := lb.Rel(repo, pkg).String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		pi, pj := labelPhase(out[i]), labelPhase(out[j])
		if pi != pj {
			return pi < pj
		}
		return out[i] < out[j]
	})
	return out
}

func labelPhase(s string) int {
	switch {
	case strings.HasPrefix(s, ":"):
		return 0
	case strings.HasPrefix(s, "//"):
		return 1
	case strings.HasPrefix(s, "@"):
		return 2
	}
	return 0
}

func (r ref) String() string {
	if r.What == "package" {
		return fmt.Sprintf(`package "%s" (Path "%s")`, r.Name, r.Path)
	}
	return fmt.Sprintf(`%s "%s"`, r.What, r.Full)
}

// logInvalid reports a file that does not parse, one problem a line.
func logInvalid(file string, err error) {
	var list manifest.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			log.Print(e)
		}
	} else {
		log.Print(err)
	}
	log.Printf("%s: not valid; its target is left as it is", file)
}

// existing reports whether f has a rule that gazelle will merge r into: the same kind, and the
// same name or the same file attribute (the kinds' MatchAttrs).
func existing(f *rule.File, r *rule.Rule) bool {
	if f == nil {
		return false
	}
	for _, old := range f.Rules {
		if old.Kind() != r.Kind() {
			continue
		}
		if old.Name() == r.Name() {
			return true
		}
		for _, a := range []string{"pkg_xml", "src", "fm_file_list", "fm"} {
			if v := r.AttrString(a); v != "" && old.AttrString(a) == v {
				return true
			}
		}
	}
	return false
}
