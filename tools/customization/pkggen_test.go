package customization

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/pkggen"
)

// A package built by pkggen from a project's <SettingsGroup> supplies the policy that
// customization checks answer files against: a declared setting with an allowed value is
// accepted (and placed at its registry location), an undeclared one and a value the
// declaration does not allow are refused.
func TestPkggenSettingsGroupPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	proj := write("settings.pkg.xml", `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Contoso" Component="Settings" OwnerType="OEM">
  <Components>
    <SettingsGroup Path="Contoso/Display">
      <Constraints ImageTimeOnly="Yes"/>
      <Setting Name="Color">
        <RegistrySource Type="REG_DWORD" Path="$(hklm.software)\Contoso\Display\Color" Default="1"/>
        <Validate><Option Value="0" FriendlyName="Red"/><Option Value="1" FriendlyName="Green"/></Validate>
      </Setting>
    </SettingsGroup>
  </Components>
</Package>`)
	opt := pkggen.Options{BuildType: "fre", CPU: "arm"}
	pkgs, err := pkggen.Load(proj, opt)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := pkggen.Build(pkgs, out, opt); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadPolicies([]string{filepath.Join(out, "Contoso.Settings.spkg")})
	if err != nil {
		t.Fatalf("customization does not read the policy pkggen wrote: %v", err)
	}
	answer := func(name, settings string) (*answerfile.Resolved, error) {
		p := write(name, `<?xml version="1.0" encoding="utf-8"?>
<ImageCustomizations xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate" Name="C" Owner="Contoso" OwnerType="OEM">
  <Static>
    <Settings Path="Contoso/Display">
      `+settings+`
    </Settings>
  </Static>
</ImageCustomizations>`)
		c, err := answerfile.Load(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return answerfile.Resolve(c, ps, true)
	}
	r, err := answer("ok.xml", `<Setting Name="Color" Value="Red"/>`)
	if err != nil {
		t.Fatalf("a declared setting with an allowed value: %v", err)
	}
	if len(r.Static.Settings) != 1 || r.Static.Settings[0].RegKey != `HKEY_LOCAL_MACHINE\Software\Contoso\Display` || r.Static.Settings[0].RegName != "Color" {
		t.Errorf("settings %+v", r.Static.Settings)
	}
	_, err = answer("undeclared.xml", `<Setting Name="Colour" Value="Red"/>`)
	t.Logf("undeclared: %v", err)
	if err == nil || !strings.Contains(err.Error(), "undeclared.xml:5:7") || !strings.Contains(err.Error(), `"Colour"`) {
		t.Errorf("an undeclared setting: %v", err)
	}
	_, err = answer("invalid.xml", `<Setting Name="Color" Value="Purple"/>`)
	t.Logf("invalid: %v", err)
	if err == nil || !strings.Contains(err.Error(), "invalid.xml:5:7") {
		t.Errorf("a value the policy does not allow: %v", err)
	}
}
