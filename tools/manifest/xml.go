package manifest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
)

// Namespace is the XML namespace of OEMInput, feature manifest and FMFileList files.
const Namespace = "http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"

// Pos is a place in an input file. Line and Col are 1-based; Col counts bytes.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem in an input file: "file:line:col: what is wrong; what was expected".
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem found in one parse, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// maxErrors bounds the report: past this many, the rest is noise from the same mistake.
const maxErrors = 50

// Bounds of every XML file the tools read (docs/reliability.md). The largest real files, the
// feature manifests, are a few MB with a few tens of thousands of elements and nest a few
// levels; a parsed element costs some hundred bytes, so these keep a hostile file well inside
// the memory a run may use, and keep the parsers' recursion shallow.
const (
	MaxFileSize = 64 << 20 // bytes of one XML file
	MaxElements = 1 << 20  // elements in one file
	MaxDepth    = 256      // element nesting
	// MaxTokenLen bounds one tag (with its attributes), one run of text, one comment, CDATA
	// section, processing instruction or declaration: the XML decoder buffers each whole.
	MaxTokenLen = 1 << 20
)

// ReadXMLFile reads an input XML file: a regular file of at most MaxFileSize bytes, refused by
// name otherwise before anything blocks on it or reads it without end (tools/internal/readfile).
func ReadXMLFile(path string) ([]byte, error) { return readfile.ReadRegular(path, MaxFileSize) }

// doc is a parsed XML file: the etree tree plus where each element starts.
//
// etree (the project's XML library) records no positions. We get them with a light pre-scan of
// the bytes for start tags ('<' outside comments, CDATA, processing instructions and
// declarations), zipped in document order with etree's elements; if the counts ever disagree
// we fall back to encoding/xml's Decoder.InputOffset over the same bytes. A malformed file is
// re-read with encoding/xml's strict Decoder only to say where it breaks (InputPos).
type doc struct {
	file  string
	src   []byte
	root  *etree.Element
	start map[*etree.Element]int // byte offset of the element's '<'
	lines lineIndex
	errs  ErrorList
	ns    string // the namespace elements must be in; "" means Namespace
}

func (d *doc) namespace() string {
	if d.ns == "" {
		return Namespace
	}
	return d.ns
}

// parseXML reads data as XML. It never panics; a malformed file yields one positioned error.
func parseXML(file string, data []byte) (*doc, error) {
	if len(data) > MaxFileSize {
		return nil, ErrorList{{Pos: Pos{File: file}, Msg: fmt.Sprintf("%d bytes; expected an XML file of at most %d bytes", len(data), MaxFileSize)}}
	}
	data = toUTF8(data)
	d := &doc{file: file, src: data}
	d.lines = newLineIndex(data)
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		return nil, ErrorList{d.errAt(off, "invalid UTF-8; expected a UTF-8 or UTF-16 (with byte order mark) file")}
	}
	// The bounds are checked on the bytes before any tree is built.
	starts, err := d.scanBounded()
	if err != nil {
		return nil, ErrorList{err}
	}
	et := etree.NewDocument()
	et.ReadSettings.PreserveDuplicateAttrs = true // so that duplicates are reported, not merged
	et.ReadSettings.MaxDepth = MaxDepth           // a backstop: the scan has checked the depth
	if err := et.ReadFromBytes(data); err != nil {
		return nil, ErrorList{d.syntaxError(err)}
	}
	var roots []*etree.Element
	for _, t := range et.Child {
		switch t := t.(type) {
		case *etree.Element:
			roots = append(roots, t)
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, ErrorList{d.errAt(d.offsetOfText(), "text outside the root element; expected only the root element, comments and processing instructions")}
			}
		}
	}
	d.indexElements(et, starts)
	switch {
	case len(roots) == 0:
		return nil, ErrorList{d.errAt(len(data), "no root element; expected an XML document")}
	case len(roots) > 1:
		return nil, ErrorList{d.errorAt(roots[1], "a second root element <%s>; expected exactly one root element", roots[1].FullTag())}
	}
	d.root = roots[0]
	return d, nil
}

