package pkggen

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// <Driver InfSource="..."> (specifying-components-in-a-package-project-file.md). What the
// original does, from its code (PkgGenCommon DriverPkgObject, DriverBuilder, InfFileConverter):
// the component's <Files> go into the package, by default in $(runtime.drivers); the INF and
// its <Reference> files are only inputs to a driver-store staging (DrvStore.ImportDriver into
// a scratch image made from the HIVE_ROOT hives or the WIM_ROOT image), and the difference of
// the SYSTEM and SOFTWARE hives before and after it becomes the package's registry. Neither the
// INF nor the references are package files. The staging is Microsoft's native code; this tool
// derives, from the INF itself, the part of that registry the INF states outright (service
// keys from AddService, HKLM AddReg entries) and warns by name for the rest (docs/formats.md).

// driverServicesKey is where an INF's AddService puts a service.
const driverServicesKey = `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services`

var driverChildren = []string{"Reference", "Files", "RegKeys", "Security"}

// withDefaults is x with $(runtime.default) and $(env.default) set for a component, as the
// original's builders register them (MiscUtils.RegisterObjectSpecificMacros).
func (p *project) withDefaults(x *winpath.Expander, runtime, env string) *winpath.Expander {
	r, err1 := x.ExpandMacrosBounded(runtime, winpath.MaxExpandedLen)
	e, err2 := x.ExpandMacrosBounded(env, winpath.MaxExpandedLen)
	if err1 != nil || err2 != nil {
		return x // the global macros always expand; a /config: that breaks them is reported where used
	}
	return x.With("runtime.default", r).With("env.default", e)
}

func (b *builder) driver(comp *etree.Element) {
	p := b.p
	a := p.doc.Attrs(comp, "InfSource", "EmbeddedSigningCategory")
	x := p.withDefaults(p.x, `$(runtime.drivers)`, `$(env.drivers)`)
	if cat, ok := a["EmbeddedSigningCategory"]; ok {
		p.warnf(comp, "EmbeddedSigningCategory=%s: this tool does not sign binaries; the files are packaged as given", quote(cat))
	}
	var infPath string
	if _, ok := a["InfSource"]; !ok {
		p.doc.Errorf(comp, "<Driver> has no InfSource; expected the driver's .inf file on the build machine")
	} else if _, found, ok := p.source(comp, x, "InfSource"); ok {
		infPath = found
	}
	for _, el := range p.doc.Children(comp) {
		if !p.known(comp, el, driverChildren, "a Driver holds Reference, Files, RegKeys and Security") {
			continue
		}
		switch el.Tag {
		case "Reference":
			// Inputs of the staging only: "Adding a Reference element doesn't actually add the
			// file to the package". They must exist, as the original's staging reads them.
			p.doc.Attrs(el, "Source", "StagingSubDir")
			p.doc.Empty(el)
			p.source(el, x, "Source")
		case "Security":
			ra := p.doc.Attrs(el, "InfSectionName")
			p.warnf(el, "<Security InfSectionName=%s>: the SDDL the security policy compiler injects into that AddReg section is not derived; the driver keeps its default access", quote(ra["InfSectionName"]))
		default:
			b.group(comp, el, x)
		}
	}
	if infPath == "" {
		return
	}
	data, err := readfile.ReadRegular(infPath, MaxINFBytes)
	if err != nil {
		p.doc.AttrErrorf(comp, "InfSource", "InfSource: %s", clipMsg(err))
		return
	}
	f, err := parseINF(infPath, data)
	if err != nil {
		p.doc.AttrErrorf(comp, "InfSource", "InfSource: %s", clipMsg(err))
		return
	}
	d := newINFDeriver(b, comp, f, b.opt.CPU)
	if err := d.derive(); err != nil {
		p.doc.AttrErrorf(comp, "InfSource", "InfSource: %s", clipMsg(err))
		return
	}
	for _, v := range d.values {
		b.addDerived(b.neutral, comp, v, "derived from "+infPath)
	}
	p.warnf(comp, "%s: not derived (it comes from Microsoft's driver-store staging, HIVE_ROOT/WIM_ROOT): the driver database (HKLM\\SYSTEM\\DriverDatabase: DriverInfFiles, DriverPackages, DeviceIds), device class keys (Control\\Class), device and hardware keys (HKR in DDInstall and .HW sections), CopyFiles (package files come from <Files>)", winpath.Base(infPath))
}

