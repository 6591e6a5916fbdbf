package manifest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

// Helpers shared by the three parsers: what an element may hold, checked the way the
// originals' XSDs check it, each problem recorded with its position.

// checkNS reports an element outside the ImageUpdate namespace.
func (d *doc) checkNS(el *etree.Element) bool {
	want := d.namespace()
	ns := el.NamespaceURI()
	if ns == want {
		return true
	}
	if ns == "" {
		d.errorf(el, "<%s> is in no namespace; expected namespace %s (xmlns=\"%s\" on the root element)", el.FullTag(), want, want)
	} else {
		d.errorf(el, "<%s> is in namespace %s; expected namespace %s", el.FullTag(), ns, want)
	}
	return false
}

// attrSet is an element's checked attributes. A slice: elements have few attributes, and a map
// per element costs more than scanning them.
type attrSet []etree.Attr

// get returns attribute name's value and whether the element has it.
func (a attrSet) get(name string) (string, bool) {
	for i := range a {
		if a[i].Key == name {
			return a[i].Value, true
		}
	}
	return "", false
}

// v returns attribute name's value, or "".
func (a attrSet) v(name string) string {
	v, _ := a.get(name)
	return v
}

// attrs returns el's attributes after checking them against allowed. Namespace declarations and
// qualified attributes (xsi:..., xml:...) are left alone, as the serializer the originals used
// lets them through.
func (d *doc) attrs(el *etree.Element, allowed ...string) attrSet {
	out := make(attrSet, 0, len(el.Attr))
	for _, a := range el.Attr {
		if a.Space != "" || a.Key == "xmlns" {
			continue
		}
		if _, dup := out.get(a.Key); dup {
			d.attrErrorf(el, a.Key, "attribute %s appears twice on <%s>; expected it at most once", a.Key, el.Tag)
			continue
		}
		ok := false
		for _, n := range allowed {
			if n == a.Key {
				ok = true
				break
			}
		}
		if !ok {
			d.attrErrorf(el, a.Key, "unknown attribute %s on <%s>; expected %s%s", clip(a.Key), clip(el.Tag), oneOf(allowed), didYouMean(a.Key, allowed))
			continue
		}
		out = append(out, a)
	}
	return out
}

// children returns el's child elements in the right namespace; non-blank text is reported.
func (d *doc) children(el *etree.Element) []*etree.Element {
	var out []*etree.Element
	textDone := false
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if d.checkNS(t) {
				out = append(out, t)
			}
		case *etree.CharData:
			if !textDone && strings.TrimSpace(t.Data) != "" {
				textDone = true
				d.errorf(el, "unexpected text %q in <%s>; expected only child elements", clip(strings.TrimSpace(t.Data)), el.Tag)
			}
		}
	}
	return out
}

