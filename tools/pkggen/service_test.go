package pkggen

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

func svcProject(comp string) string {
	return projectXML("<Components>\n"+comp+"\n</Components>", "")
}

// A shared service shaped like the BSPs' RpiLanPropertyChange (its DLL also in an OSComponent,
// FailureActions, an own RegKey) and an own-process one with every attribute.
func TestServiceBuild(t *testing.T) {
	dir := tree(t, map[string]string{
		"lan.dll": "MZ dll", "svc.exe": "MZ exe", "svc.cfg": "cfg",
		"p.pkg.xml": svcProject(`<OSComponent><Files><File Source="lan.dll" DestinationDir="$(runtime.system32)"/></Files></OSComponent>
<Service Name="LanProp" DisplayName="Lan property" Description="Sets the MAC" ErrorControl="Normal" Start="Auto"
    SvcHostGroupName="NetworkService" Type="Win32ShareProcess" IsTCB="Yes">
  <FailureActions ResetPeriod="86400">
    <Action Type="RestartService" Delay="10000"/>
    <Action Type="None" Delay="0"/>
  </FailureActions>
  <RegKeys><RegKey KeyName="$(hklm.service)"><RegValue Name="ObjectName" Type="REG_SZ" Value="LocalSystem"/></RegKey></RegKeys>
  <ServiceDll Source="lan.dll" ServiceMain="LanMain" UnloadOnStop="false" ServiceManifest="%SystemRoot%\lan.man"/>
</Service>
<Service Name="CtsoSvc" Start="DelayedAuto" Type="Win32OwnProcess" ErrorControl="Severe" Group="Extended"
    DependOnService="RpcSs;LanProp" DependOnGroup="NetGroup">
  <Executable Source="svc.exe" DestinationDir="$(runtime.system32)\Contoso" Name="ctso.exe"/>
  <FailureActions ResetPeriod="INFINITE" Command="cmd /c echo" RebootMessage="bye">
    <Action Type="RunCommand" Delay="5"/>
  </FailureActions>
  <Files><File Source="svc.cfg"/></Files>
</Service>`),
	})
	var warnings []string
	opt := baseOpt
	opt.Warn = func(s string) { warnings = append(warnings, s) }
	pkgs, err := Load(filepath.Join(dir, "p.pkg.xml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	check(t, dir, pkgs, []want{{"Contoso.Apps.Camera", map[string]string{
		`\windows\System32\lan.dll`:          "lan.dll",
		`\windows\System32\Contoso\ctso.exe`: "svc.exe",
		`\windows\System32\svc.cfg`:          "svc.cfg",
	}}})
	lan := `HKEY_LOCAL_MACHINE\SYSTEM\controlset001\services\LanProp`
	own := `HKEY_LOCAL_MACHINE\SYSTEM\controlset001\services\CtsoSvc`
	fa := func(reset uint32, msg, cmd uint32, actions ...uint32) []byte {
		d := append(le32(reset), le32(msg)...)
		d = append(d, le32(cmd)...)
		d = append(d, le32(uint32(len(actions)/2))...)
		d = append(d, le32(20)...)
		for _, a := range actions {
			d = append(d, le32(a)...)
		}
		return d
	}
	wantValues := []registry.Value{
		{Key: lan, Name: "ObjectName", Type: "REG_SZ", Data: utf16z("LocalSystem")},
		{Key: lan, Name: "PreshutdownTimeout", Type: "REG_DWORD", Data: le32(20000)},
		{Key: lan, Name: "Start", Type: "REG_DWORD", Data: le32(2)},
		{Key: lan, Name: "Type", Type: "REG_DWORD", Data: le32(0x20)},
		{Key: lan, Name: "ErrorControl", Type: "REG_DWORD", Data: le32(1)},
		{Key: lan, Name: "DisplayName", Type: "REG_SZ", Data: utf16z("Lan property")},
		{Key: lan, Name: "Description", Type: "REG_SZ", Data: utf16z("Sets the MAC")},
		{Key: lan, Name: "FailureActions", Type: "REG_BINARY", Data: fa(86400, 0, 0, 1, 10000, 0, 0)},
		{Key: lan, Name: "ImagePath", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\System32\svchost.exe -k NetworkService`)},
		{Key: lan + `\Parameters`, Name: "ServiceDll", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\System32\lan.dll`)},
		{Key: lan + `\Parameters`, Name: "ServiceManifest", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\lan.man`)},
		{Key: lan + `\Parameters`, Name: "ServiceMain", Type: "REG_SZ", Data: utf16z("LanMain")},
		{Key: own, Name: "PreshutdownTimeout", Type: "REG_DWORD", Data: le32(20000)},
		{Key: own, Name: "Start", Type: "REG_DWORD", Data: le32(2)},
		{Key: own, Name: "DelayedAutoStart", Type: "REG_DWORD", Data: le32(1)},
		{Key: own, Name: "Type", Type: "REG_DWORD", Data: le32(0x10)},
		{Key: own, Name: "ErrorControl", Type: "REG_DWORD", Data: le32(2)},
		{Key: own, Name: "Group", Type: "REG_SZ", Data: utf16z("Extended")},
		{Key: own, Name: "DependOnGroup", Type: "REG_MULTI_SZ", Data: multiSz([]string{"NetGroup"})},
		{Key: own, Name: "DependOnService", Type: "REG_MULTI_SZ", Data: multiSz([]string{"RpcSs", "LanProp"})},
		{Key: own, Name: "FailureCommand", Type: "REG_SZ", Data: utf16z("cmd /c echo")},
		{Key: own, Name: "RebootMessage", Type: "REG_SZ", Data: utf16z("bye")},
		{Key: own, Name: "FailureActions", Type: "REG_BINARY", Data: fa(0xFFFFFFFF, 1, 1, 3, 5)},
		{Key: own, Name: "ImagePath", Type: "REG_EXPAND_SZ", Data: utf16z(`%SystemRoot%\System32\Contoso\ctso.exe`)},
	}
	pk := pkgs[0]
	checkValues(t, pk.Registry, wantValues, false)
	for _, v := range pk.Registry {
		if strings.EqualFold(v.Key+"|"+v.Name, lan+`\Parameters|ServiceDllUnloadOnStop`) {
			t.Error("ServiceDllUnloadOnStop written with UnloadOnStop=false")
		}
	}
	if len(pk.Append) != 1 || pk.Append[0].Name != "NetworkService" || strings.Join(pk.Append[0].Strings, ";") != "LanProp" ||
		pk.Append[0].Key != `HKEY_LOCAL_MACHINE\Software\Microsoft\Windows NT\CurrentVersion\SvcHost` {
		t.Errorf("svchost append = %+v", pk.Append)
	}
	wantWarnings(t, warnings, `p.pkg.xml:5:1: warning: IsTCB="Yes": a security policy setting`, `is placed twice in package Contoso.Apps.Camera; packaged once`)

	files := buildExtract(t, pkgs, opt, "Contoso.Apps.Camera")
	reg, rga := files[`\Windows\Packages\RegistryFiles\Contoso.Apps.Camera.reg`], files[`\Windows\Packages\RegistryFiles\Contoso.Apps.Camera.rga`]
	if reg.FileType != "Registry" || rga.FileType != "RegistryMultiStringAppend" {
		t.Fatalf("registry file types = %q, %q", reg.FileType, rga.FileType)
	}
	checkHivex(t, reg.Data, pk.Registry)
	checkHivex(t, rga.Data, []registry.Value{{Key: pk.Append[0].Key, Name: "NetworkService", Type: "REG_MULTI_SZ", Data: multiSz([]string{"LanProp"})}})
}

func TestServiceErrors(t *testing.T) {
	fa := `<FailureActions ResetPeriod="1"><Action Type="None" Delay="0"/></FailureActions>`
	exe := `<Executable Source="svc.exe"/>`
	for _, tc := range []struct{ name, xml, want string }{
		{"no name", `<Service Start="Auto" Type="Win32OwnProcess">` + exe + fa + `</Service>`, "4:1: <Service> has no Name attribute; expected the service's name"},
		{"no binary", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + fa + `</Service>`, `4:1: Service "S": Executable or ServiceDll is missing`},
		{"two binaries", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + exe + fa + `</Service>`, `Service "S": a second entry binary`},
		{"dll without group", `<Service Name="S" Start="Auto" Type="Win32ShareProcess"><ServiceDll Source="svc.exe"/>` + fa + `</Service>`, `4:1: Service "S": SvcHostGroupName is required when ServiceDll is declared`},
		{"exe with group", `<Service Name="S" Start="Auto" Type="Win32OwnProcess" SvcHostGroupName="g">` + exe + fa + `</Service>`, `Service "S": SvcHostGroupName can only be set when ServiceDll is declared`},
		{"no failure actions", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + `</Service>`, `4:1: Service "S": 0 <FailureActions>; expected exactly one`},
		{"no start", `<Service Name="S" Type="Win32OwnProcess">` + exe + fa + `</Service>`, "4:1: <Service> has no Start; expected one of Auto, Boot, DelayedAuto, Demand, Disabled, System"},
		{"bad start", `<Service Name="S" Start="Manual" Type="Win32OwnProcess">` + exe + fa + `</Service>`, `4:19: Start="Manual": expected one of Auto, Boot`},
		{"bad type", `<Service Name="S" Start="Auto" Type="Own">` + exe + fa + `</Service>`, `Type="Own": expected one of FileSystemDriver, KernelDriver, Win32OwnProcess, Win32ShareProcess`},
		{"bad error control", `<Service Name="S" Start="Auto" Type="Win32OwnProcess" ErrorControl="Loud">` + exe + fa + `</Service>`, `ErrorControl="Loud": expected one of Critical, Ignore, Normal, Severe`},
		{"bad action", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + `<FailureActions ResetPeriod="1"><Action Type="Restart" Delay="0"/></FailureActions></Service>`, `Type="Restart": expected one of None, Reboot, RestartService, RunCommand`},
		{"bad delay", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + `<FailureActions ResetPeriod="1"><Action Type="None" Delay="-1"/></FailureActions></Service>`, `Delay="-1": expected milliseconds`},
		{"bad reset", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + `<FailureActions ResetPeriod="never"><Action Type="None" Delay="1"/></FailureActions></Service>`, `ResetPeriod="never": expected a number of seconds or INFINITE`},
		{"negative reset", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + "\n" + `<FailureActions ResetPeriod="-5"><Action Type="None" Delay="1"/></FailureActions></Service>`, `5:17: ResetPeriod="-5": expected a number of seconds or INFINITE`},
		{"no action type", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + `<FailureActions ResetPeriod="1"><Action Delay="1"/></FailureActions></Service>`, `Type="": expected one of None, Reboot, RestartService, RunCommand`},
		{"bad BinaryInOneCorePkg", `<Service Name="S" Start="Auto" Type="Win32OwnProcess"><Executable Source="svc.exe" BinaryInOneCorePkg="maybe"/>` + fa + `</Service>`, `attribute BinaryInOneCorePkg of <Executable> is "maybe"; expected true or false`},
		{"bad name", `<Service Name="a\b" Start="Auto" Type="Win32OwnProcess">` + exe + fa + `</Service>`, `4:10: Name="a\\b": a service name, without \, / or brackets`},
		{"no actions", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + `<FailureActions ResetPeriod="1"/></Service>`, `<FailureActions> of service "S" has no <Action`},
		{"unknown child", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + fa + `<Executabel/></Service>`, "unknown element <Executabel> in <Service>"},
		{"value given twice", `<Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + fa + `<RegKeys><RegKey KeyName="$(hklm.service)"><RegValue Name="Start" Type="REG_DWORD" Value="00000003"/></RegKey></RegKeys></Service>`, `value "Start" of key "HKEY_LOCAL_MACHINE\\SYSTEM\\controlset001\\services\\S" (from <Service Name="S">) is given twice`},
		{"two files at one path", `<OSComponent><Files><File Source="other.exe" Name="svc.exe"/></Files></OSComponent><Service Name="S" Start="Auto" Type="Win32OwnProcess">` + exe + fa + `</Service>`, `device path \windows\System32\svc.exe is given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantLoadError(t, map[string]string{"svc.exe": "x", "other.exe": "y"}, svcProject(tc.xml), tc.want)
		})
	}
}
