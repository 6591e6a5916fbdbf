// Package resolve selects the packages of an image from its OEMInput and feature manifests, as
// ImageApp does (FORMATS.md section 1, "Selection for an OEMInput"), and says why each package
// was chosen. docs/model.md describes the order, the reasons and the rules.
package resolve

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Input is what a selection needs. The core FM comes through LoadCoreFM because it normally
// lives inside a package (Microsoft.PhoneFM.spkg) that this package does not read.
type Input struct {
	OEMInput      *manifest.OEMInput
	CPUType       string            // image CPU: arm (default), x86, arm64 or amd64
	MSPackageRoot string            // value of $(mspackageroot)
	Env           map[string]string // %VAR% values; the process environment is never read

	// LoadFM returns the feature manifest an AdditionalFM names.
	LoadFM func(ref FMRef) (*manifest.FeatureManifest, error)
	// LoadCoreFM returns the edition's core feature manifest.
	LoadCoreFM func(ref CoreFMRef) (*manifest.FeatureManifest, error)
	// Packages locates the selected package files; nil skips the existence check.
	Packages locate.Locator
	// MissingHint, if set, is added to the message of a selected package that Packages does not
	// find, given the package's first reason (ResolveFiles: the Bazel attribute to add it to).
	MissingHint func(r Reason) string
}

// FMRef is one AdditionalFM of the OEMInput.
type FMRef struct {
	Text string       // as written
	Path string       // variables expanded (unknown ones left in place)
	Pos  manifest.Pos // of the AdditionalFM element
}

// CoreFMRef says where the edition's core FM is: FMPath inside the package at PackagePath.
type CoreFMRef struct {
	Product     string
	PackagePath string // $(mspackageroot)\Merged\<cpu>\<buildtype>\<PackageName>, expanded
	PackageName string // Microsoft.PhoneFM.spkg or Microsoft.MMOSFM.spkg (a .cab of that name also serves)
	FMPath      string // \Windows\ImageUpdate\FeatureManifest\Microsoft\<FMName>
	FMName      string // MicrosoftPhoneFM.xml or MMOSFM.xml
}

// Edition is a product's core FM (ImagingEditions.xml of the original).
type Edition struct {
	PackageName string
	FMName      string
}

// EditionOf returns the core FM of a Product, compared ignoring case.
func EditionOf(product string) (Edition, bool) {
	switch {
	case strings.EqualFold(product, manifest.ProductWindowsPhone):
		return Edition{PackageName: "Microsoft.PhoneFM.spkg", FMName: "MicrosoftPhoneFM.xml"}, true
	case strings.EqualFold(product, manifest.ProductManufacturingOS), strings.EqualFold(product, manifest.ProductPhoneManufacturingOS):
		return Edition{PackageName: "Microsoft.MMOSFM.spkg", FMName: "MMOSFM.xml"}, true
	}
	return Edition{}, false
}

// IsPhoneProduct reports whether an OEMInput Product builds a phone image: Windows Phone and
// its manufacturing OS (the plain Manufacturing OS edition is not a phone's).
func IsPhoneProduct(product string) bool {
	return strings.EqualFold(product, manifest.ProductWindowsPhone) || strings.EqualFold(product, manifest.ProductPhoneManufacturingOS)
}

// CheckDevicePlatformOwner is ImageApp's rule for the device platform package, the package
// holding \Windows\ImageUpdate\OEMDevicePlatform.xml (FORMATS.md section 1; docs
// set-device-platform-information.md): in a phone image it must be OEM-owned, since the
// platform IDs it gives decide which devices the image flashes to. pkg and ownerType are the
// package's name and the OwnerType of its manifest.
func CheckDevicePlatformOwner(product, pkg, ownerType string) error {
	if !IsPhoneProduct(product) || ownerType == "OEM" {
		return nil
	}
	return fmt.Errorf("device platform package %s has OwnerType %q; a %s image takes its OEMDevicePlatform.xml from an OEM-owned package (OwnerType=\"OEM\")", pkg, ownerType, product)
}

// CPUTypes are the image CPU types the tools know.
var CPUTypes = []string{"arm", "arm64", "x86", "amd64"}

