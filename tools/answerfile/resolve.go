package answerfile

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// Resolved is a merged answer file checked against the image's policies: every setting with its
// declaration and encoded value, every asset with its device path.
type Resolved struct {
	C        *Customizations
	Static   Applied
	Variants []*ResolvedVariant // by TargetRef
	// Warnings are the settings and assets left out because no policy declares them, in file
	// order (at most MaxReports; MoreWarnings counts the rest).
	Warnings     manifest.ErrorList
	MoreWarnings int
}

// ResolvedVariant is a variant with its target.
type ResolvedVariant struct {
	Variant *Variant
	Target  *Target
	Applied
}

// Applied is what one section sets.
type Applied struct {
	Settings []*SettingValue
	Assets   []*PlacedAsset
}

// SettingValue is one setting to apply.
type SettingValue struct {
	Group, Name string // as the answer file spells them
	Policy      *SettingPolicy
	Value       Value
	RegKey      string // registry-backed: key and value name, $(Name) segments substituted
	RegName     string
	Pos         Pos
}

// PlacedAsset is an asset file and where it goes.
type PlacedAsset struct {
	Asset      *Asset
	Group      string
	Policy     *AssetPolicy
	DevicePath string
}

// Resolve checks every setting and asset of c against the policies. A value the declaration
// does not allow is an error at the answer file's line. A setting or asset that no policy
// declares is, as the documentation says, left out of the image with a warning
// (Resolved.Warnings); with strict (ImageApp's +StrictSettingPolicies) it is an error instead.
func Resolve(c *Customizations, p *Policies, strict bool) (*Resolved, error) {
	r := &Resolved{C: c}
	rs := &resolver{p: p, strict: strict}
	r.Static = rs.section(&c.Static)
	targets := map[string]*Target{}
	for _, t := range c.Targets {
		targets[strings.ToLower(t.ID)] = t
	}
	for _, v := range c.Variants {
		r.Variants = append(r.Variants, &ResolvedVariant{Variant: v, Target: targets[strings.ToLower(v.TargetRef)], Applied: rs.section(&v.Section)})
	}
	sort.Slice(r.Variants, func(i, j int) bool {
		return strings.ToLower(r.Variants[i].Variant.TargetRef) < strings.ToLower(r.Variants[j].Variant.TargetRef)
	})
	sortByPos(rs.warnings)
	r.Warnings, r.MoreWarnings = rs.warnings, rs.moreWarnings
	if len(rs.errs) > 0 {
		sortByPos(rs.errs)
		if rs.moreErrors > 0 {
			rs.errs = append(rs.errs, &manifest.Error{Pos: Pos{File: c.Root.Path}, Msg: fmt.Sprintf("%d more errors like these", rs.moreErrors)})
		}
		return nil, rs.errs
	}
	return r, nil
}

// MaxReports bounds the errors and the warnings Resolve keeps (the rest are counted), and the
// messages it looks for a nearest declared name for (a search over every declaration): an
// answer file of a million undeclared settings costs linear time and a bounded report.
const MaxReports = 100

type resolver struct {
	p            *Policies
	strict       bool
	errs         manifest.ErrorList
	warnings     manifest.ErrorList
	moreWarnings int
	moreErrors   int
	hints        int // nearest-name searches done
	cost         int // their work, up to hintCost
	groupPaths   []string
}

