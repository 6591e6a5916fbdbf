package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/internal/testimage"
)

// Hostile inputs of the CLI verbs (ffu, imgtowim, the params file, the OEMInput, switches):
// valid FFUs that imggen writes here, then changed so that ffu.Open succeeds and a later step
// (Verify, the GPT, the disk) fails, or so that a claimed size is over its limit; files that
// are not regular where a file is read; an extract onto a directory.

var cliImage struct {
	once sync.Once
	ffu  []byte
	err  error
}

// validFFU is an image imgtowim takes (MainOS with DeviceLayout.xml, EFIESP), built once.
func validFFU(t *testing.T) []byte {
	t.Helper()
	cliImage.once.Do(func() { cliImage.ffu, cliImage.err = buildFFU() })
	if cliImage.err != nil {
		t.Fatal(cliImage.err)
	}
	return bytes.Clone(cliImage.ffu)
}

func buildFFU() ([]byte, error) { return buildFFUWith("") }

// buildFFUWith builds the image of validFFU with device layout layoutXML ("": testimage.Layout)
// and the packages at extra (host paths) selected too.
func buildFFUWith(layoutXML string, extra ...string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "cli-ffu-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out, err := testimage.FFU(dir, "hostile cli", testimage.Options{Layout: layoutXML, Extra: extra})
	if err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

func openFFUBytes(t *testing.T, b []byte) *ffu.Reader {
	t.Helper()
	r, err := ffu.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// seal gives body (everything from the image header on) the security region it needs: its
// hash table, a catalog holding the table's SHA-1, the security header. A changed body then
// passes Verify, so that the step after it is the one that meets the change.
func seal(t *testing.T, chunkKB uint32, body []byte) []byte {
	t.Helper()
	chunk := int(chunkKB) * 1024
	body = append(body, make([]byte, (chunk-len(body)%chunk)%chunk)...)
	var table []byte
	for off := 0; off < len(body); off += chunk {
		s := sha256.Sum256(body[off : off+chunk])
		table = append(table, s[:]...)
	}
	cat, err := ffu.BuildCatalog(table, imageconst.Epoch)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	sec := make([]byte, 32)
	le.PutUint32(sec[0:], 32)
	copy(sec[4:], "SignedImage ")
	le.PutUint32(sec[16:], chunkKB)
	le.PutUint32(sec[20:], ffu.AlgSHA256)
	le.PutUint32(sec[24:], uint32(len(cat)))
	le.PutUint32(sec[28:], uint32(len(table)))
	sec = append(append(sec, cat...), table...)
	sec = append(sec, make([]byte, (chunk-len(sec)%chunk)%chunk)...)
	return append(sec, body...)
}

// withManifest replaces the manifest of b by m (the image region grows as needed) and seals it.
func withManifest(t *testing.T, b, m []byte) []byte {
	t.Helper()
	r := openFFUBytes(t, b)
	body := append([]byte{}, b[r.ImageOffset:r.ImageOffset+24]...)
	binary.LittleEndian.PutUint32(body[16:], uint32(len(m)))
	body = append(body, m...)
	chunk := int(r.Security.ChunkSizeKB) * 1024
	body = append(body, make([]byte, (chunk-len(body)%chunk)%chunk)...)
	return seal(t, r.Security.ChunkSizeKB, append(body, b[r.Stores[0].HeaderOffset:]...))
}

// finalGPTHeader is the offset in b of the primary GPT header the extracted disk ends up
// with: sector 1 of the last payload block written at DISK_BEGIN 0.
func finalGPTHeader(t *testing.T, b []byte) int64 {
	t.Helper()
	r := openFFUBytes(t, b)
	s := r.Stores[0]
	last := -1
	for k, e := range s.Entries {
		for _, l := range e.Locations {
			if l == (ffu.DiskLocation{Method: ffu.DiskBegin, BlockIndex: 0}) {
				last = k
			}
		}
	}
	if last < 0 {
		t.Fatal("no block at DISK_BEGIN 0")
	}
	return s.PayloadOffset + int64(last)*int64(s.Header.BlockSize) + 512
}

// ffuCase registers, for each verb, a case that writes bad.ffu made by change from a valid
// image.
func ffuCases(name string, verbs [][]string, change func(t *testing.T, b []byte) []byte, want ...string) {
	for _, verb := range verbs {
		verb := verb
		addHostile(hostileCase{
			name: "cli/" + strings.Join(verb, "-") + "/" + name,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, dir, "bad.ffu", change(t, validFFU(t)))
				args := append(append([]string{}, verb...), "bad.ffu")
				if verb[0] == "imgtowim" {
					args = append(args, "out.wim")
				}
				return args
			},
			want: append([]string{"bad.ffu"}, want...),
		})
	}
}

