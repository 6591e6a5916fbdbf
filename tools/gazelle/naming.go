package gazelle

import (
	"sort"
	"strings"
	"unicode"
)

// snake turns a file stem or package name part into a target name: ContosoFM -> contoso_fm,
// MSOptionalFeatures -> ms_optional_features, Contoso.Apps.Camera -> contoso_apps_camera.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		switch {
		case unicode.IsUpper(c):
			if i > 0 {
				prev := r[i-1]
				nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(unicode.ToLower(c))
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return cleanName(b.String())
}

// cleanName collapses runs of '_' and trims them, so that empty placeholders leave no trace.
func cleanName(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == '_' && (b.Len() == 0 || strings.HasSuffix(b.String(), "_")) {
			continue
		}
		b.WriteRune(c)
	}
	return strings.TrimRight(b.String(), "_")
}

// expandName fills a naming template's {placeholders}; unknown ones stay as they are.
func expandName(template string, values map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			b.WriteString(template)
			break
		}
		j := strings.IndexByte(template[i:], '}')
		if j < 0 {
			b.WriteString(template)
			break
		}
		key := template[i+1 : i+j]
		b.WriteString(template[:i])
		if v, ok := values[key]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(template[i : i+j+1])
		}
		template = template[i+j+1:]
	}
	return cleanName(b.String())
}

// stemOf is the file name without its extension (.xml, .pkg.xml), and for an OEMInput without
// an "OEMInput" suffix: RetailOEMInput.xml -> Retail.
func stemOf(name, kind string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".pkg.xml"):
		name = name[:len(name)-len(".pkg.xml")]
	case strings.HasSuffix(lower, ".xml"):
		name = name[:len(name)-len(".xml")]
	}
	if kind == nameImage {
		if strings.HasSuffix(strings.ToLower(name), "oeminput") {
			if s := strings.TrimRight(name[:len(name)-len("OEMInput")], "._-"); s != "" {
				name = s
			}
		}
	}
	return name
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
