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

// ParseManifest reads a manifest. Like the Microsoft reader it accepts "key = value" with any
// spacing and lines that continue a Description value; unlike it, it rejects text that is not
// ASCII, keys outside a section, a key given twice in one section and lines it cannot read,
// naming the line.
func ParseManifest(data []byte) (*Manifest, error) {
	m := &Manifest{}
	var cur *Section
	lastKey := ""
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		for j := 0; j < len(line); j++ {
			if c := line[j]; c >= 0x80 || (c < 0x20 && c != '\t') {
				return nil, fmt.Errorf("manifest line %d: byte %#02x is not printable ASCII", n, c)
			}
		}
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			name := t[1 : len(t)-1]
			if name == "" || strings.ContainsAny(name, "[]") {
				return nil, fmt.Errorf("manifest line %d: bad section name %q", n, t)
			}
			m.Sections = append(m.Sections, Section{Name: name})
			cur = &m.Sections[len(m.Sections)-1]
			lastKey = ""
			continue
		}
		key, value, ok := strings.Cut(t, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			if cur != nil && lastKey == "Description" {
				// The Microsoft reader appends such lines to a Description value.
				kv := &cur.Keys[len(cur.Keys)-1]
				kv.Value += "\r\n" + line
				continue
			}
			return nil, fmt.Errorf("manifest line %d: not a [section] or key = value: %q", n, t)
		}
		if cur == nil {
			return nil, fmt.Errorf("manifest line %d: key %q before any [section]", n, key)
		}
		if _, dup := cur.Get(key); dup {
			return nil, fmt.Errorf("manifest line %d: key %q given twice in [%s]", n, key, cur.Name)
		}
		cur.Keys = append(cur.Keys, KeyValue{key, strings.TrimSpace(value)})
		lastKey = key
	}
	return m, nil
}
