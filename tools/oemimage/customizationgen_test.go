package main

import (
	"bytes"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// customizationKit turns the example workspace's package files into real (empty) packages, the
// settings package carrying the customization tests' policy file.
func customizationKit(t *testing.T, policy bool) []string {
	t.Helper()
	data, err := os.ReadFile("../customization/testdata/contoso.policy.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !policy {
		data = nil
	}
	return customizationKitWith(t, data)
}

// customizationKitWith is customizationKit with the given policy file (none if nil).
func customizationKitWith(t *testing.T, data []byte) []string {
	t.Helper()
	policy := data != nil
	dir, flags := contosoPackages(t)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		owner, comp, _ := strings.Cut(strings.TrimSuffix(e.Name(), ".spkg"), ".")
		m := spkg.Manifest{Identity: spkg.Identity{Owner: owner, Component: comp, Version: spkg.Version{Major: 1}},
			ReleaseType: "Production", OwnerType: "OEM", BuildType: "Retail", CpuType: "ARM", Partition: "MainOS"}
		var payload []spkg.Payload
		if policy && e.Name() == "Contoso.BaseOS.Settings.spkg" {
			payload = append(payload, spkg.Payload{DevicePath: answerfile.PolicyDir + "Contoso.policy.xml", Size: int64(len(data)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
		}
		if _, err := spkg.WriteFile(filepath.Join(dir, e.Name()), m, payload, cab.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return flags
}

func TestCustomizationGen(t *testing.T) {
	testdata, _ := filepath.Abs("../customization/testdata")
	t.Setenv("TESTDATA", testdata)
	args := func(out string, pkgs []string) []string {
		a := append([]string{out, contoso + "images/RetailOEMInput.xml", "MSPackages", "../customization/testdata/root.xml", "10.0.1.0",
			"--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"}, contosoFMs...)
		return append(a, pkgs...)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := runCustomizationGen(args(out, customizationKit(t, true)), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		names = append(names, filepath.Base(line))
	}
	want := "Contoso.ContosoPhone1.Customizations.Data.spkg Contoso.ContosoPhone1.Customizations.MainOS.spkg " +
		"Contoso.ContosoPhone1.Customizations.StaticApps.MainOS.spkg Contoso.ContosoPhone1.Customizations.VariantApps.Data.spkg"
	if strings.Join(names, " ") != want {
		t.Errorf("wrote %q, want %q", names, want)
	}
	p, err := spkg.Open(filepath.Join(out, "Contoso.ContosoPhone1.Customizations.MainOS.spkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Manifest.Version.String() != "10.0.1.0" || p.Manifest.CpuType != "ARM" {
		t.Errorf("manifest %+v", p.Manifest)
	}

	// Without the policy file, the settings are undeclared: as documented, each is a warning at
	// the answer file's line and is left out (the applications and data assets are still
	// written); +StrictSettingPolicies makes them errors, and nothing is written.
	for _, tt := range []struct {
		toggle string
		fails  bool
	}{{"", false}, {"-StrictSettingPolicies", false}, {"+StrictSettingPolicies", true}, {"+strictsettingpolicies", true}} {
		out2 := t.TempDir()
		var stdout2, stderr2 bytes.Buffer
		a := args(out2, customizationKit(t, false))
		if tt.toggle != "" {
			a = append(a, tt.toggle)
		}
		err = runCustomizationGen(a, &stdout2, &stderr2)
		entries, _ := os.ReadDir(out2)
		if tt.fails {
			if err == nil || !strings.Contains(err.Error(), "root.xml:26:7: setting \"Color\" of group \"Contoso/Display\" is not declared: no selected package has a policy file") {
				t.Errorf("%s, no policy: %v", tt.toggle, err)
			}
			if len(entries) != 0 {
				t.Errorf("%s: a failed run wrote %d files", tt.toggle, len(entries))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q, no policy: %v", tt.toggle, err)
			continue
		}
		if w := "root.xml:26:7: warning: setting \"Color\" of group \"Contoso/Display\" is not declared"; !strings.Contains(stderr2.String(), w) {
			t.Errorf("%q, no policy: stderr %q lacks %q", tt.toggle, stderr2.String(), w)
		}
		if !strings.Contains(stdout2.String(), "Customizations.MainOS.spkg") || len(entries) == 0 {
			t.Errorf("%q, no policy: wrote %q", tt.toggle, stdout2.String())
		}
	}

	// --var= gives $(TESTDATA) instead of the environment, relative to the working directory
	// (as Bazel passes it); without either, the answer file's paths name the variable.
	t.Setenv("TESTDATA", "")
	os.Unsetenv("TESTDATA") // t.Setenv restores it
	out3 := t.TempDir()
	if err := runCustomizationGen(append(args(out3, customizationKit(t, true)), "--var=TESTDATA=../customization/testdata"), &stdout, &stderr); err != nil {
		t.Errorf("--var=TESTDATA=: %v", err)
	}
	err = runCustomizationGen(args(t.TempDir(), customizationKit(t, true)), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "TESTDATA") {
		t.Errorf("without $(TESTDATA): %v", err)
	}
	for _, bad := range []string{"--var=TESTDATA", "--var==x", "--var=TESTDATA="} {
		err = runCustomizationGen(append(args(t.TempDir(), customizationKit(t, true)), bad), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "expected --var=NAME=DIRECTORY") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// imggen takes ImageApp's +StrictSettingPolicies too: with it, a setting no policy declares
// fails the image before anything is written.
func TestImggenStrictSettingPolicies(t *testing.T) {
	testdata, _ := filepath.Abs("../customization/testdata")
	t.Setenv("TESTDATA", testdata)
	out := t.TempDir()
	args := append([]string{filepath.Join(out, "Flash.ffu"), contoso + "images/RetailOEMInput.xml", "MSPackages", "../customization/testdata/root.xml", "10.0.1.0",
		"+StrictSettingPolicies", "--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"}, contosoFMs...)
	var stdout, stderr bytes.Buffer
	err := runImggen(append(args, customizationKit(t, false)...), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `root.xml:26:7: setting "Color" of group "Contoso/Display" is not declared`) {
		t.Errorf("imggen +StrictSettingPolicies without policies: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed run wrote %d files", len(entries))
	}
}

// With --cert/--key the customization packages' catalogs are signed: each verifies against the
// test root (spkg's check of signature, chain and every member, and osslsigncode on the
// catalog itself) and not against another root; a wrong key is refused before anything is
// written.
func TestCustomizationGenSigned(t *testing.T) {
	testdata, _ := filepath.Abs("../customization/testdata")
	t.Setenv("TESTDATA", testdata)
	pki := catalogtest.New(t)
	keys := t.TempDir()
	cert, key := pki.Leaf.Files(t, keys, "leaf")
	root := pki.Root.CertFile(t, keys, "root")
	args := func(out string, extra ...string) []string {
		a := append([]string{out, contoso + "images/RetailOEMInput.xml", "MSPackages", "../customization/testdata/root.xml", "10.0.1.0",
			"--core-fm=" + contoso + "kit/fm/MicrosoftPhoneFM.xml"}, contosoFMs...)
		return append(append(a, customizationKit(t, true)...), extra...)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := runCustomizationGen(args(out, "--cert="+cert, "--key="+key), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	written := strings.Fields(stdout.String())
	if len(written) != 4 {
		t.Fatalf("wrote %q", written)
	}
	for _, path := range written {
		p, err := spkg.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.CheckCatalog(pki.Pool()); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		other := x509.NewCertPool()
		other.AddCert(pki.Other.Cert)
		if _, err := p.CheckCatalog(other); err == nil {
			t.Errorf("%s verifies against another root", filepath.Base(path))
		}
		cat, err := p.Catalog()
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		catFile := writeFile(t, t.TempDir(), "content.cat", cat)
		o := checker.Run(t, "", checker.Find(t, "osslsigncode"), "verify", "-CAfile", root, "-in", catFile)
		if !strings.Contains(o, "Succeeded") {
			t.Errorf("osslsigncode verify of %s's catalog:\n%s", filepath.Base(path), o)
		}
	}
	otherCert, _ := pki.Other.Files(t, keys, "other")
	bad := t.TempDir()
	err := runCustomizationGen(args(bad, "--cert="+otherCert, "--key="+key), &stdout, &stderr)
	if err == nil {
		t.Fatal("a key that is not the certificate's was taken")
	}
	if entries, _ := os.ReadDir(bad); len(entries) != 0 {
		t.Errorf("a refused run wrote %d files", len(entries))
	}
	// imggen takes the flags only with a customization answer file.
	var o, e bytes.Buffer
	code := run([]string{"imggen", filepath.Join(t.TempDir(), "x.ffu"), contoso + "images/RetailOEMInput.xml", "MSPackages", "--cert=" + cert, "--key=" + key}, &o, &e)
	if code != 2 || !strings.Contains(e.String(), "--cert= signs the customization packages") {
		t.Errorf("imggen --cert without customizations: exit %d\n%s", code, e.String())
	}
}
