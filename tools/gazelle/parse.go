package gazelle

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/oemimage/rules_oemimage/tools/manifest"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/pkggen"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// rootElement returns the local name of the first start element of an XML document, reading
// no further: enough to classify a file. It skips the XML declaration, processing
// instructions, comments, a DOCTYPE and a byte order mark.
func rootElement(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for {
		i := bytes.IndexByte(data, '<')
		if i < 0 || i+1 >= len(data) {
			return ""
		}
		data = data[i+1:]
		switch {
		case bytes.HasPrefix(data, []byte("?")):
			data = skipPast(data, "?>")
		case bytes.HasPrefix(data, []byte("!--")):
			data = skipPast(data, "-->")
		case bytes.HasPrefix(data, []byte("!")):
			data = skipPast(data, ">")
		default:
			end := bytes.IndexAny(data, " \t\r\n/>")
			if end < 0 {
				return ""
			}
			name := string(data[:end])
			if j := strings.LastIndexByte(name, ':'); j >= 0 {
				name = name[j+1:]
			}
			if !isXMLName(name) {
				return "" // not a start tag: not XML that we classify
			}
			return name
		}
		if data == nil {
			return ""
		}
	}
}

// isXMLName reports an XML local name (the ASCII subset the imaging files use, and any letter).
func isXMLName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return s != ""
}

func skipPast(data []byte, end string) []byte {
	i := bytes.Index(data, []byte(end))
	if i < 0 {
		return nil
	}
	return data[i+len(end):]
}

// pkgProject is what gazelle needs from a package project file (.pkg.xml).
type pkgProject struct {
	Owner, Component, SubComponent        string
	Partition, ReleaseType, OwnerType     string
	Srcs                                  []string // relative to the project's directory, slash-separated
	Languages, Resolutions                []string
	Problems                              []string // sources that could not be found, etc.
	BinaryPartition                       bool     // Package BinaryPartition="true"
	hasNeutral, hasLangGroup, hasResGroup bool
}

// noBasePackage reports a project of satellite groups only, from which PkgGen writes no
// neutral package (mobile_package's no_base_package).
func (p *pkgProject) noBasePackage() bool {
	return !p.hasNeutral && (p.hasLangGroup || p.hasResGroup)
}

// marker stands for $(langid) or $(resid) while looking for the files of a satellite group.
const marker = "\x01"

