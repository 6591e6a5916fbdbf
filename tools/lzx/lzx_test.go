package lzx

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"
)

// uncompressedStream builds a CAB LZX stream of one uncompressed block by hand.
func uncompressedStream(data []byte, e8 uint32) []byte {
	var w bitWriter
	if e8 != 0 {
		w.put(1, 1)
		w.put(e8>>16, 16)
		w.put(e8&0xFFFF, 16)
	} else {
		w.put(0, 1)
	}
	w.put(blockUncompressed, 3)
	w.put(uint32(len(data))>>8, 16)
	w.put(uint32(len(data))&0xFF, 8)
	w.alignUncompressed()
	for i := 0; i < 3; i++ {
		w.out = binary.LittleEndian.AppendUint32(w.out, 1)
	}
	w.out = append(w.out, data...)
	if len(data)%2 == 1 {
		w.out = append(w.out, 0)
	}
	return w.out
}

func TestE8RoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 5, 10, 11, 100, 32768} {
		data := make([]byte, n)
		for i := range data {
			if r.Intn(3) == 0 {
				data[i] = 0xE8
			} else {
				data[i] = byte(r.Intn(256))
			}
		}
		for _, pos := range []int64{0, 32768, 1 << 29} {
			for _, size := range []int32{wimFileSize, 1 << 20, 100} {
				b := bytes.Clone(data)
				e8Encode(b, pos, size)
				e8Decode(b, pos, size)
				if !bytes.Equal(b, data) {
					t.Errorf("n=%d pos=%d size=%d: round trip differs", n, pos, size)
				}
			}
		}
	}
}

func TestCABUncompressedBlock(t *testing.T) {
	for _, n := range []int{1, 2, 11, 32767, 32768} {
		data := bytes.Repeat([]byte("abcdefg\xE8"), n/8+1)[:n]
		d, err := NewCABDecoder(16)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		if err := d.Decode(got, uncompressedStream(data, 0)); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("n=%d: decoded bytes differ", n)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := uncompressedStream([]byte("hello"), 0)
	for _, tc := range []struct {
		name string
		wim  bool
		src  []byte
		n    int
		want string
	}{
		{"CAB empty", false, nil, 5, "input ends"},
		{"CAB truncated", false, valid[:len(valid)-3], 5, "truncated"},
		{"CAB block type 0", false, []byte{0, 0, 0, 0}, 5, "block type 0"},
		{"CAB frame too big", false, valid, FrameSize + 1, "over the 32768"},
		{"CAB more output than block", false, valid, 8, "input ends"},
		{"WIM empty", true, nil, 100, "LZX chunk"},
		{"WIM block type 7", true, []byte{0xF0, 0xFF, 0xFF, 0xFF}, 100, "block type 7"},
		{"WIM garbage", true, bytes.Repeat([]byte{0x5A}, 40), 1000, "LZX chunk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, tc.n)
			var err error
			if tc.wim {
				d, _ := NewWIMDecoder(32768)
				err = d.Decompress(dst, tc.src)
			} else {
				d, _ := NewCABDecoder(15)
				err = d.Decode(dst, tc.src)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := NewCABDecoder(22); err == nil || !strings.Contains(err.Error(), "2^22") {
		t.Errorf("window 22: %v", err)
	}
	if _, err := NewWIMDecoder(4096); err == nil || !strings.Contains(err.Error(), "chunk size 4096") {
		t.Errorf("chunk 4096: %v", err)
	}
}

// FuzzDecodeCAB decodes arbitrary bytes as the frames of a CAB folder: it must never panic.
// The first byte picks the window, the next two the frame size.
func FuzzDecodeCAB(f *testing.F) {
	f.Add(append([]byte{0, 0x00, 11}, uncompressedStream([]byte("hello, world"), 0)...))
	f.Add(append([]byte{6, 0x01, 0x2B}, uncompressedStream(bytes.Repeat([]byte{0xE8, 1, 2, 3, 4}, 60), 1000)...))
	for _, seed := range fuzzSeeds(false) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 3 {
			return
		}
		d, err := NewCABDecoder(MinWindowBits + int(b[0])%7)
		if err != nil {
			t.Fatal(err)
		}
		n := int(binary.BigEndian.Uint16(b[1:]))%FrameSize + 1 // as the seeds store it
		src := b[3:]
		dst := make([]byte, n)
		for frame := 0; frame < 4 && len(src) > 0; frame++ {
			k := min(len(src), len(src)/2+1)
			if d.Decode(dst, src[:k]) != nil {
				return
			}
			src = src[k:]
		}
	})
}

// FuzzDecodeWIM decodes arbitrary bytes as a WIM chunk: it must never panic.
func FuzzDecodeWIM(f *testing.F) {
	for _, seed := range fuzzSeeds(true) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 3 {
			return
		}
		chunk := 32768 << (b[0] % 3)
		d, err := NewWIMDecoder(chunk)
		if err != nil {
			t.Fatal(err)
		}
		n := int(binary.BigEndian.Uint16(b[1:])) + 1
		if n > chunk {
			n = chunk
		}
		_ = d.Decompress(make([]byte, n), b[3:])
	})
}

