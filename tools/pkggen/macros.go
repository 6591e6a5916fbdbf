package pkggen

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// GlobalMacros stand for the kit's default global macro file, PkgGen.cfg.xml (Windows
// Kits\10\Tools\bin\i386\pkggen.cfg.xml, which the kit's scripts pass as /config:): its device
// folder, environment, data partition and registry macros with the same names and values,
// plus the runtime folders later PkgGen versions build in, and $(runtime.default). A /config:
// file adds to or overrides them; a package project may not redefine them (docs/formats.md
// lists them). Values refer to one another, as in the original file.
var GlobalMacros = map[string]string{
	// Folders of the main OS partition on the device (PkgGen.cfg.xml).
	"runtime.root":                  ``,
	"runtime.windows":               `$(runtime.root)\windows`,
	"runtime.system32":              `$(runtime.windows)\System32`,
	"runtime.programFiles":          `$(runtime.root)\Program Files`,
	"runtime.programData":           `$(runtime.root)\ProgramData`,
	"runtime.services":              `$(runtime.windows)\system32`,
	"runtime.drivers":               `$(runtime.system32)\drivers`,
	"runtime.apps":                  `$(runtime.root)\Programs`,
	"runtime.data":                  `$(runtime.root)\Data`,
	"runtime.shareddata":            `$(runtime.data)\SharedData`,
	"runtime.commonfiles":           `$(runtime.apps)\CommonFiles`,
	"runtime.shareddlls":            `$(runtime.commonfiles)\System`,
	"runtime.etw":                   `$(runtime.data)\SystemData\ETW`,
	"runtime.coldBootProvxmlMS":     `$(runtime.apps)\PhoneProvisioner\Microsoft`,
	"runtime.coldBootProvxmlOEM":    `$(runtime.apps)\PhoneProvisioner_OEM\OEM`,
	"runtime.updateProvxmlMS":       `$(runtime.windows)\Migrators\DuMigrationProvisionerMicrosoft\provxml`,
	"runtime.updateProvxmlOEM":      `$(runtime.windows)\Migrators\DuMigrationProvisionerOEM\provxml`,
	"runtime.appProvxmlMS":          `$(runtime.system32)\Provisioning\Microsoft`,
	"runtime.appProvxmlTest":        `$(runtime.system32)\Provisioning\Test`,
	"runtime.appProvxmlOEM":         `$(runtime.commonfiles)\Provisioning\OEM`,
	"runtime.provisioning":          `$(runtime.programData)\Microsoft\Provisioning`,
	"runtime.defaultSvcHost":        `$(env.system32)\svchost.exe`,
	"runtime.clipAppLicenseInstall": `$(runtime.programData)\Microsoft\Windows\ClipSVC\Install\Apps`,
	// Device folders as environment variables, for REG_EXPAND_SZ values (PkgGen.cfg.xml).
	"env.sysDrive": `%SystemDrive%`,
	"env.windows":  `%SystemRoot%`,
	"env.system32": `$(env.windows)\System32`,
	"env.drivers":  `$(env.system32)\drivers`,
	"env.services": `$(env.system32)`,
	// Folders of the data partition (PkgGen.cfg.xml).
	"data.root":     ``,
	"data.public":   `$(data.root)\Users\Public`,
	"data.shared":   `$(data.root)\SharedData`,
	"data.tempXaps": `$(data.shared)\Provisioning\tempXaps`,
	// Registry keys (PkgGen.cfg.xml).
	"hklm.system":            `HKEY_LOCAL_MACHINE\SYSTEM`,
	"hklm.software":          `HKEY_LOCAL_MACHINE\Software`,
	"hklm.hardware":          `HKEY_LOCAL_MACHINE\Hardware`,
	"hklm.sam":               `HKEY_LOCAL_MACHINE\SAM`,
	"hklm.security":          `HKEY_LOCAL_MACHINE\Security`,
	"hklm.bcd":               `HKEY_LOCAL_MACHINE\BCD`,
	"hklm.drivers":           `HKEY_LOCAL_MACHINE\Drivers`,
	"hkuser.default":         `HKEY_USERS\.Default`,
	"hkcu.root":              `HKEY_CURRENT_USER`,
	"hkcr.root":              `$(hklm.software)\Classes`,
	"hkcr.classes":           `$(hklm.software)\Classes`,
	"hklm.svchost":           `$(hklm.software)\Microsoft\Windows NT\CurrentVersion\SvcHost`,
	"hklm.policies":          `$(hklm.software)\Policies`,
	"hklm.microsoft":         `$(hklm.software)\Microsoft`,
	"hklm.windows":           `$(hklm.microsoft)\Windows`,
	"hklm.windowsnt":         `$(hklm.microsoft)\Windows NT\CurrentVersion`,
	"hklm.currentcontrolset": `$(hklm.system)\ControlSet001`,
	"hklm.services":          `$(hklm.currentcontrolset)\services`,
	"hklm.control":           `$(hklm.currentcontrolset)\Control`,
	"hklm.autologger":        `$(hklm.control)\WMI\Autologger`,
	"hklm.enum":              `$(hklm.currentcontrolset)\Enum`,
	// Runtime folders that later PkgGen versions build in, on the same layout.
	"runtime.bootDrive":   `$(runtime.root)`,
	"runtime.systemDrive": `$(runtime.root)`,
	"runtime.systemRoot":  `$(runtime.windows)`,
	"runtime.system":      `$(runtime.windows)\System`,
	"runtime.help":        `$(runtime.windows)\Help`,
	"runtime.inf":         `$(runtime.windows)\INF`,
	"runtime.fonts":       `$(runtime.windows)\Fonts`,
	"runtime.wbem":        `$(runtime.system32)\wbem`,
	"runtime.appPatch":    `$(runtime.windows)\AppPatch`,
	"runtime.startMenu":   `$(runtime.programData)\Microsoft\Windows\Start Menu`,
	"runtime.driverStore": `$(runtime.system32)\DriverStore`,
	"runtime.imageUpdate": `$(runtime.windows)\ImageUpdate`,
	// The folder of an OSComponent's files without DestinationDir.
	"runtime.default": `$(runtime.system32)`,
}