// Selection is the result: the packages of the image, in order, each with its reasons, and
// what imaging needs of the OEMInput (Device, FormatDPP), so that a selection written as JSON
// (WriteJSON, ReadSelection) is all imggen reads.
type Selection struct {
	OEMInput    string
	Description string
	Product     string
	Device      string
	CPUType     string
	BuildType   string
	ReleaseType string
	FormatDPP   bool // the OEMInput's FormatDPP: format the DPP partition
	// Notes are what the selection could not match that imaging will miss: an OEMInput <SOC>
	// or <Device> no DeviceLayout or OEMDevicePlatform package is for, with did-you-mean.
	Notes    []string
	FMs      []FMUse
	Packages []*Package
}

// FMUse is a feature manifest that took part, in processing order.
type FMUse struct {
	File        string
	Role        string // "additional" or "core"
	ID          string
	OwnerType   string
	ReleaseType string
}

// Package is one selected package.
type Package struct {
	ID                       string
	Name                     string // file name
	Path                     string // Windows path, variables expanded
	HostPath                 string // the file found by the Locator; "" without one
	Partition                string
	FeatureIdentifierPackage bool
	Reasons                  []Reason // the first is why the package got its place in the order

	testWhy []string     // per reason: why it makes the package a Test package, or ""
	alsoAt  []occurrence // the same file name selected from other paths
}

// GroupPackageFiles is the reason group of OEMInput PackageFiles.
const GroupPackageFiles manifest.Group = "PACKAGEFILE"

// Reason is one reason a package was selected.
type Reason struct {
	FeatureID   string         // implicit feature ID: BASE, MS_X, OEM_X, SOC_X, RELEASE_TEST, ... or PACKAGEFILE
	Group       manifest.Group // the FM group, or GroupPackageFiles
	Source      manifest.Pos   // the PackageFile element (FM or OEMInput)
	SatelliteOf string         // ID of the package this one is a satellite of
	Language    string         // language of a language satellite (or keyboard/speech package)
	Resolution  string         // resolution of a resolution satellite
}

// String is the documented reason format:
//
//	FEATUREID[, satellite of ID (language L|resolution R)] (ELEMENT at FILE:LINE:COL)
func (r Reason) String() string {
	var b strings.Builder
	b.WriteString(r.FeatureID)
	if r.SatelliteOf != "" {
		b.WriteString(", satellite of ")
		b.WriteString(r.SatelliteOf)
		switch {
		case r.Language != "":
			b.WriteString(" (language " + r.Language + ")")
		case r.Resolution != "":
			b.WriteString(" (resolution " + r.Resolution + ")")
		}
	}
	elem := r.Group.Element()
	if r.Group == GroupPackageFiles {
		elem = "OEMInput PackageFiles"
	}
	fmt.Fprintf(&b, " (%s at %s)", elem, r.Source)
	return b.String()
}

// Errors is every problem a selection found, in the order found.
type Errors []*manifest.Error

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, x := range e {
		s[i] = x.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, x := range e {
		out[i] = x
	}
	return out
}

type errs struct{ list Errors }

