package winpath

import (
	"fmt"
	"strings"
)

// Bounds of macro expansion. A definition may refer to other macros, so without them a few
// bytes of input ("$(a)" sixteen times, each a sixteen times "$(b)"...) stand for an
// exponential amount of text.
const (
	// MaxExpandedLen bounds one macro's value after expansion, and any one text expanded with
	// ExpandBounded (a Windows path is at most 32,767 characters).
	MaxExpandedLen = 64 << 10
	// MaxMacroTotal bounds the expanded values of all the macros of one run together.
	MaxMacroTotal = 4 << 20
	// MaxMacroDepth bounds how many definitions deep one expansion may go.
	MaxMacroDepth = 64
)

// Macro is a $(name) definition whose value may refer to other macros.
type Macro struct {
	Name, Value string
	// Where says where it is defined, for messages: "p.pkg.xml:3:5", "/variables:",
	// "built in".
	Where string
}

// MacroError is a macro that cannot be expanded: one that refers to itself, or whose value
// grows past a bound.
type MacroError struct {
	Name, Where string
	Msg         string
}

func (e *MacroError) Error() string {
	return fmt.Sprintf("%s: macro %s: %s", e.Where, e.Name, e.Msg)
}

// ResolveMacros expands the $(name) references of the definitions in one another and returns
// each macro's final value by name. Names match ignoring case; a later definition of a name
// replaces an earlier one. References to names not defined are kept as they are, for the place
// that uses the text to report. Each definition is expanded once (a depth-first walk that
// remembers finished macros), so the time is linear in the input plus the output, and the
// output is bounded by MaxExpandedLen per macro and MaxMacroTotal in all.
func ResolveMacros(defs []Macro) (map[string]string, error) {
	r := &resolver{macros: make(map[string]*macro, len(defs))}
	var order []*macro
	for i := range defs {
		k := strings.ToLower(defs[i].Name)
		m := r.macros[k]
		if m == nil {
			m = &macro{}
			r.macros[k] = m
			order = append(order, m)
		}
		m.def = &defs[i]
	}
	for _, m := range order {
		if err := r.resolve(m); err != nil {
			return nil, err
		}
	}
	vals := make(map[string]string, len(order))
	for _, m := range order {
		vals[m.def.Name] = m.value
	}
	return vals, nil
}

const (
	visiting uint8 = 1
	done     uint8 = 2
)

// macro is one name's winning definition and the state of its expansion.
type macro struct {
	def   *Macro
	state uint8
	value string // the expanded value, once done
}

type resolver struct {
	macros map[string]*macro // by lower-case name
	stack  []string          // names being expanded, outermost first
	total  int
}

func (r *resolver) resolve(m *macro) error {
	def := m.def
	switch m.state {
	case done:
		return nil
	case visiting:
		i := len(r.stack) - 1
		for i > 0 && !strings.EqualFold(r.stack[i], def.Name) {
			i--
		}
		chain := append(append([]string(nil), r.stack[i:]...), def.Name)
		return &MacroError{Name: def.Name, Where: def.Where, Msg: "refers to itself through a cycle (" + strings.Join(chain, " -> ") + "); expected definitions that end in text"}
	}
	if len(r.stack) >= MaxMacroDepth {
		return &MacroError{Name: def.Name, Where: def.Where, Msg: fmt.Sprintf("definitions nest more than %d deep (%s -> ...); expected fewer levels", MaxMacroDepth, strings.Join(r.stack[:min(3, len(r.stack))], " -> "))}
	}
	m.state = visiting
	r.stack = append(r.stack, def.Name)
	v, err := macroRefs.expand(def.Value, MaxExpandedLen, func(name string) (string, bool, error) {
		ref := r.macros[strings.ToLower(name)]
		if ref == nil {
			return "", false, nil
		}
		if err := r.resolve(ref); err != nil {
			return "", false, err
		}
		return ref.value, true, nil
	})
	if err == errTooLong {
		err = &MacroError{Name: def.Name, Where: def.Where, Msg: fmt.Sprintf("expands to more than %d bytes; expected a value of at most %d bytes after expansion", MaxExpandedLen, MaxExpandedLen)}
	}
	if err != nil {
		return err
	}
	r.total += len(v)
	if r.total > MaxMacroTotal {
		return &MacroError{Name: def.Name, Where: def.Where, Msg: fmt.Sprintf("the macros expand to more than %d bytes together; expected at most %d", MaxMacroTotal, MaxMacroTotal)}
	}
	r.stack = r.stack[:len(r.stack)-1]
	m.state, m.value = done, v
	return nil
}

// errTooLong is refSyntax.expand's answer for a result past its bound.
var errTooLong = fmt.Errorf("expanded text too long")

// refSyntax is how a kind of reference is written: $(name), the package and FM macros, or
// %NAME%, the environment. One scanner serves both so that both have the same bound.
type refSyntax struct {
	open  string
	close byte
	// reopen: an unknown reference keeps its closing delimiter for the next one, as
	// ExpandEnvironmentStrings does ("%A%B%" with only B set gives "%AB-value").
	reopen bool
}

var (
	macroRefs = refSyntax{open: "$(", close: ')'}
	envRefs   = refSyntax{open: "%", close: '%', reopen: true}
)

// expand replaces each reference of s with lookup(name) when it is known, leaving the others,
// and stops with errTooLong as soon as the result would pass max bytes (max < 0: no bound).
// References do not nest: the name runs to the first closing delimiter.
func (r refSyntax) expand(s string, max int, lookup func(name string) (string, bool, error)) (string, error) {
	if !strings.Contains(s, r.open) {
		if max >= 0 && len(s) > max {
			return "", errTooLong
		}
		return s, nil
	}
	var b strings.Builder
	write := func(t string) bool {
		if max >= 0 && b.Len()+len(t) > max {
			return false
		}
		b.WriteString(t)
		return true
	}
	for {
		i := strings.Index(s, r.open)
		if i < 0 {
			break
		}
		start := i + len(r.open)
		j := strings.IndexByte(s[start:], r.close)
		if j < 0 {
			break
		}
		if !write(s[:i]) {
			return "", errTooLong
		}
		v, ok, err := lookup(s[start : start+j])
		if err != nil {
			return "", err
		}
		end := start + j + 1
		switch {
		case ok:
		case r.reopen:
			v, end = s[i:start+j], start+j
		default:
			v = s[i:end]
		}
		if !write(v) {
			return "", errTooLong
		}
		s = s[end:]
	}
	if !write(s) {
		return "", errTooLong
	}
	return b.String(), nil
}