func testData() map[string][]byte {
	r := rand.New(rand.NewSource(7))
	words := strings.Fields("the quick brown fox jumps over a lazy dog LZX window frame block tree offset \xE8\x00\x10\x00\x00")
	var text []byte
	for len(text) < 300000 {
		text = append(text, words[r.Intn(len(words))]...)
		text = append(text, ' ')
	}
	random := make([]byte, 100000)
	r.Read(random)
	code := make([]byte, 0, 200000)
	for len(code) < 200000 {
		if r.Intn(3) == 0 {
			v := int32(r.Intn(4000) - 2000)
			code = append(code, 0xE8, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		} else {
			code = append(code, byte(r.Intn(40)))
		}
	}
	return map[string][]byte{
		"empty": nil, "one": {0xE8}, "small": []byte("abcabcabcabcabcabc"),
		"text": text, "random": random, "code": code, "zeros": make([]byte, 150000),
		"mixed": append(append(append([]byte{}, text[:70000]...), random[:50000]...), text[1000:90000]...),
	}
}

func TestSlotOf(t *testing.T) {
	for f := uint32(0); f < 1<<21+1<<17; f += 1 + f/1000 {
		want := 0
		for s := 0; s <= maxSlots; s++ {
			if slotBase[s] <= f {
				want = s
			}
		}
		if got := slotOf(f); got != want {
			t.Fatalf("slotOf(%d) = %d, want %d", f, got, want)
		}
	}
}

func TestWIMRoundTrip(t *testing.T) {
	for name, data := range testData() {
		for _, chunk := range []int{32768, 1 << 16, 1 << 21} {
			for _, level := range []Level{Fast, Strong, Best} {
				enc, err := NewWIMEncoder(chunk, level)
				if err != nil {
					t.Fatal(err)
				}
				dec, _ := NewWIMDecoder(chunk)
				var in, out int
				for off := 0; off < len(data); off += chunk {
					src := data[off:min(off+chunk, len(data))]
					dst := make([]byte, Bound(len(src)))
					n := enc.Compress(dst, src)
					in += len(src)
					if n == 0 {
						out += len(src)
						continue
					}
					out += n
					got := make([]byte, len(src))
					if err := dec.Decompress(got, dst[:n]); err != nil {
						t.Fatalf("%s chunk %d level %d at %d: %v", name, chunk, level, off, err)
					}
					if !bytes.Equal(got, src) {
						t.Fatalf("%s chunk %d level %d at %d: round trip differs", name, chunk, level, off)
					}
				}
				t.Logf("%s chunk %d level %d: %d -> %d", name, chunk, level, in, out)
			}
		}
	}
}

func TestCABRoundTrip(t *testing.T) {
	data := testData()
	// One folder of everything, so that matches reach across frames and the window slides.
	var all []byte
	for _, k := range []string{"text", "code", "random", "zeros", "mixed", "text", "small"} {
		all = append(all, data[k]...)
	}
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, level := range []Level{Fast, Strong} {
			enc, err := NewCABEncoder(bits, level)
			if err != nil {
				t.Fatal(err)
			}
			dec, _ := NewCABDecoder(bits)
			out := 0
			for off := 0; off < len(all); off += FrameSize {
				frame := all[off:min(off+FrameSize, len(all))]
				payload := enc.Encode(frame)
				out += len(payload)
				got := make([]byte, len(frame))
				if err := dec.Decode(got, payload); err != nil {
					t.Fatalf("window 2^%d level %d frame %d: %v", bits, level, off/FrameSize, err)
				}
				if !bytes.Equal(got, frame) {
					t.Fatalf("window 2^%d level %d frame %d: round trip differs", bits, level, off/FrameSize)
				}
			}
			t.Logf("window 2^%d level %d: %d -> %d", bits, level, len(all), out)
		}
	}
}

// TestEncodeCABFolder checks the parallel folder encoder: the same bytes for any number of
// workers, and a stream the decoder reads back.
func TestEncodeCABFolder(t *testing.T) {
	d := testData()
	var all []byte
	for _, k := range []string{"text", "code", "random", "zeros", "mixed", "text", "code", "text", "small"} {
		all = append(all, d[k]...)
	}
	for _, size := range []int{0, 1, FrameSize, 40 * FrameSize, len(all)} {
		data := all[:size]
		for _, bits := range []int{15, 21} {
			var first [][]byte
			for _, workers := range []int{1, 2, 5} {
				pos := 0
				next := func(b []byte) (int, error) {
					n := copy(b, data[pos:])
					pos += n
					return n, nil
				}
				var got [][]byte
				err := EncodeCABFolder(bits, Fast, workers, next, func(p []byte, n int) error {
					got = append(got, bytes.Clone(p))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if workers == 1 {
					first = got
					dec, _ := NewCABDecoder(bits)
					for i, p := range got {
						want := data[i*FrameSize : min((i+1)*FrameSize, len(data))]
						out := make([]byte, len(want))
						if err := dec.Decode(out, p); err != nil || !bytes.Equal(out, want) {
							t.Fatalf("size %d window %d frame %d: %v / equal %v", size, bits, i, err, bytes.Equal(out, want))
						}
					}
					continue
				}
				if len(got) != len(first) {
					t.Fatalf("size %d window %d workers %d: %d frames, want %d", size, bits, workers, len(got), len(first))
				}
				for i := range got {
					if !bytes.Equal(got[i], first[i]) {
						t.Fatalf("size %d window %d workers %d: frame %d differs", size, bits, workers, i)
					}
				}
			}
		}
	}
}
