package volume

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A corrupt FFU is an error naming the file, never a panic: any failure after ffu.Open used to
// run the cleanup on a nil image.
func TestOpenImageCorrupt(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty.ffu":     nil,
		"short.ffu":     []byte("\x00\x00\x00\x00SignedImage "),
		"garbage.ffu":   []byte(strings.Repeat("\xff", 4096)),
		"truncated.ffu": append([]byte("\x20\x00\x00\x00SignedImage \x00\x00\x10\x00"), make([]byte, 64)...),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, verify := range []bool{false, true} {
			im, err := OpenImage(p, verify)
			if err == nil {
				im.Close()
				t.Errorf("%s: opened a corrupt FFU", name)
				continue
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%s: error %q does not name the file", name, err)
			}
		}
	}
}
