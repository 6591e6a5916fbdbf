// Package merge merges the packages of a feature manifest as FeatureMerger.exe does
// (docs/merging-packages-before-imaging.md, docs/merging-packages-using-featuremerger.md):
// packages of one FM group value, partition, language and resolution become one package
// <Owner>.<Type>.<FMID>.<Partition>.spkg, with satellites, and a new FM references them.
package merge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/locate"
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
	// Signer signs the merged packages' catalogs (nil: unsigned). Packages passed through keep
	// their own catalogs.
	Signer *catalog.Signer
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
	locate locate.Locator
	x      *winpath.Expander
	open   map[string]*spkg.Package // host path -> package
	owners map[string]string        // host path -> first PackageFile position, for messages
}

// Run is one FeatureMerger invocation. Every output of every FM it merges (packages, FMs,
// state files) is staged in one atomicfile.Set and renamed into place by Commit, so a run
// that fails at its last FM leaves nothing of the first behind: no package, no FM, no
// directory it made.
type Run struct {
	set     atomicfile.Set
	created []string             // directories this run made, for Abort
	states  map[string]*dirState // OutputPackageDir -> +Incremental state
	copied  map[string]string    // pass-through destination -> source
	done    bool                 // committed or aborted
}

// dirState is the +Incremental state of one OutputPackageDir: as read, and as this run
// leaves it.
type dirState struct {
	old, new map[string]outputState
}

// outputState is what a merged package was made from and what was written: +Incremental
// keeps the package only when both still hold, so a truncated or edited output is remade.
type outputState struct {
	Inputs string `json:"inputs"` // SHA-256 of the settings and the sources' bytes
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // of the package file as written
}

// NewRun starts a run; Commit or Abort ends it.
func NewRun() *Run {
	return &Run{states: map[string]*dirState{}, copied: map[string]string{}}
}

