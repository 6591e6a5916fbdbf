package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
)

// Hostile answer files through customizationgen (issue 16 defect 9, special files): a named
// pipe or a device where the answer file names a file, a file too big to read whole. Each must
// fail at once, naming the answer file's line and the path, and write nothing.
func init() {
	pipe := func(t *testing.T, dir, name string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		return p
	}
	sparse := func(t *testing.T, dir, name string, size int64) string {
		t.Helper()
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wallpaper := func(src string) string {
		return `<Static><Settings Path="LockScreen"><Asset Name="Wallpapers" Source="` + src + `"/></Settings></Static>`
	}
	maps := func(src string) string {
		return `<Static><DataAssets Type="MapData"><DataAsset Source="` + src + `"/></DataAssets></Static>`
	}
	imports := func(src string) string { return `<Imports><Import Source="` + src + `"/></Imports>` }
	for _, c := range []struct {
		name string
		// body returns the root answer file's children; it may make files in dir.
		body func(t *testing.T, dir string) string
		want []string
	}{
		{"named-pipe-asset", func(t *testing.T, dir string) string { return wallpaper(pipe(t, dir, "wall.jpg")) },
			[]string{"root.xml:3:", "wall.jpg: a named pipe; expected a regular file"}},
		{"dev-zero-asset", func(t *testing.T, dir string) string { return wallpaper("/dev/zero") },
			[]string{"root.xml:3:", "asset /dev/zero: a character device"}},
		{"named-pipe-data-asset-dir", func(t *testing.T, dir string) string { return maps(pipe(t, dir, "maps")) },
			[]string{"root.xml:3:", "maps: a named pipe; expected a regular file or a directory"}},
		{"named-pipe-in-data-asset-dir", func(t *testing.T, dir string) string {
			writeFile(t, dir, "maps/a.map", []byte("map"))
			pipe(t, dir, "maps/b.map")
			return maps(filepath.Join(dir, "maps"))
		}, []string{"root.xml:3:", "maps/b.map: a named pipe; expected a regular file"}},
		{"named-pipe-import", func(t *testing.T, dir string) string { return imports(pipe(t, dir, "ops.xml")) },
			[]string{"root.xml:3:", "import ", "ops.xml: a named pipe"}},
		{"dev-zero-import", func(t *testing.T, dir string) string { return imports("/dev/zero") },
			[]string{"root.xml:3:", "import /dev/zero: a character device"}},
		{"huge-import", func(t *testing.T, dir string) string {
			return imports(sparse(t, dir, "huge.xml", answerfile.MaxFileBytes+1))
		}, []string{"root.xml:3:", "huge.xml: 16777217 bytes; expected at most 16777216"}},
	} {
		c := c
		addHostile(hostileCase{
			name: "mcsf/" + c.name,
			setup: func(t *testing.T, dir string) []string {
				root := writeFile(t, dir, "root.xml", []byte(mcsfAnswer(c.body(t, dir))))
				return mcsfArgs(t, dir, root)
			},
			want: c.want,
		})
	}
	addHostile(
		hostileCase{
			name: "mcsf/huge-answer-file",
			setup: func(t *testing.T, dir string) []string {
				return mcsfArgs(t, dir, sparse(t, dir, "huge.xml", answerfile.MaxFileBytes+1))
			},
			want: []string{"answer file ", "huge.xml: 16777217 bytes; expected at most 16777216"},
		},
		hostileCase{
			name: "mcsf/named-pipe-answer-file",
			setup: func(t *testing.T, dir string) []string {
				return mcsfArgs(t, dir, pipe(t, dir, "root.xml"))
			},
			want: []string{"answer file ", "root.xml: a named pipe"},
		},
		// A big answer file (4 MiB, some 60,000 groups), every setting undeclared: valid (each
		// left out with a warning, the report bounded) and fast (merging was quadratic in the
		// groups: 10,000 took 72 s); with +StrictSettingPolicies, an error.
		hostileCase{
			name: "mcsf/many-undeclared-settings",
			setup: func(t *testing.T, dir string) []string {
				return mcsfArgs(t, dir, writeFile(t, dir, "root.xml", []byte(mcsfAnswer(undeclaredSettings(4<<20)))))
			},
			want:     []string{"root.xml:3:", "warning: setting", "is not declared", "more settings or assets no policy declares are left out"},
			exitZero: true,
		},
		hostileCase{
			name: "mcsf/many-undeclared-settings-strict",
			setup: func(t *testing.T, dir string) []string {
				root := writeFile(t, dir, "root.xml", []byte(mcsfAnswer(undeclaredSettings(4<<20))))
				return append(mcsfArgs(t, dir, root), "+StrictSettingPolicies")
			},
			want: []string{"root.xml:3:", "is not declared", "(+StrictSettingPolicies)"},
		},
		// A package's policy file of 20,000 groups and an answer file setting each: declaring
		// and matching them is linear (it was quadratic: over 4 minutes).
		hostileCase{
			name: "mcsf/many-policy-groups",
			setup: func(t *testing.T, dir string) []string {
				var policy, settings strings.Builder
				policy.WriteString(`<CustomizationPolicy>`)
				for i := 0; i < 20000; i++ {
					fmt.Fprintf(&policy, `<SettingsGroup xmlns="%s" Path="Many/G%d"><Setting Name="S"><RegistrySource Type="REG_SZ" Path="HKLM\Software\Many\G%d\S"/></Setting></SettingsGroup>`, answerfile.PolicyNamespace, i, i)
					fmt.Fprintf(&settings, `<Settings Path="Many/G%d"><Setting Name="S" Value="v"/></Settings>`+"\n", i)
				}
				policy.WriteString(`</CustomizationPolicy>`)
				root := writeFile(t, dir, "root.xml", []byte(mcsfAnswer("<Static>"+settings.String()+"</Static>")))
				return mcsfArgsWith(t, dir, root, customizationKitWith(t, []byte(policy.String())))
			},
			exitZero: true,
		},
	)
}

// mcsfAnswer is a root answer file around body.
func mcsfAnswer(body string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<ImageCustomizations xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate" Name="Hostile" Description="D" Owner="Contoso" OwnerType="OEM">
` + body + `
</ImageCustomizations>
`
}

// undeclaredSettings is a Static section of about size bytes of settings in groups no policy
// declares, each group distinct (the worst case for nearest-name hints).
func undeclaredSettings(size int) string {
	var b strings.Builder
	b.WriteString("<Static>")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `<Settings Path="Nowhere/G%d"><Setting Name="S" Value="1"/></Settings>`+"\n", i)
	}
	b.WriteString("</Static>")
	return b.String()
}

// mcsfArgs is a customizationgen command line for the answer file at root: the example kit
// (its settings package carrying the test policy file), an empty output directory in dir, and
// absolute paths, as the child runs in dir.
func mcsfArgs(t *testing.T, dir, root string) []string {
	t.Helper()
	return mcsfArgsWith(t, dir, root, customizationKit(t, true))
}

// mcsfArgsWith is mcsfArgs with the kit's --package flags.
func mcsfArgsWith(t *testing.T, dir, root string, kit []string) []string {
	t.Helper()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	args := []string{"customizationgen", out, abs(contoso + "images/RetailOEMInput.xml"), "MSPackages", root, "10.0.1.0",
		"--core-fm=" + abs(contoso+"kit/fm/MicrosoftPhoneFM.xml")}
	for _, fm := range contosoFMs {
		args = append(args, "--fm="+abs(strings.TrimPrefix(fm, "--fm=")))
	}
	return append(args, kit...)
}
