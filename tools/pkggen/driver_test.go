package pkggen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// utf16File is s as the kit's INFs are stored: UTF-16LE with a byte order mark, CRLF.
func utf16File(s string) string {
	u := utf16.Encode([]rune(strings.ReplaceAll(s, "\n", "\r\n")))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return string(b)
}

// An INF shaped like the BSPs' kernel-mode drivers (bcmgpio.inf, rpisdhc.inf): a stamped and
// an unstamped models section, a DDInstall with CopyFiles and a device AddReg, a .Services
// section, a service-install section with every directive, HKR and HKLM AddReg entries, a
// .HW section, Include/Needs and [Strings] substitution.
const sampleINF = `;
; Contoso GPIO driver
;
[Version]
Signature="$WINDOWS NT$"
Class=System
Provider=%Provider%

[Manufacturer]
%MFG%=Contoso,NTarm,NTamd64

[Contoso.NTarm]
%Gpio.Desc%=Gpio_Inst,ACPI\CTSO0001

[Contoso.NTamd64]
%Gpio.Desc%=Gpio_Inst_x64,ACPI\CTSO0001

[Gpio_Inst.NT]
CopyFiles=Gpio.CopyFiles
AddReg=Gpio.DeviceReg
Include=machine.inf
Needs=Machine.Registration

[Gpio.CopyFiles]
ctsogpio.sys,,,0x100

[Gpio.DeviceReg]
HKR,,DeviceType,0x10001,0x22

[Gpio_Inst.NT.Services]
AddService = ctsogpio, %SPSVCINST_ASSOCSERVICE%, Gpio_Service_Inst

[Gpio_Service_Inst]
DisplayName    = %Gpio.SvcDesc%
Description    = "GPIO, for ""Contoso"" boards"
ServiceType    = %SERVICE_KERNEL_DRIVER%
StartType      = 3 ; demand
ErrorControl   = 0x1
ServiceBinary  = %12%\ctsogpio.sys
LoadOrderGroup = Extended Base
Dependencies   = +Boot Bus Extender,acpiex
AddReg         = Gpio_Service_Inst.AddReg, Gpio.Global

[Gpio_Service_Inst.AddReg]
HKR,Parameters,StormMitigation,%REG_DWORD%,0
HKR,Parameters,Label,,"pin \
bank"
HKR,Parameters,Pins,0x10000,"a","b"
HKR,Parameters,Path,0x20000,%%SystemRoot%%\x
HKR,Parameters,Blob,1,0a,ff
HKR,Parameters,Big,0x000B0001,0x100000000
HKR,Parameters,Kept,0x10003,7
HKR,Parameters\Empty,,0x10
HKR,Parameters,Gone,0x4

[Gpio.Global]
HKLM,System\CurrentControlSet\Control\Contoso,Enabled,0x10001,1

[Gpio_Inst.NT.HW]
AddReg=Gpio.HwReg

[Gpio.HwReg]
HKR,,Security,,"D:P(A;;GA;;;SY)"

[Strings]
Provider="Contoso"
MFG="Contoso"
Gpio.Desc="Contoso GPIO"
Gpio.SvcDesc="Contoso GPIO Driver"
SPSVCINST_ASSOCSERVICE=0x00000002
SERVICE_KERNEL_DRIVER=1
REG_DWORD=0x00010001
`

func driverProject(body string) string {
	return projectXML(`<Components>
  <Driver InfSource="$(_RELEASEDIR)\ctsogpio.inf">
    <Reference Source="$(_RELEASEDIR)\ctsogpio.sys" StagingSubDir="arm"/>
`+body+`
  </Driver>
</Components>`, `Platform="RPi"`)
}

