package locate

import "testing"

func TestOrigin(t *testing.T) {
	var o Origin
	if h := o.Hint("kit"); h != "" {
		t.Errorf("zero Origin: Hint = %q; want none", h)
	}
	for _, bad := range []string{"kit", "kit=", "nope=ms_packages"} {
		if err := o.Set(bad); err == nil {
			t.Errorf("Set(%q) = nil; want an error", bad)
		}
	}
	if err := o.Set("kit=ms_packages"); err != nil {
		t.Fatal(err)
	}
	if h := o.Hint("kit"); h != "" {
		t.Errorf("no target: Hint = %q; want none", h)
	}
	o.Target = "//images:retail"
	if h, want := o.Hint("kit"), "; add it to ms_packages of //images:retail"; h != want {
		t.Errorf("Hint(kit) = %q; want %q", h, want)
	}
	if h := o.Hint("srcs"); h != "" {
		t.Errorf("Hint(srcs) = %q; want none (not given)", h)
	}
}