// scanBounded finds the start tags of the file and checks MaxElements, MaxDepth and
// MaxTokenLen on the way.
func (d *doc) scanBounded() ([]int, *Error) {
	var out []int
	depth, prevEnd := 0, 0
	var tooLong *Error
	at := scanTags(d.src, func(off, end int, kind tagKind) bool {
		if off-prevEnd > MaxTokenLen {
			tooLong = d.errAt(prevEnd, "%d bytes of text without markup; expected at most %d bytes of text in one place", off-prevEnd, MaxTokenLen)
			return false
		}
		if end-off > MaxTokenLen {
			what := "tag"
			if kind == otherMarkup {
				what = "comment, CDATA section or declaration"
			}
			tooLong = d.errAt(off, "a %s of %d bytes; expected at most %d bytes in one %s", what, end-off, MaxTokenLen, what)
			return false
		}
		prevEnd = end
		switch kind {
		case otherMarkup:
			return true
		case endTag:
			depth = max(depth-1, 0)
			return true
		}
		if len(out) == MaxElements || depth+1 > MaxDepth {
			return false
		}
		out = append(out, off)
		if kind == startTag {
			depth++
		}
		return true
	})
	switch {
	case tooLong != nil:
		return nil, tooLong
	case at < 0 && len(d.src)-prevEnd > MaxTokenLen:
		return nil, d.errAt(prevEnd, "%d bytes of text without markup; expected at most %d bytes of text in one place", len(d.src)-prevEnd, MaxTokenLen)
	case at < 0:
		return out, nil
	case len(out) == MaxElements:
		return nil, d.errAt(at, "more than %d elements; expected a file of at most %d elements", MaxElements, MaxElements)
	default:
		return nil, d.errAt(at, "elements nested more than %d deep; expected at most %d levels", MaxDepth, MaxDepth)
	}
}

// toUTF8 drops a UTF-8 byte order mark and converts UTF-16 with a byte order mark (Windows
// editors save XML that way) to UTF-8, in one pass into one buffer.
func toUTF8(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return b[3:]
	case len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF):
		le := b[0] == 0xFF
		b = b[2:]
		unit := func(i int) rune {
			if le {
				return rune(b[2*i]) | rune(b[2*i+1])<<8
			}
			return rune(b[2*i])<<8 | rune(b[2*i+1])
		}
		n := len(b) / 2
		out := make([]byte, 0, n*3/2+4)
		for i := 0; i < n; i++ {
			r := unit(i)
			if utf16.IsSurrogate(r) && i+1 < n {
				if dec := utf16.DecodeRune(r, unit(i+1)); dec != utf8.RuneError {
					r = dec
					i++
				}
			}
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError // a lone surrogate, as utf16.Decode reads it
			}
			out = utf8.AppendRune(out, r)
		}
		return out
	}
	return b
}

// lineIndex turns offsets into lines and columns with a few bytes per KiB of input: for each
// block of lineBlock bytes, the lines that start before it and where the last of them starts.
// A lookup scans at most one block, whatever the lines' lengths.
type lineIndex struct {
	src       []byte
	before    []int32 // newlines before the block
	lastStart []int32 // offset where the line running into the block starts
}

const lineBlock = 1024

