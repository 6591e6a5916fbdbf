// Package merge merges the packages of a feature manifest as FeatureMerger.exe does
// (docs/merging-packages-before-imaging.md, docs/merging-packages-using-featuremerger.md):
// packages of one FM group value, partition, language and resolution become one package
// <Owner>.<Type>.<FMID>.<Partition>.spkg, with satellites, and a new FM references them.
package merge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// Options are FeatureMerger's settings for one FM.
type Options struct {
	FMID        string
	OwnerName   string
	OwnerType   string // OEM unless given
	Version     spkg.Version
	Languages   []string // /Languages: the supported UI languages
	Resolutions []string // /Resolutions:
	CPU         string   // _cputype: arm, x86, arm64, amd64
	BuildType   string   // buildtype: fre or chk
	ReleaseType string   // releasetype: test or production
	Compress    bool     // +Compress: LZX for what the merge writes (sources' folders are copied as they are)
	// PackageRootReplacement is written as the Path of the new FM's PackageFiles
	// (/MergePackageRootReplacement); empty writes OutputPackageDir.
	PackageRootReplacement string
	Incremental            bool // +Incremental: keep merged packages whose sources did not change
	Vars                   map[string]string
	Env                    map[string]string
}

// Locator finds the host file of a package path of the FM.
type Locator interface {
	Locate(winPath string) (string, error)
}

// Result says what a merge wrote.
type Result struct {
	FM          string   // path of the new FM
	Merged      []string // merged package files, in FM order
	PassThrough []string // packages copied unchanged
	Kept        []string // merged packages +Incremental found up to date
}

var fmidPattern = regexp.MustCompile(`^[0-9A-Za-z_\-]{1,8}$`)

// StateFile records, in OutputPackageDir, what each merged package was made from, so that
// +Incremental can tell which to remake; only +Incremental runs write and read it.
const StateFile = "FeatureMerger.state.json"

// Groups FeatureMerger leaves unmerged: their packages are copied and listed as they are.
var unmergedGroups = map[manifest.Group]bool{
	manifest.GroupCPU: true, manifest.GroupBootUI: true, manifest.GroupBootLocale: true,
	manifest.GroupKeyboard: true, manifest.GroupSpeech: true,
}

// GroupingKeys of Microsoft packages that are never merged (FBMerger's special cases).
var specialGroupingKeys = map[string]bool{"mobilecore": true, "mobilecoremfgos": true, "factoryos": true, "onecore": true, "iotuap": true}

// typeOf is the <Type> of the merged package a PackageFile of group g goes to, and the
// attribute value that selects it ("" for Base).
func typeOf(g manifest.Group, p *manifest.PackageFile) (string, error) {
	switch g {
	case manifest.GroupBase:
		return "Base", nil
	case manifest.GroupSOC, manifest.GroupDeviceLayout:
		return "SOC_" + strings.ToUpper(p.SOC), nil
	case manifest.GroupDevice, manifest.GroupOEMDevicePlatform:
		return "DEVICE_" + strings.ToUpper(p.Device), nil
	case manifest.GroupRelease:
		return "RELEASE_" + strings.ToUpper(p.ReleaseType), nil
	case manifest.GroupSV:
		return "SV_" + strings.ToUpper(p.SV), nil
	case manifest.GroupPrerelease:
		return "PRERELEASE_" + strings.ToUpper(p.Type), nil
	case manifest.GroupOEMFeature, manifest.GroupMSFeature:
		prefix := "OEM_"
		if g == manifest.GroupMSFeature {
			prefix = "MS_"
		}
		ids := append([]string(nil), p.FeatureIDs...)
		sort.Strings(ids)
		return prefix + strings.ToUpper(strings.Join(ids, "_")), nil
	}
	return "", fmt.Errorf("group %s is not merged", g)
}

// bucket is one merged package being assembled.
type bucket struct {
	key        string // type|partition|culture|resolution
	typ        string
	partition  string
	culture    string
	resolution string
	sources    []spkg.Source
	// Where the merged package is listed in the new FM: each (group, template) it came from.
	uses []use
}

type use struct {
	group    manifest.Group
	template *manifest.PackageFile
}

