package spkg

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/cab/cabtest"
)

func TestName(t *testing.T) {
	tests := []struct {
		owner, comp, sub, culture, res, want string
	}{
		{"Contoso", "Apps", "Camera", "", "", "Contoso.Apps.Camera"},
		{"Contoso", "Apps", "", "", "", "Contoso.Apps"},
		{"Microsoft", "Resources", "", "en-US", "", "Microsoft.Resources_Lang_en-US"},
		{"Microsoft", "Display", "Assets", "", "720x1280", "Microsoft.Display.Assets_RES_720x1280"},
	}
	for _, tt := range tests {
		if got := Name(tt.owner, tt.comp, tt.sub, tt.culture, tt.res); got != tt.want {
			t.Errorf("Name = %q, want %q", got, tt.want)
		}
	}
}

func TestCheckIdentity(t *testing.T) {
	tests := []struct {
		owner, comp, sub, culture, res string
		want                           string // "" = valid
	}{
		{"Contoso", "Apps", "Camera", "", "", ""},
		{"Contoso", "Apps", "Cam.Era-1_x", "en-US", "", ""},
		{"", "Apps", "", "", "", "Owner is empty"},
		{"Contoso", "", "", "", "", "Component is empty"},
		{"Con toso", "Apps", "", "", "", "only letters"},
		{"Contoso", strings.Repeat("a", 65), "", "", "", "limit is 64"},
		{"Contoso", "Apps", "", "en-US", "720x1280", "not both"},
		{"Contoso", "Apps", "", "1en", "", "language code"},
		{"Contoso", "Apps", "", "", "720by1280", "WIDTHxHEIGHT"},
	}
	for _, tt := range tests {
		err := CheckIdentity(tt.owner, tt.comp, tt.sub, tt.culture, tt.res)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckIdentity(%q, %q, %q, %q, %q) = %v, want %q", tt.owner, tt.comp, tt.sub, tt.culture, tt.res, err, tt.want)
		}
	}
}