func newLineIndex(b []byte) lineIndex {
	n := len(b)/lineBlock + 1
	li := lineIndex{src: b, before: make([]int32, n), lastStart: make([]int32, n)}
	lines, start := 0, 0
	for blk := 0; blk < n; blk++ {
		li.before[blk], li.lastStart[blk] = int32(lines), int32(start)
		seg := b[blk*lineBlock : min((blk+1)*lineBlock, len(b))]
		for i := bytes.IndexByte(seg, '\n'); i >= 0; {
			lines++
			start = blk*lineBlock + i + 1
			j := bytes.IndexByte(seg[i+1:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
		}
	}
	return li
}

// pos turns a byte offset into a position.
func (d *doc) pos(off int) Pos {
	if off < 0 {
		return Pos{File: d.file}
	}
	off = min(off, len(d.src))
	li := &d.lines
	blk := off / lineBlock
	seg := li.src[blk*lineBlock : off]
	line := int(li.before[blk]) + bytes.Count(seg, []byte{'\n'})
	start := int(li.lastStart[blk])
	if i := bytes.LastIndexByte(seg, '\n'); i >= 0 {
		start = blk*lineBlock + i + 1
	}
	return Pos{File: d.file, Line: line + 1, Col: off - start + 1}
}

func (d *doc) errAt(off int, format string, args ...any) *Error {
	return &Error{Pos: d.pos(off), Msg: fmt.Sprintf(format, args...)}
}

// offset of an element's '<', or -1 when unknown.
func (d *doc) offset(el *etree.Element) int {
	if off, ok := d.start[el]; ok {
		return off
	}
	return -1
}

// elemPos is where el starts.
func (d *doc) elemPos(el *etree.Element) Pos { return d.pos(d.offset(el)) }

// attrPos is where attribute name of el starts, or where el starts if it cannot be found.
func (d *doc) attrPos(el *etree.Element, name string) Pos {
	off := d.offset(el)
	if off < 0 {
		return d.pos(off)
	}
	end := tagEnd(d.src, off)
	tag := d.src[off:end]
	for i := 0; i+len(name) <= len(tag); i++ {
		if i > 0 && isSpace(tag[i-1]) && string(tag[i:i+len(name)]) == name {
			j := i + len(name)
			for j < len(tag) && isSpace(tag[j]) {
				j++
			}
			if j < len(tag) && tag[j] == '=' {
				return d.pos(off + i)
			}
		}
	}
	return d.pos(off)
}

func (d *doc) errorAt(el *etree.Element, format string, args ...any) *Error {
	return &Error{Pos: d.elemPos(el), Msg: fmt.Sprintf(format, args...)}
}

// errorf records a problem with element el.
func (d *doc) errorf(el *etree.Element, format string, args ...any) {
	d.add(d.errorAt(el, format, args...))
}

// attrErrorf records a problem with attribute name of el.
func (d *doc) attrErrorf(el *etree.Element, name, format string, args ...any) {
	d.add(&Error{Pos: d.attrPos(el, name), Msg: fmt.Sprintf(format, args...)})
}

func (d *doc) add(e *Error) {
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, e)
	}
}