func (b *bucket) name(o Options) string {
	return spkg.Name(o.OwnerName, b.typ, o.FMID+"."+b.partition, b.culture, b.resolution)
}

type merger struct {
	fm     *manifest.FeatureManifest
	opt    Options
	locate Locator
	x      *winpath.Expander
	open   map[string]*spkg.Package // host path -> package
	owners map[string]string        // host path -> first PackageFile position, for messages
}

// Merge merges the packages of fm into outPkgDir and writes the new FM into outFMDir.
func Merge(fm *manifest.FeatureManifest, locate Locator, outPkgDir, outFMDir string, opt Options) (res *Result, err error) {
	if err := check(opt); err != nil {
		return nil, err
	}
	if opt.OwnerType == "" {
		opt.OwnerType = "OEM"
	}
	vars := map[string]string{"cputype": opt.CPU, "buildtype": opt.BuildType, "releasetype": opt.ReleaseType}
	for k, v := range opt.Vars {
		vars[k] = v
	}
	m := &merger{fm: fm, opt: opt, locate: locate, x: winpath.NewExpander(vars, opt.Env), open: map[string]*spkg.Package{}, owners: map[string]string{}}
	defer func() {
		for _, p := range m.open {
			p.Close()
		}
	}()

	var buckets []*bucket
	byKey := map[string]*bucket{}
	type passUse struct {
		group manifest.Group
		pf    *manifest.PackageFile
		files []string // host paths
	}
	var passes []passUse
	for _, g := range manifest.Groups {
		for _, pf := range fm.Packages(g) {
			files, err := m.files(pf)
			if err != nil {
				return nil, err
			}
			if unmergedGroups[g] {
				passes = append(passes, passUse{g, pf, hostPaths(files)})
				continue
			}
			typ, err := typeOf(g, pf)
			if err != nil {
				return nil, err
			}
			var passed []string
			for _, f := range files {
				p, pass, err := m.openPackage(f.host, pf)
				if err != nil {
					return nil, err
				}
				if pass {
					passed = append(passed, f.host)
					continue
				}
				mf := p.Manifest
				key := strings.Join([]string{typ, strings.ToLower(mf.Partition), strings.ToLower(mf.Culture), strings.ToLower(mf.Resolution)}, "|")
				b := byKey[key]
				if b == nil {
					b = &bucket{key: key, typ: typ, partition: mf.Partition, culture: mf.Culture, resolution: mf.Resolution}
					byKey[key] = b
					buckets = append(buckets, b)
				}
				if !containsSource(b.sources, f.host) {
					b.sources = append(b.sources, spkg.Source{File: filepath.Base(f.host), Package: p})
				}
				if !containsUse(b.uses, g, typ) {
					b.uses = append(b.uses, use{g, pf})
				}
			}
			if len(passed) > 0 {
				passes = append(passes, passUse{g, pf, passed})
			}
		}
	}

	if err := os.MkdirAll(outPkgDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outFMDir, 0o755); err != nil {
		return nil, err
	}
	res = &Result{}
	var written []string
	defer func() {
		if err != nil {
			for _, w := range written {
				os.Remove(w)
			}
		}
	}()
	state := loadState(outPkgDir)
	newState := map[string]string{}
	for _, b := range buckets {
		name := b.name(opt) + ".spkg"
		path := filepath.Join(outPkgDir, name)
		if opt.Incremental {
			// Hashing every source costs a read of it: only +Incremental pays for it.
			digest, err := m.digest(b)
			if err != nil {
				return nil, err
			}
			newState[name] = digest
			if state[name] == digest {
				if _, err := os.Stat(path); err == nil {
					res.Kept = append(res.Kept, name)
					res.Merged = append(res.Merged, path)
					continue
				}
			}
		}
		if err := m.write(b, path); err != nil {
			return nil, err
		}
		written = append(written, path)
		res.Merged = append(res.Merged, path)
	}
	for _, pu := range passes {
		for _, h := range pu.files {
			dst := filepath.Join(outPkgDir, filepath.Base(h))
			if err := copyFile(h, dst); err != nil {
				return nil, err
			}
			written = append(written, dst)
			res.PassThrough = append(res.PassThrough, dst)
		}
	}
	if opt.Incremental {
		if err := saveState(outPkgDir, newState); err != nil {
			return nil, err
		}
	}

	// The new FM: the merged packages in the groups their sources came from, then the packages
	// passed through, as they were listed.
	doc := newFM(fm)
	root := doc.Root()
	dir := opt.PackageRootReplacement
	if dir == "" {
		dir = outPkgDir
	}
	for _, f := range families(buckets) {
		for _, u := range f.uses() {
			listFamily(root, u, f, m.opt, dir)
		}
	}
	for _, pu := range passes {
		el := groupElement(root, pu.group)
		copyPackageFile(el, pu.pf, dir)
	}
	removeDuplicates(root)
	doc.Indent(2)
	res.FM = filepath.Join(outFMDir, filepath.Base(fm.File))
	data, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(res.FM, data); err != nil {
		return nil, err
	}
	return res, nil
}

