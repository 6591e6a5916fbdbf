package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// cmdline is a command line split the way the Windows tools read theirs: /Name:value switches
// and +Name/-Name toggles (names case-insensitive), Bazel-only --name=value flags, and
// positional arguments. A word starting with '/' is a host path when it has another '/'
// (/tmp/x.ffu) or names an existing file (/tmp); otherwise it is a switch, and one the verb
// does not know is an error that lists those it knows.
type cmdline struct {
	positional []string
	values     map[string]string   // lower-case switch name -> value
	toggles    map[string]bool     // lower-case toggle name -> on
	flags      map[string][]string // --name=value, in order
}

type cmdSpec struct {
	values  []string // /Name:value switches
	toggles []string // +Name / -Name
	flags   []string // --name=value (repeatable)
}

func parseCmdline(args []string, spec cmdSpec) (*cmdline, error) {
	c := &cmdline{values: map[string]string{}, toggles: map[string]bool{}, flags: map[string][]string{}}
	isValue := map[string]bool{}
	for _, n := range spec.values {
		isValue[strings.ToLower(n)] = true
	}
	isToggle := map[string]bool{}
	for _, n := range spec.toggles {
		isToggle[strings.ToLower(n)] = true
	}
	isFlag := map[string]bool{}
	for _, n := range spec.flags {
		isFlag[n] = true
	}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--"):
			name, value, ok := strings.Cut(a[2:], "=")
			if !isFlag[name] && (name == "pkcs11-pin" || name == "pin" || name == "password") {
				// The value is a secret: not echoed, and never taken from the command line.
				return nil, usageError{fmt.Sprintf("--%s is not a flag: a PIN or password is never given on the command line (it would show in process lists and logs); use --pkcs11-pin-file=FILE or OEMIMAGE_PKCS11_PIN, or --password-file=FILE", name)}
			}
			if !ok || !isFlag[name] {
				return nil, usageError{fmt.Sprintf("unknown flag %q", a)}
			}
			c.flags[name] = append(c.flags[name], value)
		case (a[0] == '+' || a[0] == '-') && len(a) > 1 && isToggle[strings.ToLower(a[1:])]:
			c.toggles[strings.ToLower(a[1:])] = a[0] == '+'
		case a[0] == '/' && len(a) > 1:
			name, value, hasValue := strings.Cut(a[1:], ":")
			key := strings.ToLower(name)
			if !isValue[key] {
				if isHostPath(a, hasValue, isToggle[key]) {
					c.positional = append(c.positional, a)
					continue
				}
				return nil, usageError{fmt.Sprintf("unknown switch /%s (expected one of %s; a path of one component such as /%s is taken as a path only if it exists)", name, switchList(spec), name)}
			}
			if _, dup := c.values[key]; dup {
				return nil, usageError{fmt.Sprintf("switch /%s given twice", name)}
			}
			c.values[key] = value
		case (a[0] == '+' || a[0] == '-') && len(a) > 1:
			return nil, usageError{fmt.Sprintf("unknown switch %s (expected one of %s)", a, switchList(spec))}
		default:
			c.positional = append(c.positional, a)
		}
	}
	return c, nil
}

// isHostPath tells an absolute host path from a /switch: it has a second '/', or it names an
// existing file and is not a known toggle.
func isHostPath(a string, hasValue, toggle bool) bool {
	if strings.Contains(a[1:], "/") {
		return true
	}
	if hasValue || toggle {
		return false
	}
	_, err := os.Lstat(a)
	return err == nil
}

func switchList(spec cmdSpec) string {
	var all []string
	for _, v := range spec.values {
		all = append(all, "/"+v+":")
	}
	for _, t := range spec.toggles {
		all = append(all, "+|-"+t)
	}
	for _, f := range spec.flags {
		all = append(all, "--"+f+"=")
	}
	sort.Strings(all)
	if len(all) == 0 {
		return "none: this verb takes no switches"
	}
	return strings.Join(all, " ")
}

// value returns a switch's value, or def.
func (c *cmdline) value(name, def string) string {
	if v, ok := c.values[strings.ToLower(name)]; ok {
		return v
	}
	return def
}

// toggle returns a +/- toggle, or def.
func (c *cmdline) toggle(name string, def bool) bool {
	if v, ok := c.toggles[strings.ToLower(name)]; ok {
		return v
	}
	return def
}

// singleFlag returns the value of a --name=value flag given at most once, or "" without it;
// what says what the value is (for "--name= needs a file").
func singleFlag(c *cmdline, name, what string) (string, error) {
	v := c.flags[name]
	switch {
	case len(v) > 1:
		return "", usageError{"--" + name + " given twice"}
	case len(v) == 0:
		return "", nil
	case v[0] == "":
		return "", usageError{"--" + name + "= needs " + what}
	}
	return v[0], nil
}

// list splits a ';'-separated switch value, dropping empty entries.
func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ";") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// variables parses "name=value;name2=value2" (the /Variables: syntax). FeatureMerger's
// documentation also shows "releasetype:production"; ':' is accepted as the separator too.
func variables(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list(s) {
		i := strings.IndexAny(kv, "=:")
		if i <= 0 {
			return nil, usageError{fmt.Sprintf("variable %q: expected name=value", kv)}
		}
		out[strings.TrimSpace(kv[:i])] = kv[i+1:]
	}
	return out, nil
}
