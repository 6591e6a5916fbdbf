package answerfile

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// MaxFileBytes bounds every file the customization flow reads whole: answer files, the files
// they import and the policy files of packages. These are XML documents of kilobytes; the bound
// keeps a mistaken or hostile path (a device, a log that grows, a disk image renamed .xml) from
// exhausting memory. Asset, application and data asset files are streamed, not read whole.
const MaxFileBytes = 16 << 20

// Customizations is an answer file with its imports merged: one value per unique item.
type Customizations struct {
	Root     *File     // the answer file given; its header names and owns the packages
	Targets  []*Target // by Id
	Static   Section
	Variants []*Variant // one per target, by TargetRef

	variants map[string]*Variant // Variants by lower-case TargetRef, while merging
}

// item is one unique thing an answer file sets. Settings are keyed by (condition, group path,
// setting name): the documented Condition-Setting Path pair, refined to single settings so that
// two files may set different settings of one group.
type item struct {
	key  string
	what string // for messages: `setting "Color" of group "Contoso/Display" (static)`
	pos  Pos
	file *File
	set  func(c *Customizations)
}

// Load reads the answer file at path and every file it imports, and merges them:
//   - a file overrides what any file it imports sets;
//   - two files imported by the same file may not set the same item, unless their Priority
//     differs (1 is highest; a file without Priority ranks below any file with one);
//   - an import cycle is an error.
//
// Source paths must exist. env gives $(NAME) (see Parse).
func Load(path string, env map[string]string) (*Customizations, error) {
	l := &loader{env: env, files: map[string]*File{}}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	root, err := l.read(abs)
	if err != nil {
		var list manifest.ErrorList
		if errors.As(err, &list) {
			return nil, err
		}
		return nil, fmt.Errorf("answer file %v", err)
	}
	var errs manifest.ErrorList
	for _, a := range []struct{ name, v string }{{"Name", root.Name}, {"Owner", root.Owner}, {"OwnerType", root.OwnerType}} {
		if strings.TrimSpace(a.v) == "" {
			errs = append(errs, &manifest.Error{Pos: root.Pos, Msg: fmt.Sprintf("the root answer file has no %s; expected it, as it names and owns the customization packages", a.name)})
		}
	}
	if root.Owner != "" && strings.ContainsAny(root.Owner, ` .\/:*?"<>|`) {
		errs = append(errs, &manifest.Error{Pos: root.Pos, Msg: fmt.Sprintf("Owner %q; expected a name without spaces, dots or reserved characters, as it starts the package names", root.Owner)})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	items, err := l.merge(root, nil)
	if err != nil {
		return nil, err
	}
	c := &Customizations{Root: root}
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		items[k].set(c)
	}
	l.nameVariants(c, root)
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

type loader struct {
	env   map[string]string
	files map[string]*File // by cleaned host path
}

func (l *loader) read(path string) (*File, error) {
	if f, ok := l.files[path]; ok {
		return f, nil
	}
	data, err := readfile.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	f, err := Parse(path, data, l.env)
	if err != nil {
		return nil, err
	}
	if err := checkSources(f); err != nil {
		return nil, err
	}
	l.files[path] = f
	return f, nil
}

// checkSources reports source files that do not exist or are not regular files (data assets
// may be directories), before anything opens them.
func checkSources(f *File) error {
	var errs manifest.ErrorList
	check := func(path string, pos Pos, what string, dirOK bool) {
		if path == "" {
			return
		}
		if _, err := readfile.Check(path, dirOK); err != nil {
			errs = append(errs, &manifest.Error{Pos: pos, Msg: what + " " + err.Error()})
		}
	}
	sections := []*Section{f.Static}
	for _, v := range f.Variants {
		sections = append(sections, &v.Section)
	}
	for _, s := range sections {
		if s == nil {
			continue
		}
		for _, g := range s.Settings {
			for _, a := range g.Assets {
				check(a.Source, a.Pos, "asset", false)
			}
		}
		for _, a := range s.Applications {
			check(a.Source, a.Pos, "application", false)
			check(a.License, a.Pos, "application license", false)
			check(a.ProvXML, a.Pos, "application ProvXML", false)
		}
		for _, d := range s.DataAssets {
			check(d.Source, d.Pos, "data asset", true)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// merge returns the items f sets, with what its imports set under the conflict rules. stack is
// the chain of importing files, for cycles.
func (l *loader) merge(f *File, stack []*File) (map[string]*item, error) {
	stack = append(stack, f)
	type origin struct {
		it  *item
		sib *File // the import it came through
	}
	fromImports := map[string]origin{}
	var errs manifest.ErrorList
	for _, imp := range f.Imports {
		for i, s := range stack {
			if s.Path == imp.Source {
				chain := []string{}
				for _, t := range stack[i:] {
					chain = append(chain, filepath.Base(t.Path))
				}
				chain = append(chain, filepath.Base(imp.Source))
				return nil, manifest.ErrorList{{Pos: imp.Pos, Msg: "import cycle: " + strings.Join(chain, " imports ") + "; expected imports to form a tree"}}
			}
		}
		sib, err := l.read(imp.Source)
		if err != nil {
			var list manifest.ErrorList
			if errors.As(err, &list) {
				return nil, err
			}
			return nil, manifest.ErrorList{{Pos: imp.Pos, Msg: "import " + err.Error()}}
		}
		sub, err := l.merge(sib, stack)
		if err != nil {
			return nil, err
		}
		for k, it := range sub {
			prev, ok := fromImports[k]
			if !ok || prev.it.pos == it.pos {
				if !ok {
					fromImports[k] = origin{it, sib}
				}
				continue
			}
			switch rankPriority(sib.Priority, prev.sib.Priority) {
			case 1:
				fromImports[k] = origin{it, sib}
			case 0:
				errs = append(errs, &manifest.Error{Pos: it.pos, Msg: fmt.Sprintf(
					"%s is set both here and at %s, files imported by %s with the same priority; expected it set in one of them, a different Priority on each, or an override in %s",
					it.what, prev.it.pos, filepath.Base(f.Path), filepath.Base(f.Path))})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	own, err := itemsOf(f)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*item, len(fromImports)+len(own))
	for k, o := range fromImports {
		out[k] = o.it
	}
	for k, it := range own {
		out[k] = it // the importing file overrides
	}
	return out, nil
}

// nameVariants names each merged variant as the file nearest the root names its target's
// variant (breadth first, in import order), the importer's name winning as its settings do.
func (l *loader) nameVariants(c *Customizations, root *File) {
	named := map[string]bool{}
	seen := map[string]bool{root.Path: true}
	queue := []*File{root}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, v := range f.Variants {
			key := strings.ToLower(v.TargetRef)
			if m := c.variants[key]; m != nil && !named[key] {
				m.Name, m.Pos = v.Name, v.Pos
				named[key] = true
			}
		}
		for _, imp := range f.Imports {
			if g := l.files[imp.Source]; g != nil && !seen[g.Path] {
				seen[g.Path] = true
				queue = append(queue, g)
			}
		}
	}
}

// rankPriority compares two priorities: 1 when a ranks above b, -1 below, 0 equal. 1 is the
// highest; 0 (none given) ranks below every given priority.
func rankPriority(a, b int) int {
	if a == b {
		return 0
	}
	if a == 0 {
		return -1
	}
	if b == 0 || a < b {
		return 1
	}
	return -1
}

// itemsOf lists what one file sets, keyed; the same item twice in a file is an error.
func itemsOf(f *File) (map[string]*item, error) {
	out := map[string]*item{}
	var errs manifest.ErrorList
	add := func(it *item) {
		it.file = f
		if prev, dup := out[it.key]; dup {
			errs = append(errs, &manifest.Error{Pos: it.pos, Msg: fmt.Sprintf("%s is set twice in this file (first at line %d); expected it once", it.what, prev.pos.Line)})
			return
		}
		out[it.key] = it
	}
	for _, t := range f.Targets {
		t := t
		add(&item{key: "0target|" + strings.ToLower(t.ID), what: fmt.Sprintf("target %q", t.ID), pos: t.Pos,
			set: func(c *Customizations) { c.Targets = append(c.Targets, t) }})
	}
	if f.Static != nil {
		sectionItems(f.Static, "", "static", nil, add)
	}
	for _, v := range f.Variants {
		v := v
		cond := "variant:" + strings.ToLower(v.TargetRef)
		sectionItems(&v.Section, cond, fmt.Sprintf("variant %q (target %s)", v.Name, v.TargetRef), v, add)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// sectionItems lists the items of a Static (v nil) or Variant section under condition cond.
func sectionItems(s *Section, cond, where string, v *Variant, add func(*item)) {
	section := func(c *Customizations) *Section {
		if v == nil {
			return &c.Static
		}
		return &c.variant(v).Section
	}
	for _, g := range s.Settings {
		g := g
		gkey := groupKey(g.Path)
		for _, st := range g.Settings {
			st := st
			add(&item{key: cond + "|1setting|" + gkey + "|" + strings.ToLower(st.Name),
				what: fmt.Sprintf("setting %q of group %q in %s", st.Name, g.Path, where), pos: st.Pos,
				set: func(c *Customizations) { section(c).group(g).Settings = append(section(c).group(g).Settings, st) }})
		}
		for _, a := range g.Assets {
			a := a
			add(&item{key: cond + "|2asset|" + gkey + "|" + strings.ToLower(a.Name) + "|" + strings.ToLower(a.FileName()),
				what: fmt.Sprintf("asset %s %q of group %q in %s", a.Name, a.FileName(), g.Path, where), pos: a.Pos,
				set: func(c *Customizations) { section(c).group(g).Assets = append(section(c).group(g).Assets, a) }})
		}
	}
	for _, a := range s.Applications {
		a := a
		add(&item{key: cond + "|3app|" + strings.ToLower(filepath.Base(a.Source)),
			what: fmt.Sprintf("application %s in %s", filepath.Base(a.Source), where), pos: a.Pos,
			set: func(c *Customizations) { section(c).Applications = append(section(c).Applications, a) }})
	}
	for _, d := range s.DataAssets {
		d := d
		add(&item{key: cond + "|4data|" + strings.ToLower(d.Type) + "|" + strings.ToLower(filepath.Base(d.Source)),
			what: fmt.Sprintf("%s data asset %s", d.Type, filepath.Base(d.Source)), pos: d.Pos,
			set: func(c *Customizations) { section(c).DataAssets = append(section(c).DataAssets, d) }})
	}
	if v != nil && len(s.Settings) == 0 && len(s.Applications) == 0 {
		add(&item{key: cond + "|5empty|" + v.Pos.String(), what: fmt.Sprintf("variant %q", v.Name), pos: v.Pos,
			set: func(c *Customizations) { c.variant(v) }})
	}
}

// groupKey is a settings group path for comparison: '\' and '/' alike, case ignored.
func groupKey(path string) string {
	return strings.ToLower(strings.Trim(strings.ReplaceAll(path, `\`, "/"), "/"))
}

// group returns the merged section's group for g's path, adding it on first use. Looked up in
// a map: an answer file may hold hundreds of thousands of groups.
func (s *Section) group(g *SettingsGroup) *SettingsGroup {
	key := groupKey(g.Path)
	if x := s.groups[key]; x != nil {
		return x
	}
	if s.groups == nil {
		s.groups = map[string]*SettingsGroup{}
	}
	n := &SettingsGroup{Path: g.Path, Pos: g.Pos}
	s.Settings = append(s.Settings, n)
	s.groups[key] = n
	return n
}

// variant returns the merged variant for v's target, adding it on first use.
func (c *Customizations) variant(v *Variant) *Variant {
	key := strings.ToLower(v.TargetRef)
	if x := c.variants[key]; x != nil {
		return x
	}
	if c.variants == nil {
		c.variants = map[string]*Variant{}
	}
	n := &Variant{Name: v.Name, TargetRef: v.TargetRef, Pos: v.Pos, RefPos: v.RefPos}
	c.Variants = append(c.Variants, n)
	c.variants[key] = n
	return n
}

// check applies the rules that need the merged whole: every TargetRef names a target.
func (c *Customizations) check() error {
	var errs manifest.ErrorList
	ids := map[string]bool{}
	var names []string
	for _, t := range c.Targets {
		ids[strings.ToLower(t.ID)] = true
		names = append(names, t.ID)
	}
	for _, v := range c.Variants {
		if v.TargetRef != "" && !ids[strings.ToLower(v.TargetRef)] {
			msg := fmt.Sprintf("variant %q refers to target %q, which no answer file defines; expected the Id of a Target", v.Name, v.TargetRef)
			if len(names) > 0 {
				msg += " (" + strings.Join(names, ", ") + ")" + manifest.DidYouMean(v.TargetRef, names)
			}
			errs = append(errs, &manifest.Error{Pos: v.RefPos, Msg: msg})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