// macroIDRE is the schema's MacroIdType: a letter or '_', then letters, digits, '_' and '.'.
var macroIDRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// macros gathers every definition in the order later ones override earlier ones: the global
// macros, /config:, the command line's, /variables:, then the project's <Macros>.
func (p *project) macros(root *etree.Element, opt Options) ([]winpath.Macro, error) {
	defs := sortedMacros(GlobalMacros, "built-in macro")
	global := map[string]string{}
	for k := range GlobalMacros {
		global[strings.ToLower(k)] = "built-in global macro"
	}
	if opt.Config != "" {
		cfg, err := readConfig(opt.Config)
		if err != nil {
			return nil, err
		}
		for _, m := range cfg {
			global[strings.ToLower(m.Name)] = "global macro of " + m.Where
		}
		defs = append(defs, cfg...)
	}
	defs = append(defs,
		winpath.Macro{Name: "_RELEASEDIR", Value: filepath.Dir(p.path), Where: "built-in macro"},
		winpath.Macro{Name: "buildtype", Value: strings.ToLower(opt.BuildType), Where: "built-in macro"},
		winpath.Macro{Name: "cputype", Value: strings.ToLower(opt.CPU), Where: "built-in macro"})
	defs = append(defs, sortedMacros(opt.Variables, "/variables")...)

	seen := map[string]manifest.Pos{}
	for _, el := range p.doc.Children(root) {
		if el.Tag != "Macros" {
			continue
		}
		p.doc.Attrs(el)
		for _, m := range p.doc.Children(el) {
			if m.Tag != "Macro" {
				p.doc.UnknownChild(el, m, []string{"Macro"})
				continue
			}
			a := p.doc.Attrs(m, "Id", "Value")
			id := p.doc.RequireAttr(m, "Id", "the macro's name, e.g. appdir")
			value, ok := a["Value"]
			if !ok {
				p.doc.Errorf(m, "<Macro> %s has no Value attribute; expected the text that $(%s) stands for", quote(id), clip(id))
			}
			switch k := strings.ToLower(id); {
			case id == "" || !ok:
			case !macroIDRE.MatchString(id):
				p.doc.AttrErrorf(m, "Id", "macro Id %s: expected a letter or '_' followed by letters, digits, '_' or '.'", quote(id))
			case global[k] != "":
				p.doc.AttrErrorf(m, "Id", "macro %s is a %s; a package project may not redefine a global macro (PkgGen fails on that too): choose another name", clip(id), global[k])
			case seen[k].Line != 0:
				p.doc.AttrErrorf(m, "Id", "macro %s is defined twice (first at line %d); expected each macro once (names ignore case)", clip(id), seen[k].Line)
			default:
				seen[k] = p.doc.Pos(m)
				defs = append(defs, winpath.Macro{Name: id, Value: value, Where: p.doc.AttrPos(m, "Value").String()})
			}
		}
	}
	return defs, nil
}

func sortedMacros(m map[string]string, where string) []winpath.Macro {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]winpath.Macro, len(names))
	for i, k := range names {
		out[i] = winpath.Macro{Name: k, Value: m[k], Where: where}
	}
	return out
}

// readConfig reads the <Macro Id= Value=/> definitions of a PkgGen.cfg.xml-style file, in any
// element of it (the kit's file has them under a <Macros> root).
func readConfig(path string) ([]winpath.Macro, error) {
	data, err := manifest.ReadXMLFile(path)
	if err != nil {
		return nil, fmt.Errorf("/config: %v", err)
	}
	doc, err := manifest.ParseDoc(path, data, "")
	if err != nil {
		return nil, err
	}
	var out []winpath.Macro
	// An explicit stack: the depth is bounded by manifest.MaxDepth, the walk by the elements.
	stack := []*etree.Element{doc.Root()}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		kids := el.ChildElements()
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
		if el.Tag != "Macro" {
			continue
		}
		if id := doc.RequireAttr(el, "Id", "the macro's name"); id != "" {
			out = append(out, winpath.Macro{Name: id, Value: el.SelectAttrValue("Value", ""), Where: doc.AttrPos(el, "Value").String()})
		}
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveMacros expands the definitions; a /variables value or built-in names no file, so the
// project is named for it.
func (p *project) resolveMacros(defs []winpath.Macro) (map[string]string, error) {
	vals, err := winpath.ResolveMacros(defs)
	if me, ok := err.(*winpath.MacroError); ok && (me.Where == "/variables" || me.Where == "built-in macro") {
		return nil, fmt.Errorf("%s: %v", p.path, err)
	}
	return vals, err
}
