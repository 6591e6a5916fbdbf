// Package winpath handles the paths of the Windows imaging tools on a Linux host: $(var) and
// %ENV% expansion as ImageApp does it, Windows paths (backslashes, drive letters) mapped to host
// paths, and case-insensitive file look-up as on Windows. Finding the files Bazel hands the
// tool by name is tools/locate's.
package winpath

import (
	"fmt"
	"sort"
	"strings"
)

// Names of the $(var) variables of the imaging tools, lower case (they match case-insensitively).
const (
	VarMSPackageRoot  = "mspackageroot"
	VarDevice         = "device"
	VarReleaseType    = "releasetype"
	VarBuildType      = "buildtype"
	VarCPUType        = "cputype"
	VarBootUILanguage = "bootuilanguage"
	VarBootLocale     = "bootlocale"
	VarFMDirectory    = "fmdirectory"
)

// Expander expands $(var) variables, then %ENV% variables, as ImageApp's
// ProcessOEMInputVariables does (a case-insensitive replace, then
// Environment.ExpandEnvironmentVariables). Unknown variables are left in place, as the
// original leaves them; Check reports them when a path is used.
//
// The environment comes from a map, never from the process, so that callers (and Bazel
// actions, which see no host environment) decide what %VAR% means.
type Expander struct {
	vars map[string]string // lower-case name -> value
	env  map[string]string // upper-case name -> value (Windows environment names ignore case)
}

// NewExpander returns an Expander for the given $(var) values and environment. Keys of both
// maps match case-insensitively.
func NewExpander(vars, env map[string]string) *Expander {
	x := &Expander{vars: make(map[string]string, len(vars)), env: make(map[string]string, len(env))}
	for k, v := range vars {
		x.vars[strings.ToLower(k)] = v
	}
	for k, v := range env {
		x.env[strings.ToUpper(k)] = v
	}
	return x
}

// With returns a copy of x with $(name) set to value (for per-language expansions such as
// $(bootuilanguage)). x is unchanged.
func (x *Expander) With(name, value string) *Expander {
	y := &Expander{vars: make(map[string]string, len(x.vars)+1), env: x.env}
	for k, v := range x.vars {
		y.vars[k] = v
	}
	y.vars[strings.ToLower(name)] = value
	return y
}

// Var returns the value of $(name) and whether it is set.
func (x *Expander) Var(name string) (string, bool) {
	v, ok := x.vars[strings.ToLower(name)]
	return v, ok
}

// Env returns the value of %name% and whether it is set.
func (x *Expander) Env(name string) (string, bool) {
	v, ok := x.env[strings.ToUpper(name)]
	return v, ok
}

// Expand replaces the known $(var) and %ENV% variables of s and leaves the others as they are.
func (x *Expander) Expand(s string) string {
	if strings.Contains(s, "$(") {
		s = x.expandVars(s)
	}
	if strings.IndexByte(s, '%') >= 0 {
		s = x.expandEnv(s)
	}
	return s
}

// ExpandStrict is Expand followed by Check: an error names the first variable left unexpanded.
func (x *Expander) ExpandStrict(s string) (string, error) {
	e := x.Expand(s)
	if err := Check(e); err != nil {
		return e, err
	}
	return e, nil
}

func (x *Expander) expandVars(s string) string {
	out, _ := x.expandVarsMax(s, -1)
	return out
}

// expandVarsMax is expandVars with the result bounded by max bytes (max < 0: no bound).
func (x *Expander) expandVarsMax(s string, max int) (string, error) {
	return macroRefs.expand(s, max, func(name string) (string, bool, error) {
		v, ok := x.vars[strings.ToLower(name)]
		return v, ok, nil
	})
}

// ExpandBounded is ExpandStrict for text that may come from a hostile file: a result longer
// than max bytes is an error rather than an allocation.
func (x *Expander) ExpandBounded(s string, max int) (string, error) {
	e, err := x.expandVarsMax(s, max)
	if err == nil && strings.IndexByte(e, '%') >= 0 {
		e, err = x.expandEnvMax(e, max)
	}
	if err == errTooLong {
		return "", fmt.Errorf("more than %d bytes after expansion; expected at most %d", max, max)
	}
	if err != nil {
		return "", err
	}
	if err := Check(e); err != nil {
		return e, err
	}
	return e, nil
}

