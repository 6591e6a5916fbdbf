package resolve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// MaxSelectionBytes bounds a selection file (ReadSelection): a package takes some 600 bytes of
// JSON, so this is some 100,000 packages, ten times the largest kit's.
const MaxSelectionBytes = 64 << 20

// ReadSelection reads a selection that WriteJSON wrote (`oemimage resolve --json`): a regular
// file of at most MaxSelectionBytes, refused by name otherwise.
func ReadSelection(path string) (*Selection, error) {
	data, err := readfile.ReadRegular(path, MaxSelectionBytes)
	if err != nil {
		return nil, err
	}
	return ParseSelection(path, data)
}

// ParseSelection parses and checks a selection written by WriteJSON; file names it in errors.
// Everything imaging relies on is checked: known product, CPU, build and release types and
// reason groups, every package located (hostPath) and named once.
func ParseSelection(file string, data []byte) (*Selection, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s; expected a selection written by `oemimage resolve --json`", file, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j jsonSelection
	if err := dec.Decode(&j); err != nil {
		return nil, bad("%s", jsonError(err, dec, len(data)))
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
		return nil, bad("offset %d: data after the selection", len(data)-len(rest))
	}
	if err := checkHeader(&j); err != nil {
		return nil, bad("%v", err)
	}
	s := &Selection{OEMInput: j.OEMInput, Description: j.Description, Product: j.Product, Device: j.Device, CPUType: j.CPUType,
		BuildType: j.BuildType, ReleaseType: j.ReleaseType, FormatDPP: j.FormatDPP, Notes: j.Notes}
	if len(j.Notes) > 2 {
		return nil, bad("%d notes; resolve writes at most 2 (the OEMInput's SOC and Device)", len(j.Notes))
	}
	for i, f := range j.FeatureManifests {
		if f.File == "" || (f.Role != "additional" && f.Role != "core") {
			return nil, bad("featureManifests[%d]: file %q, role %q; expected a file and the role additional or core", i, f.File, f.Role)
		}
		s.FMs = append(s.FMs, FMUse(f))
	}
	names := make(map[string]int, len(j.Packages))
	for i := range j.Packages {
		p, err := packageOf(&j.Packages[i])
		if err != nil {
			return nil, bad("packages[%d] (%s): %v", i, j.Packages[i].Name, err)
		}
		key := strings.ToUpper(p.Name)
		if k, dup := names[key]; dup {
			return nil, bad("packages[%d] (%s): the package name of packages[%d] again", i, p.Name, k)
		}
		names[key] = i
		s.Packages = append(s.Packages, p)
	}
	return s, nil
}

// jsonError words a decoding error with its offset; size is the file's.
func jsonError(err error, dec *json.Decoder, size int) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("offset %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the selection"
		}
		return fmt.Sprintf("offset %d: %s is a JSON %s; expected %s", te.Offset, field, te.Value, jsonKind(te.Type))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("offset %d: the JSON ends early", size)
	}
	return fmt.Sprintf("offset %d: %v", dec.InputOffset(), err)
}

// jsonKind names the JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

func checkHeader(j *jsonSelection) error {
	switch {
	case j.OEMInput == "":
		return errors.New("oemInput is empty")
	case !slices.Contains(CPUTypes, j.CPUType):
		return fmt.Errorf("cpuType %q is none of %s", j.CPUType, strings.Join(CPUTypes, ", "))
	case j.BuildType != manifest.BuildFre && j.BuildType != manifest.BuildChk:
		return fmt.Errorf("buildType %q is neither fre nor chk", j.BuildType)
	case j.ReleaseType != manifest.ReleaseTest && j.ReleaseType != manifest.ReleaseProduction:
		return fmt.Errorf("releaseType %q is neither Test nor Production", j.ReleaseType)
	}
	if _, ok := EditionOf(j.Product); !ok {
		return fmt.Errorf("product %q has no core feature manifest", j.Product)
	}
	return nil
}

// knownGroups are the reason groups a selection holds.
var knownGroups = append(slices.Clone(manifest.Groups), GroupPackageFiles)

// packageOf checks one package of the JSON.
func packageOf(jp *jsonPackage) (*Package, error) {
	switch {
	case jp.ID == "" || jp.Name == "":
		return nil, errors.New("id or name is empty")
	case strings.ContainsAny(jp.Name, `\/`):
		return nil, fmt.Errorf("name %q has a path separator; expected a file name", jp.Name)
	case jp.HostPath == "":
		return nil, errors.New("hostPath is empty: the package was not located")
	case !strings.EqualFold(filepath.Base(jp.HostPath), jp.Name):
		return nil, fmt.Errorf("hostPath %s is not a file named %s", jp.HostPath, jp.Name)
	case len(jp.Reasons) == 0:
		return nil, errors.New("no reasons; expected at least the one that selected it")
	}
	p := &Package{ID: jp.ID, Name: jp.Name, Path: jp.Path, HostPath: jp.HostPath, Partition: jp.Partition,
		FeatureIdentifierPackage: jp.FeatureIdentifierPackage}
	for k, r := range jp.Reasons {
		g := manifest.Group(r.Group)
		if r.FeatureID == "" || !slices.Contains(knownGroups, g) || r.Line < 0 || r.Column < 0 {
			return nil, fmt.Errorf("reasons[%d]: featureId %q, group %q, line %d, column %d; expected a feature ID, a group of a feature manifest or PACKAGEFILE, and a position", k, r.FeatureID, r.Group, r.Line, r.Column)
		}
		p.Reasons = append(p.Reasons, Reason{FeatureID: r.FeatureID, Group: g, Source: manifest.Pos{File: r.File, Line: r.Line, Col: r.Column},
			SatelliteOf: r.SatelliteOf, Language: r.Language, Resolution: r.Resolution})
	}
	return p, nil
}
