package winpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testExpander() *Expander {
	return NewExpander(map[string]string{
		VarMSPackageRoot:  `C:\Kit\MSPackages`,
		VarDevice:         "ContosoPhone1",
		VarReleaseType:    "Test",
		VarBuildType:      "fre",
		VarCPUType:        "arm",
		VarBootUILanguage: "en-US",
		VarBootLocale:     "de-DE",
		"FMDirectory":     `D:\FMs`,
	}, map[string]string{
		"OEM_ROOT":        `D:\Contoso`,
		"wpdkcontentroot": `C:\Program Files (x86)\Windows Kits\10`,
		"EMPTY":           "",
	})
}

func TestExpand(t *testing.T) {
	x := testExpander()
	tests := []struct {
		in, want string
		unknown  string // the reference Check reports, "" for none
	}{
		{`$(mspackageroot)\Retail`, `C:\Kit\MSPackages\Retail`, ""},
		{`$(MSPackageRoot)\Retail`, `C:\Kit\MSPackages\Retail`, ""},
		{`$(MSPACKAGEROOT)`, `C:\Kit\MSPackages`, ""},
		{`$(device)`, "ContosoPhone1", ""},
		{`$(releasetype)`, "Test", ""},
		{`$(buildtype)`, "fre", ""},
		{`$(BuildType)`, "fre", ""},
		{`$(cputype)`, "arm", ""},
		{`$(CPUTYPE)`, "arm", ""},
		{`Boot_Lang_$(bootuilanguage).spkg`, "Boot_Lang_en-US.spkg", ""},
		{`Locale_$(BootLocale).spkg`, "Locale_de-DE.spkg", ""},
		{`$(FMDirectory)\a.xml`, `D:\FMs\a.xml`, ""},
		{`$(fmdirectory)\a.xml`, `D:\FMs\a.xml`, ""},
		{`$(mspackageroot)\Retail\$(cputype)\$(buildtype)`, `C:\Kit\MSPackages\Retail\arm\fre`, ""},
		{`%OEM_ROOT%\Packages`, `D:\Contoso\Packages`, ""},
		{`%oem_root%\Packages`, `D:\Contoso\Packages`, ""},
		{`%WPDKCONTENTROOT%\FMFiles`, `C:\Program Files (x86)\Windows Kits\10\FMFiles`, ""},
		{`%EMPTY%x`, `x`, ""},
		{`%NOPE%\x`, `%NOPE%\x`, "%NOPE%"},
		{`$(nope)\x`, `$(nope)\x`, "$(nope)"},
		{`$(device)$(nope)`, `ContosoPhone1$(nope)`, "$(nope)"},
		// ExpandEnvironmentStrings: an unknown %A leaves its closing '%' to open the next name.
		{`%A%OEM_ROOT%`, `%A` + `D:\Contoso`, ""},
		{`100%`, `100%`, ""},
		{`50% of 60%`, `50% of 60%`, ""},
		{`%%`, `%%`, ""},
		{`$(unclosed`, `$(unclosed`, ""},
		{`plain\path.spkg`, `plain\path.spkg`, ""},
		// $(var) first, then %ENV%: a variable's value may hold an environment reference.
		{`$(x)`, `$(x)`, "$(x)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := x.Expand(tt.in)
			if got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
			err := Check(got)
			var ue *UnexpandedError
			switch {
			case tt.unknown == "" && err != nil:
				t.Errorf("Check(%q) = %v, want nil", got, err)
			case tt.unknown != "" && (!errors.As(err, &ue) || ue.Ref != tt.unknown):
				t.Errorf("Check(%q) = %v, want a report of %s", got, err, tt.unknown)
			}
			if _, serr := x.ExpandStrict(tt.in); (serr != nil) != (tt.unknown != "") {
				t.Errorf("ExpandStrict(%q) error = %v", tt.in, serr)
			}
		})
	}
}

func TestExpandVarThenEnv(t *testing.T) {
	x := NewExpander(map[string]string{"mspackageroot": `%KIT%\MSPackages`}, map[string]string{"KIT": "/kit"})
	if got := x.Expand(`$(mspackageroot)\a`); got != `/kit\MSPackages\a` {
		t.Errorf("got %q", got)
	}
	y := x.With("BootUILanguage", "fr-FR")
	if got := y.Expand("$(bootuilanguage)"); got != "fr-FR" {
		t.Errorf("With: got %q", got)
	}
	if _, ok := x.Var("bootuilanguage"); ok {
		t.Error("With changed the original Expander")
	}
	if v, ok := y.Env("kit"); !ok || v != "/kit" {
		t.Errorf("Env(kit) = %q, %v", v, ok)
	}
}

