package resolve

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// hostDir locates every package in one directory, by file name: a selection with host paths.
type hostDir string

func (d hostDir) Locate(win string) (string, error) {
	return filepath.Join(string(d), winpath.Base(win)), nil
}

// located resolves f with every package found under /pkgs.
func located(t testing.TB, f fixture) *Selection {
	t.Helper()
	f.packages = hostDir("/pkgs")
	s, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonOf(t testing.TB, s *Selection) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func updateInputOf(t testing.TB, s *Selection) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteUpdateInput(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A selection read back is the one written: same JSON, same UpdateInput.xml (what imggen
// writes from it), same packages and reasons.
func TestSelectionRoundTrip(t *testing.T) {
	contoso := fixture{oem: withContoso, fms: contosoFMs, env: map[string]string{"OEM_ROOT": `D:\Contoso`}}
	for _, tt := range []struct {
		name string
		f    fixture
	}{
		{"every group", fixture{oem: baseOEMInput}},
		{"additional FMs and PackageFiles", contoso},
		{"FormatDPP", fixture{oem: edit(baseOEMInput, "<BuildType>fre</BuildType>", "<BuildType>chk</BuildType><FormatDPP>true</FormatDPP>")}},
		{"x86", fixture{oem: baseOEMInput, cpu: "x86"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := located(t, tt.f)
			data := jsonOf(t, want)
			got, err := ParseSelection("sel.json", data)
			if err != nil {
				t.Fatal(err)
			}
			if g := jsonOf(t, got); !bytes.Equal(g, data) {
				t.Errorf("JSON after a round trip:\n%s\nwant\n%s", g, data)
			}
			if g, w := updateInputOf(t, got), updateInputOf(t, want); !bytes.Equal(g, w) {
				t.Errorf("UpdateInput after a round trip:\n%s\nwant\n%s", g, w)
			}
			for _, p := range want.Packages {
				p.testWhy, p.alsoAt = nil, nil // resolve's own bookkeeping, not part of the selection
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("selection after a round trip differs")
			}
		})
	}
	if s := located(t, fixture{oem: edit(baseOEMInput, "<BuildType>fre</BuildType>", "<BuildType>fre</BuildType><FormatDPP>true</FormatDPP>")}); !s.FormatDPP || s.Device != "Phone1" {
		t.Errorf("FormatDPP %v, Device %q; want the OEMInput's, true and Phone1", s.FormatDPP, s.Device)
	}
}

// ReadSelection reads regular files only, bounded.
func TestReadSelection(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "sel.json")
	if err := os.WriteFile(good, jsonOf(t, located(t, fixture{oem: baseOEMInput})), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSelection(good); err != nil {
		t.Errorf("ReadSelection: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSelectionBytes + 1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.Close()
	for _, tt := range []struct{ path, want string }{
		{big, big + ": 67108865 bytes; expected at most 67108864"},
		{dir, dir + ": a directory; expected a regular file"},
		{filepath.Join(dir, "none.json"), "none.json"},
	} {
		if _, err := ReadSelection(tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadSelection(%s) = %v; want %q", tt.path, err, tt.want)
		}
	}
}

// validSelectionJSON is a selection as a map, for tests that break one field.
func validSelectionJSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(jsonOf(t, located(t, fixture{oem: baseOEMInput})), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseSelectionErrors(t *testing.T) {
	pkg := func(m map[string]any, i int) map[string]any { return m["packages"].([]any)[i].(map[string]any) }
	reason := func(m map[string]any, i int) map[string]any { return pkg(m, i)["reasons"].([]any)[0].(map[string]any) }
	for _, tt := range []struct {
		name string
		raw  string                 // the file, or
		edit func(m map[string]any) // a change to a valid one
		want string
	}{
		{name: "empty", raw: "", want: "sel.json: offset 0: the JSON ends early"},
		{name: "truncated", raw: `{"oemInput": "x",`, want: "offset 17: the JSON ends early"},
		{name: "not JSON", raw: "<UpdateOSInput/>", want: "sel.json: offset 1: invalid character '<'"},
		{name: "an array", raw: "[]", want: "offset 1: the selection is a JSON array; expected an object"},
		{name: "trailing data", raw: `{"oemInput":"x"} {}`, want: "offset 17: data after the selection"},
		{name: "unknown field", edit: func(m map[string]any) { m["extra"] = 1 }, want: `unknown field "extra"`},
		{name: "wrong type", edit: func(m map[string]any) { m["formatDPP"] = "yes" }, want: "formatDPP is a JSON string; expected true or false"},
		{name: "no oemInput", edit: func(m map[string]any) { delete(m, "oemInput") }, want: "oemInput is empty"},
		{name: "cpu", edit: func(m map[string]any) { m["cpuType"] = "ARM" }, want: `cpuType "ARM" is none of arm, arm64, x86, amd64`},
		{name: "build type", edit: func(m map[string]any) { m["buildType"] = "%BUILDTYPE%" }, want: `buildType "%BUILDTYPE%" is neither fre nor chk`},
		{name: "release type", edit: func(m map[string]any) { m["releaseType"] = "test" }, want: `releaseType "test" is neither Test nor Production`},
		{name: "product", edit: func(m map[string]any) { m["product"] = "Windows 10 IoT Core" }, want: `product "Windows 10 IoT Core" has no core feature manifest`},
		{name: "FM role", edit: func(m map[string]any) { m["featureManifests"].([]any)[0].(map[string]any)["role"] = "extra" }, want: `featureManifests[0]: file "testdata/MicrosoftPhoneFM.xml", role "extra"`},
		{name: "not located", edit: func(m map[string]any) { delete(pkg(m, 2), "hostPath") }, want: "packages[2] (Res_Lang_de-DE.spkg): hostPath is empty: the package was not located"},
		{name: "host file of another name", edit: func(m map[string]any) { pkg(m, 0)["hostPath"] = "/pkgs/Other.spkg" }, want: "packages[0] (MainOS.spkg): hostPath /pkgs/Other.spkg is not a file named MainOS.spkg"},
		{name: "name with a directory", edit: func(m map[string]any) { pkg(m, 0)["name"] = `..\MainOS.spkg` }, want: `name "..\\MainOS.spkg" has a path separator`},
		{name: "no id", edit: func(m map[string]any) { pkg(m, 0)["id"] = "" }, want: "packages[0] (MainOS.spkg): id or name is empty"},
		{name: "twice", edit: func(m map[string]any) { pkg(m, 3)["name"], pkg(m, 3)["hostPath"] = "MAINOS.spkg", "/pkgs/MAINOS.spkg" }, want: "packages[3] (MAINOS.spkg): the package name of packages[0] again"},
		{name: "no reasons", edit: func(m map[string]any) { pkg(m, 1)["reasons"] = []any{} }, want: "packages[1] (Res_Lang_en-US.spkg): no reasons"},
		{name: "unknown group", edit: func(m map[string]any) { reason(m, 0)["group"] = "OEMCustomizationXML" }, want: `reasons[0]: featureId "BASE", group "OEMCustomizationXML"`},
		{name: "line not a number", edit: func(m map[string]any) { reason(m, 0)["line"] = "9" }, want: "packages.reasons.line is a JSON string; expected a number"},
		{name: "negative line", edit: func(m map[string]any) { reason(m, 0)["line"] = -1 }, want: "line -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.raw)
			if tt.edit != nil {
				m := validSelectionJSON(t)
				tt.edit(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ParseSelection("sel.json", data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sel.json: ") ||
				!strings.HasSuffix(err.Error(), "; expected a selection written by `oemimage resolve --json`") {
				t.Errorf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

// FuzzParseSelection: no input panics, and a selection that parses writes JSON that parses
// to the same.
func FuzzParseSelection(f *testing.F) {
	for _, fx := range []fixture{{oem: baseOEMInput}, {oem: withContoso, fms: contosoFMs, env: map[string]string{"OEM_ROOT": `D:\Contoso`}}} {
		f.Add(jsonOf(f, located(f, fx)))
	}
	for _, s := range []string{"", "{", "[]", "null", `{"oemInput":"x"} {}`, `{"packages":[{"reasons":[]}]}`, strings.Repeat("[", 20000),
		`{"oemInput":"o","product":"Windows Phone","cpuType":"arm","buildType":"fre","releaseType":"Test","packages":[{"id":"a","name":"a.spkg","hostPath":"a.spkg","reasons":[{"featureId":"BASE","group":"BASE"}]},{"id":"b","name":"A.SPKG","hostPath":"A.SPKG","reasons":[{"featureId":"BASE","group":"BASE"}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSelection("f.json", data)
		if err != nil {
			return
		}
		again, err := ParseSelection("f.json", jsonOf(t, s))
		if err != nil {
			t.Fatalf("a parsed selection does not parse once written: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("written and parsed again, the selection differs")
		}
	})
}
