package manifest

import "github.com/beevik/etree"

// Doc gives parsers of the kit's other XML formats (the MCSF customization answer file and its
// policy files, tools/answerfile) this package's positioned parsing and checks, so that every input
// file reports problems the same way: "file:line:col: what is wrong; what was expected".
type Doc struct{ d *doc }

// ParseDoc reads data as XML whose elements must be in namespace ns ("" means Namespace). A
// malformed file yields one positioned error (an ErrorList).
func ParseDoc(file string, data []byte, ns string) (*Doc, error) {
	d, err := parseXML(file, data)
	if err != nil {
		return nil, err
	}
	d.ns = ns
	return &Doc{d}, nil
}

// Root is the root element.
func (x *Doc) Root() *etree.Element { return x.d.root }

// Pos is where el starts.
func (x *Doc) Pos(el *etree.Element) Pos { return x.d.elemPos(el) }

// AttrPos is where attribute name of el starts.
func (x *Doc) AttrPos(el *etree.Element, name string) Pos { return x.d.attrPos(el, name) }

// Errorf records a problem with el.
func (x *Doc) Errorf(el *etree.Element, format string, args ...any) { x.d.errorf(el, format, args...) }

// AttrErrorf records a problem with attribute name of el.
func (x *Doc) AttrErrorf(el *etree.Element, name, format string, args ...any) {
	x.d.attrErrorf(el, name, format, args...)
}

// CheckNS reports el if it is outside the document's namespace.
func (x *Doc) CheckNS(el *etree.Element) bool { return x.d.checkNS(el) }

// Attrs checks el's attributes against allowed (unknown and repeated ones are reported) and
// returns them by name.
func (x *Doc) Attrs(el *etree.Element, allowed ...string) map[string]string {
	out := map[string]string{}
	for _, a := range x.d.attrs(el, allowed...) {
		out[a.Key] = a.Value
	}
	return out
}

// RequireAttr reports a missing or blank attribute name of el (what says what was expected)
// and returns its trimmed value.
func (x *Doc) RequireAttr(el *etree.Element, name, what string) string {
	return x.d.requireAttr(el, attrNamed(el, name), name, what)
}

// EnumAttr reports attribute name of el if its value v is not one of values.
func (x *Doc) EnumAttr(el *etree.Element, name, v string, values ...string) bool {
	return x.d.enumAttr(el, name, v, values...)
}

// BoolAttr parses attribute name of el as an xs:boolean (false when absent).
func (x *Doc) BoolAttr(el *etree.Element, name string) bool {
	return x.d.boolAttr(el, attrNamed(el, name), name)
}

// attrNamed is el's unqualified attribute name, as the attrSet the doc's checks take.
func attrNamed(el *etree.Element, name string) attrSet {
	var a attrSet
	for _, at := range el.Attr {
		if at.Space == "" && at.Key == name {
			a = append(a, at)
		}
	}
	return a
}

// Children returns el's child elements in the document's namespace; text is reported.
func (x *Doc) Children(el *etree.Element) []*etree.Element { return x.d.children(el) }

// UnknownChild reports a child element that parent may not hold.
func (x *Doc) UnknownChild(parent, el *etree.Element, allowed []string) {
	x.d.unknownChild(parent, el, allowed)
}

// Empty reports any child element of el, which must have none.
func (x *Doc) Empty(el *etree.Element) { x.d.empty(el) }

// Err returns the recorded problems in file order (an ErrorList), or nil.
func (x *Doc) Err() error { return x.d.result() }

// DidYouMean suggests the allowed name closest to got, as " (did you mean X?)", or "".
func DidYouMean(got string, allowed []string) string { return didYouMean(got, allowed) }
