package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// selector walks the FMs and collects packages in order, without duplicates.
type selector struct {
	o       *manifest.OEMInput
	cpu     string
	x       *winpath.Expander
	ui, res []string // OEMInput UI languages and resolutions (satellites)
	kb, sp  []string // keyboard and speech languages
	ms, oem map[string]bool

	byName map[string]*Package // upper-cased file name -> package
	order  []*Package

	// offered holds, for the groups an OEMInput value selects by (DeviceLayout by SOC,
	// OEMDevicePlatform by Device), the values the FMs offer (upper-cased -> as written) and
	// whether the OEMInput's matched one, for notes on a mistyped <SOC> or <Device>.
	offered map[manifest.Group]map[string]string
	matched map[manifest.Group]bool
}

// occurrence is a later selection of a package name from another path.
type occurrence struct {
	path   string
	reason Reason
}

// newSelector returns a selector; size is about how many packages the FMs list.
func newSelector(o *manifest.OEMInput, cpu string, x *winpath.Expander, ms []manifest.Value, size int) *selector {
	s := &selector{o: o, cpu: cpu, x: x,
		ui: texts(o.UILanguages), res: texts(o.Resolutions), kb: texts(o.KeyboardLanguages), sp: texts(o.SpeechLanguages),
		ms: map[string]bool{}, oem: map[string]bool{},
		byName: make(map[string]*Package, size), order: make([]*Package, 0, size),
		offered: map[manifest.Group]map[string]string{}, matched: map[manifest.Group]bool{},
	}
	for _, v := range ms {
		s.ms[strings.ToUpper(v.Text)] = true
	}
	for _, v := range o.OEMFeatures {
		s.oem[strings.ToUpper(v.Text)] = true
	}
	return s
}

// fm selects the packages of one FM: groups in manifest.Groups order, packages in file order,
// each base package followed by its language then resolution satellites.
func (s *selector) fm(fm *manifest.FeatureManifest) {
	o := s.o
	for _, g := range manifest.Groups {
		for _, p := range fm.Packages(g) {
			if !p.MatchesCPU(s.cpu) {
				continue
			}
			var ids []string
			switch g {
			case manifest.GroupBase:
				ids = []string{"BASE"}
			case manifest.GroupCPU:
				ids = []string{"CPU_" + strings.ToUpper(s.cpu)}
			case manifest.GroupRelease:
				if strings.EqualFold(p.ReleaseType, o.ReleaseType) {
					ids = []string{"RELEASE_" + strings.ToUpper(p.ReleaseType)}
				}
			case manifest.GroupPrerelease:
				want := "protected"
				if o.ExcludePrereleaseFeatures {
					want = "replacement"
				}
				if strings.EqualFold(p.Type, want) {
					ids = []string{"PRERELEASE_" + strings.ToUpper(want)}
				}
			case manifest.GroupSV:
				ids = matchID(g, p.SV, o.SV)
			case manifest.GroupSOC, manifest.GroupDeviceLayout:
				ids = matchID(g, p.SOC, o.SOC)
				s.offer(g, p.SOC, ids)
			case manifest.GroupDevice, manifest.GroupOEMDevicePlatform:
				ids = matchID(g, p.Device, o.Device)
				s.offer(g, p.Device, ids)
			case manifest.GroupBootLocale:
				// The original expands one package per value and keeps the OEMInput's: only
				// BootLocale matters, and $(bootlocale) already holds it.
				ids = []string{"BOOTLOCALE_" + strings.ToUpper(o.BootLocale)}
			case manifest.GroupBootUI:
				ids = []string{"BOOTUI_" + strings.ToUpper(o.BootUILanguage)}
			case manifest.GroupKeyboard, manifest.GroupSpeech:
				s.langPackages(fm, p, g)
				continue
			case manifest.GroupMSFeature:
				ids = featureIDs(p.FeatureIDs, s.ms, "MS_")
			case manifest.GroupOEMFeature:
				ids = featureIDs(p.FeatureIDs, s.oem, "OEM_")
			}
			if len(ids) > 0 {
				s.withSatellites(fm, p, ids)
			}
		}
	}
}

// offer records a value of the layout and platform groups and whether it matched.
func (s *selector) offer(g manifest.Group, value string, ids []string) {
	if g != manifest.GroupDeviceLayout && g != manifest.GroupOEMDevicePlatform || value == "" {
		return
	}
	if s.offered[g] == nil {
		s.offered[g] = map[string]string{}
	}
	s.offered[g][strings.ToUpper(value)] = value
	if len(ids) > 0 {
		s.matched[g] = true
	}
}

// notes says which OEMInput <SOC> or <Device> matched none of the values the FMs offer for the
// device layout and platform, with the nearest ones: the image cannot be built without them.
func (s *selector) notes() []string {
	var out []string
	for _, c := range []struct {
		g          manifest.Group
		elem, attr string
		value      string
	}{{manifest.GroupDeviceLayout, "SOC", "SOC", s.o.SOC}, {manifest.GroupOEMDevicePlatform, "Device", "Device", s.o.Device}} {
		offered := s.offered[c.g]
		if s.matched[c.g] || len(offered) == 0 {
			continue
		}
		var all []string
		for _, v := range offered {
			all = append(all, v)
		}
		sort.Strings(all)
		if len(all) > 8 {
			all = append(all[:8], "...")
		}
		value := fmt.Sprintf("%q", c.value)
		if c.value == "" {
			value = "(none)"
		}
		note := fmt.Sprintf("the OEMInput's <%s> %s matches no %s of %s (the feature manifests offer %s)", c.elem, value, c.attr, c.g.Element(), strings.Join(all, ", "))
		if near := nearest(c.value, offered, 1); c.value != "" && len(near) > 0 {
			note += fmt.Sprintf("; did you mean %s?", near[0])
		}
		out = append(out, note)
	}
	return out
}

