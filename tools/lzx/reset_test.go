package lzx

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// encodeFolder compresses data as a CAB folder's frames.
func encodeFolder(t *testing.T, bits int, data []byte) [][]byte {
	t.Helper()
	e, err := NewCABEncoder(bits, Fast)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for off := 0; off < len(data); off += FrameSize {
		frames = append(frames, bytes.Clone(e.Encode(data[off:min(off+FrameSize, len(data))])))
	}
	return frames
}

// decodeFolder decodes frames with d, each to its size in sizes; it returns the output so
// far and the first error.
func decodeFolder(d *CABDecoder, frames [][]byte, sizes []int) ([]byte, error) {
	var out []byte
	for i, f := range frames {
		dst := make([]byte, sizes[i])
		if err := d.Decode(dst, f); err != nil {
			return out, err
		}
		out = append(out, dst...)
	}
	return out, nil
}

// A decoder Reset after a folder decodes the next exactly as a new one, also when the input is
// corrupt: what the last folder left in the reused window is never output (a corrupt match
// reaching before the folder's start would show it).
func TestCABDecoderReset(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	text := []byte("the window of the last folder must never show through a reused decoder; ")
	mk := func(n int) []byte {
		b := make([]byte, 0, n)
		for len(b) < n {
			if rng.Intn(3) == 0 {
				r := make([]byte, 1+rng.Intn(200))
				rng.Read(r)
				b = append(b, r...)
			} else {
				b = append(b, text[:1+rng.Intn(len(text)-1)]...)
			}
		}
		return b[:n]
	}
	for _, bits := range []int{15, 17, 21} {
		first := mk(5 * FrameSize)
		second := append(bytes.Clone(first[:3*FrameSize]), mk(2*FrameSize+777)...) // the same bytes as the window holds
		prev := encodeFolder(t, bits, first)
		frames := encodeFolder(t, bits, second)
		sizes := make([]int, len(frames))
		for i := range sizes {
			sizes[i] = min(FrameSize, len(second)-i*FrameSize)
		}
		firstSizes := make([]int, len(prev))
		for i := range firstSizes {
			firstSizes[i] = min(FrameSize, len(first)-i*FrameSize)
		}
		differ := 0
		for trial := range 300 {
			in := make([][]byte, len(frames))
			for i, f := range frames {
				in[i] = bytes.Clone(f)
			}
			if trial > 0 { // trial 0 is the folder as written
				f := in[rng.Intn(len(in))]
				for range 1 + rng.Intn(4) {
					f[rng.Intn(len(f))] ^= byte(1 << rng.Intn(8))
				}
			}
			fresh, err := NewCABDecoder(bits)
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := decodeFolder(fresh, in, sizes)
			reused, err := NewCABDecoder(bits)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := decodeFolder(reused, prev, firstSizes); err != nil || !bytes.Equal(out, first) {
				t.Fatalf("window 2^%d: the first folder: %v", bits, err)
			}
			if err := reused.Reset(bits); err != nil {
				t.Fatal(err)
			}
			got, gotErr := decodeFolder(reused, in, sizes)
			if !bytes.Equal(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("window 2^%d, trial %d: after Reset %d bytes, %v; a new decoder %d bytes, %v", bits, trial, len(got), gotErr, len(want), wantErr)
			}
			if trial == 0 && (wantErr != nil || !bytes.Equal(want, second)) {
				t.Fatalf("window 2^%d: the folder as written does not decode: %v", bits, wantErr)
			}
			if wantErr != nil {
				differ++
			}
		}
		if differ == 0 {
			t.Errorf("window 2^%d: no corrupt folder failed: the trials test nothing", bits)
		}
	}
	if err := (&CABDecoder{}).Reset(30); err == nil {
		t.Error("Reset to a window of 2^30 bytes accepted")
	}
}
