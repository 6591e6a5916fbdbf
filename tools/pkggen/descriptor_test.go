package pkggen

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A descriptor means what the equivalent project means: the same packages, files and sources.
func TestDescriptorMatchesProject(t *testing.T) {
	dir := tree(t, map[string]string{"bin/app.exe": "app", "bin/a b&c.dll": "dll", "res/de.mui": "mui"})
	tests := []struct {
		name, json, project string
	}{
		{"files", `{"label": "//p:app", "owner": "Contoso", "component": "App", "sub_component": "Main", "owner_type": "OEM",
  "release_type": "Production", "partition": "MainOS", "files": [
  {"source": "bin/app.exe", "device_path": "\\Programs\\App\\app.exe"},
  {"source": "bin/a b&c.dll", "device_path": "\\Windows\\System32\\a b&c.dll"},
  {"source": "bin/app.exe", "device_path": "\\root.exe"}]}`,
			`<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="App" SubComponent="Main" OwnerType="OEM" ReleaseType="Production" Partition="MainOS">
  <Components><OSComponent><Files>
    <File Source="bin/app.exe" DestinationDir="\Programs\App" Name="app.exe"/>
    <File Source="bin/a b&amp;c.dll" DestinationDir="\Windows\System32" Name="a b&amp;c.dll"/>
    <File Source="bin/app.exe" DestinationDir="\" Name="root.exe"/>
  </Files></OSComponent></Components></Package>`},
		{"language satellite", `{"owner": "Contoso", "component": "App", "language": "de-DE", "files": [
  {"source": "res/de.mui", "device_path": "\\Windows\\de-DE\\app.mui"}]}`,
			`<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="App">
  <Components><OSComponent><Files Language="(de-DE)">
    <File Source="res/de.mui" DestinationDir="\Windows\de-DE" Name="app.mui"/>
  </Files></OSComponent></Components></Package>`},
	}
	t.Chdir(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := t.TempDir() // the descriptor lies elsewhere than the sources, as in Bazel's output tree
			jsonPath := filepath.Join(sub, "p"+DescriptorSuffix)
			if err := os.WriteFile(jsonPath, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			xmlPath := filepath.Join(dir, "p.pkg.xml")
			if err := os.WriteFile(xmlPath, []byte(tt.project), 0o644); err != nil {
				t.Fatal(err)
			}
			opt := baseOpt
			opt.Languages = []string{"de-DE"}
			got, err := LoadDescriptor(jsonPath, opt)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Load(xmlPath, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d packages, want %d", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i].Manifest, want[i].Manifest) {
					t.Errorf("manifest %+v, want %+v", got[i].Manifest, want[i].Manifest)
				}
				if len(got[i].Files) != len(want[i].Files) {
					t.Fatalf("files %+v, want %+v", got[i].Files, want[i].Files)
				}
				for k, f := range got[i].Files {
					w := want[i].Files[k]
					if f.DevicePath != w.DevicePath || filepath.Clean(f.Source) != filepath.Clean(w.Source) {
						t.Errorf("file %d: %+v, want %+v", k, f, w)
					}
				}
			}
		})
	}
}

func TestDescriptorErrors(t *testing.T) {
	dir := tree(t, map[string]string{"a.bin": "a"})
	t.Chdir(dir)
	tests := []struct{ name, json, want string }{
		{"not JSON", `<Package/>`, "invalid character '<'"},
		{"unknown field", `{"owner": "C", "component": "X", "colour": "red"}`, `unknown field "colour"`},
		{"two objects", `{"owner": "C", "component": "X"} {}`, "data after the descriptor"},
		{"language and resolution", `{"label": "//p:x", "owner": "C", "component": "X", "language": "de-DE", "resolution": "720x1280"}`,
			`(//p:x): language "de-DE" and resolution "720x1280"; expected at most one`},
		{"relative device path", `{"owner": "C", "component": "X", "files": [{"source": "a.bin", "device_path": "Windows\\a.bin"}]}`,
			`files[0] (source "a.bin", device path "Windows\\a.bin"): expected a source and a device path starting with \`},
		{"no source", `{"owner": "C", "component": "X", "files": [{"device_path": "\\a.bin"}]}`, "files[0]"},
		{"missing source", `{"owner": "C", "component": "X", "files": [{"source": "nope.bin", "device_path": "\\a.bin"}]}`, `Source="../`},
		{"binary partition of two files", `{"owner": "C", "component": "X", "binary_partition": true, "files": [{"source": "a.bin", "device_path": "\\a"}, {"source": "a.bin", "device_path": "\\b"}]}`,
			"a binary partition package has 2 files; expected exactly one"},
		{"owner missing", `{"component": "X", "files": [{"source": "a.bin", "device_path": "\\a.bin"}]}`, "Owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x"+DescriptorSuffix)
			if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadDescriptor(path, baseOpt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want one naming %s and %q", err, path, tt.want)
			}
		})
	}
}

// FuzzDescriptor: any bytes are a descriptor or an error naming it, never a panic.
func FuzzDescriptor(f *testing.F) {
	f.Add([]byte(`{"owner": "C", "component": "X", "files": [{"source": "a.bin", "device_path": "\\a.bin"}]}`))
	f.Add([]byte(`{"owner": "C", "component": "X", "binary_partition": true, "files": [{"source": "a.bin", "device_path": "\\a"}]}`))
	f.Add([]byte(`{"owner": "C", "component": "X", "language": "de-DE", "files": [{"source": "a.bin", "device_path": "\\<x>&\""}]}`))
	dir := tree(f, map[string]string{"a.bin": "a"})
	f.Chdir(dir)
	path := filepath.Join(dir, "x"+DescriptorSuffix)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadDescriptor(path, baseOpt); err != nil && !strings.Contains(err.Error(), "x"+DescriptorSuffix) {
			t.Errorf("error %v does not name the descriptor", err)
		}
	})
}