func check(o Options) error {
	if !fmidPattern.MatchString(o.FMID) {
		return fmt.Errorf("/FMID:%s: expected 1 to 8 letters, digits, '_' or '-'", o.FMID)
	}
	if strings.EqualFold(o.ReleaseType, "production") && !strings.EqualFold(o.FMID, "Phone") && !strings.EqualFold(o.FMID, "Variant") {
		return fmt.Errorf("/FMID:%s: with releasetype=production the FMID must be Phone or Variant (WSPC)", o.FMID)
	}
	if o.OwnerName == "" {
		return fmt.Errorf("/OwnerName: is required")
	}
	if err := spkg.CheckIdentity(o.OwnerName, "Base", o.FMID, "", ""); err != nil {
		return fmt.Errorf("/OwnerName:%s: %v", o.OwnerName, err)
	}
	switch strings.ToLower(o.CPU) {
	case "arm", "x86", "arm64", "amd64":
	default:
		return fmt.Errorf("/Variables: _cputype=%q: expected arm, x86, arm64 or amd64", o.CPU)
	}
	switch strings.ToLower(o.BuildType) {
	case "fre", "chk":
	default:
		return fmt.Errorf("/Variables: buildtype=%q: expected fre or chk", o.BuildType)
	}
	switch strings.ToLower(o.ReleaseType) {
	case "test", "production":
	default:
		return fmt.Errorf("/Variables: releasetype=%q: expected test or production", o.ReleaseType)
	}
	return nil
}

type fileRef struct {
	win  string // the FM's path, expanded
	host string
}

func hostPaths(files []fileRef) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.host)
	}
	return out
}

// files lists a PackageFile's package and satellites, located.
func (m *merger) files(pf *manifest.PackageFile) ([]fileRef, error) {
	var names []struct{ dir, name string }
	if !pf.NoBasePackage {
		names = append(names, struct{ dir, name string }{pf.Path, pf.Name})
	}
	langDir := pf.Path
	if pf.LangPath != "" {
		langDir = pf.LangPath
	}
	for _, l := range pf.LanguageFilter.Select(m.opt.Languages) {
		names = append(names, struct{ dir, name string }{langDir, suffixed(pf.Name, "_Lang_"+l)})
	}
	for _, r := range pf.ResolutionFilter.Select(m.opt.Resolutions) {
		names = append(names, struct{ dir, name string }{pf.Path, suffixed(pf.Name, "_Res_"+r)})
	}
	var out []fileRef
	for _, n := range names {
		// Unknown variables are left for the Locator to judge: under Bazel only the file name
		// matters, on disk the whole path must expand.
		win := m.x.Expand(winpath.Join(n.dir, n.name))
		host, err := m.locate.Locate(win)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %v", pf.Pos, pf.Group.Element(), n.name, err)
		}
		out = append(out, fileRef{win, host})
	}
	return out, nil
}

func suffixed(name, suffix string) string {
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext) + suffix + ext
}