// ExpandMacrosBounded is ExpandBounded for values kept on the device as written, such as
// registry values: $(name) macros are expanded, %NAME% is left as it is (REG_EXPAND_SZ data
// names the device's environment, not the build machine's).
func (x *Expander) ExpandMacrosBounded(s string, max int) (string, error) {
	e, err := x.expandVarsMax(s, max)
	if err == errTooLong {
		return "", fmt.Errorf("more than %d bytes after expansion; expected at most %d", max, max)
	}
	if err != nil {
		return "", err
	}
	if i := strings.Index(e, "$("); i >= 0 {
		if j := strings.IndexByte(e[i:], ')'); j >= 0 {
			return e, &UnexpandedError{Ref: e[i : i+j+1], Text: e}
		}
	}
	return e, nil
}

// expandEnv follows ExpandEnvironmentStrings: %NAME% is replaced when NAME is set; otherwise
// "%NAME" is copied and the closing '%' may open the next reference.
func (x *Expander) expandEnv(s string) string {
	out, _ := x.expandEnvMax(s, -1)
	return out
}

// expandEnvMax is expandEnv with the result bounded by max bytes (max < 0: no bound).
func (x *Expander) expandEnvMax(s string, max int) (string, error) {
	return envRefs.expand(s, max, func(name string) (string, bool, error) {
		v, ok := x.env[strings.ToUpper(name)]
		return v, ok && name != "", nil
	})
}

// UnexpandedError is a $(var) or %ENV% reference left in a path that is being used.
type UnexpandedError struct {
	Ref  string // "$(name)" or "%NAME%"
	Text string // the text that holds it
}

func (e *UnexpandedError) Error() string {
	if strings.HasPrefix(e.Ref, "$(") {
		return fmt.Sprintf("unknown variable %s in %q; expected one of %s", e.Ref, e.Text, strings.Join(KnownVars(), ", "))
	}
	return fmt.Sprintf("environment variable %s is not set (in %q); expected it in the environment", e.Ref, e.Text)
}

// Reason is Error without the text, for messages that show the text already.
func (e *UnexpandedError) Reason() string {
	if strings.HasPrefix(e.Ref, "$(") {
		return fmt.Sprintf("unknown variable %s; expected one of %s", e.Ref, strings.Join(KnownVars(), ", "))
	}
	return fmt.Sprintf("environment variable %s is not set; expected it in the environment", e.Ref)
}

// KnownVars lists the $(var) names of the imaging tools, for messages.
func KnownVars() []string {
	v := []string{"$(mspackageroot)", "$(device)", "$(releasetype)", "$(buildtype)", "$(cputype)",
		"$(bootuilanguage)", "$(bootlocale)", "$(FMDirectory)"}
	sort.Strings(v)
	return v
}

// Check reports the first $(var) or %ENV% reference left in s.
func Check(s string) error {
	if ref := firstRef(s); ref != "" {
		return &UnexpandedError{Ref: ref, Text: s}
	}
	return nil
}

// firstRef finds "$(...)" or "%NAME%" where NAME is non-empty and holds no path separator or
// white space: a lone '%' in a file name ("50%.txt") is not a reference.
func firstRef(s string) string {
	best, at := "", len(s)
	if i := strings.Index(s, "$("); i >= 0 {
		if j := strings.IndexByte(s[i:], ')'); j >= 0 {
			best, at = s[i:i+j+1], i
		}
	}
	for i := 0; i < len(s) && i < at; i++ {
		if s[i] != '%' {
			continue
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if name != "" && !strings.ContainsAny(name, "\\/ \t\r\n") {
			return s[i : i+j+2]
		}
	}
	return best
}

// EnvMap turns "NAME=value" lines (os.Environ) into a map for NewExpander.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		// Windows keeps hidden "=C:=C:\" entries; a leading '=' is part of no usable name.
		if i := strings.IndexByte(kv, '='); i > 0 {
			m[kv[:i]] = kv[i+1:]
		}
	}
	return m
}