// addDerived adds a value the tool derives (from an INF or a component's attributes) to pk;
// one the project also gives is an error, as two writers of one value would be.
func (b *builder) addDerived(pk *Package, el *etree.Element, v registry.Value, what string) {
	if !pk.addValue(v) && v.Type != "" { // a key alone that is there already is no conflict
		b.p.doc.Errorf(el, "value %s of key %s (%s) is given twice in package %s", quote(v.Name), quote(v.Key), what, pk.Manifest.Name())
	}
}

// MaxINFWork bounds the derivation's work: the bytes of INF lines it visits, a line counted
// each time a directive leads to it (services sharing a service-install section each visit
// it). Real INFs take kilobytes; the bound keeps a hostile one linear and its output bounded.
const MaxINFWork = 2 * MaxINFBytes

// infDeriver derives registry values from an INF.
type infDeriver struct {
	b      *builder
	el     *etree.Element
	f      *inf
	cpu    string
	values []registry.Value
	done   map[string]bool // sections and services handled
	work   int             // bytes of lines visited (MaxINFWork)
	err    error           // the first bound exceeded
}

func newINFDeriver(b *builder, el *etree.Element, f *inf, cpu string) *infDeriver {
	return &infDeriver{b: b, el: el, f: f, cpu: strings.ToLower(cpu), done: map[string]bool{}}
}

// visit counts line l of sec against MaxINFWork; false once the bound is passed.
func (d *infDeriver) visit(sec *infSection, l infLine) bool {
	if d.err != nil {
		return false
	}
	d.work += 1 + len(l.key)
	for _, f := range l.fields {
		d.work += 1 + len(f)
	}
	if d.work > MaxINFWork {
		d.err = fmt.Errorf("%s: the INF's directives lead to more than %d bytes of lines (sections reached from many directives); expected an INF whose install sections are read in at most that", d.f.where(sec, l.line), MaxINFWork)
		return false
	}
	return true
}

// once reports whether what has not been handled yet, and marks it handled.
func (d *infDeriver) once(what string) bool {
	what = strings.ToLower(what)
	if d.done[what] {
		return false
	}
	d.done[what] = true
	return true
}

var infArch = map[string]string{"arm": "ntarm", "arm64": "ntarm64", "x86": "ntx86", "amd64": "ntamd64"}

func (d *infDeriver) warn(format string, args ...any) { d.b.p.warnf(d.el, format, args...) }

// derive reads the INF from [Manufacturer] down; the error is a bound passed (MaxINFWork).
func (d *infDeriver) derive() error {
	man := d.f.section("Manufacturer")
	if man == nil {
		d.warn("%s has no [Manufacturer] section: no device install sections, nothing derived", d.f.path)
		return nil
	}
	for _, l := range man.lines {
		if !d.visit(man, l) {
			break
		}
		if len(l.fields) == 0 || l.fields[0] == "" {
			continue
		}
		models := d.modelsSection(l.fields[0], l.fields[1:])
		if models == nil {
			d.warn("%s:%d: no models section %s for %s among the decorations %s", d.f.path, l.line, l.fields[0], d.cpu, strings.Join(l.fields[1:], ","))
			continue
		}
		if !d.once("\x00models\x00" + models.name) {
			continue // another manufacturer line names it too
		}
		for _, m := range models.lines {
			if !d.visit(models, m) {
				break
			}
			if len(m.fields) == 0 || m.fields[0] == "" {
				continue
			}
			d.install(m.fields[0], m.line)
		}
	}
	return d.err
}

// modelsSection picks the models section for the target architecture: base.NT<arch>[.x]
// among the decorations, an unstamped NT$ARCH$ (taken as the target, with a warning), or the
// undecorated base.
func (d *infDeriver) modelsSection(base string, decorations []string) *infSection {
	arch := infArch[d.cpu]
	for _, dec := range decorations {
		l := strings.ToLower(strings.TrimSpace(dec))
		if l == arch || strings.HasPrefix(l, arch+".") {
			if s := d.f.section(base + "." + dec); s != nil {
				return s
			}
		}
	}
	for _, dec := range decorations {
		if strings.Contains(strings.ToUpper(dec), "$ARCH$") {
			if s := d.f.section(base + "." + strings.TrimSpace(dec)); s != nil {
				d.warn("%s: models section [%s.%s] is not stamped (stampinf replaces $ARCH$); taken as %s", d.f.path, base, dec, d.cpu)
				return s
			}
		}
	}
	return d.f.section(base)
}