func TestUnexpandedErrorMessages(t *testing.T) {
	err := Check(`%OEM_ROOT%\x.spkg`)
	if err == nil || !strings.Contains(err.Error(), "%OEM_ROOT% is not set") {
		t.Errorf("env: %v", err)
	}
	err = Check(`$(bogus)\x.spkg`)
	if err == nil || !strings.Contains(err.Error(), "unknown variable $(bogus)") || !strings.Contains(err.Error(), "$(mspackageroot)") {
		t.Errorf("var: %v", err)
	}
}

func TestEnvMap(t *testing.T) {
	m := EnvMap([]string{"A=1", "B=x=y", "=C:=C:\\", "NOEQ"})
	if m["A"] != "1" || m["B"] != "x=y" || len(m) != 2 {
		t.Errorf("EnvMap = %v", m)
	}
}

func TestBaseJoin(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`C:\a\b.spkg`, "b.spkg"},
		{`a/b.spkg`, "b.spkg"},
		{`b.spkg`, "b.spkg"},
		{`C:b.spkg`, "b.spkg"},
		{`C:\dir\`, ""},
	} {
		if got := Base(tt.in); got != tt.want {
			t.Errorf("Base(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ dir, name, want string }{
		{`C:\a`, "b.spkg", `C:\a\b.spkg`},
		{`C:\a\`, "b.spkg", `C:\a\b.spkg`},
		{`a/`, "b.spkg", `a/b.spkg`},
		{"", "b.spkg", "b.spkg"},
		{`C:\a`, "", `C:\a`},
		{`C:\a`, `D:\b.spkg`, `D:\b.spkg`},
		{`C:\a`, `\b.spkg`, `\b.spkg`},
	} {
		if got := Join(tt.dir, tt.name); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.dir, tt.name, got, tt.want)
		}
	}
}

func TestToHost(t *testing.T) {
	m := Mapper{Drives: map[string]string{"C": "/mnt/c", "d": "/data"}}
	for _, tt := range []struct {
		in, want string
		err      string
	}{
		{`MSPackages\Retail\arm\fre\a.spkg`, "MSPackages/Retail/arm/fre/a.spkg", ""},
		{`/kit\Retail\a.spkg`, "/kit/Retail/a.spkg", ""},
		{`C:\Kits\10\a.xml`, "/mnt/c/Kits/10/a.xml", ""},
		{`c:\Kits\a.xml`, "/mnt/c/Kits/a.xml", ""},
		{`D:/x/y`, "/data/x/y", ""},
		{`D:\`, "/data", ""},
		{`E:\x`, "", "drive E:"},
		{`C:x`, "", "drive-relative"},
		{`\\server\share\x`, "", "UNC"},
		{"", "", "empty"},
	} {
		got, err := m.ToHost(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ToHost(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != filepath.FromSlash(tt.want) {
			t.Errorf("ToHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFinder(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) {
		p = filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("Retail/ARM/fre/Microsoft.MainOS.Production.spkg")
	mk("Dup/a.spkg")
	mk("Dup/A.SPKG")
	mk("Kit/Retail/x.spkg")
	mk("Kit/retail/ARM/fre/a.spkg")
	mk("Two/x/a.spkg")
	mk("Two/X/a.spkg")
	f := NewFinder()
	for _, tt := range []struct {
		in, want, err string
	}{
		{"retail/arm/FRE/microsoft.mainos.production.SPKG", "Retail/ARM/fre/Microsoft.MainOS.Production.spkg", ""},
		{"Retail/ARM/fre/Microsoft.MainOS.Production.spkg", "Retail/ARM/fre/Microsoft.MainOS.Production.spkg", ""},
		{"dup/a.spkg", "Dup/a.spkg", ""}, // an exact match wins
		{"dup/A.spkg", "", "ambiguous"},
		{"Kit/Retail/arm/fre/a.spkg", "Kit/retail/ARM/fre/a.spkg", ""}, // the exact "Retail" fails: try "retail"
		{"two/Y/../x/A.spkg", "Two/x/a.spkg", ""},
		{"two/z/../X/a.spkg", "Two/X/a.spkg", ""},
		{"TWO/x/A.SPKG", "Two/x/a.spkg", ""}, // exact "x" wins
		{"retail/x86/fre/a.spkg", "", "x86"},
		{"nothing/a.spkg", "", "does not exist"},
	} {
		got, err := f.Find(filepath.Join(root, filepath.FromSlash(tt.in)))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Find(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if want := filepath.Join(root, filepath.FromSlash(tt.want)); err != nil || got != want {
			t.Errorf("Find(%q) = %q, %v; want %q", tt.in, got, err, want)
		}
	}
	if _, err := f.Find(filepath.Join(root, "nothing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v is not fs.ErrNotExist", err)
	}
}
