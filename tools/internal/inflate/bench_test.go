package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// peLike imitates an executable's sections: code-like bytes from a skewed distribution,
// zero padding, import/string tables and relocation-like words.
func peLike(rng *rand.Rand, n int) []byte {
	common := []byte{0x8b, 0x48, 0x89, 0xff, 0x00, 0xe8, 0x0f, 0x85, 0x45, 0x24, 0x4c, 0xc3, 0x33, 0xc0, 0x74, 0x83}
	var b []byte
	for len(b) < n {
		switch rng.IntN(10) {
		case 0:
			b = append(b, make([]byte, rng.IntN(512))...)
		case 1:
			b = append(b, []byte("KERNEL32.dll\x00GetProcAddress\x00LoadLibraryExW\x00")[rng.IntN(20):]...)
		case 2:
			base := rng.Uint32() & 0xFFFF00
			for range rng.IntN(64) {
				v := base + rng.Uint32()&0xFF
				b = append(b, byte(v), byte(v>>8), byte(v>>16), 0)
			}
		case 3:
			if len(b) > 64 {
				at := rng.IntN(len(b) - 32)
				b = append(b, b[at:at+8+rng.IntN(24)]...)
			}
		default:
			for range 16 + rng.IntN(64) {
				if rng.IntN(3) == 0 {
					b = append(b, byte(rng.Uint32()))
				} else {
					b = append(b, common[rng.IntN(len(common))])
				}
			}
		}
	}
	return b[:n]
}

// halfRandom alternates text-like and random stretches of a few KiB.
func halfRandom(rng *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		if rng.IntN(2) == 0 {
			b = append(b, mixed(rng, 4096)...)
		} else {
			r := make([]byte, 4096)
			for i := range r {
				r[i] = byte(rng.Uint32())
			}
			b = append(b, r...)
		}
	}
	return b[:n]
}

type mszipBlock struct {
	dict, src []byte
	n         int
}

// blocks cuts data into 32 KiB MSZIP-like blocks, each compressed with the previous one as
// its dictionary.
func blocks(b *testing.B, data []byte) []mszipBlock {
	var out []mszipBlock
	var prev []byte
	for at := 0; at < len(data); at += 32768 {
		blk := data[at:min(len(data), at+32768)]
		out = append(out, mszipBlock{prev, deflate(b, 6, prev, blk), len(blk)})
		prev = blk
	}
	return out
}

func benchData(kind string) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	if kind == "pe" {
		return peLike(rng, 16<<20>>3)
	}
	return halfRandom(rng, 16<<20>>3)
}

func BenchmarkInflate(b *testing.B) {
	for _, kind := range []string{"pe", "halfrandom"} {
		data := benchData(kind)
		blks := blocks(b, data)
		b.Run(kind+"/new", func(b *testing.B) {
			var d Decoder
			buf := make([]byte, 65536)
			b.SetBytes(int64(len(data)))
			for range b.N {
				for _, k := range blks {
					h := copy(buf, k.dict)
					end, err := d.Decode(buf[:h+k.n], h, k.src)
					if err != nil || end != h+k.n {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(kind+"/flate", func(b *testing.B) {
			var zr io.ReadCloser
			var dec bytes.Buffer
			var hist []byte
			b.SetBytes(int64(len(data)))
			for range b.N {
				for _, k := range blks {
					hist = append(hist[:0], k.dict...)
					if zr == nil {
						zr = flate.NewReaderDict(bytes.NewReader(k.src), hist)
					} else {
						zr.(flate.Resetter).Reset(bytes.NewReader(k.src), hist)
					}
					dec.Reset()
					n, err := io.Copy(&dec, io.LimitReader(zr, int64(k.n)+1))
					if err != nil || int(n) != k.n {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
