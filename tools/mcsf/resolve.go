package mcsf

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

// Resolve checks every setting and asset of c against the policies. An undeclared group,
// setting or asset, or a value the declaration does not allow, is an error at the answer file's
// line (the original only warns and drops such a setting; see docs/customization.md).
func Resolve(c *Customizations, p *Policies) (*Resolved, error) {
	r := &Resolved{C: c}
	var errs manifest.ErrorList
	fail := func(pos Pos, format string, args ...any) {
		errs = append(errs, &manifest.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	r.Static = resolveSection(&c.Static, p, fail)
	targets := map[string]*Target{}
	for _, t := range c.Targets {
		targets[strings.ToLower(t.ID)] = t
	}
	for _, v := range c.Variants {
		r.Variants = append(r.Variants, &ResolvedVariant{Variant: v, Target: targets[strings.ToLower(v.TargetRef)], Applied: resolveSection(&v.Section, p, fail)})
	}
	sort.Slice(r.Variants, func(i, j int) bool {
		return strings.ToLower(r.Variants[i].Variant.TargetRef) < strings.ToLower(r.Variants[j].Variant.TargetRef)
	})
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			a, b := errs[i].Pos, errs[j].Pos
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, errs
	}
	return r, nil
}

func resolveSection(s *Section, p *Policies, fail func(Pos, string, ...any)) Applied {
	var out Applied
	for _, g := range s.Settings {
		pg, vars := p.Match(g.Path)
		if pg == nil {
			where := g.Pos
			if len(g.Settings) > 0 {
				where = g.Settings[0].Pos
			} else if len(g.Assets) > 0 {
				where = g.Assets[0].Pos
			}
			if len(p.Groups) == 0 {
				fail(where, "settings group %q is not declared: no selected package has a policy file (%s*%s); expected the package that declares it in the image", g.Path, PolicyDir, PolicySuffix)
			} else {
				fail(where, "settings group %q is not declared by any policy file of the image; expected a declared group (nearest: %q)", g.Path, Nearest(g.Path, p.Paths()))
			}
			continue
		}
		for _, st := range g.Settings {
			sp := pg.Setting(st.Name)
			if sp == nil {
				var names []string
				for _, x := range pg.Settings {
					names = append(names, x.Name)
				}
				fail(st.Pos, "setting %q is not declared in group %q (%s); expected a declared setting (nearest: %q)", st.Name, g.Path, pg.Pos, Nearest(st.Name, names))
				continue
			}
			v, err := Encode(sp, st.Value)
			if err != nil {
				fail(st.Pos, "setting %s/%s (%s): %v", g.Path, st.Name, sp.Type(), err)
				continue
			}
			sv := &SettingValue{Group: g.Path, Name: st.Name, Policy: sp, Value: v, Pos: st.Pos}
			if sp.Registry != nil {
				sv.RegKey, sv.RegName = substitute(sp.Registry.Key, vars), substitute(sp.Registry.ValueName, vars)
			}
			out.Settings = append(out.Settings, sv)
		}
		for _, a := range g.Assets {
			ap := pg.Asset(a.Name)
			if ap == nil {
				var names []string
				for _, x := range pg.Assets {
					names = append(names, x.Name)
				}
				if len(names) == 0 {
					fail(a.Pos, "asset %q: group %q declares no assets; expected no <Asset> in it", a.Name, g.Path)
				} else {
					fail(a.Pos, "asset %q is not declared in group %q; expected one of %s", a.Name, g.Path, strings.Join(names, ", "))
				}
				continue
			}
			name := a.FileName()
			if len(ap.Types) > 0 && !containsFold(ap.Types, filepath.Ext(name)) {
				fail(a.Pos, "asset %s %q has extension %q; expected %s", a.Name, name, filepath.Ext(name), strings.Join(ap.Types, ", "))
				continue
			}
			out.Assets = append(out.Assets, &PlacedAsset{Asset: a, Group: g.Path, Policy: ap, DevicePath: strings.TrimRight(ap.Path, `\`) + `\` + name})
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// substitute replaces the $(Name) segments a group path matched.
func substitute(s string, vars map[string]string) string {
	for k, v := range vars {
		var b strings.Builder
		for {
			i := strings.Index(strings.ToLower(s), k)
			if i < 0 {
				break
			}
			b.WriteString(s[:i] + v)
			s = s[i+len(k):]
		}
		s = b.String() + s
	}
	return s
}
