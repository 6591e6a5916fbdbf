package main

// Named pipes where a verb opens a host file it had opened without the regular-file check
// (tools/internal/readfile): FeatureMerger's input, a package given to featuremerger, resolve
// or imggen, an answer file given to imggen. Opening a pipe for reading blocks until a writer
// comes, which none does: each must fail at once, naming the file. Also: imgtowim on a
// corrupt DeviceLayout.xml (the reason is given), pkggen whose last satellite fails (nothing
// is left). Case names start with "clean/".

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

// cleanTimeout bounds these cases well below the suite's default: they fail at once or hang.
const cleanTimeout = 20 * time.Second

// cleanPipe makes a named pipe at dir/name and returns its path.
func cleanPipe(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

// cleanOEMInput is an OEMInput the example workspace's FMs resolve.
const cleanOEMInput = contoso + "images/RetailOEMInput.xml"

// cleanKit is the example kit as real packages (customizationKit), one of them replaced by a
// named pipe, and the FM flags; paths are absolute, as the child runs in dir.
func cleanKit(t *testing.T, pipe string) []string {
	t.Helper()
	flags := customizationKit(t, true)
	for _, f := range flags {
		if filepath.Base(f) == pipe {
			p := f[len("--package="):]
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			cleanPipe(t, filepath.Dir(p), pipe)
		}
	}
	flags = append(flags, "--core-fm="+absPath(t, contoso+"kit/fm/MicrosoftPhoneFM.xml"))
	for _, fm := range contosoFMs {
		flags = append(flags, "--fm="+absPath(t, fm[len("--fm="):]))
	}
	return flags
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func init() {
	const pipeMsg = ": a named pipe; expected a regular file"
	addHostile(hostileCase{
		name: "clean/featuremerger-input-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			cleanPipe(t, dir, "fm.xml")
			return featureMergerArgs(dir, "fm.xml")
		},
		want:    []string{"fm.xml" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		name: "clean/featuremerger-package-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			cleanPipe(t, dir, "Contoso.Pipe.spkg")
			baseFM(t, dir, "fm.xml", "Contoso.Pipe.spkg")
			return featureMergerArgs(dir, "fm.xml")
		},
		want:    []string{"Contoso.Pipe.spkg" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		// resolve opens Microsoft.PhoneFM.spkg for the core FM.
		name: "clean/resolve-package-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			cleanPipe(t, dir, "Microsoft.PhoneFM.spkg")
			writeFile(t, dir, "OEMInput.xml", []byte(`<OEMInput `+imageUpdateNS+`><Description>pipe</Description><SOC>SOC8000</SOC>
  <Device>Phone1</Device><ReleaseType>Test</ReleaseType><BuildType>fre</BuildType>
  <SupportedLanguages><UserInterface><Language>en-US</Language></UserInterface><Keyboard><Language>en-US</Language></Keyboard>
  <Speech><Language>en-US</Language></Speech></SupportedLanguages><BootUILanguage>en-US</BootUILanguage><BootLocale>en-US</BootLocale>
  <Resolutions><Resolution>720x1280</Resolution></Resolutions></OEMInput>`))
			return []string{"resolve", "OEMInput.xml", "MSPackages", "--package=Microsoft.PhoneFM.spkg"}
		},
		want:    []string{"Microsoft.PhoneFM.spkg" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		// imggen opens every selected package to write the image.
		name: "clean/imggen-package-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			return append([]string{"imggen", "out.ffu", absPath(t, cleanOEMInput), "MSPackages"}, cleanKit(t, "Contoso.Apps.Camera.spkg")...)
		},
		want:    []string{"Contoso.Apps.Camera.spkg" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		// With an answer file, imggen reads the selected packages' policy files first.
		name: "clean/imggen-customization-package-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			root := writeFile(t, dir, "root.xml", []byte(mcsfAnswer("")))
			return append([]string{"imggen", "out.ffu", absPath(t, cleanOEMInput), "MSPackages", root, "10.0.1.0"}, cleanKit(t, "Contoso.Apps.Camera.spkg")...)
		},
		want:    []string{"package ", "Contoso.Apps.Camera.spkg" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		name: "clean/imggen-answer-file-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			root := cleanPipe(t, dir, "root.xml")
			return append([]string{"imggen", "out.ffu", absPath(t, cleanOEMInput), "MSPackages", root, "10.0.1.0"}, cleanKit(t, "")...)
		},
		want:    []string{"answer file ", "root.xml" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		name: "clean/customizationgen-answer-file-named-pipe",
		setup: func(t *testing.T, dir string) []string {
			return mcsfArgs(t, dir, cleanPipe(t, dir, "root.xml"))
		},
		want:    []string{"answer file ", "root.xml" + pipeMsg},
		timeout: cleanTimeout,
	}, hostileCase{
		// A DeviceLayout.xml whose start cluster is past the volume: the reason is given (it
		// was reported as missing).
		name: "clean/imgtowim-corrupt-devicelayout",
		setup: func(t *testing.T, dir string) []string {
			writeFile(t, dir, "bad.ffu", changeDeviceLayout(t, func(e []byte) {
				e[20], e[21], e[26], e[27] = 0xFF, 0x0F, 0xF0, 0xFF
			}))
			return []string{"imgtowim", "bad.ffu", "out.wim"}
		},
		want: []string{`bad.ffu: MainOS: \Windows\ImageUpdate\DeviceLayout.xml`, "is outside", "; expected the device layout ImgGen writes there"},
	}, hostileCase{
		// The last satellite's source is larger than a cabinet holds (sparse): the neutral
		// package and the first satellite, written before it, are not left either.
		name: "clean/pkggen-last-satellite-fails",
		setup: func(t *testing.T, dir string) []string {
			writeFile(t, dir, "p.pkg.xml", []byte(`<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Apps">
<Components><OSComponent><Files><File Source="app.exe"/></Files>
<Files Language="*"><File Source="res\$(langid)\app.mui"/></Files></OSComponent></Components></Package>`))
			writeFile(t, dir, "app.exe", []byte("app"))
			writeFile(t, dir, "res/en-us/app.mui", []byte("en"))
			big := writeFile(t, dir, "res/de-de/app.mui", nil)
			if err := os.Truncate(big, cab.MaxFolderBytes+1); err != nil {
				t.Fatal(err)
			}
			return []string{"pkggen", "p.pkg.xml", "/output:.", "/language:en-us;de-de"}
		},
		want: []string{"Contoso.Apps_Lang_de-de.spkg: ", "app.mui: 2147450881 bytes; expected at most 2147450880"},
	})
}
