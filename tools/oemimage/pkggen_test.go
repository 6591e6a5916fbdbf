package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/cab"
)

// A project's packages are written all or nothing: when a later satellite fails, the packages
// before it are not left, and what the output directory held before the run (a previous
// run's packages) is untouched, not removed.
func TestPkggenAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("p.pkg.xml", `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Apps" SubComponent="Camera">
<Components><OSComponent>
<Files><File Source="camera.exe"/></Files>
<Files Language="*"><File Source="res\$(langid)\camera.mui"/></Files>
</OSComponent></Components>
</Package>`)
	write("camera.exe", "camera")
	write(`res/en-us/camera.mui`, "en")
	write(`res/fr-fr/camera.mui`, "fr")
	// The last satellite's file is larger than a cabinet holds (sparse: no disk space), so
	// writing that package fails after the neutral package and two satellites are written.
	big := filepath.Join(dir, "res/de-de/camera.mui")
	write("res/de-de/camera.mui", "")
	if err := os.Truncate(big, cab.MaxFolderBytes+1); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// A previous run's package, which a failed run must leave as it was.
	previous := filepath.Join(out, "Contoso.Apps.Camera_Lang_fr-fr.spkg")
	if err := os.WriteFile(previous, []byte("previous run"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err := runPkggen([]string{filepath.Join(dir, "p.pkg.xml"), "/output:" + out, "/language:en-us;fr-fr;de-de"}, &stdout, io.Discard)
	want := fmt.Sprintf("Contoso.Apps.Camera_Lang_de-de.spkg: %s: %d bytes; expected at most %d", big, cab.MaxFolderBytes+1, cab.MaxFolderBytes)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	ents, _ := os.ReadDir(out)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) != 1 || names[0] != filepath.Base(previous) {
		t.Errorf("output directory holds %v, want only %s", names, filepath.Base(previous))
	}
	if b, _ := os.ReadFile(previous); string(b) != "previous run" {
		t.Errorf("the previous run's package was changed: %q", b)
	}
}

// A Source missing from the action's inputs: under Bazel (--bazel-attr=srcs=srcs) the message
// says it is not among the declared inputs and names the attribute and target to add it to.
func TestPkggenMissingSourceOrigin(t *testing.T) {
	dir := t.TempDir()
	project := filepath.Join(dir, "p.pkg.xml")
	if err := os.WriteFile(project, []byte(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Apps">
<Components><OSComponent>
<Files><File Source="camera.exe"/></Files>
</OSComponent></Components>
</Package>`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		before []string
		want   string
		not    string
	}{
		{"under Bazel", []string{"--bazel-target=//oem:camera", "--bazel-attr=srcs=srcs"},
			"p.pkg.xml:4:14: Source=\"camera.exe\": ", "it is not among the declared inputs; add it to srcs of //oem:camera"},
		{"outside Bazel", nil, "(the file must exist)", "declared inputs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(append([]string(nil), tt.before...), "pkggen", project, "/output:"+dir)
			code := run(args, &out, &errOut)
			msg := errOut.String()
			if code != 1 || !strings.Contains(msg, tt.want) {
				t.Errorf("code %d, stderr\n%s\nwant 1 and %q", code, msg, tt.want)
			}
			if tt.name == "under Bazel" && !strings.Contains(msg, tt.not) {
				t.Errorf("stderr\n%s\nwant %q", msg, tt.not)
			}
			if tt.name == "outside Bazel" && strings.Contains(msg, tt.not) {
				t.Errorf("stderr %q has %q", msg, tt.not)
			}
		})
	}
}
