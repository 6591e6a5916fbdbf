package pkggen

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// FuzzParseProject feeds project files to the parser: it must not panic, must stay within its
// bounds, and a failure must name the project file. Seeds: the repository's projects, and each
// hostile shape (macro bombs, malformed XML, deep nesting, a huge attribute, UTF-16).
func FuzzParseProject(f *testing.F) {
	for _, g := range []string{"../../examples/contoso/*/*.pkg.xml", "../gazelle/testdata/*/*/*.pkg.xml", "../gazelle/testdata/*/*/*/*.pkg.xml"} {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(projectXML("<Macros>\n<Macro Id=\"a\" Value=\""+strings.Repeat("$(a)", 16)+"\"/></Macros>", "")))
	f.Add([]byte(projectXML("<Macros>"+bombMacros(8)+"</Macros>", "")))
	f.Add([]byte(projectXML(comps(`<File Source="$(v0)"/><Flie/>`), `Owner="$(OEMNAME)"`)))
	f.Add([]byte("<Package"))
	f.Add([]byte(projectXML(regKeys(`<RegKey KeyName="$(hklm.software)\x"><RegValue Name="a" Value="hex(7):61,00" Type="REG_HEX"/><RegValue Value="1;2" Type="REG_MULTI_SZ"/></RegKey><RegKey KeyName="HKEY_USERS"/>`), "")))
	f.Add([]byte(projectXML(strings.Repeat("<Components>", 300), "")))
	f.Add([]byte(projectXML(comps(`<File Source="`+strings.Repeat("x", 5000)+`"/>`), "")))
	f.Add(utf16Bytes(projectXML(comps(`<File Source="camera\camera.txt" DestinationDir="$(runtime.root)\A"/>`), ""), false))
	// Binary partition packages: the valid form and each refused one.
	f.Add([]byte(projectXML(binComps(`<BinaryPartition ImageSource="ContosoFM.xml"/>`), `BinaryPartition="true" Partition="UEFI"`)))
	f.Add([]byte(projectXML(binComps(`<BinaryPartition ImageSource="ContosoFM.xml"/><BinaryPartition/><OSComponent/>`), `BinaryPartition="1"`)))
	f.Add([]byte(projectXML(binComps(`<BinaryPartition ImageSource="$(v0)"/>`), `Partition="$(v0)"`)))
	// Drivers and services: valid and refused forms (sources that do not resolve included).
	f.Add([]byte(driverProject(`<Files><File Source="$(_RELEASEDIR)\ctsogpio.sys"/></Files><Security InfSectionName="x"/>`)))
	f.Add([]byte(svcProject(`<Service Name="S" Start="DelayedAuto" Type="Win32ShareProcess" SvcHostGroupName="g"><ServiceDll Source="x.dll" HostExe="$(env.system32)\h.exe"/><FailureActions ResetPeriod="INFINITE" Command="c"><Action Type="RunCommand" Delay="1"/></FailureActions><RegKeys><RegKey KeyName="$(hklm.service)"/></RegKeys></Service>`)))
	f.Add([]byte(svcProject(`<Service Name="S" Start="Auto" Type="Win32OwnProcess"><Executable Source="x.exe" ImagePath="$(v0)"/><ServiceDll/><FailureActions ResetPeriod="-"/></Service>`)))
	// Settings groups and BCD stores (whose source does not resolve there).
	f.Add([]byte(projectXML(settingsGroupBody, "")))
	f.Add([]byte(projectXML(`<Components><BCDStore Source="x.bcd.xml"/><SettingsGroup Path="A/$(b)"><Setting Name="$(c)"/></SettingsGroup></Components>`, "")))
	// Sources resolve against the example's files, so valid projects get through to the end.
	path := filepath.Join("..", "..", "examples", "contoso", "oem", "fuzz.pkg.xml")
	opt := Options{BuildType: "fre", CPU: "arm", Languages: []string{"en-US", "de-DE"}, Resolutions: []string{"720x1280"},
		Variables: bombVars(8)}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := load(path, data, opt, "Retail", "ARM")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.pkg.xml") {
				t.Fatalf("error does not name the project: %v", err)
			}
			return
		}
		for _, pk := range pkgs {
			for _, file := range pk.Files {
				if len(file.DevicePath) > 32767 {
					t.Fatalf("device path of %d bytes", len(file.DevicePath))
				}
			}
		}
	})
}

// FuzzParseINF feeds INF files to the reader and the derivation of a driver's registry: no
// panic, and what is derived has keys under a registry root.
func FuzzParseINF(f *testing.F) {
	f.Add([]byte(sampleINF))
	f.Add([]byte(utf16File(sampleINF)))
	f.Add([]byte("[Manufacturer]\nm=M,NT$ARCH$\n[M.NT$ARCH$]\nd=I\n[I]\nAddReg=R\n[I.Services]\nAddService=s,2,S\n[S]\nServiceBinary=%12%\\\n[R]\nHKLM,\\\\,,0xffffffff,\"\n"))
	f.Add([]byte("[a\n\\\n%%%x%\"\"\"\n[Strings]\nx=%x%\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := parseINF("f.inf", data)
		if err != nil {
			return
		}
		for _, cpu := range []string{"arm", "amd64"} {
			d := newINFDeriver(&builder{p: &project{path: "p.pkg.xml"}}, nil, in, cpu)
			if err := d.derive(); err != nil && !strings.Contains(err.Error(), "f.inf:") {
				t.Fatalf("error does not name the INF: %v", err)
			}
			for _, v := range d.values {
				if !hasRoot(v.Key) {
					t.Fatalf("derived key %q has no registry root", v.Key)
				}
			}
		}
	})
}