// parsePkgXML reads a package project. dir is its directory on disk; the files of Language="*"
// and Resolution="*" groups are looked up there to find the satellites the project produces.
// Problems and errors are positioned file:line:col (file as given), as the FM parsers' are.
func parsePkgXML(file string, data []byte, dir string) (*pkgProject, error) {
	doc, err := manifest.ParseDoc(file, data, "")
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil || root.Tag != "Package" {
		return nil, fmt.Errorf("%s: root element must be <Package>", file)
	}
	// The same defaults as pkggen.
	p := &pkgProject{ReleaseType: "Test", OwnerType: "OEM", Partition: "MainOS"}
	for _, a := range root.Attr {
		if a.Space != "" {
			continue
		}
		switch a.Key {
		case "Owner":
			p.Owner = a.Value
		case "Component":
			p.Component = a.Value
		case "SubComponent":
			p.SubComponent = a.Value
		case "Partition":
			p.Partition = a.Value
		case "ReleaseType":
			p.ReleaseType = a.Value
		case "OwnerType":
			p.OwnerType = a.Value
		case "BinaryPartition":
			p.BinaryPartition = strings.EqualFold(a.Value, "true")
		}
	}
	if p.Owner == "" || p.Component == "" {
		return nil, fmt.Errorf("%s: <Package> needs Owner and Component", doc.Pos(root))
	}
	// The project's macros over the built-in ones, expanded in one another once each and
	// bounded (winpath.ResolveMacros), as pkggen does: a macro that doubles itself is an error,
	// not a value that grows with every pass.
	var defs []winpath.Macro
	for k, v := range pkggen.GlobalMacros {
		defs = append(defs, winpath.Macro{Name: k, Value: v, Where: "built in"})
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	for _, el := range root.SelectElements("Macros") {
		for _, m := range el.SelectElements("Macro") {
			if id := m.SelectAttrValue("Id", ""); id != "" {
				defs = append(defs, winpath.Macro{Name: id, Value: m.SelectAttrValue("Value", ""), Where: doc.Pos(m).String()})
			}
		}
	}
	vars, err := winpath.ResolveMacros(defs)
	if err != nil {
		return nil, err
	}
	x := winpath.NewExpander(vars, nil)
	srcs := map[string]bool{}
	find := winpath.NewFinder()
	addSrc := func(src string, pos manifest.Pos) {
		host := filepath.Join(dir, filepath.FromSlash(src))
		if found, err := find.Find(host); err == nil {
			host = found
		} else {
			p.problem(pos, "Source %q not found; expected a file of the project's directory", src)
			return
		}
		if rel, err := filepath.Rel(dir, host); err == nil {
			srcs[filepath.ToSlash(rel)] = true
		}
	}
	langs, ress := map[string]bool{}, map[string]bool{}
	for _, comps := range root.SelectElements("Components") {
		for _, comp := range comps.ChildElements() {
			// Sources named outside Files groups: a driver's INF and its references, a binary
			// partition's image. They belong to the neutral package.
			for _, ref := range componentSources(doc, comp) {
				if src, ok := p.source(x, ref); ok {
					addSrc(src, ref.pos)
				}
			}
			for _, group := range comp.SelectElements("Files") {
				lang, hasLang := attr(group, "Language")
				res, hasRes := attr(group, "Resolution")
				var files []srcRef
				for _, f := range group.SelectElements("File") {
					if s := f.SelectAttrValue("Source", ""); s != "" {
						files = append(files, srcRef{s, doc.AttrPos(f, "Source")})
					}
				}
				switch {
				case hasLang:
					p.hasLangGroup = true
					p.satellites(x.With("langid", marker), "langid", lang, doc.AttrPos(group, "Language"), files, langs, addSrc, dir)
				case hasRes:
					p.hasResGroup = true
					p.satellites(x.With("resid", marker), "resid", res, doc.AttrPos(group, "Resolution"), files, ress, addSrc, dir)
				default:
					p.hasNeutral = true
					for _, f := range files {
						if src, ok := p.source(x, f); ok {
							addSrc(src, f.pos)
						}
					}
				}
			}
		}
	}
	p.Srcs = setToList(srcs)
	p.Languages = setToList(langs)
	p.Resolutions = setToList(ress)
	return p, nil
}

func attr(el *etree.Element, key string) (string, bool) {
	if a := el.SelectAttr(key); a != nil {
		return a.Value, true
	}
	return "", false
}

// componentSources are the sources a component names outside its Files groups: InfSource of a
// Driver, Source of its Reference elements, ImageSource of a BinaryPartition, Source of a
// BCDStore (its BCD layout file), Source of a Service's Executable or ServiceDll and of a
// ComServer's Dll (the binaries pkggen places and registers).
func componentSources(doc *manifest.Doc, comp *etree.Element) []srcRef {
	var out []srcRef
	add := func(el *etree.Element, key string) {
		if v := el.SelectAttrValue(key, ""); v != "" {
			out = append(out, srcRef{v, doc.AttrPos(el, key)})
		}
	}
	switch comp.Tag {
	case "Driver":
		add(comp, "InfSource")
		for _, r := range comp.SelectElements("Reference") {
			add(r, "Source")
		}
	case "BinaryPartition":
		add(comp, "ImageSource")
	case "BCDStore":
		add(comp, "Source")
	case "Service":
		for _, el := range comp.ChildElements() {
			if el.Tag == "Executable" || el.Tag == "ServiceDll" {
				add(el, "Source")
			}
		}
	case "ComServer":
		for _, el := range comp.SelectElements("Dll") {
			add(el, "Source")
		}
	}
	return out
}

// srcRef is a File Source and where it is.
type srcRef struct {
	s   string
	pos manifest.Pos
}

// problem records a positioned problem.
func (p *pkgProject) problem(pos manifest.Pos, format string, args ...any) {
	p.Problems = append(p.Problems, pos.String()+": "+fmt.Sprintf(format, args...))
}

// source expands a File Source into a slash path relative to the project's directory.
func (p *pkgProject) source(x *winpath.Expander, f srcRef) (string, bool) {
	s := f.s
	v, err := relativePath(x.Expand(s))
	switch {
	case err == errAbsolute:
		p.problem(f.pos, "Source %q is absolute; use a path relative to the project", s)
	case err == errOutside:
		p.problem(f.pos, "Source %q is outside the project's directory", s)
	case err != nil:
		p.problem(f.pos, "Source %q: %v", s, err)
	default:
		return v, true
	}
	return "", false
}

var (
	errAbsolute = errors.New("absolute path")
	errOutside  = errors.New("path outside its directory")
)

// relativePath turns an expanded Windows path into a clean slash path relative to a directory:
// an error for a reference left unexpanded, an absolute or drive path (errAbsolute), or a path
// that leaves the directory (errOutside).
func relativePath(v string) (string, error) {
	if err := winpath.Check(v); err != nil {
		return "", err
	}
	v = strings.ReplaceAll(v, `\`, "/")
	if path.IsAbs(v) || (len(v) > 1 && v[1] == ':') {
		return "", errAbsolute
	}
	v = path.Clean(v)
	if v == ".." || strings.HasPrefix(v, "../") {
		return "", errOutside
	}
	return v, nil
}

// satellites finds the values of a Language= or Resolution= group: an explicit "(a;b)" list, or
// for "*" (and "!(a;b)") the values for which every $(langid) source of the group exists.
func (p *pkgProject) satellites(x *winpath.Expander, varName, spec string, specPos manifest.Pos, files []srcRef, out map[string]bool, addSrc func(string, manifest.Pos), dir string) {
	spec = strings.TrimSpace(spec)
	var values []string
	if strings.HasPrefix(spec, "(") && strings.HasSuffix(spec, ")") {
		values = splitList(spec[1 : len(spec)-1])
	} else {
		var exclude []string
		if strings.HasPrefix(spec, "!(") && strings.HasSuffix(spec, ")") {
			exclude = splitList(spec[2 : len(spec)-1])
		} else if spec != "*" {
			p.problem(specPos, "%s=%q: expected *, (a;b) or !(a;b)", groupAttr(varName), spec)
			return
		}
		var found map[string]bool
		for _, f := range files {
			src, ok := p.source(x, f)
			if !ok || !strings.Contains(src, marker) {
				continue
			}
			vals := globValues(dir, src)
			if found == nil {
				found = vals
			} else {
				for v := range found {
					if !vals[v] {
						delete(found, v)
					}
				}
			}
		}
		if found == nil {
			p.problem(specPos, "%s=%q group has no source with $(%s): cannot tell which satellites it makes", groupAttr(varName), spec, varName)
			return
		}
		for v := range found {
			if !containsFold(exclude, v) {
				values = append(values, v)
			}
		}
	}
	for _, v := range values {
		out[v] = true
		y := x.With(varName, v)
		for _, f := range files {
			if src, ok := p.source(y, f); ok {
				addSrc(src, f.pos)
			}
		}
	}
}

// groupAttr is the Files attribute of a satellite variable: Language for $(langid), Resolution
// for $(resid).
func groupAttr(varName string) string {
	if varName == "resid" {
		return "Resolution"
	}
	return "Language"
}

// globValues lists the values v for which src (a slash path with marker in it) names an
// existing file under dir, case-insensitively.
func globValues(dir, src string) map[string]bool {
	parts := strings.Split(src, marker)
	var pattern, re strings.Builder
	re.WriteString("(?i)^")
	for i, part := range parts {
		if i > 0 {
			pattern.WriteString("*")
			re.WriteString(`([^/]+)`)
		}
		pattern.WriteString(globCaseless(part))
		re.WriteString(regexp.QuoteMeta(part))
	}
	re.WriteString("$")
	rx := regexp.MustCompile(re.String())
	out := map[string]bool{}
	matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern.String())))
	for _, m := range matches {
		rel, err := filepath.Rel(dir, m)
		if err != nil {
			continue
		}
		if sub := rx.FindStringSubmatch(filepath.ToSlash(rel)); sub != nil {
			v := sub[1]
			ok := true
			for _, w := range sub[2:] {
				ok = ok && strings.EqualFold(w, v)
			}
			if ok && v != "" {
				out[v] = true
			}
		}
	}
	return out
}

// globCaseless turns a literal path part into a glob pattern that matches it in any case.
func globCaseless(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '*' || c == '?' || c == '[' || c == '\\':
			b.WriteString("[" + string(c) + "]")
		case strings.ToLower(string(c)) != strings.ToUpper(string(c)):
			b.WriteString("[" + strings.ToLower(string(c)) + strings.ToUpper(string(c)) + "]")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ";") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func setToList(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