// openPackage opens a source package and says whether FeatureMerger passes it through unmerged.
func (m *merger) openPackage(host string, pf *manifest.PackageFile) (*spkg.Package, bool, error) {
	if strings.EqualFold(filepath.Ext(host), ".cab") {
		return nil, true, nil // CBS packages are never merged
	}
	p := m.open[host]
	if p == nil {
		var err error
		if p, err = spkg.Open(host); err != nil {
			return nil, false, fmt.Errorf("%s: %v", pf.Pos, err)
		}
		m.open[host] = p
		m.owners[host] = pf.Pos.String()
	}
	mf := p.Manifest
	name := filepath.Base(host)
	if !strings.EqualFold(mf.CpuType, m.opt.CPU) {
		return nil, false, fmt.Errorf("%s: %s is built for CPU %s; _cputype is %s", pf.Pos, name, mf.CpuType, m.opt.CPU)
	}
	wantBuild := map[string]string{"fre": "Retail", "chk": "Checked"}[strings.ToLower(m.opt.BuildType)]
	if mf.BuildType != wantBuild {
		return nil, false, fmt.Errorf("%s: %s is a %s build; buildtype is %s", pf.Pos, name, mf.BuildType, m.opt.BuildType)
	}
	if strings.EqualFold(m.opt.ReleaseType, "production") && mf.ReleaseType != "Production" {
		return nil, false, fmt.Errorf("%s: %s is a %s package; with releasetype=production every source must be Production", pf.Pos, name, mf.ReleaseType)
	}
	pass := mf.IsBinaryPartition ||
		mf.OwnerType == "Microsoft" && specialGroupingKeys[strings.ToLower(mf.GroupingKey)] ||
		mf.OwnerType != "Microsoft" && (strings.EqualFold(mf.SubComponent, "RegistryCustomization") || strings.HasPrefix(strings.ToLower(mf.SubComponent), "customizations.")) ||
		mf.OwnerType != "Microsoft" && strings.EqualFold(mf.Partition, "UpdateOS")
	return p, pass, nil
}

func containsSource(list []spkg.Source, host string) bool {
	for _, s := range list {
		if s.File == filepath.Base(host) {
			return true
		}
	}
	return false
}

func containsUse(list []use, g manifest.Group, typ string) bool {
	for _, u := range list {
		if u.group == g {
			return true
		}
	}
	return false
}

func (m *merger) write(b *bucket, path string) error {
	mf := spkg.Manifest{
		Identity:    spkg.Identity{Owner: m.opt.OwnerName, Component: b.typ, SubComponent: m.opt.FMID + "." + b.partition, Version: m.opt.Version},
		ReleaseType: map[string]string{"test": "Test", "production": "Production"}[strings.ToLower(m.opt.ReleaseType)],
		OwnerType:   m.opt.OwnerType,
		BuildType:   map[string]string{"fre": "Retail", "chk": "Checked"}[strings.ToLower(m.opt.BuildType)],
		CpuType:     strings.ToUpper(m.opt.CPU),
		Culture:     b.culture,
		Resolution:  b.resolution,
		Partition:   b.partition,
	}
	comp := cab.None
	if m.opt.Compress {
		comp = cab.LZX // the original's FastLZX
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".merge-*")
	if err != nil {
		return err
	}
	_, werr := spkg.WriteMerged(tmp, mf, b.sources, cab.Options{Compression: comp})
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %v", filepath.Base(path), werr)
	}
	return nil
}

// digest identifies what a merged package is made of: settings and the sources' bytes.
func (m *merger) digest(b *bucket) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%s|%v\n", b.key, m.opt.OwnerName, m.opt.OwnerType, m.opt.FMID, m.opt.Version, m.opt.CPU, m.opt.ReleaseType, m.opt.Compress)
	for _, s := range b.sources {
		var path string
		for host, p := range m.open {
			if p == s.Package {
				path = host
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n", s.File)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func loadState(dir string) map[string]string {
	out := map[string]string{}
	if data, err := os.ReadFile(filepath.Join(dir, StateFile)); err == nil {
		json.Unmarshal(data, &out)
	}
	return out
}

func saveState(dir string, state map[string]string) error {
	data, err := json.MarshalIndent(state, "", "  ") // map keys are sorted: deterministic
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, StateFile), append(data, '\n'))
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(out.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		os.Remove(out.Name())
	}
	return err
}
