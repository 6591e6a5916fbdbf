package customization

import (
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Write writes the packages into dir, all or none: each goes to a temporary name first, and
// only when every package is written are they renamed into place. It returns the paths.
func Write(dir string, pkgs []*Package) ([]string, error) {
	var tmps, paths []string
	cleanup := func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	for _, p := range pkgs {
		payload := make([]spkg.Payload, 0, len(p.Files))
		for _, f := range p.Files {
			pl, err := payloadOf(f)
			if err != nil {
				cleanup()
				return nil, err
			}
			payload = append(payload, pl)
		}
		tmp, err := os.CreateTemp(dir, ".customization-*.spkg")
		if err != nil {
			cleanup()
			return nil, err
		}
		tmps = append(tmps, tmp.Name())
		_, err = spkg.Write(tmp, p.Manifest, payload, cab.Options{Compression: cab.MSZIP, Workers: 1})
		if err == nil {
			err = tmp.Chmod(0o644)
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return nil, err
		}
		paths = append(paths, filepath.Join(dir, p.FileName()))
	}
	for i, t := range tmps {
		if err := os.Rename(t, paths[i]); err != nil {
			cleanup()
			for _, done := range paths[:i] {
				os.Remove(done)
			}
			return nil, err
		}
	}
	return paths, nil
}

func payloadOf(f File) (spkg.Payload, error) {
	size, open, err := f.open()
	if err != nil {
		return spkg.Payload{}, err // not a nil *manifest.Error in an error
	}
	return spkg.Payload{DevicePath: f.DevicePath, Size: size, Open: open}, nil
}
