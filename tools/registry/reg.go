// Package registry renders registry values as a Registry Editor 5.00 (.reg) file, the form in
// which packages carry registry settings (\Windows\Packages\RegistryFiles\<package>.reg, FORMATS.md
// SPKG section) and customization writes OEMSettings.reg. One writer for both.
package registry

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
)

// Value is one registry value. Name "@" is the key's default value. A Value with neither Name
// nor Type only names its key: the key is written, with no value (an empty key). Data is the value's
// registry data: UTF-16LE strings with their NULs, little-endian numbers.
type Value struct {
	Key, Name string
	Type      string // REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD
	Data      []byte
}

// TypeCodes are the hex(N) codes of .reg files, by type name.
var TypeCodes = map[string]int{"REG_SZ": 1, "REG_EXPAND_SZ": 2, "REG_BINARY": 3, "REG_DWORD": 4, "REG_MULTI_SZ": 7, "REG_QWORD": 11}

// File renders values as a Registry Editor 5.00 file: UTF-16LE with a byte order mark and CRLF
// line ends, as regedit and the Windows imaging tools write them. Keys are sorted ignoring case
// (the first spelling seen is kept), values by name ignoring case with the default value first;
// REG_SZ (one line, no NUL inside) and REG_DWORD (4 bytes) are written as text, everything else
// as hex(N): bytes on one line. An unknown type is an error.
func File(values []Value) ([]byte, error) {
	byKey := map[string][]Value{}
	spelling := map[string]string{}
	var keys []string
	for _, v := range values {
		if _, ok := TypeCodes[v.Type]; !ok && (v.Type != "" || v.Name != "") {
			return nil, fmt.Errorf("registry value %s\\%s: unknown type %q", v.Key, v.Name, v.Type)
		}
		k := strings.ToLower(v.Key)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
			spelling[k] = v.Key
		}
		byKey[k] = append(byKey[k], v)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("Windows Registry Editor Version 5.00\r\n")
	for _, k := range keys {
		vs := byKey[k]
		sort.SliceStable(vs, func(i, j int) bool {
			a, c := vs[i].Name, vs[j].Name
			if (a == "@") != (c == "@") {
				return a == "@"
			}
			return strings.ToLower(a) < strings.ToLower(c)
		})
		fmt.Fprintf(&b, "\r\n[%s]\r\n", spelling[k])
		for _, v := range vs {
			if v.Type == "" {
				continue // the key alone
			}
			name := "@"
			if v.Name != "@" {
				name = quote(v.Name)
			}
			b.WriteString(name + "=" + data(v) + "\r\n")
		}
	}
	u := utf16.Encode([]rune(b.String()))
	var out bytes.Buffer
	out.Grow(2 + 2*len(u))
	out.Write([]byte{0xFF, 0xFE})
	for _, c := range u {
		out.WriteByte(byte(c))
		out.WriteByte(byte(c >> 8))
	}
	return out.Bytes(), nil
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// text decodes REG_SZ data that .reg text can carry: UTF-16LE ending in its one NUL, none
// inside, no line break.
func text(d []byte) (string, bool) {
	if len(d) < 2 || len(d)%2 != 0 || d[len(d)-2] != 0 || d[len(d)-1] != 0 {
		return "", false
	}
	u := make([]uint16, 0, len(d)/2-1)
	for i := 0; i+2 < len(d); i += 2 {
		c := uint16(d[i]) | uint16(d[i+1])<<8
		if c == 0 || c == '\r' || c == '\n' {
			return "", false
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), true
}

func data(v Value) string {
	switch v.Type {
	case "REG_SZ":
		if s, ok := text(v.Data); ok {
			return quote(s)
		}
	case "REG_DWORD":
		if len(v.Data) == 4 {
			return fmt.Sprintf("dword:%02x%02x%02x%02x", v.Data[3], v.Data[2], v.Data[1], v.Data[0])
		}
	}
	hexes := make([]string, len(v.Data))
	for i, c := range v.Data {
		hexes[i] = fmt.Sprintf("%02x", c)
	}
	prefix := "hex:"
	if v.Type != "REG_BINARY" {
		prefix = fmt.Sprintf("hex(%x):", TypeCodes[v.Type])
	}
	return prefix + strings.Join(hexes, ",")
}
