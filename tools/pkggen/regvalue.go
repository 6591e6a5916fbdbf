package pkggen

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/registry"
)

// regValueData encodes a <RegValue>'s Type and Value attributes as the documented forms
// (specifying-files-and-registry-entries-in-a-package-project-file.md) give them: REG_SZ and
// REG_EXPAND_SZ plain text (a NUL appended), REG_MULTI_SZ strings separated by ';', REG_DWORD
// and REG_QWORD hexadecimal without 0x, REG_BINARY hex bytes separated by ',', REG_HEX
// "hex(x):" then hex bytes, x the registry type's number. It returns the value's registry type
// (REG_HEX becomes the type its prefix names) and data. Errors say what was expected.
func regValueData(typ, value string) (string, []byte, error) {
	switch typ {
	case "REG_SZ", "REG_EXPAND_SZ":
		return typ, utf16z(value), nil
	case "REG_MULTI_SZ":
		return typ, multiSz(strings.Split(value, ";")), nil
	case "REG_DWORD", "REG_QWORD":
		bits := 32
		if typ == "REG_QWORD" {
			bits = 64
		}
		if value == "" || strings.HasPrefix(value, "0x") || strings.HasPrefix(value, "0X") || strings.HasPrefix(value, "+") || strings.HasPrefix(value, "-") {
			return "", nil, fmt.Errorf("Value=%s: expected a %d-bit hexadecimal number without 0x, e.g. 1234ABCD", quote(value), bits)
		}
		n, err := strconv.ParseUint(value, 16, bits)
		if err != nil {
			return "", nil, fmt.Errorf("Value=%s: expected a %d-bit hexadecimal number without 0x, e.g. 1234ABCD", quote(value), bits)
		}
		if bits == 32 {
			return typ, le32(uint32(n)), nil
		}
		return typ, binary.LittleEndian.AppendUint64(nil, n), nil
	case "REG_BINARY":
		d, err := hexBytes(value)
		if err != nil {
			return "", nil, fmt.Errorf("Value=%s: %v", quote(value), err)
		}
		return typ, d, nil
	case "REG_HEX":
		rest, ok := strings.CutPrefix(value, "hex(")
		code, bytes, ok2 := strings.Cut(rest, "):")
		if !ok || !ok2 {
			return "", nil, fmt.Errorf("Value=%s: expected hex(x): then hex bytes separated by ',', e.g. hex(7):1A,2B,3D", quote(value))
		}
		n, err := strconv.ParseUint(code, 16, 8)
		name := ""
		for t, c := range registry.TypeCodes {
			if err == nil && uint64(c) == n {
				name = t
			}
		}
		if name == "" {
			return "", nil, fmt.Errorf("Value=%s: hex(%s): expected a registry type number this tool writes: 1 (REG_SZ), 2 (REG_EXPAND_SZ), 3 (REG_BINARY), 4 (REG_DWORD), 7 (REG_MULTI_SZ) or b (REG_QWORD)", quote(value), clip(code))
		}
		d, err := hexBytes(bytes)
		if err != nil {
			return "", nil, fmt.Errorf("Value=%s: %v", quote(value), err)
		}
		return name, d, nil
	}
	return "", nil, fmt.Errorf("Type=%s: expected REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY or REG_HEX", quote(typ))
}

func utf16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	d := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		d = append(d, byte(c), byte(c>>8))
	}
	return append(d, 0, 0)
}

// le32 is a REG_DWORD's data.
func le32(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }

// multiSz is a REG_MULTI_SZ's data: each string with its NUL, then the list's NUL.
func multiSz(ss []string) []byte {
	var d []byte
	for _, s := range ss {
		d = append(d, utf16z(s)...)
	}
	return append(d, 0, 0)
}

// hexBytes reads bytes written as two hex digits each, separated by ','; "" is no bytes.
func hexBytes(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	d := make([]byte, 0, len(parts))
	for i, p := range parts {
		b, err := strconv.ParseUint(strings.TrimSpace(p), 16, 8)
		if err != nil || len(strings.TrimSpace(p)) != 2 {
			return nil, fmt.Errorf("byte %d is %s; expected two hexadecimal digits, bytes separated by ','", i+1, quote(p))
		}
		d = append(d, byte(b))
	}
	return d, nil
}
