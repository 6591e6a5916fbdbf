package answerfile

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Value is a setting's value as the registry stores it.
type Value struct {
	Type string // REG_SZ, REG_DWORD, ...
	Data []byte // the registry data: UTF-16LE strings with their NULs, little-endian numbers
	Text string // the value as written after option look-up (for provisioning documents)
}

// Encode checks an answer file's value against the declared setting and encodes it:
//   - options: the option's value or its friendly name;
//   - REG_DWORD / REG_QWORD: decimal, or hexadecimal with 0x;
//   - REG_MULTI_SZ: strings separated by ';';
//   - REG_BINARY: hexadecimal bytes separated by ',' ("E8,03"), without 0x;
//   - REG_SZ / REG_EXPAND_SZ: the text.
func Encode(s *SettingPolicy, value string) (Value, error) {
	typ := s.Type()
	if len(s.Options) > 0 {
		lit, err := pickOption(typ, s.Options, value)
		if err != nil {
			return Value{}, err
		}
		value = lit
	}
	v := Value{Type: typ, Text: value}
	switch typ {
	case "REG_DWORD", "REG_QWORD":
		bits := 32
		if typ == "REG_QWORD" {
			bits = 64
		}
		n, err := parseNumber(value, bits)
		if err != nil {
			return Value{}, fmt.Errorf("value %q is not a %s; expected a decimal number or 0x followed by hexadecimal digits, at most %d bits", value, typ, bits)
		}
		if s.Min != nil && int64(n) < *s.Min || s.Max != nil && int64(n) > *s.Max {
			return Value{}, fmt.Errorf("value %q is out of range; expected %s", value, rangeText(s))
		}
		v.Data = binary.LittleEndian.AppendUint64(nil, n)[:bits/8]
	case "REG_BINARY":
		b, err := parseBinary(value)
		if err != nil {
			return Value{}, err
		}
		v.Data = b
	case "REG_MULTI_SZ":
		parts := strings.Split(value, ";")
		for _, p := range parts {
			if err := checkLength(s, p); err != nil {
				return Value{}, err
			}
			v.Data = append(v.Data, utf16z(p)...)
		}
		v.Data = append(v.Data, 0, 0)
	default: // REG_SZ, REG_EXPAND_SZ
		if err := checkLength(s, value); err != nil {
			return Value{}, err
		}
		v.Data = utf16z(value)
	}
	return v, nil
}

// MultiSZ encodes strings as a REG_MULTI_SZ value.
func MultiSZ(items []string) Value {
	v := Value{Type: "REG_MULTI_SZ", Text: strings.Join(items, ";")}
	for _, s := range items {
		v.Data = append(v.Data, utf16z(s)...)
	}
	v.Data = append(v.Data, 0, 0)
	return v
}

// SZ encodes a REG_SZ value.
func SZ(s string) Value { return Value{Type: "REG_SZ", Data: utf16z(s), Text: s} }

func utf16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return append(out, 0, 0)
}

func parseNumber(s string, bits int) (uint64, error) {
	s = strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		return strconv.ParseUint(h, 16, bits)
	}
	if h, ok := strings.CutPrefix(s, "0X"); ok {
		return strconv.ParseUint(h, 16, bits)
	}
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 10, bits)
		return uint64(n) & (1<<bits - 1), err
	}
	return strconv.ParseUint(s, 10, bits)
}

func parseBinary(s string) ([]byte, error) {
	if strings.TrimSpace(s) == "" {
		return []byte{}, nil
	}
	var out []byte
	for i, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(strings.ToLower(p), "0x") {
			return nil, fmt.Errorf("value %q: byte %d is %q; expected hexadecimal bytes without 0x, separated by ',' (e.g. E8,03)", s, i+1, p)
		}
		b, err := strconv.ParseUint(p, 16, 8)
		if err != nil || p == "" {
			return nil, fmt.Errorf("value %q: byte %d is %q; expected hexadecimal bytes separated by ',' (e.g. E8,03)", s, i+1, p)
		}
		out = append(out, byte(b))
	}
	return out, nil
}

func checkLength(s *SettingPolicy, v string) error {
	n := len(utf16.Encode([]rune(v)))
	if s.MinLen != nil && n < *s.MinLen || s.MaxLen != nil && n > *s.MaxLen {
		lo, hi := "0", "any"
		if s.MinLen != nil {
			lo = strconv.Itoa(*s.MinLen)
		}
		if s.MaxLen != nil {
			hi = strconv.Itoa(*s.MaxLen)
		}
		return fmt.Errorf("value %q has %d characters; expected %s to %s", v, n, lo, hi)
	}
	return nil
}

func rangeText(s *SettingPolicy) string {
	lo, hi := "any", "any"
	if s.Min != nil {
		lo = strconv.FormatInt(*s.Min, 10)
	}
	if s.Max != nil {
		hi = strconv.FormatInt(*s.Max, 10)
	}
	return "from " + lo + " to " + hi
}

// optionLiteral turns an option's value into answer-file syntax: numeric options are
// hexadecimal without 0x in policy files.
func optionLiteral(typ, v string) string {
	if typ == "REG_DWORD" || typ == "REG_QWORD" {
		return "0x" + strings.TrimSpace(v)
	}
	return v
}

// pickOption matches a value against the options: by value (numerically for numbers), else by
// friendly name (exactly, then ignoring case).
func pickOption(typ string, opts []Option, value string) (string, error) {
	numeric := typ == "REG_DWORD" || typ == "REG_QWORD"
	for _, o := range opts {
		lit := optionLiteral(typ, o.Value)
		if numeric {
			a, err1 := parseNumber(value, 64)
			b, err2 := parseNumber(lit, 64)
			if err1 == nil && err2 == nil && a == b {
				return lit, nil
			}
		} else if value == o.Value {
			return lit, nil
		}
	}
	for _, fold := range []bool{false, true} {
		for _, o := range opts {
			if o.FriendlyName != "" && (o.FriendlyName == value || fold && strings.EqualFold(o.FriendlyName, value)) {
				return optionLiteral(typ, o.Value), nil
			}
		}
	}
	var list []string
	for _, o := range opts {
		if o.FriendlyName != "" {
			list = append(list, fmt.Sprintf("%s (%s)", optionLiteral(typ, o.Value), o.FriendlyName))
		} else {
			list = append(list, optionLiteral(typ, o.Value))
		}
	}
	return "", fmt.Errorf("value %q is not an option of the setting; expected one of %s, by value or friendly name", value, strings.Join(list, ", "))
}
