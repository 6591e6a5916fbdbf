package imggen

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// The update records of a new image list every package: 20,000 packages make a tree of
// 400,000 etree elements, about 80 MB held at once at the end of the run, three times over.
// recordWriter writes them element by element instead, byte for byte as etree lays out
// such a document with Indent(2) (the imageapp path, which edits a parsed history, still
// builds the tree; records_test.go checks the two agree).

// recordWriter writes an indented XML document of elements, attributes and text leaves.
type recordWriter struct {
	buf bytes.Buffer
	// open is the stack of open elements; an element's start tag is completed (">") by its
	// first child, or closed as empty ("/>") without one.
	open []openElement
}

type openElement struct {
	name     string
	children bool
}

// newRecordWriter starts a document with the XML declaration and root element (in the
// package namespace), as newDoc does.
func newRecordWriter(root string) *recordWriter {
	w := &recordWriter{}
	w.buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	w.start(root, "xmlns", spkg.Namespace)
	return w
}

// child completes the start tag of the enclosing element and begins a line for a child.
func (w *recordWriter) child() {
	if n := len(w.open); n > 0 && !w.open[n-1].children {
		w.open[n-1].children = true
		w.buf.WriteByte('>')
	}
	w.newline(len(w.open))
}

func (w *recordWriter) newline(depth int) {
	w.buf.WriteByte('\n')
	for range depth {
		w.buf.WriteString("  ")
	}
}

// start opens element name with attributes given as name, value pairs.
func (w *recordWriter) start(name string, attrs ...string) {
	w.child()
	w.buf.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.buf.WriteString(" " + attrs[i] + `="`)
		escapeXML(&w.buf, attrs[i+1])
		w.buf.WriteByte('"')
	}
	w.open = append(w.open, openElement{name: name})
}

// end closes the innermost open element.
func (w *recordWriter) end() {
	e := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	if !e.children {
		w.buf.WriteString("/>")
		return
	}
	w.newline(len(w.open))
	w.buf.WriteString("</" + e.name + ">")
}

// text writes <name>value</name>, or nothing when value is empty (as text does).
func (w *recordWriter) text(name, value string) {
	if value == "" {
		return
	}
	w.child()
	w.buf.WriteString("<" + name + ">")
	escapeXML(&w.buf, value)
	w.buf.WriteString("</" + name + ">")
}

// bytes closes the open elements and returns the document.
func (w *recordWriter) bytes() []byte {
	for len(w.open) > 0 {
		w.end()
	}
	w.buf.WriteByte('\n')
	return w.buf.Bytes()
}

// escapeXML writes s as etree escapes text and attribute values: the five entities, and a
// character XML cannot hold (or invalid UTF-8) as U+FFFD.
func escapeXML(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\'':
			esc = "&apos;"
		case '"':
			esc = "&quot;"
		default:
			if xmlChar(r) && !(r == utf8.RuneError && width == 1) {
				continue
			}
			esc = "\uFFFD"
		}
		b.WriteString(s[last : i-width])
		b.WriteString(esc)
		last = i
	}
	b.WriteString(s[last:])
}

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// packages writes the body of an UpdateOSOutput element (as updateOSOutput builds it).
func (w *recordWriter) packages(description string, pkgs []installed) {
	w.text("Description", description)
	w.text("OverallResult", "0")
	w.text("UpdateState", updateStateComplete)
	w.start("Packages")
	for _, p := range pkgs {
		w.record(p)
	}
	w.end()
}

// record writes the <Package> element of one installed package.
func (w *recordWriter) record(p installed) {
	m := p.Manifest
	w.start("Package")
	w.text("PackageFile", p.File)
	w.text("PackageIdentity", m.Name())
	w.text("PackageStyle", "SPKG")
	w.start("Identity")
	w.text("Owner", m.Owner)
	w.text("Component", m.Component)
	w.text("SubComponent", m.SubComponent)
	w.start("Version", "Major", strconv.Itoa(int(m.Version.Major)), "Minor", strconv.Itoa(int(m.Version.Minor)),
		"QFE", strconv.Itoa(int(m.Version.QFE)), "Build", strconv.Itoa(int(m.Version.Build)))
	w.end()
	w.end()
	w.text("ReleaseType", m.ReleaseType)
	w.text("OwnerType", m.OwnerType)
	w.text("BuildType", m.BuildType)
	w.text("CpuType", m.CpuType)
	w.text("Culture", m.Culture)
	w.text("Resolution", m.Resolution)
	w.text("Partition", m.Partition)
	w.text("Platform", m.Platform)
	w.text("GroupingKey", m.GroupingKey)
	w.text("IsRemoval", "false")
	w.text("IsBinaryPartition", strconv.FormatBool(m.IsBinaryPartition))
	w.text("Result", "0")
	w.end()
}

// UpdateOutput is the UpdateOutput.xml of an imaging run.
func updateOutput(description string, pkgs []installed) ([]byte, error) {
	w := newRecordWriter("UpdateOSOutput")
	w.packages(description, pkgs)
	return w.bytes(), nil
}

// updateHistory is the UpdateHistory.xml of a new image: one event, sequence 1, at when.
func updateHistory(description string, pkgs []installed, when time.Time) ([]byte, error) {
	w := newRecordWriter("UpdateHistory")
	w.start("UpdateEvents")
	w.start("UpdateEvent")
	w.text("Sequence", "1")
	w.text("DateTime", when.UTC().Format("2006-01-02T15:04:05"))
	w.text("Summary", "Image created")
	w.start("UpdateOSOutput")
	w.packages(description, pkgs)
	return w.bytes(), nil
}

// packageList is the PackageList.xml: the packages in the image, keyed by name, after the
// history's complete events (here the imaging event alone).
func packageList(pkgs []installed) ([]byte, error) {
	w := newRecordWriter("UpdateOSOutput")
	w.packages("List of packages currently in this image or on this device", pkgs)
	return w.bytes(), nil
}