// Merge merges the packages of fm into outPkgDir and writes the new FM into outFMDir, in one
// run of its own.
func Merge(fm *manifest.FeatureManifest, loc locate.Locator, outPkgDir, outFMDir string, opt Options) (*Result, error) {
	r := NewRun()
	defer r.Abort()
	res, err := r.Merge(fm, loc, outPkgDir, outFMDir, opt)
	if err != nil {
		return nil, err
	}
	if err := r.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// Commit writes the +Incremental state files and renames every staged output into place.
func (r *Run) Commit() error {
	dirs := make([]string, 0, len(r.states))
	for dir := range r.states {
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		data, err := json.MarshalIndent(r.states[dir].new, "", "  ") // sorted keys: deterministic
		if err != nil {
			return err
		}
		if err := r.set.WriteFile(filepath.Join(dir, StateFile), append(data, '\n')); err != nil {
			return err
		}
	}
	r.done = true
	if err := r.set.Commit(); err != nil {
		r.removeDirs()
		return err
	}
	return nil
}

// Abort removes every staged output and the directories the run made. It does nothing
// after Commit.
func (r *Run) Abort() {
	if r.done {
		return
	}
	r.done = true
	r.set.Abort()
	r.removeDirs()
}

func (r *Run) removeDirs() {
	// Deepest first; a directory that holds something else stays.
	sort.Slice(r.created, func(a, b int) bool { return len(r.created[a]) > len(r.created[b]) })
	for _, d := range r.created {
		os.Remove(d)
	}
	r.created = nil
}

// mkdir makes dir and its missing parents, remembering which it made.
func (r *Run) mkdir(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.created = append(r.created, missing...)
	return nil
}

// Merge merges the packages of fm into outPkgDir and stages the new FM in outFMDir; nothing
// is in place before Commit.
func (r *Run) Merge(fm *manifest.FeatureManifest, loc locate.Locator, outPkgDir, outFMDir string, opt Options) (*Result, error) {
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
	m := &merger{fm: fm, opt: opt, locate: loc, x: winpath.NewExpander(vars, opt.Env), open: map[string]*spkg.Package{}, owners: map[string]string{}}
	defer func() {
		for _, p := range m.open {
			p.Close()
		}
	}()
	buckets, passes, err := m.plan()
	if err != nil {
		return nil, err
	}
	if err := r.mkdir(outPkgDir); err != nil {
		return nil, err
	}
	if err := r.mkdir(outFMDir); err != nil {
		return nil, err
	}
	res := &Result{}
	for _, b := range buckets {
		if err := r.writeBucket(m, b, outPkgDir, res); err != nil {
			return nil, err
		}
	}
	for _, pu := range passes {
		for _, h := range pu.files {
			dst := filepath.Join(outPkgDir, filepath.Base(h))
			if err := r.passThrough(m, h, dst); err != nil {
				return nil, err
			}
			res.PassThrough = append(res.PassThrough, dst)
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
	if err := r.set.WriteFile(res.FM, data); err != nil {
		return nil, err
	}
	return res, nil
}

type passUse struct {
	group manifest.Group
	pf    *manifest.PackageFile
	files []string // host paths
}

// plan sorts the FM's packages into merged packages (buckets) and ones passed through.
func (m *merger) plan() ([]*bucket, []passUse, error) {
	var buckets []*bucket
	byKey := map[string]*bucket{}
	var passes []passUse
	for _, g := range manifest.Groups {
		for _, pf := range m.fm.Packages(g) {
			files, err := m.files(pf)
			if err != nil {
				return nil, nil, err
			}
			if unmergedGroups[g] {
				passes = append(passes, passUse{g, pf, hostPaths(files)})
				continue
			}
			typ, err := typeOf(g, pf)
			if err != nil {
				return nil, nil, err
			}
			var passed []string
			for _, f := range files {
				p, pass, err := m.openPackage(f.host, pf)
				if err != nil {
					return nil, nil, err
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
	return buckets, passes, nil
}

// state is the +Incremental state of dir, read once per run.
func (r *Run) state(dir string) *dirState {
	ds := r.states[dir]
	if ds == nil {
		ds = &dirState{old: loadState(dir), new: map[string]outputState{}}
		r.states[dir] = ds
	}
	return ds
}

// writeBucket stages one merged package, or with +Incremental keeps the one in place when
// its sources, its settings and its own bytes are as the state recorded.
func (r *Run) writeBucket(m *merger, b *bucket, outPkgDir string, res *Result) error {
	name := b.name(m.opt) + ".spkg"
	path := filepath.Join(outPkgDir, name)
	var ds *dirState
	var digest string
	if m.opt.Incremental {
		ds = r.state(outPkgDir)
		// Hashing every source costs a read of it: only +Incremental pays for it.
		var err error
		if digest, err = m.digest(b); err != nil {
			return err
		}
		if st, ok := ds.old[name]; ok && st.Inputs == digest && matches(path, st) {
			ds.new[name] = st
			res.Kept = append(res.Kept, name)
			res.Merged = append(res.Merged, path)
			return nil
		}
	}
	f, err := r.set.Create(path)
	if err != nil {
		return err
	}
	if err := m.write(b, f); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	if m.opt.Incremental {
		size, sum, err := hashFile(f)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		ds.new[name] = outputState{Inputs: digest, Size: size, SHA256: sum}
	}
	res.Merged = append(res.Merged, path)
	return nil
}

// passThrough stages a copy of a package FeatureMerger leaves unmerged, checked first when it
// is a package this project reads (a .cab one is copied as it is).
func (r *Run) passThrough(m *merger, src, dst string) error {
	if prev, ok := r.copied[dst]; ok {
		if prev == src {
			return nil // listed twice: one copy
		}
		return fmt.Errorf("%s: two packages of that name go to the output directory: %s and %s", filepath.Base(dst), prev, src)
	}
	r.copied[dst] = src
	if err := m.verify(src); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := r.set.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("%s: %v", dst, err)
	}
	return nil
}

// verify checks a package before it is copied unchanged: corruption is not passed on. A .cab
// (CBS) package, which this project does not read, is copied as it is.
func (m *merger) verify(host string) error {
	if !strings.EqualFold(filepath.Ext(host), ".spkg") {
		return nil
	}
	p := m.open[host]
	if p == nil {
		var err error
		if p, err = spkg.Open(host); err != nil {
			return err
		}
		m.open[host] = p
	}
	return p.Verify()
}

// matches reports whether path is the regular file st describes.
func matches(path string, st outputState) bool {
	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() || info.Size() != st.Size {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == st.SHA256
}

// hashFile is the size and SHA-256 of what was written to f.
func hashFile(f *os.File) (int64, string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
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

func (m *merger) write(b *bucket, w io.WriteSeeker) error {
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
	_, err := spkg.WriteMergedSigned(w, mf, b.sources, cab.Options{Compression: comp}, m.opt.Signer)
	return err
}

// digest identifies what a merged package is made of: settings and the sources' bytes.
func (m *merger) digest(b *bucket) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%s|%v\n", b.key, m.opt.OwnerName, m.opt.OwnerType, m.opt.FMID, m.opt.Version, m.opt.CPU, m.opt.ReleaseType, m.opt.Compress)
	if s := m.opt.Signer; s != nil && len(s.Chain) > 0 {
		// Another signer (or none) remakes the package: +Incremental must not keep a catalog
		// signed by the previous one.
		fmt.Fprintf(h, "signer %x\n", sha256.Sum256(s.Chain[0].Raw))
	}
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

// loadState reads dir's state file; a missing or unreadable one (or one of an older
// layout) is an empty state: everything is remade.
func loadState(dir string) map[string]outputState {
	out := map[string]outputState{}
	if data, err := os.ReadFile(filepath.Join(dir, StateFile)); err == nil {
		if json.Unmarshal(data, &out) != nil {
			return map[string]outputState{}
		}
	}
	return out
}
