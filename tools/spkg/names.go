// Package spkg reads and writes mobile packages (.spkg): a cabinet holding the device-side
// manifest man.dsm.xml, the catalog content.cat and the payload (FORMATS.md section 2).
package spkg

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Limits and patterns of package names (PackageTools.BuildPackageName and the DSM schema).
const (
	maxPartLen       = 64
	maxDevicePathLen = 260 // MAX_PATH: device paths are partition-relative Windows paths
)

var (
	partPattern       = regexp.MustCompile(`^[0-9A-Za-z_\-.]+$`)
	culturePattern    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]+$`)
	resolutionPattern = regexp.MustCompile(`^[0-9]+x[0-9]+$`)
)

// Identity is the identity of a package.
type Identity struct {
	Owner        string
	Component    string
	SubComponent string
	Version      Version
}

// Version is a package version a.b.c.d (Major, Minor, QFE, Build).
type Version struct{ Major, Minor, QFE, Build uint16 }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.QFE, v.Build) }

// ParseVersion parses "a.b.c.d", each part 0 to 65535.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return Version{}, fmt.Errorf("version %q: expected four numbers a.b.c.d", s)
	}
	var n [4]uint16
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return Version{}, fmt.Errorf("version %q: part %q is not a number from 0 to 65535", s, p)
		}
		n[i] = uint16(v)
	}
	return Version{n[0], n[1], n[2], n[3]}, nil
}

// Name is the package name: Owner.Component[.SubComponent][_Lang_culture][_RES_resolution]
// (culture and resolution are exclusive; "_RES_" is upper case as PackageTools writes it).
func Name(owner, component, subComponent, culture, resolution string) string {
	name := owner + "." + component
	if subComponent != "" {
		name += "." + subComponent
	}
	if culture != "" {
		name += "_Lang_" + culture
	} else if resolution != "" {
		name += "_RES_" + resolution
	}
	return name
}

// CheckIdentity validates the parts of a package name.
func CheckIdentity(owner, component, subComponent, culture, resolution string) error {
	for _, p := range []struct{ what, v string }{{"Owner", owner}, {"Component", component}, {"SubComponent", subComponent}} {
		if p.v == "" && p.what != "SubComponent" {
			return fmt.Errorf("%s is empty: a package needs Owner and Component", p.what)
		}
		if p.v == "" {
			continue
		}
		if len(p.v) > maxPartLen {
			return fmt.Errorf("%s %q is %d characters, the limit is %d", p.what, p.v, len(p.v), maxPartLen)
		}
		if !partPattern.MatchString(p.v) {
			return fmt.Errorf("%s %q: only letters, digits, '_', '-' and '.' are allowed", p.what, p.v)
		}
	}
	if culture != "" && resolution != "" {
		return fmt.Errorf("Culture %q and Resolution %q: a package is a language or a resolution satellite, not both", culture, resolution)
	}
	if culture != "" && !culturePattern.MatchString(culture) {
		return fmt.Errorf("Culture %q: expected a language code such as en-US", culture)
	}
	if resolution != "" && !resolutionPattern.MatchString(resolution) {
		return fmt.Errorf("Resolution %q: expected WIDTHxHEIGHT such as 720x1280", resolution)
	}
	return nil
}

// CheckDevicePath validates a file's path on the device: absolute within its partition
// ("\Windows\System32\a.dll"), no "." or ".." element, no drive letter or second root, none of
// the characters Windows forbids in names, at most 260 characters.
func CheckDevicePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty device path")
	case len(p) > maxDevicePathLen:
		return fmt.Errorf("device path %q is %d characters, the limit is %d", p, len(p), maxDevicePathLen)
	case !strings.HasPrefix(p, `\`):
		return fmt.Errorf("device path %q: must start with '\\' (paths are relative to the partition root)", p)
	}
	for _, r := range p {
		if r < 0x20 || strings.ContainsRune(`<>:"/|?*`, r) {
			return fmt.Errorf("device path %q: character %q is not allowed (no drive letters, '/' or control characters)", p, r)
		}
	}
	for _, part := range strings.Split(p[1:], `\`) {
		if part == "" || part == "." || part == ".." || strings.TrimRight(part, ". ") == "" {
			return fmt.Errorf("device path %q: empty, '.' or '..' element (a path must stay inside its partition)", p)
		}
	}
	return nil
}

// cabName is the name of the i-th payload file in the cabinet (MakeShortPath): the index, '_',
// the file's base name cut to 7 characters when it has 8 or more, and its extension; spaces
// become '_'.
func cabName(devicePath string, i int) string {
	base := devicePath[strings.LastIndexByte(devicePath, '\\')+1:]
	stem, ext := base, ""
	if dot := strings.LastIndexByte(base, '.'); dot > 0 {
		stem, ext = base[:dot], base[dot:]
	}
	if len([]rune(stem)) >= 8 {
		stem = string([]rune(stem)[:7])
	}
	return strings.ReplaceAll(fmt.Sprintf("%d_%s%s", i, stem, ext), " ", "_")
}
