package customization

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/answerfile"
)

// regEntry is one registry value of OEMSettings.reg.
type regEntry struct {
	Key, Name string // Name "@" is the key's default value
	Value     answerfile.Value
}

// regTypeCodes are the hex(N) codes of .reg files.
var regTypeCodes = map[string]int{"REG_SZ": 1, "REG_EXPAND_SZ": 2, "REG_BINARY": 3, "REG_DWORD": 4, "REG_MULTI_SZ": 7, "REG_QWORD": 11}

// regFile renders entries as a Registry Editor 5.00 file: UTF-16LE with a byte order mark and
// CRLF line ends, as regedit and the Windows imaging tools write them. Keys are sorted ignoring
// case, values by name with the default value first; REG_SZ and REG_DWORD are written as text,
// the other types as hex(N): bytes, on one line each.
func regFile(entries []regEntry) []byte {
	byKey := map[string][]regEntry{}
	var keys []string
	for _, e := range entries {
		k := strings.ToLower(e.Key)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], e)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("Windows Registry Editor Version 5.00\r\n")
	for _, k := range keys {
		es := byKey[k]
		sort.SliceStable(es, func(i, j int) bool {
			a, c := es[i].Name, es[j].Name
			if (a == "@") != (c == "@") {
				return a == "@"
			}
			return strings.ToLower(a) < strings.ToLower(c)
		})
		fmt.Fprintf(&b, "\r\n[%s]\r\n", es[0].Key)
		for _, e := range es {
			name := "@"
			if e.Name != "@" {
				name = quote(e.Name)
			}
			b.WriteString(name + "=" + regData(e.Value) + "\r\n")
		}
	}
	u := utf16.Encode([]rune(b.String()))
	var out bytes.Buffer
	out.Write([]byte{0xFF, 0xFE})
	for _, c := range u {
		out.WriteByte(byte(c))
		out.WriteByte(byte(c >> 8))
	}
	return out.Bytes()
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

func regData(v answerfile.Value) string {
	switch v.Type {
	case "REG_SZ":
		if !strings.ContainsAny(v.Text, "\r\n") {
			return quote(v.Text)
		}
	case "REG_DWORD":
		return fmt.Sprintf("dword:%02x%02x%02x%02x", v.Data[3], v.Data[2], v.Data[1], v.Data[0])
	}
	hexes := make([]string, len(v.Data))
	for i, c := range v.Data {
		hexes[i] = fmt.Sprintf("%02x", c)
	}
	prefix := "hex:"
	if v.Type != "REG_BINARY" {
		prefix = fmt.Sprintf("hex(%x):", regTypeCodes[v.Type])
	}
	return prefix + strings.Join(hexes, ",")
}