// FuzzParseBCD feeds BCD layout files to the converter: no panic, a failure names the file, and
// what it accepts renders as registry text.
func FuzzParseBCD(f *testing.F) {
	f.Add([]byte(bcdXML("", `<Objects><Object SaveKeyToRegistry="false"><FriendlyName>Windows Loader</FriendlyName><Elements>`+bcdElem("Manufacturing Mode", "<StringValue>Default</StringValue>")+`</Elements></Object></Objects>`)))
	f.Add([]byte(bcdXML(`IncludeDescriptions="1"`, `<Objects><Object><FriendlyName>Windows Boot Manager</FriendlyName><Elements>`+
		bcdElem("Timeout Value", "<IntegerValue>0x1e</IntegerValue>")+bcdElem("Display Order", "<ObjectListValue><StringValues><StringValue>MMOS</StringValue></StringValues></ObjectListValue>")+
		bcdElem("Custom Action List", "<IntegerListValue><StringValues><StringValue>1</StringValue><StringValue>Boot Sequence</StringValue></StringValues></IntegerListValue>")+
		bcdElem("Default Object", "<ObjectValue>Windows Loader</ObjectValue>")+bcdElem("Boot Device", "<DeviceValue/>")+`</Elements></Object></Objects>`)))
	f.Add([]byte(bcdXML("", "<Objects><Object><FriendlyName>x</FriendlyName><Id>{0}</Id><RawType>a</RawType></Object></Objects>")))
	f.Add([]byte(deviceXML("Boot Device", gptMMOS)))
	f.Add([]byte(deviceXML("OS Loader Type", mbrDev)))
	f.Add([]byte(deviceXML("Ramdisk SDI Device", `<GPTDevice><DiskId>{AE420040-13DD-41F2-AE7F-0DC35854C8D7}</DiskId><Partition><Id>{12345678-9abc-def0-0123-456789abcdef}</Id></Partition></GPTDevice>`)))
	f.Add([]byte(deviceXML("Boot Device", `<RamdiskDevice><RamdiskOptions>true</RamdiskOptions><FilePath>\winpe.wim</FilePath><ParentDevice>`+gptMMOS+`</ParentDevice></RamdiskDevice>`)))
	f.Add([]byte(deviceXML("Boot Device", `<RamdiskDevice><RamdiskOptions>0</RamdiskOptions><FilePath/><ParentDevice>`+mbrDev+`</ParentDevice></RamdiskDevice>`)))
	f.Add([]byte(recoveryBCD))
	f.Add([]byte("<BootConfigurationDatabase"))
	f.Fuzz(func(t *testing.T, data []byte) {
		values, err := ParseBCD("f.bcd.xml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "f.bcd.xml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, err := registry.File(values); err != nil {
			t.Fatalf("accepted values do not render: %v", err)
		}
		for _, v := range values {
			if v.Type == "REG_BINARY" && len(v.Key) > 8 && v.Key[len(v.Key)-7] == '1' {
				if err := checkDeviceSizes(v.Data); err != nil {
					t.Fatalf("%s: %v: % x", v.Key, err, v.Data)
				}
			}
		}
	})
}

// checkDeviceSizes checks the size fields of device data against its length: the device's
// size, and a ramdisk's file length (the layout of bcd_device.go).
func checkDeviceSizes(b []byte) error {
	if len(b) < 88 {
		return fmt.Errorf("%d bytes; a device has at least 88", len(b))
	}
	le := binary.LittleEndian
	if n := le.Uint32(b[24:]); int(n) != len(b)-16 {
		return fmt.Errorf("device size %d; the data after the options is %d bytes", n, len(b)-16)
	}
	switch typ := le.Uint32(b[16:]); typ {
	case 5, 6:
		if len(b) != 88 {
			return fmt.Errorf("device type %d is %d bytes; want 88", typ, len(b))
		}
	case 0:
		if n := le.Uint32(b[60:]); int(n) != len(b)-56 || le.Uint32(b[32:]) != 3 || le.Uint32(b[64:]) != 5 {
			return fmt.Errorf("ramdisk file length %d for %d bytes after offset 56", n, len(b)-56)
		}
		if p := b[68:]; le.Uint32(p[8:]) != 72 || len(b)%2 != 0 || b[len(b)-1] != 0 || b[len(b)-2] != 0 {
			return fmt.Errorf("ramdisk parent or path malformed")
		}
	default:
		return fmt.Errorf("device type %d", typ)
	}
	return nil
}