func TestCheckDevicePath(t *testing.T) {
	for _, good := range []string{`\Windows\System32\a.dll`, `\Programs\Caméra\app one.txt`, `\a`} {
		if err := CheckDevicePath(good); err != nil {
			t.Errorf("CheckDevicePath(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", `Windows\a`, `\Windows\..\..\a`, `\Windows\.\a`, `\a\\b`, `\C:\a`, `\a/b`, "\\a\x00b",
		`\a\b\`, `\a\...`, `\` + strings.Repeat("x", 260)} {
		if err := CheckDevicePath(bad); err == nil {
			t.Errorf("CheckDevicePath(%q): no error", bad)
		}
	}
}

func TestCabName(t *testing.T) {
	tests := []struct {
		path string
		i    int
		want string
	}{
		{`\Windows\System32\ntoskrnl.exe`, 0, "0_ntoskrn.exe"},
		{`\Windows\System32\kernel.dll`, 12, "12_kernel.dll"},
		{`\Programs\My App\read me.txt`, 3, "3_read_me.txt"},
		{`\a\noextension`, 1, "1_noexten"},
		{`\a\.hidden`, 2, "2_.hidden"},
	}
	for _, tt := range tests {
		if got := cabName(tt.path, tt.i); got != tt.want {
			t.Errorf("cabName(%q, %d) = %q, want %q", tt.path, tt.i, got, tt.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	if v, err := ParseVersion("10.0.1.65535"); err != nil || v != (Version{10, 0, 1, 65535}) {
		t.Errorf("ParseVersion = %v, %v", v, err)
	}
	for _, bad := range []string{"1.0.0", "1.0.0.65536", "a.b.c.d", "1.0.0.0.0", ""} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q): no error", bad)
		}
	}
}

func testManifest() Manifest {
	return Manifest{
		Identity:    Identity{Owner: "Contoso", Component: "Apps", SubComponent: "Camera", Version: Version{10, 0, 1, 0}},
		ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS",
	}
}

func payload(files map[string]string) []Payload {
	var out []Payload
	for _, path := range sortedKeys(files) {
		data := files[path]
		out = append(out, Payload{DevicePath: path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(data)), nil
		}})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var testFiles = map[string]string{
	`\Programs\ContosoCamera\camera.exe`:   "camera app",
	`\Programs\ContosoCamera\settings.xml`: "<Settings/>",
	`\Windows\System32\contoso_camera.dll`: strings.Repeat("driver ", 10000),
}

func TestWriteOpenRoundTrip(t *testing.T) {
	for _, comp := range []cab.Compression{cab.None, cab.MSZIP} {
		path := filepath.Join(t.TempDir(), "Contoso.Apps.Camera.spkg")
		written, err := WriteFile(path, testManifest(), payload(testFiles), cab.Options{Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if p.Manifest.Name() != "Contoso.Apps.Camera" || p.Manifest.Version != (Version{10, 0, 1, 0}) {
			t.Errorf("read back %s %v", p.Manifest.Name(), p.Manifest.Version)
		}
		if len(p.Manifest.Files) != len(written.Files) || len(written.Files) != len(testFiles)+2 {
			t.Errorf("manifest lists %d files, wrote %d", len(p.Manifest.Files), len(written.Files))
		}
		got := map[string]string{}
		var walked, listed []FileEntry
		err = p.Walk(func(fe FileEntry, r io.Reader) error {
			b, err := io.ReadAll(r)
			if fe.FileType == "Regular" {
				got[fe.DevicePath] = string(b)
			}
			walked = append(walked, fe)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// Entries says beforehand what Walk gives: imggen lays out file systems from it.
		if err := p.Entries(func(fe FileEntry) error { listed = append(listed, fe); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(walked, listed) {
			t.Errorf("%v: Entries gives\n%+v\nWalk gives\n%+v", comp, listed, walked)
		}
		for path, want := range testFiles {
			if got[path] != want {
				t.Errorf("%v: %s differs", comp, path)
			}
		}
		var dsm, cat bool
		for _, fe := range p.Manifest.Files {
			dsm = dsm || fe.DevicePath == `\Windows\Packages\DsmFiles\Contoso.Apps.Camera.dsm.xml` && fe.CabPath == "man.dsm.xml"
			cat = cat || fe.DevicePath == `\Windows\System32\catroot\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\Contoso.Apps.Camera.cat`
		}
		if !dsm || !cat {
			t.Errorf("manifest lacks the DSM or catalog entry: %+v", p.Manifest.Files)
		}
	}
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.spkg"), filepath.Join(dir, "b.spkg")
	for _, p := range []string{a, b} {
		if _, err := WriteFile(p, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP}); err != nil {
			t.Fatal(err)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Error("two writes of one package differ")
	}
}

func TestWriteErrors(t *testing.T) {
	dup := append(payload(testFiles), payload(map[string]string{`\WINDOWS\System32\contoso_camera.dll`: "x"})...)
	escaping := payload(map[string]string{`\Windows\..\..\evil.dll`: "x"})
	badAttr := payload(map[string]string{`\a.txt`: "x"})
	badAttr[0].Attributes = "Secret"
	badRelease := testManifest()
	badRelease.ReleaseType = "Beta"
	tests := []struct {
		name    string
		m       Manifest
		payload []Payload
		want    string
	}{
		{"duplicate device path", testManifest(), dup, "listed twice"},
		{"escaping device path", testManifest(), escaping, "stay inside its partition"},
		{"bad attribute", testManifest(), badAttr, `file attribute "Secret"`},
		{"bad release type", badRelease, payload(testFiles), `ReleaseType "Beta"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.spkg")
			_, err := WriteFile(path, tt.m, tt.payload, cab.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
				t.Errorf("a failed write left %d files behind", len(entries))
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, files []cab.FileSource) string {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := cab.Write(f, files, cab.Options{}); err != nil {
			t.Fatal(err)
		}
		return f.Name()
	}
	src := func(name, data string) cab.FileSource {
		return cab.FileSource{Name: name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}
	}
	m := testManifest()
	m.Files = []FileEntry{{FileType: "Regular", DevicePath: `\a.txt`, CabPath: "0_a.txt", FileSize: 1}}
	dsm, _ := m.Marshal()
	tests := []struct {
		name  string
		files []cab.FileSource
		want  string
	}{
		{"no manifest", []cab.FileSource{src("0_a.txt", "a")}, "not a mobile package"},
		{"listed file missing", []cab.FileSource{src("man.dsm.xml", string(dsm))}, "does not hold"},
		{"unlisted file", []cab.FileSource{src("man.dsm.xml", string(dsm)), src("0_a.txt", "a"), src("extra.bin", "x")}, "does not list"},
		{"size mismatch", []cab.FileSource{src("man.dsm.xml", string(dsm)), src("0_a.txt", "abc")}, "manifest says 1"},
		{"bad manifest", []cab.FileSource{src("man.dsm.xml", "<Package xmlns='urn:other'/>")}, "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(write(tt.name+".spkg", tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// Open refuses what is not a regular file by name, before opening it: a named pipe would block
// the open for ever.
func TestOpenSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "Contoso.Pipe.spkg")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tt := range []struct{ path, want string }{
		{pipe, pipe + ": a named pipe; expected a regular file"},
		{"/dev/zero", "/dev/zero: a character device; expected a regular file"},
		{dir, dir + ": a directory; expected a regular file"},
	} {
		done := make(chan error, 1)
		go func() {
			p, err := Open(tt.path)
			if p != nil {
				p.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != tt.want {
				t.Errorf("Open(%s) = %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Open(%s) did not return within 10 s", tt.path)
		}
	}
}

// bombPackage writes a package whose file at devicePath decodes to nearly 2 GiB from a few
// MB; with devicePath "" the bomb is man.dsm.xml itself.
func bombPackage(t *testing.T, dir, devicePath string, comp cab.Compression) string {
	t.Helper()
	path := filepath.Join(dir, "Contoso.Bomb."+comp.String()+".spkg")
	var data []byte
	var err error
	if devicePath == "" {
		data, err = cabtest.Bomb(nil, ManifestCabName, cab.MaxFolderBytes, comp)
	} else {
		// The DSM states the bomb's size, which depends on the DSM's own: two rounds settle it.
		m := testManifest()
		var dsm []byte
		for range 2 {
			m.Files = []FileEntry{
				{FileType: "Regular", DevicePath: devicePath, CabPath: "0_bomb.xml", Attributes: "Normal", FileSize: cab.MaxFolderBytes - int64(len(dsm))},
				{FileType: "Manifest", DevicePath: m.ManifestPath(), CabPath: ManifestCabName, Attributes: "Normal"},
				{FileType: "Catalog", DevicePath: m.CatalogPath(), CabPath: CatalogCabName, Attributes: "Normal"},
			}
			if dsm, err = m.Marshal(); err != nil {
				t.Fatal(err)
			}
		}
		small := []cab.FileSource{
			{Name: ManifestCabName, Size: int64(len(dsm)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(dsm)), nil }},
			{Name: CatalogCabName, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nil)), nil }},
		}
		data, err = cabtest.Bomb(small, "0_bomb.xml", cab.MaxFolderBytes, comp)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A DSM or a metadata file that decodes to 2 GiB is refused by its size, naming the package
// file, the member and the limit (it took 8.7 GB).
func TestMetadataBombs(t *testing.T) {
	const fm = `\Windows\ImageUpdate\FeatureManifest\Microsoft\MicrosoftPhoneFM.xml`
	for _, comp := range []cab.Compression{cab.MSZIP, cab.LZX} {
		t.Run(comp.String(), func(t *testing.T) {
			dir := t.TempDir()
			dsmBomb := bombPackage(t, dir, "", comp)
			_, err := Open(dsmBomb)
			for _, w := range []string{dsmBomb, "man.dsm.xml", "at most 16777216"} {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Open: err = %v, want %q", err, w)
				}
			}
			fmBomb := bombPackage(t, dir, fm, comp)
			p, err := Open(fmBomb)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			_, err = p.ReadFile(fm)
			for _, w := range []string{fmBomb, fm, "0_bomb.xml", "at most 16777216"} {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("ReadFile: err = %v, want %q", err, w)
				}
			}
		})
	}
}

// A merged package copies no corrupt folder: the error names the source package and the file.
func TestWriteMergedCorruptSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Contoso.Apps.Camera.spkg")
	if _, err := WriteFile(path, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	bad, err := cabtest.CorruptBlock(data, 0, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, bad, 0o644)
	p, err := Open(path) // the DSM is in block 0, intact
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m := testManifest()
	m.Component = "Merged"
	_, err = WriteMerged(&cab.MemFile{}, m, []Source{{File: "Contoso.Apps.Camera.spkg", Package: p}}, cab.Options{})
	if err == nil || !strings.Contains(err.Error(), `Contoso.Apps.Camera.spkg (\Windows\System32\contoso_camera.dll)`) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("err = %v, want the source, the file and the checksum named", err)
	}
}

// FuzzOpen opens hostile package bytes and reads every file: no panic, hang or allocation by
// a claimed size.
func FuzzOpen(f *testing.F) {
	for _, comp := range []cab.Compression{cab.None, cab.MSZIP, cab.LZXWindow(15)} {
		var m cab.MemFile
		if _, err := Write(&m, testManifest(), payload(testFiles), cab.Options{Compression: comp}); err != nil {
			f.Fatal(err)
		}
		f.Add(m.Bytes())
	}
	// A binary partition package: IsBinaryPartition, one BinaryPartition file.
	bin := testManifest()
	bin.IsBinaryPartition, bin.Partition = true, "PLAT"
	var mb cab.MemFile
	if _, err := Write(&mb, bin, []Payload{{DevicePath: `\PLAT.bin`, Size: 3, FileType: "BinaryPartition",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("img")), nil }}}, cab.Options{}); err != nil {
		f.Fatal(err)
	}
	f.Add(mb.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := newPackage(bytes.NewReader(data), int64(len(data)), "fuzz.spkg")
		if err != nil {
			return
		}
		for _, fe := range p.Manifest.Files {
			_, _ = p.ReadFile(fe.DevicePath)
		}
		_ = p.Walk(func(fe FileEntry, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		})
	})
}

