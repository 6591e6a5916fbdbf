package gazelle

import (
	"log"
	"path"
	"sort"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/repo"
	"github.com/bazelbuild/bazel-gazelle/resolve"
	"github.com/bazelbuild/bazel-gazelle/rule"
	bzl "github.com/bazelbuild/buildtools/build"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Import specs (ImportSpec.Lang "oemimage"; names and paths lower case, as Windows matches them):
//
//	spkg:<file name>             a package file a mobile_package produces (or a checked-in .spkg)
//	spkgbase:<file name>         the neutral package file name of a package or satellite
//	spkgpath:<dir>/<file name>   the same, under the directory of its pkg.xml (or of the .spkg)
//	fm:<file name>               a feature manifest's file name
//	fmpath:<repo path>           a feature manifest's path in the repository
//	mergedfm:<//pkg:name>        a merged_packages target merging that feature_manifest
//	mergedname:<file name>       a merged_packages target whose FMFileList lists an FM of that name
func (l *oemLang) Imports(c *config.Config, r *rule.Rule, f *rule.File) []resolve.ImportSpec {
	var imps []string
	switch r.Kind() {
	case kindPackage:
		owner, comp := r.AttrString("owner"), r.AttrString("component")
		if owner == "" || comp == "" {
			return nil
		}
		sub := r.AttrString("sub_component")
		name := func(lang, res string) string { return spkg.Name(owner, comp, sub, lang, res) + ".spkg" }
		var files []string
		if lang, res := r.AttrString("language"), r.AttrString("resolution"); lang != "" || res != "" || !isTrue(r.Attr("no_base_package")) {
			files = append(files, name(lang, res))
		}
		for _, lang := range r.AttrStrings("languages") {
			files = append(files, name(lang, ""))
		}
		for _, res := range r.AttrStrings("resolutions") {
			files = append(files, name("", res))
		}
		dir := f.Pkg
		if x := r.AttrString("pkg_xml"); x != "" && !strings.ContainsAny(x, ":@") {
			dir = path.Dir(path.Join(f.Pkg, x))
		}
		imps = append(imps, "spkgbase:"+strings.ToLower(name("", "")))
		for _, file := range files {
			imps = append(imps, "spkg:"+strings.ToLower(file), "spkgpath:"+strings.ToLower(path.Join(dir, file)))
		}
	case kindFM:
		src := r.AttrString("src")
		if src == "" {
			return nil
		}
		lb, err := label.Parse(src)
		if err != nil {
			return nil
		}
		lb = lb.Abs("", f.Pkg)
		p := path.Join(lb.Pkg, lb.Name)
		imps = append(imps, "fm:"+strings.ToLower(path.Base(p)), "fmpath:"+strings.ToLower(p))
	case kindMerged:
		var fms []string
		if fm := r.AttrString("fm"); fm != "" {
			fms = append(fms, fm)
		}
		fms = append(fms, r.AttrStrings("fms")...)
		for _, s := range fms {
			if lb, err := label.Parse(s); err == nil {
				imps = append(imps, "mergedfm:"+lb.Abs("", f.Pkg).String())
			}
		}
		if names, ok := r.PrivateAttr(privateFMNames).([]string); ok {
			for _, n := range names {
				imps = append(imps, "mergedname:"+n)
			}
		}
	default:
		return nil
	}
	specs := make([]resolve.ImportSpec, len(imps))
	for i, imp := range imps {
		specs[i] = resolve.ImportSpec{Lang: langName, Imp: imp}
	}
	return specs
}

func (l *oemLang) Resolve(c *config.Config, ix *resolve.RuleIndex, rc *repo.RemoteCache, r *rule.Rule, imports interface{}, from label.Label) {
	oc := getConfig(c)
	set := func(attr string, labels []label.Label) {
		if len(labels) > 0 {
			r.SetAttr(attr, labelStrings(labels, c.RepoName, from.Pkg))
		} else {
			r.DelAttr(attr)
		}
	}
	switch imp := imports.(type) {
	case fmImports:
		set("packages", l.resolveAll(c, oc, ix, "spkg", imp.Packages))
	case listImports:
		set("fms", l.resolveAll(c, oc, ix, "fm", imp.FMs))
	case imageImports:
		fms := l.resolveAll(c, oc, ix, "fm", imp.FMs)
		if imp.Merged {
			for i, fm := range fms {
				fms[i] = l.merged(c, ix, fm, imp.FMs)
			}
		}
		set("feature_manifests", fms)
		set("packages", l.resolveAll(c, oc, ix, "spkg", imp.Packages))
	}
}

func (l *oemLang) resolveAll(c *config.Config, oc *oemConfig, ix *resolve.RuleIndex, kind string, refs []ref) []label.Label {
	var out []label.Label
	for _, rf := range refs {
		out = append(out, l.resolveRef(c, oc, ix, kind, rf)...)
	}
	return out
}

// resolveRef finds the targets of one reference: first by its path, when the path variables
// map it into the repository, then by its file name, which must be unique.
func (l *oemLang) resolveRef(c *config.Config, oc *oemConfig, ix *resolve.RuleIndex, kind string, rf ref) []label.Label {
	x := winpath.NewExpander(oc.vars, oc.env)
	if p, err := relativePath(x.Expand(rf.Full)); err == nil {
		if found := l.find(c, ix, kind+"path:"+strings.ToLower(p)); len(found) == 1 {
			return found
		}
	}
	base := strings.ToLower(winpath.Base(rf.Full))
	found := l.find(c, ix, kind+":"+base)
	if rf.Satellites {
		found = dedupe(append(found, l.find(c, ix, "spkgbase:"+base)...))
	}
	switch {
	case len(found) == 0:
		log.Printf("%s:%d: %s not found in the repository", rf.Pos.File, rf.Pos.Line, rf)
		return nil
	case len(found) > 1 && !rf.Satellites:
		var names []string
		for _, lb := range found {
			names = append(names, lb.String())
		}
		sort.Strings(names)
		log.Printf("%s:%d: %s is given by more than one target: %s; map its path with # gazelle:%s",
			rf.Pos.File, rf.Pos.Line, rf, strings.Join(names, ", "), dPath)
		return nil
	}
	return found
}

// merged replaces a feature_manifest label by the merged_packages target that merges it.
func (l *oemLang) merged(c *config.Config, ix *resolve.RuleIndex, fm label.Label, refs []ref) label.Label {
	key := label.New("", fm.Pkg, fm.Name).String()
	found := l.find(c, ix, "mergedfm:"+key)
	// An FMFileList's target lists the FM by file name.
	for _, rf := range refs {
		if len(found) > 0 {
			break
		}
		found = l.findFMName(c, ix, fm, rf)
	}
	if len(found) == 1 {
		return found[0]
	}
	if len(found) > 1 {
		log.Printf("%s is merged by more than one merged_packages target; the image uses the FM itself", key)
	}
	return fm
}

// findFMName looks up the merged_packages target of an FMFileList that lists rf, when rf is the
// reference that resolved to fm.
func (l *oemLang) findFMName(c *config.Config, ix *resolve.RuleIndex, fm label.Label, rf ref) []label.Label {
	base := strings.ToLower(winpath.Base(rf.Full))
	for _, lb := range l.find(c, ix, "fm:"+base) {
		if lb.Pkg == fm.Pkg && lb.Name == fm.Name {
			return l.find(c, ix, "mergedname:"+base)
		}
	}
	return nil
}

func (l *oemLang) find(c *config.Config, ix *resolve.RuleIndex, imp string) []label.Label {
	var out []label.Label
	for _, r := range ix.FindRulesByImportWithConfig(c, resolve.ImportSpec{Lang: langName, Imp: imp}, langName) {
		out = append(out, r.Label)
	}
	out = append(out, l.files[imp]...)
	return dedupe(out)
}

func dedupe(labels []label.Label) []label.Label {
	seen := map[string]bool{}
	var out []label.Label
	for _, lb := range labels {
		if s := lb.String(); !seen[s] {
			seen[s] = true
			out = append(out, lb)
		}
	}
	return out
}

// isTrue reports an attribute set to True.
func isTrue(e bzl.Expr) bool {
	id, ok := e.(*bzl.Ident)
	return ok && id.Name == "True"
}