func matchID(g manifest.Group, have, want string) []string {
	if want != "" && strings.EqualFold(have, want) {
		return []string{string(g) + "_" + strings.ToUpper(have)}
	}
	return nil
}

// featureIDs returns the implicit IDs of the package's features that the OEMInput selects.
func featureIDs(ids []string, selected map[string]bool, prefix string) []string {
	var out []string
	for _, id := range ids {
		if selected[strings.ToUpper(id)] {
			out = append(out, prefix+id)
		}
	}
	return out
}

// withSatellites adds p (unless NoBasePackage) and its language and resolution satellites.
func (s *selector) withSatellites(fm *manifest.FeatureManifest, p *manifest.PackageFile, ids []string) {
	id := s.x.Expand(p.PkgID())
	why := testWhy(fm, p)
	if !(p.NoBasePackage && p.Group.HasSatellites()) {
		path := s.x.Expand(winpath.Join(p.Path, p.Name))
		pkg := &Package{ID: id, Name: winpath.Base(path), Path: path, Partition: p.Partition, FeatureIdentifierPackage: p.FeatureIdentifierPackage}
		for _, f := range ids {
			s.add(pkg, Reason{FeatureID: f, Group: p.Group, Source: p.Pos}, why)
		}
	}
	if !p.Group.HasSatellites() {
		return
	}
	langDir := p.Path
	if p.LangPath != "" {
		langDir = p.LangPath
	}
	for _, l := range p.LanguageFilter.Select(s.ui) {
		s.satellite(p, id, langDir, "_Lang_"+l, ids, why, l, "")
	}
	for _, r := range p.ResolutionFilter.Select(s.res) {
		s.satellite(p, id, p.Path, "_Res_"+r, ids, why, "", r)
	}
}

func (s *selector) satellite(p *manifest.PackageFile, baseID, dir, suffix string, ids []string, why, lang, res string) {
	path := s.x.Expand(winpath.Join(dir, withSuffix(p.Name, suffix)))
	pkg := &Package{ID: baseID + suffix, Name: winpath.Base(path), Path: path, Partition: p.Partition}
	for _, f := range ids {
		s.add(pkg, Reason{FeatureID: f, Group: p.Group, Source: p.Pos, SatelliteOf: baseID, Language: lang, Resolution: res}, why)
	}
}

// langPackages adds a keyboard or speech package: one per value of its Language list that the
// OEMInput's Keyboard (Speech) list holds, named Name_Lang_xx.ext; no base package.
func (s *selector) langPackages(fm *manifest.FeatureManifest, p *manifest.PackageFile, g manifest.Group) {
	supported := s.kb
	if g == manifest.GroupSpeech {
		supported = s.sp
	}
	id := s.x.Expand(p.PkgID())
	dir := p.Path
	if p.LangPath != "" {
		dir = p.LangPath
	}
	why := testWhy(fm, p)
	for _, l := range p.LanguageFilter.Select(supported) {
		path := s.x.Expand(winpath.Join(dir, withSuffix(p.Name, "_Lang_"+l)))
		pkg := &Package{ID: id + "_Lang_" + l, Name: winpath.Base(path), Path: path, Partition: p.Partition}
		s.add(pkg, Reason{FeatureID: string(g) + "_" + strings.ToUpper(l), Group: g, Source: p.Pos, SatelliteOf: id, Language: l}, why)
	}
}

// withSuffix inserts suffix before the extension: a.spkg -> a_Lang_en-US.spkg.
func withSuffix(name, suffix string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '\\' && name[i] != '/'; i-- {
		if name[i] == '.' {
			return name[:i] + suffix + name[i:]
		}
	}
	return name + suffix
}

// testWhy says why a package of fm is a Test package, or "".
func testWhy(fm *manifest.FeatureManifest, p *manifest.PackageFile) string {
	switch {
	case p.Group == manifest.GroupRelease && p.ReleaseType == manifest.ReleaseTest:
		return "listed in ReleasePackages with ReleaseType=\"Test\""
	case fm.ReleaseType == manifest.ReleaseTest:
		return "from " + fm.File + ", a feature manifest with ReleaseType=\"Test\""
	}
	return ""
}

func (s *selector) newPackage(name, path, id string, fip bool) *Package {
	if id == "" {
		id = name
		if i := strings.LastIndexByte(id, '.'); i > 0 {
			id = id[:i]
		}
	}
	return &Package{ID: id, Name: name, Path: path, FeatureIdentifierPackage: fip}
}

// add records pkg for reason r; a package name seen before gets the reason added instead.
func (s *selector) add(pkg *Package, r Reason, why string) {
	key := strings.ToUpper(pkg.Name)
	if prev, ok := s.byName[key]; ok {
		for _, q := range prev.Reasons {
			if q == r {
				return
			}
		}
		prev.Reasons = append(prev.Reasons, r)
		prev.testWhy = append(prev.testWhy, why)
		if !strings.EqualFold(prev.Path, pkg.Path) {
			prev.alsoAt = append(prev.alsoAt, occurrence{pkg.Path, r})
		}
		return
	}
	pkg.Reasons = []Reason{r}
	pkg.testWhy = []string{why}
	s.byName[key] = pkg
	s.order = append(s.order, pkg)
}

// testPackage returns why p is a Test package: every reason it was selected for is a Test one
// (a Production FM that lists the same file vouches for it).
func testPackage(p *Package) (string, Reason) {
	whys := p.testWhy
	for _, w := range whys {
		if w == "" {
			return "", Reason{}
		}
	}
	if len(whys) == 0 {
		return "", Reason{}
	}
	return whys[0], p.Reasons[0]
}