// install handles one DDInstall section: its AddReg, .Services and .HW sections.
func (d *infDeriver) install(name string, line int) {
	arch := infArch[d.cpu]
	var sec *infSection
	for _, n := range []string{name + "." + arch, name + ".NT", name} {
		if sec = d.f.section(n); sec != nil {
			break
		}
	}
	if sec == nil {
		d.warn("%s:%d: install section %s (or %s.%s, %s.NT) is not in the INF", d.f.path, line, name, name, arch, name)
		return
	}
	if !d.once(sec.name) {
		return
	}
	for _, l := range sec.lines {
		if !d.visit(sec, l) {
			return
		}
		switch strings.ToLower(l.key) {
		case "addreg":
			for _, s := range l.fields {
				d.addReg(sec, l, s, "", "a device's key (HKR of a DDInstall section)")
			}
		case "copyfiles", "":
			// CopyFiles: the files come from <Files>; covered by the summary warning.
		case "include", "needs":
			d.warn("%s %s=%s: sections of other INFs (the WIM_ROOT case) are not read", d.f.where(sec, l.line), l.key, strings.Join(l.fields, ","))
		default:
			d.warn("%s %s: directive not derived", d.f.where(sec, l.line), l.key)
		}
	}
	if svc := d.f.section(sec.name + ".Services"); svc != nil {
		for _, l := range svc.lines {
			if !d.visit(svc, l) {
				return
			}
			switch strings.ToLower(l.key) {
			case "addservice":
				d.addService(svc, l)
			case "include", "needs":
				d.warn("%s %s=%s: sections of other INFs are not read", d.f.where(svc, l.line), l.key, strings.Join(l.fields, ","))
			default:
				d.warn("%s %s: directive not derived", d.f.where(svc, l.line), l.key)
			}
		}
	}
	if hw := d.f.section(sec.name + ".HW"); hw != nil && len(hw.lines) > 0 {
		d.warn("%s: hardware-key settings (AddReg HKR, Include/Needs) are not derived: the device instance is made on the device", d.f.where(hw, hw.line))
	}
}

// Service types, start types and error controls of the service control manager, as INF
// AddService sections and the registry give them.
const (
	serviceKernelDriver     = 1
	serviceFileSystemDriver = 2
)