func (e *errs) add(p manifest.Pos, format string, args ...any) {
	e.list = append(e.list, &manifest.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// addErr adds err at p; positioned errors (from parsers) are kept as they are.
func (e *errs) addErr(p manifest.Pos, prefix string, err error) {
	switch x := err.(type) {
	case manifest.ErrorList:
		e.list = append(e.list, x...)
	case *manifest.Error:
		e.list = append(e.list, x)
	case Errors:
		e.list = append(e.list, x...)
	default:
		e.add(p, "%s%v", prefix, err)
	}
}

func (e *errs) err() error {
	if len(e.list) == 0 {
		return nil
	}
	return e.list
}

// loadedFM is a feature manifest with its role.
type loadedFM struct {
	fm   *manifest.FeatureManifest
	role string
}

// Resolve selects the packages of in.OEMInput. It returns every problem found in the first
// stage that has any: (1) the OEMInput and loading the FMs, (2) features and constraints,
// (3) selection rules, (4) package files.
func Resolve(in Input) (*Selection, error) {
	o := in.OEMInput
	if o == nil {
		return nil, fmt.Errorf("resolve: no OEMInput")
	}
	var e errs
	cpu := strings.ToLower(strings.TrimSpace(in.CPUType))
	if cpu == "" {
		cpu = "arm"
	}
	if !contains(CPUTypes, cpu) {
		return nil, fmt.Errorf("CPU type %q is not known; expected one of %s", in.CPUType, strings.Join(CPUTypes, ", "))
	}
	buildType := buildTypeOf(o, in.Env, &e)
	ed, ok := checkOEMInput(o, buildType, &e)

	x := winpath.NewExpander(map[string]string{
		winpath.VarMSPackageRoot:  in.MSPackageRoot,
		winpath.VarDevice:         o.Device,
		winpath.VarReleaseType:    o.ReleaseType,
		winpath.VarBuildType:      buildType,
		winpath.VarCPUType:        cpu,
		winpath.VarBootUILanguage: o.BootUILanguage,
		winpath.VarBootLocale:     o.BootLocale,
	}, in.Env)

	// Stage 1: the FMs, AdditionalFMs first (ImageApp's order), then the core FM.
	fms := loadFMs(in, x, ed, ok, &e)
	if err := e.err(); err != nil {
		return nil, err
	}

	// Stage 2: every feature defined, every constraint met.
	msFeatures := append(append(append(append([]manifest.Value(nil), o.MicrosoftFeatures...),
		o.MSOptionalFeatures...), o.InternalOptionalFeatures...), o.ProductionOptionalFeatures...)
	checkFeatures(&e, fms, msFeatures, o.OEMFeatures)
	if err := e.err(); err != nil {
		return nil, err
	}
	checkConstraints(&e, o, fms, msFeatures)
	if err := e.err(); err != nil {
		return nil, err
	}

	// Stage 3: selection.
	s := &Selection{OEMInput: o.File, Description: o.Description, Product: o.Product, Device: o.Device, CPUType: cpu,
		BuildType: buildType, ReleaseType: o.ReleaseType, FormatDPP: o.FormatDPP}
	size := len(o.PackageFiles)
	for _, l := range fms {
		for _, g := range manifest.Groups {
			size += len(l.fm.Packages(g))
		}
	}
	sel := newSelector(o, cpu, x, msFeatures, size)
	for _, l := range fms {
		s.FMs = append(s.FMs, FMUse{File: l.fm.File, Role: l.role, ID: l.fm.ID, OwnerType: l.fm.OwnerType, ReleaseType: l.fm.ReleaseType})
		sel.fm(l.fm)
	}
	for _, pf := range o.PackageFiles {
		path := x.Expand(pf.Text)
		sel.add(sel.newPackage(winpath.Base(path), path, "", false), Reason{FeatureID: string(GroupPackageFiles), Group: GroupPackageFiles, Source: pf.Pos}, "")
	}
	s.Packages = sel.order
	s.Notes = sel.notes()
	if o.ReleaseType == manifest.ReleaseProduction {
		for _, p := range s.Packages {
			if why, r := testPackage(p); why != "" {
				e.add(r.Source, "package %s is a Test package (%s); expected only Production packages in a Production image (ReleaseType at %s)", p.Name, why, o.PosOf("ReleaseType"))
			}
		}
	}
	if err := e.err(); err != nil {
		return nil, err
	}

	// Stage 4: the files.
	if in.Packages != nil {
		locateFiles(in.Packages, s.Packages, in.MissingHint, &e)
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkOEMInput reports what the OEMInput gets wrong on its own, and returns its edition.
func checkOEMInput(o *manifest.OEMInput, buildType string, e *errs) (Edition, bool) {
	if o.ReleaseType == manifest.ReleaseProduction {
		if strings.EqualFold(buildType, manifest.BuildChk) {
			e.add(o.PosOf("BuildType"), "BuildType chk in a Production image; expected fre (ReleaseType Production takes free builds only)")
		}
		if len(o.PackageFiles) > 0 {
			e.add(o.PosOf("PackageFiles"), "PackageFiles in a Production image; expected every package to come from a feature manifest (PackageFiles are for pre-retail images only)")
		}
	}
	if !containsValue(o.UILanguages, o.BootUILanguage) {
		e.add(o.PosOf("BootUILanguage"), "BootUILanguage %s is not one of the SupportedLanguages/UserInterface languages (%s); expected one of them", o.BootUILanguage, joinValues(o.UILanguages))
	}
	ed, ok := EditionOf(o.Product)
	switch {
	case ok:
	case strings.EqualFold(o.Product, manifest.ProductIoTCore):
		e.add(o.PosOf("Product"), "Product %q is not supported: these tools build Windows 10 Mobile images, whose core feature manifest is MicrosoftPhoneFM.xml in Microsoft.PhoneFM.spkg "+
			"(MMOSFM.xml in Microsoft.MMOSFM.spkg for %q); an IoT Core image needs IoTUAPFM.xml from the CBS package Microsoft.IoTUAP.IoTUAPFM.cab, which they do not read; "+
			"expected %q (the default), %q or %q", o.Product, manifest.ProductManufacturingOS,
			manifest.ProductWindowsPhone, manifest.ProductManufacturingOS, manifest.ProductPhoneManufacturingOS)
	default:
		e.add(o.PosOf("Product"), "Product %q has no core feature manifest; expected %q (the default), %q or %q", o.Product,
			manifest.ProductWindowsPhone, manifest.ProductManufacturingOS, manifest.ProductPhoneManufacturingOS)
	}
	return ed, ok
}

// loadFMs loads the AdditionalFMs, each once, then the core FM of edition ed (if ok).
func loadFMs(in Input, x *winpath.Expander, ed Edition, ok bool, e *errs) []loadedFM {
	o := in.OEMInput
	var fms []loadedFM
	seenFM := map[string]bool{}
	for _, ref := range o.AdditionalFMs {
		r := FMRef{Text: ref.Text, Path: x.Expand(ref.Text), Pos: ref.Pos}
		key := strings.ToUpper(r.Path)
		if seenFM[key] {
			continue
		}
		seenFM[key] = true
		if in.LoadFM == nil {
			e.add(ref.Pos, "AdditionalFM %s: no way to load feature manifests was given", ref.Text)
			continue
		}
		fm, err := in.LoadFM(r)
		if err != nil {
			e.addErr(ref.Pos, "AdditionalFM "+ref.Text+": ", err)
			continue
		}
		fms = append(fms, loadedFM{fm, "additional"})
	}
	if ok {
		ref := CoreFMRef{
			Product:     o.Product,
			PackageName: ed.PackageName,
			PackagePath: x.Expand(`$(mspackageroot)\Merged\$(cputype)\$(buildtype)\` + ed.PackageName),
			FMPath:      `\Windows\ImageUpdate\FeatureManifest\Microsoft\` + ed.FMName,
			FMName:      ed.FMName,
		}
		switch fm, err := loadCore(in, ref); {
		case err != nil:
			e.addErr(o.Pos, "core feature manifest: ", err)
		case fm.OwnerType != "Microsoft":
			e.add(fm.Pos, "core feature manifest %s has OwnerType %q; expected OwnerType=\"Microsoft\" (the edition's FM is Microsoft's)", ed.FMName, fm.OwnerType)
		default:
			fms = append(fms, loadedFM{fm, "core"})
		}
	}
	return fms
}

// locateFiles finds the file of every package, and reports a package name selected from two
// files.
func locateFiles(packages locate.Locator, pkgs []*Package, hint func(Reason) string, e *errs) {
	for _, p := range pkgs {
		host, err := packages.Locate(p.Path)
		if err != nil {
			var ue *winpath.UnexpandedError
			if errors.As(err, &ue) {
				err = errors.New(ue.Reason()) // the message shows the path already
			}
			r := p.Reasons[0]
			what := "package " + p.Name
			if r.SatelliteOf != "" {
				what = "satellite " + p.Name + " of " + r.SatelliteOf
			}
			more := ""
			if hint != nil {
				more = hint(r)
			}
			e.add(r.Source, "%s (%s) not found: expected %s: %v%s", what, r.FeatureID, p.Path, err, more)
			continue
		}
		p.HostPath = host
		for _, other := range p.alsoAt {
			h2, err := packages.Locate(other.path)
			if err == nil && h2 != host {
				e.add(other.reason.Source, "package name %s is selected from two different files: %s (%s) and %s; expected one file per package name", p.Name, host, p.Reasons[0].Source, h2)
			}
		}
	}
}

func loadCore(in Input, ref CoreFMRef) (*manifest.FeatureManifest, error) {
	if in.LoadCoreFM == nil {
		return nil, fmt.Errorf("no way to load the core feature manifest %s (in %s) was given", ref.FMName, ref.PackagePath)
	}
	return in.LoadCoreFM(ref)
}

// buildTypeOf expands a %VAR% BuildType (the XSD allows %BUILDTYPE%). An empty value falls back
// to %_BUILDTYPE%, then fre, as ImageApp's defaults do; an unset variable is an error.
func buildTypeOf(o *manifest.OEMInput, env map[string]string, e *errs) string {
	bt := o.BuildType
	if !strings.HasPrefix(bt, "%") {
		return bt
	}
	x := winpath.NewExpander(nil, env)
	v, err := x.ExpandStrict(bt)
	if err != nil {
		e.add(o.PosOf("BuildType"), "BuildType %s: %v; expected it to expand to fre or chk", bt, err)
		return manifest.BuildFre
	}
	v = strings.TrimSpace(v)
	if v == "" {
		if d, ok := x.Env("_BUILDTYPE"); ok && d != "" {
			v = d
		} else {
			v = manifest.BuildFre
		}
	}
	v = strings.ToLower(v)
	if v != manifest.BuildFre && v != manifest.BuildChk {
		e.add(o.PosOf("BuildType"), "BuildType %s expands to %q; expected fre or chk", bt, v)
		return manifest.BuildFre
	}
	return v
}

// checkFeatures reports OEMInput features that no FM defines, with the FMs searched and the
// nearest names.
func checkFeatures(e *errs, fms []loadedFM, ms, oem []manifest.Value) {
	defined := map[manifest.Group]map[string]string{manifest.GroupMSFeature: {}, manifest.GroupOEMFeature: {}}
	where := map[manifest.Group]map[string]string{manifest.GroupMSFeature: {}, manifest.GroupOEMFeature: {}}
	var files []string
	for _, l := range fms {
		files = append(files, l.fm.File)
		for _, g := range []manifest.Group{manifest.GroupMSFeature, manifest.GroupOEMFeature} {
			for _, p := range l.fm.Packages(g) {
				for _, id := range p.FeatureIDs {
					k := strings.ToUpper(id)
					if _, ok := defined[g][k]; !ok {
						defined[g][k] = id
						where[g][k] = l.fm.File
					}
				}
			}
		}
	}
	check := func(vals []manifest.Value, g, other manifest.Group, kind, otherKind, otherElem string) {
		for _, v := range vals {
			k := strings.ToUpper(v.Text)
			if _, ok := defined[g][k]; ok {
				continue
			}
			msg := fmt.Sprintf("%s feature %s is not defined by any feature manifest (searched %s)", kind, v.Text, strings.Join(files, ", "))
			if f, ok := where[other][k]; ok {
				msg += fmt.Sprintf("; it is an %s feature of %s: expected it under <Features><%s>", otherKind, f, otherElem)
			} else if near := nearest(v.Text, defined[g], 3); len(near) > 0 {
				msg += "; nearest: " + strings.Join(near, ", ")
			} else {
				msg += fmt.Sprintf("; expected a feature defined under <Features><%s> of an FM", map[manifest.Group]string{manifest.GroupMSFeature: "Microsoft", manifest.GroupOEMFeature: "OEM"}[g])
			}
			e.add(v.Pos, "%s", msg)
		}
	}
	check(ms, manifest.GroupMSFeature, manifest.GroupOEMFeature, "Microsoft", "OEM", "OEM")
	check(oem, manifest.GroupOEMFeature, manifest.GroupMSFeature, "OEM", "Microsoft", "Microsoft")
}

// nearest returns up to n defined names closest to name by edit distance (ties by name).
func nearest(name string, defined map[string]string, n int) []string {
	type cand struct {
		name string
		d    int
	}
	var c []cand
	up := strings.ToUpper(name)
	for k, v := range defined {
		c = append(c, cand{v, manifest.Distance(up, k)})
	}
	sort.Slice(c, func(i, j int) bool {
		if c[i].d != c[j].d {
			return c[i].d < c[j].d
		}
		return c[i].name < c[j].name
	})
	var out []string
	for i := 0; i < len(c) && i < n; i++ {
		// Past half the name's length the "nearest" name is noise.
		if c[i].d > max(2, len(name)/2) {
			break
		}
		out = append(out, c[i].name)
	}
	return out
}

// ImplicitFeatureIDs are the feature IDs an OEMInput sets, as feature group constraints name
// them: MS_X and OEM_X for its features, RELEASE_<ReleaseType>, SOC_X, SV_X and DEVICE_X.
func ImplicitFeatureIDs(o *manifest.OEMInput, ms []manifest.Value) map[string]bool {
	set := map[string]bool{}
	for _, v := range ms {
		set["MS_"+strings.ToUpper(v.Text)] = true
	}
	for _, v := range o.OEMFeatures {
		set["OEM_"+strings.ToUpper(v.Text)] = true
	}
	set["RELEASE_"+strings.ToUpper(o.ReleaseType)] = true
	for pre, v := range map[string]string{"SOC_": o.SOC, "SV_": o.SV, "DEVICE_": o.Device} {
		if v != "" {
			set[pre+strings.ToUpper(v)] = true
		}
	}
	return set
}

// checkConstraints validates every feature group of every FM against the OEMInput. A subgroup
// counts as one member, selected when any feature in it is.
func checkConstraints(e *errs, o *manifest.OEMInput, fms []loadedFM, ms []manifest.Value) {
	set := ImplicitFeatureIDs(o, ms)
	var walk func(g *manifest.FeatureGroup, fm string) bool
	walk = func(g *manifest.FeatureGroup, fm string) bool {
		var on []string
		var members []string
		for _, id := range g.FeatureIDs {
			members = append(members, id)
			if set[strings.ToUpper(id)] {
				on = append(on, id)
			}
		}
		for _, sg := range g.SubGroups {
			name := "subgroup " + groupName(sg)
			members = append(members, name)
			if walk(sg, fm) {
				on = append(on, name)
			}
		}
		desc := fmt.Sprintf("feature group %s (Constraint %s)", groupName(g), g.Constraint)
		switch g.Constraint {
		case manifest.ConstraintOneOrMore:
			if len(on) == 0 {
				e.add(g.Pos, "%s: none of %s is selected by %s; expected at least one", desc, strings.Join(members, ", "), o.File)
			}
		case manifest.ConstraintZeroOrOne:
			if len(on) > 1 {
				e.add(g.Pos, "%s: %s are all selected by %s; expected at most one", desc, strings.Join(on, ", "), o.File)
			}
		case manifest.ConstraintOneAndOnlyOne:
			if len(on) != 1 {
				got := "none"
				if len(on) > 1 {
					got = strings.Join(on, ", ")
				}
				e.add(g.Pos, "%s: %s selected by %s; expected exactly one of %s", desc, got, o.File, strings.Join(members, ", "))
			}
		}
		return len(on) > 0
	}
	for _, l := range fms {
		for _, g := range l.fm.MSFeatureGroups {
			walk(g, l.fm.File)
		}
		for _, g := range l.fm.OEMFeatureGroups {
			walk(g, l.fm.File)
		}
	}
}

func groupName(g *manifest.FeatureGroup) string {
	if g.Name != "" {
		return g.Name
	}
	return "at line " + fmt.Sprint(g.Pos.Line)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsValue(list []manifest.Value, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x.Text, s) {
			return true
		}
	}
	return false
}

func joinValues(v []manifest.Value) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = x.Text
	}
	return strings.Join(s, ", ")
}

func texts(v []manifest.Value) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = x.Text
	}
	return s
}