var (
	cliFFUInfo   = []string{"ffu", "info"}
	cliFFUVerify = []string{"ffu", "verify"}
	cliImgToWIM  = []string{"imgtowim"}
)

func init() {
	// Open succeeds, Verify finds the changed payload byte.
	ffuCases("hash-mismatch", [][]string{cliFFUVerify, cliImgToWIM}, func(t *testing.T, b []byte) []byte {
		b[len(b)-1000] ^= 0xFF
		return b
	}, "SHA-256 does not match the hash table")

	// A MinSectorCount over the limit: the disk would be exabytes.
	ffuCases("huge-MinSectorCount", [][]string{cliFFUInfo, cliImgToWIM}, func(t *testing.T, b []byte) []byte {
		m := openFFUBytes(t, b).ManifestBytes()
		return withManifest(t, b, bytes.Replace(m, []byte("= 1048576\r\n"), []byte("= 18014398509481983\r\n"), 1))
	}, "MinSectorCount 18014398509481983 of 512-byte sectors is over the limits")

	// The final GPT claims 2^32-1 entries (its header CRC right): Open and Verify succeed, the
	// GPT reader refuses it without allocating.
	ffuCases("gpt-2^32-1-entries", [][]string{cliFFUInfo, cliImgToWIM}, func(t *testing.T, b []byte) []byte {
		h := finalGPTHeader(t, b)
		le := binary.LittleEndian
		le.PutUint32(b[h+80:], 0xFFFFFFFF)
		hdr := bytes.Clone(b[h : h+92])
		clear(hdr[16:20])
		le.PutUint32(b[h+16:], crc32.ChecksumIEEE(hdr))
		r := openFFUBytes(t, b)
		return seal(t, r.Security.ChunkSizeKB, b[r.ImageOffset:])
	}, "4294967295 entries of 128 bytes is more than 4194304 bytes")

	// A 5 MB manifest is refused before it is read (parsing it took over 30 s).
	ffuCases("manifest-5MB", [][]string{cliFFUInfo, cliImgToWIM}, func(t *testing.T, b []byte) []byte {
		m := openFFUBytes(t, b).ManifestBytes()
		var keys bytes.Buffer
		keys.WriteString("[FullFlash]\r\n")
		for i := 0; keys.Len() < 5<<20; i++ {
			fmt.Fprintf(&keys, "Key%d = value\r\n", i)
		}
		return withManifest(t, b, bytes.Replace(m, []byte("[FullFlash]\r\n"), keys.Bytes(), 1))
	}, "manifest of 52", "bytes is over the limit of 1048576 bytes")

	// 80,000 keys are parsed in linear time: valid with them; a duplicate at the end is named.
	manyKeys := func(dup bool) func(t *testing.T, b []byte) []byte {
		return func(t *testing.T, b []byte) []byte {
			m := openFFUBytes(t, b).ManifestBytes()
			var keys bytes.Buffer
			keys.WriteString("[FullFlash]\r\n")
			for i := range 80000 {
				fmt.Fprintf(&keys, "K%d=1\r\n", i)
			}
			if dup {
				keys.WriteString("K1=2\r\n")
			}
			return withManifest(t, b, bytes.Replace(m, []byte("[FullFlash]\r\n"), keys.Bytes(), 1))
		}
	}
	ffuCases("manifest-80000-keys-dup", [][]string{cliFFUInfo}, manyKeys(true), `key "K1" given twice in [FullFlash]`)
	addHostile(hostileCase{
		name: "cli/ffu-verify/manifest-80000-keys",
		setup: func(t *testing.T, dir string) []string {
			writeFile(t, dir, "keys.ffu", manyKeys(false)(t, validFFU(t)))
			return []string{"ffu", "verify", "keys.ffu"}
		},
		want:     []string{"keys.ffu: OK"},
		exitZero: true,
	})

	// A catalog whose member is not called HashTable.blob but holds SHA1(hash table) is sound.
	addHostile(hostileCase{
		name: "cli/ffu-verify/catalog-member-name",
		setup: func(t *testing.T, dir string) []string {
			b := validFFU(t)
			from, to := utf16le("HashTable.blob"), utf16le("HashTable.blub")
			i := bytes.Index(b[:4096], from)
			if i < 0 {
				t.Fatal("no HashTable.blob member in the catalog")
			}
			copy(b[i:], to)
			writeFile(t, dir, "renamed.ffu", b)
			return []string{"ffu", "verify", "renamed.ffu"}
		},
		want:     []string{"renamed.ffu: OK", `warning: renamed.ffu: the catalog member holding the hash table's SHA-1 is called "HashTable.blub"`},
		exitZero: true,
	})

	// ffu extract onto an existing directory: refused, and no extracted disk left behind.
	addHostile(hostileCase{
		name: "cli/ffu-extract/onto-directory",
		setup: func(t *testing.T, dir string) []string {
			writeFile(t, dir, "valid.ffu", validFFU(t))
			if err := os.Mkdir(filepath.Join(dir, "disk"), 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{"ffu", "extract", "valid.ffu", "disk"}
		},
		want: []string{"OUTPUT disk is a directory"},
	})

	// Files that are not regular where a file is read: a device and a pipe never end.
	addHostile(hostileCase{
		name:  "cli/params/dev-zero",
		setup: func(t *testing.T, dir string) []string { return []string{"@/dev/zero"} },
		want:  []string{"params file: /dev/zero: a character device; expected a regular file"},
	})
	fifoCase := func(name, file string, args ...string) {
		addHostile(hostileCase{
			name: "cli/" + name,
			setup: func(t *testing.T, dir string) []string {
				if err := syscall.Mkfifo(filepath.Join(dir, file), 0o644); err != nil {
					t.Fatal(err)
				}
				return args
			},
			want: []string{file + ": a named pipe; expected a regular file"},
		})
	}
	fifoCase("params/named-pipe", "args.params", "@args.params")
	fifoCase("resolve/oeminput-named-pipe", "OEMInput.xml", "resolve", "OEMInput.xml", "kit")
	fifoCase("imggen/oeminput-named-pipe", "OEMInput.xml", "imggen", "out.ffu", "OEMInput.xml", "kit")
	fifoCase("ffu-info/named-pipe", "pipe.ffu", "ffu", "info", "pipe.ffu")
	fifoCase("imgtowim/named-pipe", "pipe.ffu", "imgtowim", "pipe.ffu", "out.wim")
	fifoCase("pkggen/project-named-pipe", "x.pkg.xml", "pkggen", "x.pkg.xml")

	// An unknown switch is named as one.
	addHostile(hostileCase{
		name:  "cli/pkggen/unknown-switch",
		setup: func(t *testing.T, dir string) []string { return []string{"pkggen", "x.pkg.xml", "/onecoreuap"} },
		want:  []string{"unknown switch /onecoreuap (expected one of"},
	})
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}
