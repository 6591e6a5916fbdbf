package pkggen

import (
	"encoding/binary"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/registry"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// <Service> (specifying-components-in-a-package-project-file.md). As the original does (its
// code: PkgGenCommon Service plugin, ServiceBuilder, ServicePkgObject, SvcExe, SvcDll,
// FailureActionsPkgObject), the entry binary (<Executable> or <ServiceDll>) and <Files> go in
// $(runtime.system32) unless DestinationDir says otherwise, and the service's settings become
// values of $(hklm.service) = $(hklm.system)\controlset001\services\<Name> in the package's
// .reg; a shared service's name is appended to its svchost group in the .rga. Numbers are the
// service control manager's (SERVICE_*_START, SERVICE_WIN32_*, SERVICE_ERROR_*, SC_ACTION_*).

var serviceChildren = []string{"Executable", "ServiceDll", "FailureActions", "Files", "RegKeys", "RequiredCapabilities", "PrivateResources"}

var serviceAttrs = []string{"Name", "DisplayName", "Description", "Group", "SvcHostGroupName", "Start", "Type", "ErrorControl",
	"DependOnGroup", "DependOnService", "IsTCB", "LogonAccount", "SvcProcessOwnership"}

var (
	serviceStart = map[string]uint32{"Boot": 0, "System": 1, "Auto": 2, "Demand": 3, "Disabled": 4, "DelayedAuto": 2}
	serviceType  = map[string]uint32{"KernelDriver": 1, "FileSystemDriver": 2, "Win32OwnProcess": 0x10, "Win32ShareProcess": 0x20}
	serviceError = map[string]uint32{"Ignore": 0, "Normal": 1, "Severe": 2, "Critical": 3}
	failureType  = map[string]uint32{"None": 0, "RestartService": 1, "Reboot": 2, "RunCommand": 3}
)

// PreshutdownTimeout the original writes for every service (20000 ms).
const servicePreshutdownTimeout = 20000

func enumNames(m map[string]uint32) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (b *builder) service(comp *etree.Element) {
	p := b.p
	a := p.doc.Attrs(comp, serviceAttrs...)
	name := p.doc.RequireAttr(comp, "Name", "the service's name, e.g. ContosoSvc")
	if name == "" {
		return
	}
	if strings.ContainsAny(name, `\/[]`) {
		p.doc.AttrErrorf(comp, "Name", "Name=%s: a service name, without \\, / or brackets", quote(name))
		return
	}
	x := p.withDefaults(p.x, `$(runtime.system32)`, `$(env.system32)`)
	keyName, err := x.ExpandMacrosBounded(`$(hklm.system)\controlset001\services\`+name, winpath.MaxExpandedLen)
	if err != nil {
		p.doc.AttrErrorf(comp, "Name", "Name=%s: %v", quote(name), explain(err))
		return
	}
	x = x.With("hklm.service", keyName)
	pk := b.neutral
	add := func(el *etree.Element, key, value, typ string, data []byte) {
		b.addDerived(pk, el, registry.Value{Key: key, Name: value, Type: typ, Data: data}, "from <Service Name="+quote(name)+">")
	}
	expand := func(attr string) (string, bool) {
		v, ok := a[attr]
		if !ok {
			return "", false
		}
		out, ok := p.regAttr(comp, x, attr, v)
		return out, ok
	}
	enum := func(attr string, m map[string]uint32, def string) (uint32, string, bool) {
		v, ok := a[attr]
		if !ok {
			if def == "" {
				p.doc.Errorf(comp, "<Service> has no %s; expected one of %s", attr, enumNames(m))
				return 0, "", false
			}
			v = def
		}
		n, known := m[v]
		if !known {
			p.doc.AttrErrorf(comp, attr, "%s=%s: expected one of %s", attr, quote(v), enumNames(m))
		}
		return n, v, known
	}

	var exe, dll *etree.Element
	var failures []*etree.Element
	for _, el := range p.doc.Children(comp) {
		if !p.known(comp, el, serviceChildren, "a Service holds Executable or ServiceDll, FailureActions, Files, RegKeys, RequiredCapabilities and PrivateResources") {
			continue
		}
		switch el.Tag {
		case "Executable", "ServiceDll":
			switch {
			case exe != nil || dll != nil:
				p.doc.Errorf(el, "Service %s: a second entry binary; a service has one <Executable> or one <ServiceDll>", quote(name))
			case el.Tag == "Executable":
				exe = el
			default:
				dll = el
			}
		case "FailureActions":
			failures = append(failures, el)
		case "RequiredCapabilities", "PrivateResources":
			p.warnf(el, "<%s> of service %s: the security policy it asks for (\\Windows\\Packages\\PolicyFiles) is not compiled by this tool", el.Tag, quote(name))
		default:
			b.group(comp, el, x)
		}
	}
	for _, attr := range []string{"IsTCB", "LogonAccount", "SvcProcessOwnership"} {
		if v, ok := a[attr]; ok {
			p.warnf(comp, "%s=%s: a security policy setting; the policy file is not compiled by this tool", attr, quote(v))
		}
	}
	group, hasGroup := a["SvcHostGroupName"]
	switch {
	case exe == nil && dll == nil:
		p.doc.Errorf(comp, "Service %s: Executable or ServiceDll is missing; expected the service's binary", quote(name))
	case dll != nil && !hasGroup:
		p.doc.Errorf(comp, "Service %s: SvcHostGroupName is required when ServiceDll is declared (the svchost group the DLL runs in)", quote(name))
	case exe != nil && hasGroup:
		p.doc.AttrErrorf(comp, "SvcHostGroupName", "Service %s: SvcHostGroupName can only be set when ServiceDll is declared", quote(name))
	}
	if len(failures) != 1 {
		at := comp
		if len(failures) > 1 {
			at = failures[1]
		}
		p.doc.Errorf(at, "Service %s: %d <FailureActions>; expected exactly one (the original requires it)", quote(name), len(failures))
	}

	add(comp, keyName, "", "", nil)
	add(comp, keyName, "PreshutdownTimeout", "REG_DWORD", le32(servicePreshutdownTimeout))
	if n, v, ok := enum("Start", serviceStart, ""); ok {
		add(comp, keyName, "Start", "REG_DWORD", le32(n))
		if v == "DelayedAuto" {
			add(comp, keyName, "DelayedAutoStart", "REG_DWORD", le32(1))
		}
	}
	if n, _, ok := enum("Type", serviceType, ""); ok {
		add(comp, keyName, "Type", "REG_DWORD", le32(n))
	}
	if n, _, ok := enum("ErrorControl", serviceError, "Normal"); ok {
		add(comp, keyName, "ErrorControl", "REG_DWORD", le32(n))
	}
	for _, s := range [][2]string{{"DisplayName", "DisplayName"}, {"Description", "Description"}, {"Group", "Group"}} {
		if v, ok := expand(s[0]); ok {
			add(comp, keyName, s[1], "REG_SZ", utf16z(v))
		}
	}
	for _, s := range []string{"DependOnGroup", "DependOnService"} {
		if v, ok := expand(s); ok {
			_, data, _ := regValueData("REG_MULTI_SZ", v) // a REG_MULTI_SZ, ';' between names, as <RegValue> writes one
			add(comp, keyName, s, "REG_MULTI_SZ", data)
		}
	}
	if len(failures) > 0 {
		b.failureActions(failures[0], keyName, name, add)
	}
	switch {
	case exe != nil:
		p.doc.Attrs(exe, append(fileAttrs, "ImagePath", "BinaryInOneCorePkg")...)
		p.doc.Empty(exe)
		dp, ok := p.addFile(pk, exe, x, !p.doc.BoolAttr(exe, "BinaryInOneCorePkg"))
		if !ok {
			return
		}
		img, has := attrValue(exe, "ImagePath")
		if has && img != "" {
			if img, ok = p.regAttr(exe, x, "ImagePath", img); !ok {
				return
			}
		} else if img, ok = p.envPath(exe, x, dp); !ok {
			return
		}
		add(exe, keyName, "ImagePath", "REG_EXPAND_SZ", utf16z(img))
	case dll != nil && hasGroup:
		p.doc.Attrs(dll, append(fileAttrs, "HostExe", "ServiceManifest", "ServiceMain", "UnloadOnStop", "BinaryInOneCorePkg")...)
		p.doc.Empty(dll)
		dp, ok := p.addFile(pk, dll, x, !p.doc.BoolAttr(dll, "BinaryInOneCorePkg"))
		if !ok {
			return
		}
		params := keyName + `\Parameters`
		path, ok := p.envPath(dll, x, dp)
		if !ok {
			return
		}
		add(dll, params, "ServiceDll", "REG_EXPAND_SZ", utf16z(path))
		if v, has := attrValue(dll, "ServiceManifest"); has {
			if v, ok = p.regAttr(dll, x, "ServiceManifest", v); ok {
				add(dll, params, "ServiceManifest", "REG_EXPAND_SZ", utf16z(v))
			}
		}
		if v, has := attrValue(dll, "ServiceMain"); has {
			add(dll, params, "ServiceMain", "REG_SZ", utf16z(v))
		}
		if dll.SelectAttr("UnloadOnStop") == nil || p.doc.BoolAttr(dll, "UnloadOnStop") {
			add(dll, params, "ServiceDllUnloadOnStop", "REG_DWORD", le32(1))
		}
		host := `$(env.system32)\svchost.exe`
		if v, has := attrValue(dll, "HostExe"); has && v != "" {
			host = v
		}
		if host, ok = p.regAttr(dll, x, "HostExe", host); !ok {
			return
		}
		add(dll, keyName, "ImagePath", "REG_EXPAND_SZ", utf16z(host+" -k "+group))
		svchost, err := x.ExpandMacrosBounded(`$(hklm.svchost)`, winpath.MaxExpandedLen)
		if err != nil {
			p.doc.Errorf(dll, "$(hklm.svchost): %v", explain(err))
			return
		}
		pk.addAppend(svchost, group, name)
	}
}

// envPath is a service binary's path as the registry gives it: its DestinationDir (or the
// default) with $(runtime. macros turned into $(env. ones, then the file name, expanded
// (%SystemRoot%\System32\x.dll), as the original's SvcExe.ImagePathExpandString does.
func (p *project) envPath(el *etree.Element, x *winpath.Expander, devicePath string) (string, bool) {
	dir := `$(runtime.default)`
	if d, ok := attrValue(el, "DestinationDir"); ok && d != "" {
		dir = d
	}
	dir = strings.ReplaceAll(dir, "$(runtime.", "$(env.")
	v, err := x.ExpandMacrosBounded(strings.TrimRight(dir, `\`)+`\`+winpath.Base(devicePath), winpath.MaxExpandedLen)
	if err != nil {
		p.doc.Errorf(el, "the binary's path for the registry (DestinationDir with $(env.*) for $(runtime.*)): %v", explain(err))
		return "", false
	}
	return v, true
}

// failureActions writes <FailureActions ResetPeriod Command RebootMessage><Action Type Delay/>:
// FailureCommand, RebootMessage and the FailureActions value (SERVICE_FAILURE_ACTIONS as the
// registry holds it: reset period, reboot-message and command flags, action count, a 20-byte
// header size, then type and delay of each action).
func (b *builder) failureActions(el *etree.Element, key, name string, add func(*etree.Element, string, string, string, []byte)) {
	p := b.p
	a := p.doc.Attrs(el, "ResetPeriod", "Command", "RebootMessage")
	reset := int32(-1)
	rp, has := a["ResetPeriod"]
	if !has {
		p.doc.Errorf(el, "<FailureActions> has no ResetPeriod; expected seconds or INFINITE")
	} else if rp != "INFINITE" {
		n, err := strconv.ParseInt(rp, 10, 32)
		if err != nil || n < 0 {
			p.doc.AttrErrorf(el, "ResetPeriod", "ResetPeriod=%s: expected a number of seconds or INFINITE", quote(rp))
		}
		reset = int32(n)
	}
	cmd, hasCmd := a["Command"]
	if hasCmd {
		add(el, key, "FailureCommand", "REG_SZ", utf16z(cmd))
	}
	msg, hasMsg := a["RebootMessage"]
	if hasMsg {
		add(el, key, "RebootMessage", "REG_SZ", utf16z(msg))
	}
	var actions [][2]uint32
	for _, act := range p.doc.Children(el) {
		if act.Tag != "Action" {
			p.doc.UnknownChild(el, act, []string{"Action"})
			continue
		}
		aa := p.doc.Attrs(act, "Type", "Delay")
		p.doc.Empty(act)
		t, ok := failureType[aa["Type"]]
		if !ok {
			p.doc.AttrErrorf(act, "Type", "Type=%s: expected one of %s", quote(aa["Type"]), enumNames(failureType))
			continue
		}
		d, err := strconv.ParseUint(aa["Delay"], 10, 32)
		if err != nil {
			p.doc.AttrErrorf(act, "Delay", "Delay=%s: expected milliseconds, a non-negative integer", quote(aa["Delay"]))
			continue
		}
		actions = append(actions, [2]uint32{t, uint32(d)})
	}
	if len(actions) == 0 {
		p.doc.Errorf(el, "<FailureActions> of service %s has no <Action Type= Delay=/>; expected at least one", quote(name))
		return
	}
	data := binary.LittleEndian.AppendUint32(nil, uint32(reset))
	data = binary.LittleEndian.AppendUint32(data, boolU32(hasMsg))
	data = binary.LittleEndian.AppendUint32(data, boolU32(hasCmd))
	data = binary.LittleEndian.AppendUint32(data, uint32(len(actions)))
	data = binary.LittleEndian.AppendUint32(data, 20)
	for _, ac := range actions {
		data = binary.LittleEndian.AppendUint32(data, ac[0])
		data = binary.LittleEndian.AppendUint32(data, ac[1])
	}
	add(el, key, "FailureActions", "REG_BINARY", data)
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
