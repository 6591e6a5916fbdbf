package fat

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// A fuzz input is a sparse volume: segments of 4 bytes of zeros to skip, 2 bytes of length and
// that many bytes of data. A FAT32 volume is 32 MiB or more, nearly all zeros: written this
// way it is a few KiB the fuzzer can mutate.
type segment struct {
	off  int64
	data []byte
}

type sparse struct {
	segs []segment
	size int64
}

// maxFuzzVolume bounds the volume a fuzz input stands for.
const maxFuzzVolume = 64 << 20

func decodeSparse(in []byte, size uint32) sparse {
	var s sparse
	pos := int64(0)
	for len(in) >= 6 {
		pos += int64(binary.LittleEndian.Uint32(in))
		n := min(int(binary.LittleEndian.Uint16(in[4:])), len(in)-6)
		if pos+int64(n) > maxFuzzVolume {
			break
		}
		s.segs = append(s.segs, segment{pos, in[6 : 6+n]})
		in = in[6+n:]
		pos += int64(n)
	}
	s.size = min(max(pos, int64(size)), maxFuzzVolume)
	return s
}

// encodeSparse writes b as segments; runs of 16 zero bytes or more are skipped.
func encodeSparse(b []byte) []byte {
	zero := func(b []byte) bool {
		for _, c := range b {
			if c != 0 {
				return false
			}
		}
		return true
	}
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		if b[i] == 0 {
			i++
			continue
		}
		j := i
		for j < len(b) && j-i < 0xFFFF-16 && !zero(b[j:min(j+16, len(b))]) {
			j = min(j+16, len(b))
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(i-last))
		out = binary.LittleEndian.AppendUint16(out, uint16(j-i))
		out = append(out, b[i:j]...)
		last, i = j, j
	}
	return out
}

func (s sparse) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), s.size-off))
	clear(p[:n])
	for _, sg := range s.segs {
		lo, hi := max(sg.off, off), min(sg.off+int64(len(sg.data)), off+int64(n))
		if lo < hi {
			copy(p[lo-off:hi-off], sg.data[lo-sg.off:])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fuzzSeeds are writer output and each corrupt shape of the tests.
func fuzzSeeds(f *testing.F) {
	for _, vol := range []struct {
		size   int64
		opt    Options
		typ    Type
		shapes [][]corruption
	}{
		{2 << 20, Options{}, FAT12, [][]corruption{bootCorruptions, fat16Corruptions, fat12Corruptions, chainCorruptions}},
		{4 << 20, Options{SectorSize: 4096}, FAT12, nil},
		{8 << 20, Options{}, FAT16, [][]corruption{bootCorruptions, fat16Corruptions, chainCorruptions}},
		{40 << 20, Options{Type: FAT32}, FAT32, [][]corruption{bootCorruptions, fat32Corruptions, chainCorruptions}},
	} {
		files := append([]file{}, corruptFiles...)
		for _, fl := range roundTripFiles(512)[:20] {
			if len(fl.data) < 4096 { // small seeds fuzz faster
				files = append(files, fl)
			}
		}
		base := memVolume(f, vol.size, vol.opt, files)
		add := func(b []byte) { f.Add(encodeSparse(b), uint32(vol.size)) }
		add(base)
		// The corruptions touch the boot sector, FATs and directories, which are all before
		// the end of the data (plus a margin for long chains): copy only that much.
		prefix := min(len(bytes.TrimRight(base, "\x00"))+(1<<20), len(base))
		for _, shapes := range vol.shapes {
			for _, c := range shapes {
				b := bytes.Clone(base[:prefix])
				func() {
					defer func() { recover() }() // a shape that does not apply (t.Skip) is no seed
					c.corrupt(skipper{f}, b, where(b, vol.typ))
					add(b)
				}()
			}
		}
	}
}

// skipper turns the corruptions' Skipf and Fatalf into a panic fuzzSeeds recovers from.
type skipper struct{ testing.TB }

func (s skipper) Skipf(format string, args ...any)  { panic("skip") }
func (s skipper) Fatalf(format string, args ...any) { panic("fatal") }

func TestSparseEncoding(t *testing.T) {
	b := make([]byte, 300000)
	copy(b[100:], "boot")
	for i := 70000; i < 200000; i += 3 {
		b[i] = byte(i)
	}
	copy(b[299990:], "end")
	s := decodeSparse(encodeSparse(b), uint32(len(b)))
	got := make([]byte, len(b))
	if _, err := s.ReadAt(got, 0); err != nil || !bytes.Equal(got, b) {
		t.Errorf("the round trip differs (%v)", err)
	}
}

// FuzzFATReader: whatever the bytes, opening, walking and reading a volume ends in an error or
// a result, within bounded memory (the volume's size bounds every allocation).
func FuzzFATReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, size uint32) {
		vol := decodeSparse(data, size)
		v, err := Open(vol, 0, vol.size)
		if err != nil {
			return
		}
		if _, clusters, free, err := v.Usage(); err == nil && (free < 0 || free > clusters) {
			t.Fatalf("Usage: %d free of %d clusters", free, clusters)
		}
		var paths []string
		v.Walk(func(fl File, r io.Reader) error {
			if len(paths) < 8 {
				paths = append(paths, fl.Path)
			}
			if r != nil {
				n, err := io.Copy(io.Discard, r)
				if err == nil && n != fl.Size {
					t.Fatalf("%s: read %d bytes of %d", fl.Path, n, fl.Size)
				}
				return err
			}
			return nil
		})
		for _, p := range paths {
			if _, r, err := v.Open(p); err == nil && r != nil {
				io.Copy(io.Discard, r)
			}
		}
	})
}
