package ffu

import (
	"bytes"
	"fmt"
	"strings"
)

// Manifest is the FFU manifest: an ASCII INI text of [FullFlash], then for each store a [Store]
// section followed by its [Partition] sections. Sections and keys keep their order in the file.
type Manifest struct {
	Sections []Section
}

// Section is one [Name] of the manifest.
type Section struct {
	Name string
	Keys []KeyValue
}

// KeyValue is one "key = value" line.
type KeyValue struct {
	Key, Value string
}

// Get returns the value of key (keys compare exactly, as the Microsoft reader's Hashtable does).
func (s *Section) Get(key string) (string, bool) {
	for _, kv := range s.Keys {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Section returns the first section called name, or nil.
func (m *Manifest) Section(name string) *Section {
	for i := range m.Sections {
		if m.Sections[i].Name == name {
			return &m.Sections[i]
		}
	}
	return nil
}

// StoreSections groups the [Store] sections with the [Partition] sections after each.
func (m *Manifest) StoreSections() []StoreSection {
	var out []StoreSection
	for i := range m.Sections {
		s := &m.Sections[i]
		switch s.Name {
		case "Store":
			out = append(out, StoreSection{Store: s})
		case "Partition":
			if len(out) > 0 {
				out[len(out)-1].Partitions = append(out[len(out)-1].Partitions, s)
			}
		}
	}
	return out
}

// StoreSection is a [Store] section and its partitions.
type StoreSection struct {
	Store      *Section
	Partitions []*Section
}

// Bytes formats the manifest as ImageApp does: "[Name]\r\n", then each key padded with spaces
// to the section's longest key plus one, "= value\r\n", and an empty line after each section.
func (m *Manifest) Bytes() []byte {
	var b bytes.Buffer
	for _, s := range m.Sections {
		b.WriteString("[" + s.Name + "]\r\n")
		width := 0
		for _, kv := range s.Keys {
			width = max(width, len(kv.Key))
		}
		for _, kv := range s.Keys {
			b.WriteString(kv.Key)
			b.WriteString(strings.Repeat(" ", width+1-len(kv.Key)))
			b.WriteString("= " + kv.Value + "\r\n")
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// MaxManifestBytes bounds the manifest an FFU may hold. ImageApp's manifests are a few KB
// (one [Partition] section of some 300 bytes per partition); the bound keeps a hostile image
// header from making the reader allocate and parse megabytes of text.
const MaxManifestBytes = 1 << 20

// ParseManifest reads a manifest. Like the Microsoft reader it accepts "key = value" with any
// spacing and lines that continue a Description value; unlike it, it rejects text that is not
// ASCII, keys outside a section, a key given twice in one section, lines it cannot read
// (naming the line) and text longer than MaxManifestBytes. Its cost is linear in the text.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("manifest of %d bytes is over the limit of %d bytes", len(data), MaxManifestBytes)
	}
	p := manifestParser{m: &Manifest{}}
	for i, line := range strings.Split(string(data), "\n") {
		if err := p.line(i+1, strings.TrimSuffix(line, "\r")); err != nil {
			return nil, err
		}
	}
	p.flush()
	return p.m, nil
}

// manifestParser keeps, for the section being read, the keys seen (for the duplicate check)
// and a Description value still taking continuation lines, built without repeated +=.
type manifestParser struct {
	m    *Manifest
	cur  *Section
	seen map[string]bool
	desc *strings.Builder // the last key is Description: its value so far
}

// flush stores a Description value that took continuation lines.
func (p *manifestParser) flush() {
	if p.desc != nil {
		p.cur.Keys[len(p.cur.Keys)-1].Value = p.desc.String()
		p.desc = nil
	}
}

func (p *manifestParser) line(n int, line string) error {
	for j := 0; j < len(line); j++ {
		if c := line[j]; c >= 0x80 || (c < 0x20 && c != '\t') {
			return fmt.Errorf("manifest line %d: byte %#02x is not printable ASCII", n, c)
		}
	}
	t := strings.TrimSpace(line)
	if t == "" {
		return nil
	}
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		name := t[1 : len(t)-1]
		if name == "" || strings.ContainsAny(name, "[]") {
			return fmt.Errorf("manifest line %d: bad section name %q", n, t)
		}
		p.flush()
		p.m.Sections = append(p.m.Sections, Section{Name: name})
		p.cur = &p.m.Sections[len(p.m.Sections)-1]
		p.seen = map[string]bool{}
		return nil
	}
	key, value, ok := strings.Cut(t, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.ContainsAny(key, " \t") {
		if p.cur != nil && len(p.cur.Keys) > 0 && p.cur.Keys[len(p.cur.Keys)-1].Key == "Description" {
			// The Microsoft reader appends such lines to a Description value.
			if p.desc == nil {
				p.desc = &strings.Builder{}
				p.desc.WriteString(p.cur.Keys[len(p.cur.Keys)-1].Value)
			}
			p.desc.WriteString("\r\n")
			p.desc.WriteString(line)
			return nil
		}
		return fmt.Errorf("manifest line %d: not a [section] or key = value: %q", n, t)
	}
	if p.cur == nil {
		return fmt.Errorf("manifest line %d: key %q before any [section]", n, key)
	}
	if p.seen[key] {
		return fmt.Errorf("manifest line %d: key %q given twice in [%s]", n, key, p.cur.Name)
	}
	p.flush()
	p.seen[key] = true
	p.cur.Keys = append(p.cur.Keys, KeyValue{key, strings.TrimSpace(value)})
	return nil
}