func (rs *resolver) fail(pos Pos, format string, args ...any) {
	if len(rs.errs) >= MaxReports {
		rs.moreErrors++
		return
	}
	rs.errs = append(rs.errs, &manifest.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// full counts an undeclared item without building its message when the report it would go to
// is full, and reports whether it did.
func (rs *resolver) full() bool {
	switch {
	case rs.strict && len(rs.errs) >= MaxReports:
		rs.moreErrors++
	case !rs.strict && len(rs.warnings) >= MaxReports:
		rs.moreWarnings++
	default:
		return false
	}
	return true
}

// undeclared reports a setting or asset no policy declares: an error in strict mode, else a
// warning, the item being left out. Callers check full first.
func (rs *resolver) undeclared(pos Pos, what, why string) {
	if rs.strict {
		rs.fail(pos, "%s is not declared: %s; expected a declaration in a policy file of a selected package (+StrictSettingPolicies)", what, why)
		return
	}
	rs.warnings = append(rs.warnings, &manifest.Error{Pos: pos, Msg: fmt.Sprintf(
		"%s is not declared: %s; it is left out of the image (+StrictSettingPolicies makes this an error)", what, why)})
}

// hintCost bounds the work of all nearest-name hints of one Resolve: an edit distance costs
// the product of the lengths compared, and hostile names may be long and many.
const hintCost = 1 << 26

// nearest is " (nearest: X)" for the first MaxReports messages while the work stays within
// hintCost, then "".
func (rs *resolver) nearest(got string, known func() []string) string {
	if rs.hints >= MaxReports {
		return ""
	}
	rs.hints++
	names := known()
	cost := 0
	for _, k := range names {
		cost += (len(got) + 1) * (len(k) + 1)
		if rs.cost+cost > hintCost {
			return ""
		}
	}
	rs.cost += cost
	if n := Nearest(got, names); n != "" {
		return fmt.Sprintf(" (nearest: %q)", n)
	}
	return ""
}

// paths is the declared group paths, listed once.
func (rs *resolver) paths() []string {
	if rs.groupPaths == nil {
		rs.groupPaths = rs.p.Paths()
	}
	return rs.groupPaths
}

func sortByPos(l manifest.ErrorList) {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
}

func (rs *resolver) section(s *Section) Applied {
	var out Applied
	for _, g := range s.Settings {
		pg, vars := rs.p.Match(g.Path)
		if pg == nil {
			rs.undeclaredGroup(g)
			continue
		}
		for _, st := range g.Settings {
			if sv := rs.setting(g, pg, vars, st); sv != nil {
				out.Settings = append(out.Settings, sv)
			}
		}
		for _, a := range g.Assets {
			if pa := rs.asset(g, pg, a); pa != nil {
				out.Assets = append(out.Assets, pa)
			}
		}
	}
	return out
}

// undeclaredGroup reports each setting and asset of a group no policy file declares.
func (rs *resolver) undeclaredGroup(g *SettingsGroup) {
	why := ""
	reason := func() string {
		if why == "" {
			why = fmt.Sprintf("no selected package has a policy file (%s...)", PolicyDir)
			if len(rs.p.Groups) > 0 {
				why = fmt.Sprintf("no policy file of the image declares group %q", g.Path) + rs.nearest(g.Path, rs.paths)
			}
		}
		return why
	}
	for _, st := range g.Settings {
		if !rs.full() {
			rs.undeclared(st.Pos, fmt.Sprintf("setting %q of group %q", st.Name, g.Path), reason())
		}
	}
	for _, a := range g.Assets {
		if !rs.full() {
			rs.undeclared(a.Pos, fmt.Sprintf("asset %q of group %q", a.Name, g.Path), reason())
		}
	}
}

func (rs *resolver) setting(g *SettingsGroup, pg *Group, vars map[string]string, st *Setting) *SettingValue {
	sp := pg.Setting(st.Name)
	if sp == nil && rs.full() {
		return nil
	}
	if sp == nil {
		names := func() []string {
			var names []string
			for _, x := range pg.Settings {
				names = append(names, x.Name)
			}
			return names
		}
		rs.undeclared(st.Pos, fmt.Sprintf("setting %q of group %q", st.Name, g.Path),
			fmt.Sprintf("the group (%s) declares no such setting", pg.Pos)+rs.nearest(st.Name, names))
		return nil
	}
	v, err := Encode(sp, st.Value)
	if err != nil {
		rs.fail(st.Pos, "setting %s/%s (%s): %v", g.Path, st.Name, sp.Type(), err)
		return nil
	}
	sv := &SettingValue{Group: g.Path, Name: st.Name, Policy: sp, Value: v, Pos: st.Pos}
	if sp.Registry != nil {
		sv.RegKey, sv.RegName = substitute(sp.Registry.Key, vars), substitute(sp.Registry.ValueName, vars)
	}
	return sv
}

func (rs *resolver) asset(g *SettingsGroup, pg *Group, a *Asset) *PlacedAsset {
	ap := pg.Asset(a.Name)
	if ap == nil && rs.full() {
		return nil
	}
	if ap == nil {
		why := fmt.Sprintf("the group (%s) declares no assets", pg.Pos)
		if len(pg.Assets) > 0 {
			var names []string
			for _, x := range pg.Assets {
				names = append(names, x.Name)
			}
			why = fmt.Sprintf("the group (%s) declares only %s", pg.Pos, strings.Join(names, ", "))
		}
		rs.undeclared(a.Pos, fmt.Sprintf("asset %q of group %q", a.Name, g.Path), why)
		return nil
	}
	name := a.FileName()
	if len(ap.Types) > 0 && !containsFold(ap.Types, filepath.Ext(name)) {
		rs.fail(a.Pos, "asset %s %q has extension %q; expected %s", a.Name, name, filepath.Ext(name), strings.Join(ap.Types, ", "))
		return nil
	}
	return &PlacedAsset{Asset: a, Group: g.Path, Policy: ap, DevicePath: strings.TrimRight(ap.Path, `\`) + `\` + name}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// substitute replaces the $(Name) segments a group path matched (names compared ignoring case;
// vars is keyed by the lower-case "$(name)"). One pass: a value is not expanded again.
func substitute(s string, vars map[string]string) string {
	if len(vars) == 0 {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "$(")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			break
		}
		if v, ok := vars[strings.ToLower(s[i:i+j+1])]; ok {
			b.WriteString(s[:i])
			b.WriteString(v)
		} else {
			b.WriteString(s[:i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}