func TestParseManifestErrors(t *testing.T) {
	good, _ := func() ([]byte, error) { m := testManifest(); return m.Marshal() }()
	tests := []struct {
		name, xml, want string
	}{
		{"malformed", "<Package", "not well-formed"},
		{"wrong root", `<Pkg xmlns="` + Namespace + `"/>`, "root element"},
		{"unknown element", strings.Replace(string(good), "<Partition>", "<Bogus/><Partition>", 1), "unknown element <Bogus>"},
		{"duplicate element", strings.Replace(string(good), "<Partition>", "<Partition>x</Partition><Partition>", 1), "appears twice"},
		{"bad bool", strings.Replace(string(good), "<IsRemoval>false", "<IsRemoval>maybe", 1), "expected true or false"},
		{"bad enum", strings.Replace(string(good), "<CpuType>ARM", "<CpuType>MIPS", 1), `CpuType "MIPS"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tt.xml), "test.dsm.xml")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "test.dsm.xml") {
				t.Errorf("err = %v, want it to name the file and contain %q", err, tt.want)
			}
		})
	}
	if _, err := ParseManifest(good, "good"); err != nil {
		t.Errorf("good manifest: %v", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	m := testManifest()
	m.Files = []FileEntry{{FileType: "Regular", DevicePath: `\a.txt`, CabPath: "0_a.txt", FileSize: 1}}
	good, _ := m.Marshal()
	f.Add(good)
	m.IsBinaryPartition = true
	m.Files = []FileEntry{{FileType: "BinaryPartition", DevicePath: `\PLAT.bin`, CabPath: "0_PLAT.bin", FileSize: 7}}
	bin, _ := m.Marshal()
	f.Add(bin)
	f.Add([]byte("<Package/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data, "fuzz")
		if err != nil {
			return
		}
		// What parses must survive a round trip.
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(out, "again"); err != nil {
			t.Fatalf("re-parse of marshalled manifest: %v", err)
		}
	})
}

// TestCabextractListsPackage has cabextract, which nobody here wrote, read a package.
func TestCabextractListsPackage(t *testing.T) {
	cabextract, err := exec.LookPath("cabextract")
	if err != nil {
		if os.Getenv("OEMIMAGE_REQUIRE_CHECKERS") == "1" {
			t.Fatal("cabextract not found: the bootstrap (tools/bazel) installs it")
		}
		t.Skip("cabextract not installed")
	}
	path := filepath.Join(t.TempDir(), "Contoso.Apps.Camera.spkg")
	if _, err := WriteFile(path, testManifest(), payload(testFiles), cab.Options{Compression: cab.MSZIP}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cabextract, "-l", path).CombinedOutput()
	if err != nil {
		t.Fatalf("cabextract -l: %v\n%s", err, out)
	}
	for _, want := range []string{"man.dsm.xml", "content.cat", "0_camera.exe", "1_setting.xml", "2_contoso.dll"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cabextract -l does not list %s:\n%s", want, out)
		}
	}
}