// text returns el's text, trimmed; child elements are reported. Values are trimmed because
// files written by hand often wrap them, and no value of these formats starts or ends in a space.
func (d *doc) text(el *etree.Element) string {
	var b strings.Builder
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			d.errorf(t, "unexpected element <%s> in <%s>; expected only text", t.Tag, el.Tag)
			return ""
		case *etree.CharData:
			b.WriteString(t.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// unknownChild reports a child element that the parent's schema does not have.
func (d *doc) unknownChild(parent, el *etree.Element, allowed []string) {
	d.errorf(el, "unknown element <%s> in <%s>; expected %s%s", clip(el.Tag), clip(parent.Tag), oneOf(allowed), didYouMean(el.Tag, allowed))
}

// once tracks xs:all / maxOccurs=1 children.
type once map[string]*etree.Element

// first reports a second occurrence of el's tag and returns false for it.
func (o once) first(d *doc, parent, el *etree.Element) bool {
	if prev, ok := o[el.Tag]; ok {
		d.errorf(el, "<%s> appears twice in <%s> (first at line %d); expected it at most once", el.Tag, parent.Tag, d.elemPos(prev).Line)
		return false
	}
	o[el.Tag] = el
	return true
}

// require reports the missing required children of parent.
func (o once) require(d *doc, parent *etree.Element, names ...string) {
	for _, n := range names {
		if _, ok := o[n]; !ok {
			d.errorf(parent, "missing <%s> in <%s>; expected exactly one <%s> element", n, parent.Tag, n)
		}
	}
}

// enum checks v against its allowed values (case-sensitive, as in the XSDs).
func (d *doc) enum(el *etree.Element, what, v string, values ...string) bool {
	for _, x := range values {
		if v == x {
			return true
		}
	}
	hint := ""
	for _, x := range values {
		if strings.EqualFold(v, x) {
			hint = " (values are case-sensitive)"
		}
	}
	d.errorf(el, "%s is %q; expected %s%s", what, v, oneOf(values), hint)
	return false
}

// enumAttr checks attribute name's value v against values.
func (d *doc) enumAttr(el *etree.Element, name, v string, values ...string) bool {
	for _, x := range values {
		if v == x {
			return true
		}
	}
	hint := ""
	for _, x := range values {
		if strings.EqualFold(v, x) {
			hint = " (values are case-sensitive)"
		}
	}
	d.attrErrorf(el, name, "attribute %s of <%s> is %q; expected %s%s", name, el.Tag, v, oneOf(values), hint)
	return false
}

// boolAttr parses an xs:boolean attribute.
func (d *doc) boolAttr(el *etree.Element, a attrSet, name string) bool {
	v, ok := a.get(name)
	if !ok {
		return false
	}
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	d.attrErrorf(el, name, "attribute %s of <%s> is %q; expected true or false", name, el.Tag, v)
	return false
}

// requireAttr reports a missing or empty required attribute.
func (d *doc) requireAttr(el *etree.Element, a attrSet, name, what string) string {
	v, ok := a.get(name)
	switch {
	case !ok:
		d.errorf(el, "<%s> has no %s attribute; expected %s", el.Tag, name, what)
	case strings.TrimSpace(v) == "":
		d.attrErrorf(el, name, "attribute %s of <%s> is empty; expected %s", name, el.Tag, what)
	}
	return strings.TrimSpace(v)
}

var versionRE = regexp.MustCompile(`^\d{1,5}\.\d{1,5}\.\d{1,5}\.\d{1,5}$`)

func (d *doc) versionAttr(el *etree.Element, a attrSet, name string) string {
	v, ok := a.get(name)
	if ok && !versionRE.MatchString(v) {
		d.attrErrorf(el, name, "attribute %s of <%s> is %q; expected a version a.b.c.d", name, el.Tag, v)
	}
	return v
}

func oneOf(values []string) string {
	switch len(values) {
	case 0:
		return "nothing here"
	case 1:
		return values[0]
	case 2:
		return values[0] + " or " + values[1]
	}
	return "one of " + strings.Join(values, ", ")
}

// didYouMean suggests the allowed name that differs from got only in case, or by one or two
// edits.
func didYouMean(got string, allowed []string) string {
	best, bestD := "", 3
	lower := ""
	for _, a := range allowed {
		// Names whose lengths differ by bestD or more are that many edits apart at least: a
		// long name from a hostile file costs nothing here.
		if len(a)-len(got) >= bestD || len(got)-len(a) >= bestD {
			continue
		}
		if strings.EqualFold(a, got) {
			return fmt.Sprintf(" (did you mean %s? names are case-sensitive)", a)
		}
		if lower == "" {
			lower = strings.ToLower(got)
		}
		if dist := Distance(strings.ToLower(a), lower); dist < bestD {
			best, bestD = a, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return ""
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}

// Distance is the Levenshtein edit distance between a and b, by bytes.
func Distance(a, b string) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// empty reports any content of an element that must be empty.
func (d *doc) empty(el *etree.Element) {
	for _, c := range d.children(el) {
		d.unknownChild(el, c, nil)
	}
}
