package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/customization"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runCustomizationGen is `oemimage customizationgen OutputDirectory OEMInputXML MSPackageRoot
// OEMCustomizationXML OEMCustomizationVer` (CustomizationGen.cmd: all five required), plus
// /CPUType:, +StrictSettingPolicies and the selection flags of imggen. It writes the
// customization packages only.
func runCustomizationGen(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{values: []string{"CPUType"}, toggles: customizationToggles, flags: append(append([]string{"var"}, signingFlags...), selectionFlags...)})
	if err != nil {
		return err
	}
	if len(c.positional) != 5 {
		return usageError{fmt.Sprintf("expected OutputDirectory OEMInputXML MSPackageRoot OEMCustomizationXML OEMCustomizationVer (all required), got %d argument(s)", len(c.positional))}
	}
	out := c.positional[0]
	version, err := customizationVersion(c.positional[4])
	if err != nil {
		return err
	}
	if st, err := os.Stat(out); err != nil || !st.IsDir() {
		return fmt.Errorf("OutputDirectory %s: expected an existing directory", out)
	}
	sr, err := selectionRequest(c, c.positional[1], c.positional[2])
	if err != nil {
		return err
	}
	r, err := customizationRequest(c, version, out, stderr)
	if err != nil {
		return err
	}
	written, err := customization.GenerateFor(sr, r)
	if err != nil {
		return err
	}
	for _, p := range written {
		fmt.Fprintln(stdout, p)
	}
	return nil
}

// customizationRequest is the customization flow of both verbs: the answer file is the fourth
// positional argument, the packages go to dir, signed with the identity the signing flags
// name (--cert/--key, --pfx or --pkcs11-*), if any.
func customizationRequest(c *cmdline, version spkg.Version, dir string, stderr io.Writer) (customization.Request, error) {
	env, err := customizationEnv(c)
	if err != nil {
		return customization.Request{}, err
	}
	signer, err := loadSigner(c)
	if err != nil {
		return customization.Request{}, err
	}
	return customization.Request{AnswerFile: c.positional[3], Version: version, Dir: dir, Env: env,
		Strict: c.toggle("StrictSettingPolicies", false), Warnings: stderr, Signer: signer}, nil
}

// customizationEnv is what `$(NAME)` means in answer-file paths: the environment, as for the
// original, then each --var=NAME=DIR, with a relative DIR made absolute against the working
// directory. Bazel passes the directories of an answer file's sources this way, since an
// action's environment cannot hold the absolute paths the answer file format requires.
func customizationEnv(c *cmdline) (map[string]string, error) {
	env := winpath.EnvMap(os.Environ())
	for _, v := range c.flags["var"] {
		name, dir, ok := strings.Cut(v, "=")
		if !ok || name == "" || dir == "" {
			return nil, usageError{fmt.Sprintf("--var=%s: expected --var=NAME=DIRECTORY", v)}
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("--var=%s: %v", v, err)
		}
		env[name] = abs
	}
	return env, nil
}

// customizationVersion parses OEMCustomizationVer (a.b.c.d).
func customizationVersion(s string) (spkg.Version, error) {
	v, err := spkg.ParseVersion(s)
	if err != nil {
		return v, usageError{fmt.Sprintf("OEMCustomizationVer %q: expected a version a.b.c.d", s)}
	}
	return v, nil
}

// customizationToggles are the +/- switches of the verbs that build customization packages:
// ImageApp's +StrictSettingPolicies, which makes a setting no policy declares an error instead
// of a warning. (ImgGen.cmd and CustomizationGen.cmd pass it to ImageApp; docs/customization.md.)
var customizationToggles = []string{"StrictSettingPolicies"}
