package merge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MergeInput: one FM, or every FM of an FMFileList in one all-or-nothing run, with the FMs
// found by name among the --fm files or on disk under $(FMDirectory).
func TestMergeInput(t *testing.T) {
	dir, fm, loc := fixture(t)
	src, err := os.ReadFile(fm.File)
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(dir, "Second.xml")
	if err := os.WriteFile(second, src, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "Broken.xml")
	if err := os.WriteFile(broken, []byte(strings.Replace(string(src), "Contoso.SOC.Gpu.spkg", "Contoso.SOC.Missing.spkg", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	list := func(entries ...string) string {
		p := filepath.Join(t.TempDir(), "FMFileList.xml")
		body := `<FMCollectionManifest ` + ns + `><FMs>` + "\n" + strings.Join(entries, "\n") + "\n</FMs></FMCollectionManifest>"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := `<FM Path="$(FMDirectory)\ContosoFM.xml" ID="Phone" OwnerName="Fabrikam"/>`
	b := `<FM Path="$(FMDirectory)\Second.xml" ID="Variant" OwnerName="Contoso" ReleaseType="Production"/>`
	tests := []struct {
		name       string
		in         Input
		wantFMs    []string // the new FMs, by file name
		wantMerged string   // one of the merged packages
		wantErr    string
	}{
		{name: "one FM", in: Input{Path: fm.File}, wantFMs: []string{"ContosoFM.xml"}, wantMerged: "Contoso.Base.Phone.MainOS.spkg"},
		{name: "FMFileList, FMs by name", in: Input{Path: list(a, b), FMFiles: []string{fm.File, second}},
			wantFMs: []string{"ContosoFM.xml", "Second.xml"}, wantMerged: "Fabrikam.Base.Phone.MainOS.spkg"},
		{name: "FMFileList, FMs on disk in any letter case", in: Input{Path: list(strings.Replace(a, "ContosoFM.xml", "CONTOSOFM.XML", 1)), FMDir: dir},
			wantFMs: []string{"ContosoFM.xml"}, wantMerged: "Fabrikam.Base.Phone.MainOS.spkg"},
		{name: "FMFileList without a way to its FMs", in: Input{Path: list(a)}, wantErr: ErrNoFMDir.Error()},
		{name: "FMFileList entry not among --fm", in: Input{Path: list(a, b), FMFiles: []string{fm.File}},
			wantErr: `FM $(FMDirectory)\Second.xml: no input file is named Second.xml (case-insensitively); expected it among the --fm files`},
		{name: "FMFileList entry of an unknown variable", in: Input{Path: list(`<FM Path="$(Other)\ContosoFM.xml" ID="Phone" OwnerName="Fabrikam"/>`), FMDir: dir},
			wantErr: `FM $(Other)\ContosoFM.xml: `},
		{name: "the last FM fails: nothing of the first is left", in: Input{Path: list(a, `<FM Path="$(FMDirectory)\Broken.xml" ID="Variant" OwnerName="Contoso"/>`), FMDir: dir},
			wantErr: `:3:1: FM Variant: `},
		{name: "input not a regular file", in: Input{Path: dir}, wantErr: dir + ": a directory; expected a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			tt.in.OutPkgDir, tt.in.OutFMDir = filepath.Join(out, "pkgs"), filepath.Join(out, "fms")
			tt.in.Options, tt.in.Packages = options(), loc
			results, err := MergeInput(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %q", err, tt.wantErr)
				}
				if tt.wantErr == ErrNoFMDir.Error() && !errors.Is(err, ErrNoFMDir) {
					t.Errorf("error %v is not ErrNoFMDir", err)
				}
				if left, _ := os.ReadDir(out); len(left) != 0 {
					t.Errorf("a failed run left %d entries in the output directory", len(left))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var fms []string
			merged := map[string]bool{}
			for _, r := range results {
				fms = append(fms, filepath.Base(r.FM))
				if _, err := os.Stat(r.FM); err != nil {
					t.Errorf("new FM: %v", err)
				}
				for _, m := range r.Merged {
					merged[filepath.Base(m)] = true
				}
			}
			if strings.Join(fms, " ") != strings.Join(tt.wantFMs, " ") {
				t.Errorf("new FMs %v, want %v", fms, tt.wantFMs)
			}
			if !merged[tt.wantMerged] {
				t.Errorf("merged %v; want %s among them", merged, tt.wantMerged)
			}
		})
	}
}
