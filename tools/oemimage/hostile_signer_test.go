package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/ffu"
)

// Hostile inputs of imagesigner: FFUs whose head is changed (hash-consistent, so that the
// parser meets the change), catalogs that are not DER or claim absurd lengths, files that are
// not regular, outputs that are the image itself. A failed run changes nothing: the image is
// replaced only once the signed copy is complete.

// signerArgs are the imagesigner command lines on bad.ffu: getcatalog and truncate write an
// output, sign reads good.cat (the valid image's own catalog, written by the setup).
var signerArgs = map[string][]string{
	"getcatalog": {"imagesigner", "getcatalog", "bad.ffu", "out.cat"},
	"truncate":   {"imagesigner", "truncate", "bad.ffu", "out.trunc"},
	"sign":       {"imagesigner", "sign", "bad.ffu", "good.cat"},
}

// signerCases registers a case per action on bad.ffu made by change from the valid image.
func signerCases(name string, actions []string, change func(t *testing.T, b []byte) []byte, want ...string) {
	for _, a := range actions {
		args := signerArgs[a]
		addHostile(hostileCase{
			name: "imagesigner/" + a + "/" + name,
			setup: func(t *testing.T, dir string) []string {
				b := validFFU(t)
				writeFile(t, dir, "good.cat", openFFUBytes(t, b).Catalog())
				writeFile(t, dir, "bad.ffu", change(t, b))
				return args
			},
			want: append([]string{"bad.ffu"}, want...),
		})
	}
}

// withCatalogBytes puts cat in place of b's catalog, the hash table and the rest kept.
func withCatalogBytes(t *testing.T, b, cat []byte) []byte {
	t.Helper()
	r := openFFUBytes(t, b)
	chunk := int(r.Security.ChunkSizeKB) * 1024
	sec := bytes.Clone(b[:32])
	binary.LittleEndian.PutUint32(sec[24:], uint32(len(cat)))
	sec = append(append(sec, cat...), r.HashTable()...)
	sec = append(sec, make([]byte, (chunk-len(sec)%chunk)%chunk)...)
	return append(sec, b[r.ImageOffset:]...)
}

// nested is n SEQUENCEs, each holding the next: DER nested n deep (lengths in minimal form).
func nested(n int) []byte {
	header := func(length int) []byte {
		if length < 0x80 {
			return []byte{0x30, byte(length)}
		}
		var l []byte
		for v := length; v > 0; v >>= 8 {
			l = append([]byte{byte(v)}, l...)
		}
		return append([]byte{0x30, 0x80 | byte(len(l))}, l...)
	}
	headers := make([][]byte, n) // innermost last
	inner := 0
	for i := n - 1; i >= 0; i-- {
		headers[i] = header(inner)
		inner += len(headers[i])
	}
	return bytes.Join(headers, nil)
}