func TestDriverBuild(t *testing.T) {
	dir := tree(t, map[string]string{
		"ctsogpio.inf": utf16File(sampleINF),
		"ctsogpio.sys": "MZ driver",
		"ctsogpio.dll": "MZ helper",
		"p.pkg.xml": driverProject(`    <Files>
      <File Source="$(_RELEASEDIR)\ctsogpio.sys"/>
      <File Source="$(_RELEASEDIR)\ctsogpio.dll" DestinationDir="$(runtime.system32)"/>
    </Files>
    <RegKeys><RegKey KeyName="$(hklm.software)\Contoso"><RegValue Name="GpioDebug" Type="REG_DWORD" Value="00000001"/></RegKey></RegKeys>
    <Security InfSectionName="Gpio.DeviceReg"/>`),
	})
	var warnings []string
	opt := baseOpt
	opt.Warn = func(s string) { warnings = append(warnings, s) }
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	// The component's files, the default in $(runtime.drivers); neither the INF nor the
	// reference is a package file (the original stages them only).
	check(t, dir, pkgs, []want{{"Contoso.Apps.Camera", map[string]string{
		`\windows\System32\drivers\ctsogpio.sys`: "ctsogpio.sys",
		`\windows\System32\ctsogpio.dll`:         "ctsogpio.dll",
	}}})
	svc := driverServicesKey + `\ctsogpio`
	params := svc + `\Parameters`
	wantValues := []registry.Value{
		{Key: `HKEY_LOCAL_MACHINE\Software\Contoso`},
		{Key: `HKEY_LOCAL_MACHINE\Software\Contoso`, Name: "GpioDebug", Type: "REG_DWORD", Data: le32(1)},
		{Key: svc},
		{Key: svc, Name: "DisplayName", Type: "REG_SZ", Data: utf16z("Contoso GPIO Driver")},
		{Key: svc, Name: "Description", Type: "REG_SZ", Data: utf16z(`GPIO, for "Contoso" boards`)},
		{Key: svc, Name: "Type", Type: "REG_DWORD", Data: le32(1)},
		{Key: svc, Name: "Start", Type: "REG_DWORD", Data: le32(3)},
		{Key: svc, Name: "ErrorControl", Type: "REG_DWORD", Data: le32(1)},
		{Key: svc, Name: "ImagePath", Type: "REG_EXPAND_SZ", Data: utf16z(`\SystemRoot\System32\drivers\ctsogpio.sys`)},
		{Key: svc, Name: "Group", Type: "REG_SZ", Data: utf16z("Extended Base")},
		{Key: svc, Name: "DependOnService", Type: "REG_MULTI_SZ", Data: multiSz([]string{"acpiex"})},
		{Key: svc, Name: "DependOnGroup", Type: "REG_MULTI_SZ", Data: multiSz([]string{"Boot Bus Extender"})},
		{Key: params, Name: "StormMitigation", Type: "REG_DWORD", Data: le32(0)},
		{Key: params, Name: "Label", Type: "REG_SZ", Data: utf16z("pin bank")},
		{Key: params, Name: "Pins", Type: "REG_MULTI_SZ", Data: multiSz([]string{"a", "b"})},
		{Key: params, Name: "Path", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\x`)},
		{Key: params, Name: "Blob", Type: "REG_BINARY", Data: []byte{0x0a, 0xff}},
		{Key: params, Name: "Big", Type: "REG_QWORD", Data: []byte{0, 0, 0, 0, 1, 0, 0, 0}},
		{Key: params, Name: "Kept", Type: "REG_DWORD", Data: le32(7)},
		{Key: params + `\Empty`},
		{Key: `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Control\Contoso`, Name: "Enabled", Type: "REG_DWORD", Data: le32(1)},
	}
	checkValues(t, pkgs[0].Registry, wantValues, true)
	// What is not derived is named.
	wantWarnings(t, warnings,
		`p.pkg.xml:11:5: warning: <Security InfSectionName="Gpio.DeviceReg">: the SDDL`,
		`[Gpio.DeviceReg] HKR,,DeviceType: a device's key (HKR of a DDInstall section) is made on the device; not derived`,
		`[Gpio_Inst.NT] Include=machine.inf: sections of other INFs`,
		`[Gpio_Inst.NT] Needs=Machine.Registration: sections of other INFs`,
		`[Gpio_Service_Inst.AddReg] flags 0x00010003: NOCLOBBER written as a plain value`,
		`[Gpio_Service_Inst.AddReg] flags 0x00000004: DELVAL, APPEND and OVERWRITEONLY`,
		`[Gpio_Inst.NT.HW]: hardware-key settings`,
		`ctsogpio.inf: not derived (it comes from Microsoft's driver-store staging, HIVE_ROOT/WIM_ROOT): the driver database (HKLM\SYSTEM\DriverDatabase`,
	)
	// Built, read back by cabextract; the .reg passes hivex.
	files := buildExtract(t, pkgs, opt, "Contoso.Apps.Camera")
	reg, ok := files[`\Windows\Packages\RegistryFiles\Contoso.Apps.Camera.reg`]
	if !ok {
		t.Fatalf("no .reg in %v", files)
	}
	checkHivex(t, reg.Data, pkgs[0].Registry)
}

// Another architecture picks its own models section; an unstamped NT$ARCH$ is taken as the
// target, with a warning.
func TestDriverModelsSection(t *testing.T) {
	inf := strings.Replace(sampleINF, "[Contoso.NTamd64]\n%Gpio.Desc%=Gpio_Inst_x64,ACPI\\CTSO0001", "[Contoso.NTamd64]\n%Gpio.Desc%=Other_Inst,ACPI\\CTSO0001\n\n[Other_Inst]\n\n[Other_Inst.Services]\nAddService=other,2,Other_Svc\n\n[Other_Svc]\nServiceType=1\nStartType=0\nErrorControl=1\nServiceBinary=%12%\\other.sys", 1)
	unstamped := strings.Replace(sampleINF, "%MFG%=Contoso,NTarm,NTamd64", "%MFG%=Contoso,NT$ARCH$", 1)
	unstamped = strings.Replace(unstamped, "[Contoso.NTarm]", "[Contoso.NT$ARCH$]", 1)
	for _, tc := range []struct{ name, inf, cpu, service, warning string }{
		{"amd64", inf, "amd64", "other", ""},
		{"unstamped", unstamped, "arm", "ctsogpio", "models section [Contoso.NT$ARCH$] is not stamped (stampinf replaces $ARCH$); taken as arm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, map[string]string{"ctsogpio.inf": tc.inf, "ctsogpio.sys": "x", "p.pkg.xml": driverProject("")})
			var warnings []string
			opt := baseOpt
			opt.CPU = tc.cpu
			opt.Warn = func(s string) { warnings = append(warnings, s) }
			pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, v := range pkgs[0].Registry {
				found = found || strings.EqualFold(v.Key, driverServicesKey+`\`+tc.service)
			}
			if !found {
				t.Errorf("no service %s in %+v", tc.service, pkgs[0].Registry)
			}
			if tc.warning != "" {
				wantWarnings(t, warnings, tc.warning)
			}
		})
	}
}

func TestDriverErrors(t *testing.T) {
	files := map[string]string{"ctsogpio.inf": sampleINF, "ctsogpio.sys": "x", "big.inf": strings.Repeat(";", MaxINFBytes+1), "dir.inf/x": ""}
	for _, tc := range []struct{ name, xml, want string }{
		{"no InfSource", projectXML("<Components>\n<Driver/></Components>", ""), "4:1: <Driver> has no InfSource; expected the driver's .inf file"},
		{"missing INF", projectXML("<Components>\n<Driver InfSource=\"nope.inf\"/></Components>", ""), `4:9: InfSource="nope.inf": `},
		{"missing reference", projectXML("<Components>\n<Driver InfSource=\"ctsogpio.inf\"><Reference Source=\"gone.sys\"/></Driver></Components>", ""), `4:45: Source="gone.sys": `},
		{"missing reference, expected", projectXML("<Components>\n<Driver InfSource=\"ctsogpio.inf\"><Reference Source=\"gone.sys\"/></Driver></Components>", ""), "gone.sys does not exist (in any letter case) (the file must exist)"},
		{"missing INF, expected", projectXML("<Components>\n<Driver InfSource=\"nope.inf\"/></Components>", ""), "nope.inf does not exist (in any letter case) (the file must exist)"},
		{"INF over the bound", projectXML("<Components>\n<Driver InfSource=\"big.inf\"/></Components>", ""), "4:9: InfSource: "},
		{"INF over the bound, expected", projectXML("<Components>\n<Driver InfSource=\"big.inf\"/></Components>", ""), "bytes; expected at most 4194304"},
		{"INF a directory", projectXML("<Components>\n<Driver InfSource=\"dir.inf\"/></Components>", ""), `4:9: InfSource="dir.inf": `},
		{"INF a directory, expected", projectXML("<Components>\n<Driver InfSource=\"dir.inf\"/></Components>", ""), "dir.inf: a directory; expected a regular file"},
		{"reference without source", projectXML("<Components>\n<Driver InfSource=\"ctsogpio.inf\"><Reference StagingSubDir=\"x\"/></Driver></Components>", ""), "4:34: <Reference> has no Source; expected the file's path on the build machine"},
		{"reference attribute", projectXML("<Components>\n<Driver InfSource=\"ctsogpio.inf\"><Reference Source=\"ctsogpio.sys\" Subdir=\"x\"/></Driver></Components>", ""), "unknown attribute Subdir on <Reference>"},
		{"unknown child", projectXML("<Components>\n<Driver InfSource=\"ctsogpio.inf\"><Refrence/></Driver></Components>", ""), "4:34: unknown element <Refrence> in <Driver>; expected one of Reference, Files, RegKeys, Security (did you mean Reference?)"},
		{"duplicate value", projectXML("<Components>\n<Driver InfSource=\"ctsogpio.inf\"><RegKeys><RegKey KeyName=\"$(hklm.services)\\ctsogpio\"><RegValue Name=\"Start\" Type=\"REG_DWORD\" Value=\"00000002\"/></RegKey></RegKeys></Driver></Components>", ""),
			`4:1: value "Start" of key "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\ctsogpio" (derived from`},
	} {
		t.Run(tc.name, func(t *testing.T) { wantLoadError(t, files, tc.xml, tc.want) })
	}
}

// The INF reader: encodings, comments, quotes, continuation, %strkey%, DIRIDs kept.
func TestParseINF(t *testing.T) {
	src := "[A]\nk = \"x;y\" , %s% ; comment\nv = 1,\\\n 2\n\"q\"\"x\" = %%\n[Strings]\ns = \"str\"\n"
	for _, enc := range []struct {
		name string
		data string
	}{{"utf-8", src}, {"utf-16 bom", utf16File(src)}, {"utf-16 no bom", utf16File(src)[2:]}, {"utf-8 bom", "\xEF\xBB\xBF" + src}} {
		t.Run(enc.name, func(t *testing.T) {
			f, err := parseINF("x.inf", []byte(enc.data))
			if err != nil {
				t.Fatal(err)
			}
			a := f.section("a")
			if a == nil || len(a.lines) != 3 {
				t.Fatalf("section A = %+v", a)
			}
			if got := a.lines[0]; got.key != "k" || len(got.fields) != 2 || got.fields[0] != "x;y" || got.fields[1] != "str" {
				t.Errorf("line 1 = %+v", got)
			}
			if got := a.lines[1]; got.key != "v" || strings.Join(got.fields, "|") != "1|2" {
				t.Errorf("continued line = %+v", got)
			}
			if got := a.lines[2]; got.key != `q"x` || strings.Join(got.fields, "|") != "%" {
				t.Errorf("quoted key = %+v", got)
			}
		})
	}
	if _, err := parseINF("big.inf", make([]byte, MaxINFBytes+1)); err == nil {
		t.Error("an INF over the bound is read")
	}
	f, _ := parseINF("x.inf", []byte("[S]\nb=%12%\\a.sys,%undefined%\n"))
	if got := f.section("S").lines[0].fields; strings.Join(got, "|") != `%12%\a.sys|%undefined%` {
		t.Errorf("DIRID and unknown %%name%% = %q", got)
	}
}

// The INF reader is linear in its input and bounded in what it makes: a long run of continued
// lines, a [Strings] value used on every line, sections that many directives reach.
func TestINFBounds(t *testing.T) {
	// 1M continued lines: joined in one pass (a quadratic join copies ~5e11 bytes).
	start := time.Now()
	f, err := parseINF("c.inf", []byte("[A]\nk="+strings.Repeat("a\\\n", 1<<20)+"b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.section("A").lines[0].fields[0]; len(got) != 1<<20+1 {
		t.Errorf("continued line of %d bytes, want %d", len(got), 1<<20+1)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("1M continued lines took %v", d)
	}
	// A 1 MiB string used 512k times would make 512 GiB.
	bomb := "[A]\n" + strings.Repeat("%s%\n", 2<<20/4) + "[Strings]\ns=\"" + strings.Repeat("x", 1<<20) + "\"\n"
	if _, err := parseINF("s.inf", []byte(bomb)); err == nil || !strings.Contains(err.Error(), "s.inf:18: [A]: %strkey% substitution from [Strings] makes more than") {
		t.Errorf("substitution bomb: err = %v", err)
	}
	// 100k services sharing a service-install section of 100k lines: 1e10 lines visited.
	var b strings.Builder
	b.WriteString("[Manufacturer]\nm=M\n[M]\nd=I\n[I]\n[I.Services]\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&b, "AddService=s%d,,S\n", i)
	}
	b.WriteString("[S]\n" + strings.Repeat("ServiceType=1\n", 100000))
	in, err := parseINF("w.inf", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := newINFDeriver(&builder{p: &project{}}, nil, in, "arm").derive(); err == nil || !strings.Contains(err.Error(), "w.inf:") || !strings.Contains(err.Error(), "the INF's directives lead to more than") {
		t.Errorf("shared service-install section: err = %v", err)
	}
}

// DDInstall sections sharing an AddReg section (and manufacturer lines sharing a models
// section) apply it once: its HKLM values are written once, not refused as given twice.
func TestINFSharedSections(t *testing.T) {
	dir := tree(t, map[string]string{
		"s.inf":     "[Manufacturer]\nm=M\nn=M\n[M]\na=I1\nb=I2\n[I1]\nAddReg=G\n[I2]\nAddReg=G,Missing\n[G]\nHKLM,Software\\X,v,,1\n",
		"p.pkg.xml": projectXML("<Components>\n<Driver InfSource=\"s.inf\"/></Components>", ""),
	})
	var warnings []string
	opt := baseOpt
	opt.Warn = func(s string) { warnings = append(warnings, s) }
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	want := registry.Value{Key: `HKEY_LOCAL_MACHINE\Software\X`, Name: "v", Type: "REG_SZ", Data: utf16z("1")}
	if r := pkgs[0].Registry; len(r) != 1 || r[0].Key != want.Key || r[0].Name != want.Name || string(r[0].Data) != string(want.Data) {
		t.Errorf("values = %+v, want %+v", r, want)
	}
	wantWarnings(t, warnings, "s.inf:10: [I2] AddReg=Missing: AddReg section [Missing] is not in the INF")
}

// Generated INFs (seeded, so a failure reproduces): a service with random directives and
// AddReg entries of every value type, under the service's key (HKR) and HKLM. The derived
// values are compared with what the generator meant, and the package's .reg, merged into a
// hive by hivexregedit, reads back as those values.
func TestDriverGeneratedINF(t *testing.T) {
	// Data may hold any of chars; names keep to ASCII, as hivexregedit --export writes a
	// non-ASCII name in the hive's Latin-1 form rather than as text.
	chars := []rune("abcXYZ019 ._-\\éß")
	str := func(r *rand.Rand) string {
		n := 1 + r.IntN(12)
		s := make([]rune, n)
		for i := range s {
			s[i] = chars[r.IntN(len(chars))]
		}
		return strings.Trim(string(s), " \\") + "z" // no blanks at the ends (INF trims them), no final '\' (a continuation)
	}
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x1f))
			svc := driverServicesKey + `\gensvc`
			var inf strings.Builder
			inf.WriteString("[Manufacturer]\nm=M,NTarm\n[M.NTarm]\nd=I,ACPI\\GEN0001\n[I]\nAddReg=Global\n[I.Services]\nAddService=gensvc,2,S\n[S]\n")
			start, errc := r.Uint32N(5), r.Uint32N(4)
			fmt.Fprintf(&inf, "ServiceType=1\nStartType=%d\nErrorControl=0x%x\nServiceBinary=%%12%%\\gen.sys\nAddReg=SvcReg\n", start, errc)
			want := []registry.Value{
				{Key: svc},
				{Key: svc, Name: "Type", Type: "REG_DWORD", Data: le32(1)},
				{Key: svc, Name: "Start", Type: "REG_DWORD", Data: le32(start)},
				{Key: svc, Name: "ErrorControl", Type: "REG_DWORD", Data: le32(errc)},
				{Key: svc, Name: "ImagePath", Type: "REG_EXPAND_SZ", Data: utf16z(`\SystemRoot\System32\drivers\gen.sys`)},
			}
			entries := func(section, root, infRoot, under string) {
				fmt.Fprintf(&inf, "[%s]\n", section)
				for i := 0; i < 4+r.IntN(12); i++ {
					sub := fmt.Sprintf(`%sGen\k%d`, under, r.IntN(3))
					key := root + `\` + sub
					name := fmt.Sprintf("v%d %s", i, strings.Map(func(c rune) rune { return min(c, 'z') }, str(r)))
					switch r.IntN(7) {
					case 0:
						s := str(r)
						fmt.Fprintf(&inf, "%s,%s,%s,,%s\n", infRoot, sub, name, s)
						want = append(want, registry.Value{Key: key, Name: name, Type: "REG_SZ", Data: utf16z(s)})
					case 1:
						s := "%%SystemRoot%%\\" + str(r)
						fmt.Fprintf(&inf, "%s,%s,%s,0x20000,%s\n", infRoot, sub, name, s)
						want = append(want, registry.Value{Key: key, Name: name, Type: "REG_EXPAND_SZ", Data: utf16z(strings.ReplaceAll(s, "%%", "%"))})
					case 2:
						ss := []string{str(r), str(r), str(r)}[:1+r.IntN(3)]
						fmt.Fprintf(&inf, "%s,%s,%s,0x00010000,%s\n", infRoot, sub, name, strings.Join(ss, ","))
						want = append(want, registry.Value{Key: key, Name: name, Type: "REG_MULTI_SZ", Data: multiSz(ss)})
					case 3:
						n := r.Uint32()
						fmt.Fprintf(&inf, "%s,%s,%s,0x10001,0x%x\n", infRoot, sub, name, n)
						want = append(want, registry.Value{Key: key, Name: name, Type: "REG_DWORD", Data: le32(n)})
					case 4:
						n := r.Uint64()
						fmt.Fprintf(&inf, "%s,%s,%s,0x000B0001,%d\n", infRoot, sub, name, n)
						want = append(want, registry.Value{Key: key, Name: name, Type: "REG_QWORD", Data: binary.LittleEndian.AppendUint64(nil, n)})
					case 5:
						b := make([]byte, 1+r.IntN(8)) // an empty REG_BINARY (no field) is not derived
						hexes := make([]string, len(b))
						for j := range b {
							b[j] = byte(r.Uint32())
							hexes[j] = fmt.Sprintf("%02x", b[j])
						}
						fmt.Fprintf(&inf, "%s,%s,%s,1,%s\n", infRoot, sub, name, strings.Join(hexes, ","))
						want = append(want, registry.Value{Key: key, Name: name, Type: "REG_BINARY", Data: b})
					default:
						fmt.Fprintf(&inf, "%s,%s\\Only%d,,0x10\n", infRoot, sub, i)
						want = append(want, registry.Value{Key: key + fmt.Sprintf(`\Only%d`, i)})
					}
				}
			}
			entries("SvcReg", svc, "HKR", "")
			entries("Global", `HKEY_LOCAL_MACHINE`, "HKLM", `Software\`)
			dir := tree(t, map[string]string{"gen.inf": inf.String(), "p.pkg.xml": projectXML("<Components>\n<Driver InfSource=\"gen.inf\"/></Components>", "")})
			pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), baseOpt)
			if err != nil {
				t.Fatalf("%v\nINF:\n%s", err, inf.String())
			}
			got := pkgs[0].Registry
			var values []registry.Value // want without the keys that its values imply
			for _, v := range want {
				if v.Type != "" {
					values = append(values, v)
				}
			}
			checkValues(t, got, values, false)
			if t.Failed() {
				t.Logf("INF:\n%s", inf.String())
			}
			reg, err := registry.File(got)
			if err != nil {
				t.Fatal(err)
			}
			checkHivex(t, reg, want)
		})
	}
}
