package pkggen

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/oemimage/rules_oemimage/tools/internal/utf16le"
)

// MaxINFBytes bounds the INF file a <Driver> names (real ones are a few kilobytes).
const MaxINFBytes = 4 << 20

// MaxINFSubstituted bounds the text %strkey% substitution makes, over the whole INF: a
// [Strings] value is not rescanned, but a long one used on many lines would otherwise grow
// the text far past the file's size.
const MaxINFSubstituted = 4 * MaxINFBytes

// inf is a parsed INF file (docs: "General Syntax Rules for INF Files"): sections of lines,
// each line an optional key before '=' and comma-separated fields, with comments, quoting,
// line continuation and %strkey% substitution from [Strings] applied.
type inf struct {
	path      string
	sections  map[string]*infSection // by lower-case name
	order     []*infSection          // in the file's order
	strings   map[string]string      // [Strings] by lower-case key
	substLeft int                    // bytes substitution may still make (MaxINFSubstituted)
}

type infSection struct {
	name  string // as written
	line  int
	lines []infLine
}

type infLine struct {
	line   int
	key    string // "" when the line has no '='
	fields []string
}

// parseINF reads an INF's bytes: UTF-16LE (with or without a byte order mark, as the kit's
// INFs are) or UTF-8/ANSI. It does not fail on content: what it cannot read is left for the
// caller's checks, which name the section. Memory is bounded by the input's size.
func parseINF(path string, data []byte) (*inf, error) {
	if len(data) > MaxINFBytes {
		return nil, fmt.Errorf("%s: %d bytes; expected an INF file of at most %d", path, len(data), MaxINFBytes)
	}
	text := decodeINF(data)
	f := &inf{path: path, sections: map[string]*infSection{}, strings: map[string]string{}, substLeft: MaxINFSubstituted}
	var cur *infSection
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		raw := stripINFComment(lines[i])
		// A line ending in '\' continues on the next one. The pieces are collected in one
		// builder: a run of continued lines costs its length, not its length squared.
		if piece, ok := continued(raw); ok && i+1 < len(lines) {
			var b strings.Builder
			b.WriteString(piece)
			for ok && i+1 < len(lines) {
				i++
				raw = stripINFComment(lines[i])
				piece, ok = continued(raw)
				if ok && i+1 < len(lines) {
					b.WriteString(piece)
				} else {
					b.WriteString(raw)
				}
			}
			raw = b.String()
		}
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "[") {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				end = len(s)
			}
			name := strings.TrimSpace(s[1:end])
			key := strings.ToLower(name)
			if f.sections[key] == nil {
				// A section given twice is one section (setup merges them).
				f.sections[key] = &infSection{name: name, line: n}
				f.order = append(f.order, f.sections[key])
			}
			cur = f.sections[key]
			continue
		}
		if cur == nil {
			continue // text before the first section is ignored, as setup does
		}
		key, rest, hasKey := cutUnquoted(s, '=')
		l := infLine{line: n}
		if hasKey {
			l.key = unquoteINF(strings.TrimSpace(key))
		} else {
			rest = s
		}
		for _, fld := range splitUnquoted(rest, ',') {
			l.fields = append(l.fields, unquoteINF(strings.TrimSpace(fld)))
		}
		cur.lines = append(cur.lines, l)
	}
	st := f.sections["strings"]
	if st != nil {
		for _, l := range st.lines {
			if l.key != "" && len(l.fields) > 0 {
				f.strings[strings.ToLower(l.key)] = strings.Join(l.fields, ",")
			}
		}
	}
	// Substitute %strkey% in every line but those of [Strings] themselves.
	for _, sec := range f.order {
		if sec == st {
			continue
		}
		for i := range sec.lines {
			l := &sec.lines[i]
			l.key = f.subst(l.key)
			for j := range l.fields {
				l.fields[j] = f.subst(l.fields[j])
			}
			if f.substLeft < 0 {
				return nil, fmt.Errorf("%s:%d: [%s]: %%strkey%% substitution from [Strings] makes more than %d bytes of text; expected an INF whose substituted text is at most that", path, l.line, sec.name, MaxINFSubstituted)
			}
		}
	}
	return f, nil
}

// continued reports whether line ends in '\' (blanks after it allowed) and returns it without
// that backslash.
func continued(line string) (string, bool) {
	t := strings.TrimRight(line, " \t")
	if !strings.HasSuffix(t, `\`) {
		return line, false
	}
	return t[:len(t)-1], true
}

func decodeINF(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return utf16le.String(data[2:])
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return strings.ToValidUTF8(string(data[3:]), "\uFFFD")
	case len(data) >= 2 && data[0] != 0 && data[1] == 0:
		return utf16le.String(data) // UTF-16LE without a byte order mark
	}
	if utf8.Valid(data) {
		return string(data)
	}
	// ANSI: read bytes as Latin-1 (only ASCII matters to what is derived).
	r := make([]rune, len(data))
	for i, c := range data {
		r[i] = rune(c)
	}
	return string(r)
}

// stripINFComment drops a ';' comment outside double quotes.
func stripINFComment(s string) string {
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			in = !in
		case ';':
			if !in {
				return s[:i]
			}
		}
	}
	return s
}

func cutUnquoted(s string, sep byte) (string, string, bool) {
	in := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			in = !in
		case s[i] == sep && !in:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func splitUnquoted(s string, sep byte) []string {
	var out []string
	for {
		a, b, ok := cutUnquoted(s, sep)
		out = append(out, a)
		if !ok {
			return out
		}
		s = b
	}
}

// unquoteINF removes double quotes; "" inside quotes is one quote.
func unquoteINF(s string) string {
	if !strings.Contains(s, `"`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
		}
	}
	return b.String()
}

// subst replaces %strkey% with its [Strings] value and %% with %; a %name% that [Strings]
// does not define (such as a DIRID, %12%) is kept as written.
func (f *inf) subst(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		name := s[i+1 : i+1+j]
		switch v, ok := f.strings[strings.ToLower(name)]; {
		case name == "":
			b.WriteByte('%')
		case ok:
			f.substLeft -= len(v)
			if f.substLeft < 0 {
				return "" // parseINF reports it
			}
			b.WriteString(v)
		default:
			b.WriteString("%" + name + "%")
		}
		s = s[i+2+j:]
	}
}

func (f *inf) section(name string) *infSection { return f.sections[strings.ToLower(name)] }

// values returns the fields of every line of sec with key (case-insensitive), in order.
func (s *infSection) values(key string) []infLine {
	var out []infLine
	for _, l := range s.lines {
		if strings.EqualFold(l.key, key) {
			out = append(out, l)
		}
	}
	return out
}

// where names a line of the INF for messages.
func (f *inf) where(sec *infSection, line int) string {
	return fmt.Sprintf("%s:%d: [%s]", f.path, line, sec.name)
}