func init() {
	all := []string{"getcatalog", "truncate", "sign"}

	// A payload byte changed: getcatalog and truncate read only the head (as the original),
	// sign checks every chunk it copies and refuses to sign a corrupt image.
	signerCases("payload-hash-mismatch", []string{"sign"}, func(t *testing.T, b []byte) []byte {
		b[len(b)-1000] ^= 0xFF
		return b
	}, "SHA-256 does not match the hash table: the image is corrupt, not signed")

	// A platform ID byte changed: the head's hash check finds it.
	signerCases("store-header-hash-mismatch", all, func(t *testing.T, b []byte) []byte {
		b[openFFUBytes(t, b).Stores[0].HeaderOffset+20] ^= 0x01
		return b
	}, "store 1 header", "SHA-256 does not match the hash table")

	// The catalog replaced by DER claiming 4 GB, and by DER nested 100,000 deep: both are
	// refused as catalogs, naming the image.
	heads := []string{"getcatalog", "truncate"}
	signerCases("catalog-claims-4GB", heads, func(t *testing.T, b []byte) []byte {
		return withCatalogBytes(t, b, []byte("\x30\x84\xff\xff\xff\xf0\x06\x09"))
	}, "catalog")
	signerCases("catalog-nested-100000", heads, func(t *testing.T, b []byte) []byte {
		return withCatalogBytes(t, b, nested(100000))
	}, "catalog")
	// Another image's catalog (here: one naming a hash table of zeros) in the image itself.
	signerCases("catalog-of-another-image", heads, func(t *testing.T, b []byte) []byte {
		other, err := ffu.BuildCatalog(make([]byte, 64), ffu.DefaultCatalogTime)
		if err != nil {
			t.Fatal(err)
		}
		return withCatalogBytes(t, b, other)
	}, "does not match the hash table's")

	// sign does not read the catalog it replaces: an image whose catalog is broken is signed.
	addHostile(hostileCase{
		name: "imagesigner/sign/replaces-a-broken-catalog",
		setup: func(t *testing.T, dir string) []string {
			b := validFFU(t)
			writeFile(t, dir, "good.cat", openFFUBytes(t, b).Catalog())
			writeFile(t, dir, "bad.ffu", withCatalogBytes(t, b, []byte("\x30\x84\xff\xff\xff\xf0\x06\x09")))
			return signerArgs["sign"]
		},
		want:     []string{"Successfully signed image."},
		exitZero: true,
	})

	// The head cut inside the store header's chunk: truncated.
	signerCases("head-cut", all, func(t *testing.T, b []byte) []byte {
		return b[:openFFUBytes(t, b).Stores[0].HeaderOffset+100]
	}, "not a valid FFU")

	// A 5 MB manifest (hash-consistent) is refused before it is read.
	signerCases("manifest-5MB", all, func(t *testing.T, b []byte) []byte {
		m := openFFUBytes(t, b).ManifestBytes()
		big := append(bytes.Clone(m), bytes.Repeat([]byte("; padding\r\n"), 5<<20/11)...)
		return withManifest(t, b, big)
	}, "bytes is over the limit of 1048576 bytes")

	// sign with catalogs that are not one: DER nested 200,000 deep, 2 MiB (over the limit), a named pipe.
	catalogCase := func(name string, write func(t *testing.T, path string), want ...string) {
		addHostile(hostileCase{
			name: "imagesigner/sign/" + name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "OEM.ffu", validFFU(t))
				write(t, filepath.Join(dir, "OEM.cat"))
				return []string{"imagesigner", "sign", "OEM.ffu", "OEM.cat"}
			},
			want: append([]string{"OEM.cat"}, want...),
		})
	}
	catalogCase("catalog-nested-200000", func(t *testing.T, p string) { os.WriteFile(p, nested(200000), 0o644) }, "catalog")
	catalogCase("catalog-2MiB", func(t *testing.T, p string) { os.WriteFile(p, make([]byte, 2<<20), 0o644) }, "expected")
	catalogCase("catalog-named-pipe", func(t *testing.T, p string) {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}, "a named pipe; expected a regular file")
	catalogCase("catalog-empty", func(t *testing.T, p string) { os.WriteFile(p, nil, 0o644) }, "catalog: not a PKCS#7")

	// The FFU a named pipe, for each action.
	for _, a := range all {
		args := append([]string{}, signerArgs[a]...)
		args[2] = "pipe.ffu"
		addHostile(hostileCase{
			name: "imagesigner/" + a + "/ffu-named-pipe",
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "good.cat", []byte("x"))
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe.ffu"), 0o644); err != nil {
					t.Fatal(err)
				}
				return args
			},
			want: []string{"pipe.ffu: a named pipe; expected a regular file"},
		})
	}

	// The output a symbolic link to the image: refused, the image is kept.
	for _, a := range []string{"getcatalog", "truncate"} {
		a := a
		addHostile(hostileCase{
			name: "imagesigner/" + a + "/output-links-to-the-ffu",
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "OEM.ffu", validFFU(t))
				if err := os.Symlink("OEM.ffu", filepath.Join(dir, "out")); err != nil {
					t.Fatal(err)
				}
				return []string{"imagesigner", a, "OEM.ffu", "out"}
			},
			want: []string{"out is the FFU itself"},
		})
	}

	// Garbage of every size where the FFU belongs: each action names it.
	for _, a := range all {
		for _, size := range []int{0, 31, 32, 4096, 300000} {
			args := append([]string{}, signerArgs[a]...)
			size := size
			addHostile(hostileCase{
				name: fmt.Sprintf("imagesigner/%s/garbage-%d", a, size),
				setup: func(t *testing.T, dir string) []string {
					writeFile(t, dir, "good.cat", []byte("x"))
					writeFile(t, dir, "bad.ffu", bytes.Repeat([]byte{0xa5}, size))
					return args
				},
				want: []string{"bad.ffu"},
			})
		}
	}
}
