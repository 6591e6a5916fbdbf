package customization

import (
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/cab"
	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/internal/atomicfile"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// Write writes the packages into dir, all or none (tools/internal/atomicfile: each is staged
// beside its final name and renamed into place only when every one is written). It returns
// the paths. A signer signs each package's content.cat (nil: unsigned, as the original's
// test flow leaves them before Sign.cmd).
func Write(dir string, pkgs []*Package, signer *catalog.Signer) ([]string, error) {
	var set atomicfile.Set
	defer set.Abort()
	var paths []string
	for _, p := range pkgs {
		payload := make([]spkg.Payload, 0, len(p.Files))
		for _, f := range p.Files {
			pl, err := payloadOf(f)
			if err != nil {
				return nil, err
			}
			payload = append(payload, pl)
		}
		path := filepath.Join(dir, p.FileName())
		w, err := set.Create(path)
		if err != nil {
			return nil, err
		}
		if _, err := spkg.WriteSigned(w, p.Manifest, payload, cab.Options{Compression: cab.MSZIP, Workers: 1}, signer); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	if err := set.Commit(); err != nil {
		return nil, err
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
