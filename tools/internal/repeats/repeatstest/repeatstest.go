// Package repeatstest makes the chunks that the LZX and XPRESS encoders' store-without-parse
// checks (tools/internal/repeats) are tested against the full parse on: chunks on both sides
// of the line between stored and compressed.
package repeatstest

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand"
)

// Kind is a chunk's shape.
type Kind int

const (
	Uniform  Kind = iota // random bytes
	Alphabet             // random bytes over an alphabet of 180 to 256
	Skewed               // random bytes, one of them more frequent than the rest
	Copies               // random bytes with runs of 2 to 24 bytes copied from earlier in the chunk
	Deflate              // a deflate stream of text: a compressed file, as in a real image
	kinds
)

var names = [kinds]string{"uniform", "alphabet", "skewed", "copies", "deflate"}

func (k Kind) String() string { return names[k] }

// Chunk returns the chunk of the given seed, its size one of sizes, and a name for messages.
func Chunk(seed int64, sizes []int) (Kind, []byte, string) {
	rng := rand.New(rand.NewSource(seed))
	n := sizes[rng.Intn(len(sizes))]
	b := make([]byte, n)
	rng.Read(b)
	kind := Kind(rng.Intn(int(kinds)))
	switch kind {
	case Alphabet:
		a := 180 + rng.Intn(77)
		for i := range b {
			b[i] = byte(int(b[i]) % a)
		}
	case Skewed:
		p := 1 + rng.Intn(60)
		for i := range b {
			if rng.Intn(1000) < p {
				b[i] = 0
			}
		}
	case Copies:
		for k := 1 << rng.Intn(10); k > 0; k-- {
			l := 2 + rng.Intn(23)
			from, to := rng.Intn(n-l), rng.Intn(n-l)
			if from < to && to-from < 1<<(8+rng.Intn(9)) {
				copy(b[to:to+l], b[from:from+l])
			}
		}
	case Deflate:
		var out bytes.Buffer
		w, _ := flate.NewWriter(&out, 1+rng.Intn(9))
		for out.Len() < n {
			w.Write(text(rng, 4*n))
		}
		w.Close()
		b = out.Bytes()[:n]
	}
	return kind, b, fmt.Sprintf("seed %d, %v, %d bytes", seed, kind, n)
}

// text is words of a small vocabulary, skewed toward its first ones, in lines.
func text(rng *rand.Rand, n int) []byte {
	words := []string{"the", "package", "driver", "MainOS", "Windows", "file", "of", "image", "to", "a", "registry", "update"}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[min(rng.Intn(len(words)), rng.Intn(len(words)))])
		if rng.Intn(9) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}
