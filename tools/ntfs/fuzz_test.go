package ntfs

import (
	"bytes"
	"io"
	"testing"
)

// FuzzReader corrupts bytes of a volume (hostileFiles in 8 MiB) and has the reader open it,
// walk it reading every file's data, and look paths up: errors are fine, panics, hangs and
// unbounded allocations are not. Each input is a list of (offset, value) triples of 4+1
// bytes; an offset with the top bit set is a byte of the image, otherwise it lands in the boot
// sector (offsets divisible by 8) or the metadata written last (index blocks and the MFT).
// The seeds are each hostile case of TestHostileVolumes as such triples.
func FuzzReader(f *testing.F) {
	img := hostileVolume(f)
	meta := int64(len(img)) - 1<<20 // the $LogFile's end, index blocks, the MFT, the backup boot sector
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0xFF})
	f.Add([]byte{1, 2, 3, 4, 5, 9, 8, 7, 6, 5})
	f.Add(bytes.Repeat([]byte{0x30, 0x11, 0, 0, 0x80}, 4))
	for _, c := range hostileCases() {
		bad, _ := c.corrupted(f, img)
		f.Add(diffTriples(img, bad))
	}
	f.Fuzz(func(t *testing.T, muts []byte) {
		b := bytes.Clone(img)
		for i := 0; i+5 <= len(muts); i += 5 {
			off := int64(le.Uint32(muts[i:]))
			switch {
			case off&(1<<31) != 0:
				off = (off &^ (1 << 31)) % int64(len(b))
			case off%8 == 0:
				off %= 512
			default:
				off = meta + off%(int64(len(b))-meta)
			}
			b[off] = muts[i+4]
		}
		v, err := Open(bytes.NewReader(b), 0, int64(len(b)))
		if err != nil {
			return
		}
		if _, clusters, free, err := v.Usage(); err == nil && (free < 0 || free > clusters) {
			t.Fatalf("Usage: %d free of %d clusters", free, clusters)
		}
		n := 0
		v.Walk(func(p string, fi FileInfo, r *File) error {
			if n++; n > 2000 {
				return io.EOF
			}
			if r != nil {
				io.Copy(io.Discard, r) // bounded by the volume: data within the runs within it
			}
			return nil
		})
		for _, p := range []string{`\big.bin`, `\d\e\d\f.txt`, `\many\file150.txt`, `\links\cd`} {
			if r, err := v.OpenFile(p); err == nil {
				io.Copy(io.Discard, r)
			}
		}
	})
}

// diffTriples is the fuzz input that turns a into b (same length), with absolute offsets.
func diffTriples(a, b []byte) []byte {
	var out []byte
	for i := range a {
		if a[i] != b[i] {
			out = le.AppendUint32(out, uint32(i)|1<<31)
			out = append(out, b[i])
		}
	}
	return out
}