// addService writes an AddService directive's service key: AddService=name,flags,section.
func (d *infDeriver) addService(sec *infSection, l infLine) {
	if len(l.fields) == 0 || l.fields[0] == "" {
		return // a null service (flags 0x2 only)
	}
	name := l.fields[0]
	if len(l.fields) < 3 || l.fields[2] == "" {
		d.warn("%s AddService=%s: no service-install section; nothing derived", d.f.where(sec, l.line), name)
		return
	}
	if !d.once("\x00svc\x00" + name) {
		return
	}
	inst := d.f.section(l.fields[2])
	if inst == nil {
		d.warn("%s AddService=%s: section [%s] is not in the INF", d.f.where(sec, l.line), name, l.fields[2])
		return
	}
	key := driverServicesKey + `\` + name
	d.values = append(d.values, registry.Value{Key: key})
	dword := func(l infLine, value string) {
		n, ok := infNumber(l.fields)
		if !ok {
			d.warn("%s %s=%s: expected a number", d.f.where(inst, l.line), l.key, strings.Join(l.fields, ","))
			return
		}
		d.values = append(d.values, registry.Value{Key: key, Name: value, Type: "REG_DWORD", Data: le32(n)})
	}
	svcType := uint32(0)
	for _, x := range inst.values("ServiceType") {
		if n, ok := infNumber(x.fields); ok {
			svcType = n
		}
	}
	for _, x := range inst.lines {
		if !d.visit(inst, x) {
			return
		}
		s := strings.Join(x.fields, ",")
		switch strings.ToLower(x.key) {
		case "servicetype":
			dword(x, "Type")
		case "starttype":
			dword(x, "Start")
		case "errorcontrol":
			dword(x, "ErrorControl")
		case "displayname":
			d.values = append(d.values, registry.Value{Key: key, Name: "DisplayName", Type: "REG_SZ", Data: utf16z(s)})
		case "description":
			d.values = append(d.values, registry.Value{Key: key, Name: "Description", Type: "REG_SZ", Data: utf16z(s)})
		case "loadordergroup":
			d.values = append(d.values, registry.Value{Key: key, Name: "Group", Type: "REG_SZ", Data: utf16z(s)})
		case "startname":
			d.values = append(d.values, registry.Value{Key: key, Name: "ObjectName", Type: "REG_SZ", Data: utf16z(s)})
		case "dependencies":
			var svcs, groups []string
			for _, dep := range x.fields {
				if g, ok := strings.CutPrefix(dep, "+"); ok {
					groups = append(groups, g)
				} else if dep != "" {
					svcs = append(svcs, dep)
				}
			}
			if len(svcs) > 0 {
				d.values = append(d.values, registry.Value{Key: key, Name: "DependOnService", Type: "REG_MULTI_SZ", Data: multiSz(svcs)})
			}
			if len(groups) > 0 {
				d.values = append(d.values, registry.Value{Key: key, Name: "DependOnGroup", Type: "REG_MULTI_SZ", Data: multiSz(groups)})
			}
		case "servicebinary":
			img, ok := imagePath(s, svcType)
			if !ok {
				d.warn("%s ServiceBinary=%s: expected %%10%%, %%11%% or %%12%% then the file; ImagePath not derived", d.f.where(inst, x.line), s)
				continue
			}
			d.values = append(d.values, registry.Value{Key: key, Name: "ImagePath", Type: "REG_EXPAND_SZ", Data: utf16z(img)})
		case "addreg":
			for _, r := range x.fields {
				d.addReg(inst, x, r, key, "")
			}
		default:
			d.warn("%s %s: not derived", d.f.where(inst, x.line), x.key)
		}
	}
}

// imagePath turns ServiceBinary (%dirid%\file) into the service's ImagePath: a driver's as
// \SystemRoot\..., a Win32 service's as %SystemRoot%\... (DIRIDs 10 Windows, 11 System32,
// 12 System32\drivers).
func imagePath(bin string, svcType uint32) (string, bool) {
	dirs := map[string]string{"%10%": ``, "%11%": `\System32`, "%12%": `\System32\drivers`}
	for id, sub := range dirs {
		if rest, ok := strings.CutPrefix(bin, id); ok && strings.HasPrefix(rest, `\`) && len(rest) > 1 {
			root := `%SystemRoot%`
			if svcType == serviceKernelDriver || svcType == serviceFileSystemDriver {
				root = `\SystemRoot`
			}
			return root + sub + rest, true
		}
	}
	return "", false
}

// infNumber reads an INF number: decimal or 0x hexadecimal, 32 bits.
func infNumber(fields []string) (uint32, bool) {
	if len(fields) != 1 {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(fields[0]), 0, 32)
	return uint32(n), err == nil
}

// AddReg flags (INF AddReg directive).
const (
	flgBinValueType  = 0x00000001
	flgNoClobber     = 0x00000002
	flgDelVal        = 0x00000004
	flgAppend        = 0x00000008
	flgKeyOnly       = 0x00000010
	flgOverwriteOnly = 0x00000020
	flgKeyOnlyCommon = 0x00002000
	// The value type: flgTypeMask leaves out the other flags, FLG_ADDREG_64BITKEY (0x1000)
	// and FLG_ADDREG_32BITKEY (0x4000) among them (an offline hive has one view).
	flgTypeMask = 0xFFFF0000 | flgBinValueType
	flgMultiSz  = 0x00010000
	flgExpandSz = 0x00020000
	flgDword    = 0x00010001
	flgQword    = 0x000B0001
)

// addReg writes the entries of add-registry section name, which directive (line dl of
// section from) names: reg-root,[subkey],[value-name],[flags],[value...]. HKR is hkr (a
// service's key) or, when hkr is "", not derived (warned with what). A section applied twice
// with the same HKR (DDInstall sections sharing one) is read once.
func (d *infDeriver) addReg(from *infSection, dl infLine, name, hkr, what string) {
	sec := d.f.section(name)
	if sec == nil {
		d.warn("%s %s=%s: AddReg section [%s] is not in the INF", d.f.where(from, dl.line), dl.key, name, name)
		return
	}
	if !d.once("\x00addreg\x00" + sec.name + "\x00" + hkr) {
		return
	}
	for _, l := range sec.lines {
		if !d.visit(sec, l) {
			return
		}
		if l.key != "" {
			d.warn("%s %s=: expected reg-root,subkey,value-name,flags,value", d.f.where(sec, l.line), l.key)
			continue
		}
		fl := append([]string(nil), l.fields...)
		for len(fl) < 4 {
			fl = append(fl, "")
		}
		var root string
		switch strings.ToUpper(fl[0]) {
		case "HKR":
			if hkr == "" {
				d.warn("%s HKR,%s,%s: %s is made on the device; not derived", d.f.where(sec, l.line), fl[1], fl[2], what)
				continue
			}
			root = hkr
		case "HKLM":
			root = `HKEY_LOCAL_MACHINE`
		case "HKCR":
			root = `HKEY_LOCAL_MACHINE\Software\Classes`
		default:
			d.warn("%s %s: root not derived (HKR of a service, HKLM and HKCR are)", d.f.where(sec, l.line), fl[0])
			continue
		}
		key := root
		if sub := strings.Trim(fl[1], `\`); sub != "" {
			if strings.EqualFold(root, `HKEY_LOCAL_MACHINE`) {
				// Offline hives have no CurrentControlSet link: it is ControlSet001.
				if rest, ok := cutFoldPrefix(sub, `System\CurrentControlSet`); ok {
					sub = `SYSTEM\ControlSet001` + rest
				}
			}
			key += `\` + sub
		}
		if strings.Contains(key, `\\`) || strings.ContainsAny(key, "[]") {
			d.warn("%s: key %s: empty parts or brackets; not derived", d.f.where(sec, l.line), key)
			continue
		}
		if !hasRoot(key) { // the check RegKeys' keys pass: HKLM itself holds hives, not values
			d.warn("%s: key %s: no subkey under %s, which holds hives rather than values; not derived", d.f.where(sec, l.line), key, root)
			continue
		}
		flags := uint32(0)
		if fl[3] != "" {
			n, err := strconv.ParseUint(fl[3], 0, 32)
			if err != nil {
				d.warn("%s flags %s: expected a number; entry not derived", d.f.where(sec, l.line), fl[3])
				continue
			}
			flags = uint32(n)
		}
		if bad := flags & (flgDelVal | flgAppend | flgOverwriteOnly); bad != 0 {
			d.warn("%s flags 0x%08x: DELVAL, APPEND and OVERWRITEONLY act on values already there; entry not derived", d.f.where(sec, l.line), flags)
			continue
		}
		if flags&flgNoClobber != 0 {
			// The staging writes into the kit's baseline hives, which hold no key of this driver.
			d.warn("%s flags 0x%08x: NOCLOBBER written as a plain value (the package's key is new)", d.f.where(sec, l.line), flags)
			flags &^= flgNoClobber
		}
		if flags&(flgKeyOnly|flgKeyOnlyCommon) != 0 || (fl[2] == "" && len(l.fields) <= 3) {
			d.values = append(d.values, registry.Value{Key: key})
			continue
		}
		vname := fl[2]
		if vname == "" {
			vname = "@"
		}
		vals := l.fields[min(4, len(l.fields)):]
		v := registry.Value{Key: key, Name: vname}
		switch t := flags & flgTypeMask; {
		case t == 0:
			v.Type, v.Data = "REG_SZ", utf16z(strings.Join(vals, ","))
		case t == flgExpandSz:
			v.Type, v.Data = "REG_EXPAND_SZ", utf16z(strings.Join(vals, ","))
		case t == flgMultiSz:
			v.Type, v.Data = "REG_MULTI_SZ", multiSz(vals)
		case t == flgDword:
			n, ok := infNumber(vals)
			if !ok {
				d.warn("%s %s: expected one number for a REG_DWORD; not derived", d.f.where(sec, l.line), vname)
				continue
			}
			v.Type, v.Data = "REG_DWORD", le32(n)
		case t == flgQword:
			if len(vals) != 1 {
				d.warn("%s %s: expected one number for a REG_QWORD; not derived", d.f.where(sec, l.line), vname)
				continue
			}
			n, err := strconv.ParseUint(vals[0], 0, 64)
			if err != nil {
				d.warn("%s %s: expected one number for a REG_QWORD; not derived", d.f.where(sec, l.line), vname)
				continue
			}
			v.Type, v.Data = "REG_QWORD", binary.LittleEndian.AppendUint64(nil, n)
		case t == flgBinValueType:
			data, ok := infBytes(vals)
			if !ok {
				d.warn("%s %s: expected hexadecimal bytes for a REG_BINARY; not derived", d.f.where(sec, l.line), vname)
				continue
			}
			v.Type, v.Data = "REG_BINARY", data
		default:
			d.warn("%s %s: value type 0x%08x not derived (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD and REG_BINARY are)", d.f.where(sec, l.line), vname, t)
			continue
		}
		d.values = append(d.values, v)
	}
}

func cutFoldPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) && (len(s) == len(prefix) || s[len(prefix)] == '\\') {
		return s[len(prefix):], true
	}
	return "", false
}

func infBytes(vals []string) ([]byte, bool) {
	out := make([]byte, 0, len(vals))
	for _, v := range vals {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(v), "0x"), 16, 8)
		if err != nil {
			return nil, false
		}
		out = append(out, byte(n))
	}
	return out, true
}
