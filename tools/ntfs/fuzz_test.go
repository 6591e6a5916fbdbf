package ntfs

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// FuzzReader corrupts bytes of a volume's metadata (the boot sector, and the MFT and index
// blocks written last) and has the reader walk and read it: errors are fine, panics are not.
// Each input is a list of (offset, value) triples of 4+1 bytes.
func FuzzReader(f *testing.F) {
	var files []file
	for _, tf := range testFiles() {
		if len(tf.data) < 1<<20 {
			files = append(files, tf)
		}
	}
	path, ext := build(f, 8<<20, Options{}, files)
	img, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	used := ext[0].Offset + ext[0].Length
	meta := used - 192<<10 // index blocks and the MFT
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0xFF})
	f.Add([]byte{1, 2, 3, 4, 5, 9, 8, 7, 6, 5})
	f.Add(bytes.Repeat([]byte{0x30, 0x11, 0, 0, 0x80}, 4))
	f.Fuzz(func(t *testing.T, muts []byte) {
		b := bytes.Clone(img)
		for i := 0; i+5 <= len(muts); i += 5 {
			off := int64(le.Uint32(muts[i:]))
			if off%8 == 0 {
				off %= 512 // the boot sector now and then
			} else {
				off = meta + off%(used-meta)
			}
			b[off] = muts[i+4]
		}
		v, err := Open(bytes.NewReader(b), 0, int64(len(b)))
		if err != nil {
			return
		}
		n := 0
		v.Walk(func(p string, fi FileInfo) error {
			if n++; n > 2000 {
				return io.EOF
			}
			if !fi.IsDir() {
				if r, err := v.OpenFile(p); err == nil {
					io.Copy(io.Discard, io.LimitReader(r, 1<<20))
				}
			}
			return nil
		})
	})
}