// result returns the recorded problems in file order, or nil.
func (d *doc) result() error {
	if len(d.errs) == 0 {
		return nil
	}
	sort.SliceStable(d.errs, func(i, j int) bool {
		a, b := d.errs[i].Pos, d.errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return d.errs
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// tagEnd returns the offset just past the '>' closing the tag that starts at off, honoring
// quoted attribute values (which may hold '>').
func tagEnd(b []byte, off int) int {
	var quote byte
	for i := off + 1; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(b)
}

type tagKind int

const (
	startTag    tagKind = iota // <a>
	emptyTag                   // <a/>
	endTag                     // </a>
	otherMarkup                // comment, CDATA, processing instruction, declaration
)

// scanTags calls f for every piece of markup of b, in document order, with the offsets of its
// '<' and past its end; element tags are told apart from the rest (comments, CDATA, processing
// instructions, declarations). It returns the offset of the markup f stopped at, or -1.
func scanTags(b []byte, f func(off, end int, kind tagKind) bool) int {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := b[i:]
		kind, end := otherMarkup, 0
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = skipPast(b, i+4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end = skipPast(b, i+9, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			end = skipPast(b, i+2, "?>")
		case bytes.HasPrefix(rest, []byte("<!")):
			end = skipDecl(b, i+2)
		default:
			end = tagEnd(b, i)
			kind = startTag
			switch {
			case bytes.HasPrefix(rest, []byte("</")):
				kind = endTag
			case end >= 2 && b[end-1] == '>' && b[end-2] == '/':
				kind = emptyTag
			}
		}
		if !f(i, end, kind) {
			return i
		}
		i = end
	}
	return -1
}

func skipPast(b []byte, i int, end string) int {
	j := bytes.Index(b[i:], []byte(end))
	if j < 0 {
		return len(b)
	}
	return i + j + len(end)
}

// skipDecl skips a <!DOCTYPE ...> or similar declaration, with its [internal subset].
func skipDecl(b []byte, i int) int {
	depth := 0
	var quote byte
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '<' && bytes.HasPrefix(b[i:], []byte("<!--")):
			i = skipPast(b, i+4, "-->") - 1
		case c == '>' && depth <= 0:
			return i + 1
		}
	}
	return len(b)
}

// indexElements maps every element of et to the offset of its start tag; starts is the scan
// of the bytes.
func (d *doc) indexElements(et *etree.Document, starts []int) {
	var els []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		els = append(els, e)
		for _, c := range e.Child {
			if ce, ok := c.(*etree.Element); ok {
				walk(ce)
			}
		}
	}
	for _, t := range et.Child {
		if e, ok := t.(*etree.Element); ok {
			walk(e)
		}
	}
	if len(starts) != len(els) {
		starts = decoderStarts(d.src)
	}
	d.start = make(map[*etree.Element]int, len(els))
	for i, e := range els {
		if i < len(starts) {
			d.start[e] = starts[i]
		}
	}
}

// decoderStarts is the slow, sure way to find start tags: encoding/xml's own tokenizer.
func decoderStarts(b []byte) []int {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = passThrough
	var out []int
	for {
		off := dec.InputOffset()
		t, err := dec.RawToken()
		if err != nil {
			return out
		}
		if _, ok := t.(xml.StartElement); ok {
			out = append(out, int(off))
		}
	}
}

func passThrough(_ string, r io.Reader) (io.Reader, error) { return r, nil }

// syntaxError locates a well-formedness error that etree reported, by reading the file again
// with encoding/xml's strict decoder, which says where it stopped.
func (d *doc) syntaxError(etreeErr error) *Error {
	dec := xml.NewDecoder(bytes.NewReader(d.src))
	dec.CharsetReader = passThrough
	depth := 0
	for {
		t, err := dec.Token()
		if err == io.EOF {
			if depth > 0 {
				return d.errAt(len(d.src), "malformed XML: unexpected end of file inside an element; expected its end tag")
			}
			break
		}
		if err != nil {
			line, col := dec.InputPos()
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
				if se.Line != line {
					col = 1
					line = se.Line
				}
			}
			return &Error{Pos: Pos{File: d.file, Line: max(line, 1), Col: max(col, 1)}, Msg: "malformed XML: " + msg + "; expected well-formed XML"}
		}
		switch t.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	msg := etreeErr.Error()
	switch {
	case errors.Is(etreeErr, etree.ErrXML):
		msg = "unbalanced or misplaced tags"
	case errors.Is(etreeErr, etree.ErrMaxDepth):
		return d.errAt(0, "elements nested more than %d deep; expected at most %d levels", MaxDepth, MaxDepth)
	}
	return d.errAt(0, "malformed XML: %s; expected well-formed XML", msg)
}

// offsetOfText finds the first non-blank text outside the root element, for its position.
func (d *doc) offsetOfText() int {
	dec := xml.NewDecoder(bytes.NewReader(d.src))
	dec.CharsetReader = passThrough
	depth := 0
	for {
		off := dec.InputOffset()
		t, err := dec.RawToken()
		if err != nil {
			return 0
		}
		switch t := t.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return int(off) + (len(t) - len(bytes.TrimLeft(t, " \t\r\n")))
			}
		}
	}
}
