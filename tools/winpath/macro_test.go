package winpath

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestResolveMacros(t *testing.T) {
	tests := []struct {
		name string
		defs []Macro
		want map[string]string
	}{
		{"chain in any order", []Macro{
			{Name: "system32", Value: `$(Windows)\System32`},
			{Name: "windows", Value: `$(root)\windows`},
			{Name: "root", Value: ``},
		}, map[string]string{"system32": `\windows\System32`, "windows": `\windows`, "root": ``}},
		{"names ignore case; the later definition wins", []Macro{
			{Name: "OEM", Value: "Contoso"},
			{Name: "oem", Value: "Fabrikam"},
			{Name: "dir", Value: `\$(OEM)`},
		}, map[string]string{"oem": "Fabrikam", "dir": `\Fabrikam`}},
		{"unknown references stay", []Macro{{Name: "a", Value: `$(nowhere)\x$(`}}, map[string]string{"a": `$(nowhere)\x$(`}},
		{"one value used many times", []Macro{
			{Name: "e", Value: "ab"},
			{Name: "x", Value: strings.Repeat("$(e)", 1000)},
		}, map[string]string{"e": "ab", "x": strings.Repeat("ab", 1000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveMacros(tt.defs)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// bomb is n macros, each 16 references to the next: 16^n copies of the last one's value.
func bomb(n int) []Macro {
	var defs []Macro
	for i := 0; i < n; i++ {
		defs = append(defs, Macro{Name: fmt.Sprintf("b%d", i), Value: strings.Repeat(fmt.Sprintf("$(b%d)", i+1), 16), Where: fmt.Sprintf("p.pkg.xml:%d:5", i+3)})
	}
	return append(defs, Macro{Name: fmt.Sprintf("b%d", n), Value: "xxxxxxxxxxxxxxxx", Where: "/variables:"})
}

func TestResolveMacrosErrors(t *testing.T) {
	var deep []Macro
	for i := 0; i < MaxMacroDepth+1; i++ {
		deep = append(deep, Macro{Name: fmt.Sprintf("d%d", i), Value: fmt.Sprintf("$(d%d)", i+1), Where: "built in"})
	}
	var wide []Macro
	for i := 0; i < 100; i++ {
		wide = append(wide, Macro{Name: fmt.Sprintf("w%d", i), Value: strings.Repeat("$(big)", 15), Where: "/variables:"})
	}
	wide = append(wide, Macro{Name: "big", Value: strings.Repeat("y", 4000), Where: "/variables:"})
	tests := []struct {
		name string
		defs []Macro
		want string
	}{
		{"self reference", []Macro{{Name: "a", Value: strings.Repeat("$(a)", 16), Where: "p.pkg.xml:4:5"}},
			"p.pkg.xml:4:5: macro a: refers to itself through a cycle (a -> a)"},
		{"cycle through another, other case", []Macro{
			{Name: "a", Value: "$(b)x", Where: "p.pkg.xml:4:5"},
			{Name: "b", Value: "$(A)y", Where: "p.pkg.xml:5:5"},
		}, "p.pkg.xml:4:5: macro a: refers to itself through a cycle (a -> b -> a)"},
		{"bomb", bomb(6), "p.pkg.xml:5:5: macro b2: expands to more than 65536 bytes"},
		{"bomb from /variables:", []Macro{{Name: "v", Value: strings.Repeat("$(w)", 20), Where: "/variables:"}, {Name: "w", Value: strings.Repeat("z", 4000), Where: "/variables:"}},
			"/variables:: macro v: expands to more than 65536 bytes"},
		{"long literal", []Macro{{Name: "l", Value: strings.Repeat("z", MaxExpandedLen+1), Where: "/variables:"}}, "macro l: expands to more than 65536 bytes"},
		{"total", wide, "the macros expand to more than 4194304 bytes together"},
		{"depth", deep, "built in: macro d64: definitions nest more than 64 deep (d0 -> d1 -> d2 -> ...)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolveMacros(tt.defs)
			var me *MacroError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a MacroError containing %q", err, tt.want)
			}
		})
	}
}

func TestExpandBounded(t *testing.T) {
	x := NewExpander(map[string]string{"a": strings.Repeat("a", 1000), "dir": `\d`}, map[string]string{"E": strings.Repeat("e", 1000)})
	tests := []struct {
		in, want, err string
	}{
		{`$(dir)\%E%`, `\d\` + strings.Repeat("e", 1000), ""},
		{strings.Repeat("$(a)", 70), "", "more than 65536 bytes after expansion"},
		{strings.Repeat("%E%", 70), "", "more than 65536 bytes after expansion"},
		{strings.Repeat("x", MaxExpandedLen+1), "", "more than 65536 bytes after expansion"},
		{`$(nope)`, `$(nope)`, "unknown variable $(nope)"},
	}
	for _, tt := range tests {
		got, err := x.ExpandBounded(tt.in, MaxExpandedLen)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ExpandBounded(%.20q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ExpandBounded(%.20q) = %.20q, %v; want %.20q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzExpand resolves definitions read from the input ("name=value" lines, the first line the
// text to expand) and checks the bounds hold and nothing panics.
func FuzzExpand(f *testing.F) {
	f.Add("$(a)\\x\na=$(b)$(b)\nb=y")
	f.Add("$(a)\na=" + strings.Repeat("$(a)", 16))
	f.Add("$(b0)\n" + func() string {
		var s []string
		for _, m := range bomb(8) {
			s = append(s, m.Name+"="+m.Value)
		}
		return strings.Join(s, "\n")
	}())
	f.Add("%A%B%$(\n=\nA=%A%")
	f.Add("$(runtime.system32)\\drivers\nruntime.root=\nruntime.windows=$(runtime.root)\\windows\nruntime.system32=$(runtime.windows)\\System32")
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		var defs []Macro
		for _, l := range lines[1:] {
			name, value, _ := strings.Cut(l, "=")
			defs = append(defs, Macro{Name: name, Value: value, Where: "fuzz"})
		}
		vals, err := ResolveMacros(defs)
		if err != nil {
			var me *MacroError
			if !errors.As(err, &me) {
				t.Fatalf("error %T %v, want a MacroError", err, err)
			}
			return
		}
		total := 0
		for _, v := range vals {
			if len(v) > MaxExpandedLen {
				t.Fatalf("a value of %d bytes", len(v))
			}
			total += len(v)
		}
		if total > MaxMacroTotal {
			t.Fatalf("%d bytes in all", total)
		}
		out, err := NewExpander(vals, map[string]string{"A": "$(a)"}).ExpandBounded(lines[0], MaxExpandedLen)
		if len(out) > MaxExpandedLen {
			t.Fatalf("expanded to %d bytes (err %v)", len(out), err)
		}
	})
}

func TestExpandMacrosBounded(t *testing.T) {
	x := NewExpander(map[string]string{"dir": `\d`}, map[string]string{"E": "e"})
	for _, tc := range []struct{ in, want, err string }{
		{`$(dir)\%E%`, `\d\%E%`, ""},
		{`%SystemRoot%\x`, `%SystemRoot%\x`, ""},
		{`$(nope)\x`, "", "$(nope)"},
		{strings.Repeat("$(dir)", 100), "", "more than 16 bytes"},
	} {
		got, err := x.ExpandMacrosBounded(tc.in, 16)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
