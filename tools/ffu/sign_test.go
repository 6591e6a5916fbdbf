package ffu

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
)

// signed returns catalog signed by the test PKI's leaf, with extra more copies of the root
// certificate embedded: a catalog as big as wanted, signed as a retail one is.
func signed(t testing.TB, cat []byte, extra int) []byte {
	t.Helper()
	pki := catalogtest.New(t)
	chain := append([]*x509.Certificate{}, pki.Leaf.Chain...)
	for range extra {
		chain = append(chain, pki.Root.Cert)
	}
	out, err := catalog.Sign(cat, &catalog.Signer{Key: pki.Leaf.Key, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signFixture is an image with 4 KiB chunks, so that a few KB of certificates cross a chunk.
func signFixture(t testing.TB) ([]byte, *Reader) {
	t.Helper()
	b, _ := writeFFU(t, standardDisk(t, 512).image(4, true))
	return b, openFFU(t, b)
}

func replace(t testing.TB, r *Reader, catalog []byte) ([]byte, SignedLayout) {
	t.Helper()
	var out bytes.Buffer
	l, err := r.ReplaceCatalog(&out, catalog)
	if err != nil {
		t.Fatal(err)
	}
	if int64(out.Len()) != l.Size {
		t.Fatalf("wrote %d bytes, layout says %d", out.Len(), l.Size)
	}
	return out.Bytes(), l
}

func TestReplaceCatalogSame(t *testing.T) {
	b, r := signFixture(t)
	got, l := replace(t, r, r.Catalog())
	if !bytes.Equal(got, b) || l.Shift != 0 {
		t.Fatalf("the same catalog changed the image (shift %d, %d -> %d bytes)", l.Shift, len(b), len(got))
	}
}

func TestReplaceCatalogGrowsAndShrinks(t *testing.T) {
	b, r := signFixture(t)
	crossed := false
	for _, n := range []int{0, 8, 40} {
		t.Run(fmt.Sprint(n, " more certificates"), func(t *testing.T) {
			crossed = checkReplace(t, b, r, signed(t, r.Catalog(), n)) > 0 || crossed
		})
	}
	if !crossed {
		t.Error("no catalog crossed a chunk boundary: the test does not test the shift")
	}
}

// Generated shapes: images of several chunk sizes (4 KB to 256 KB), sector sizes and FFU
// versions, each given signed catalogs of random sizes, some crossing a chunk boundary and
// some not. Every result is judged as above, and its catalog, taken back out of the signed
// image, by openssl (the certificates it embeds).
func TestReplaceCatalogGenerated(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("OEMIMAGE_REQUIRE_CHECKERS") == "1" {
			t.Fatal("openssl not found: the bootstrap (tools/bazel) installs it")
		}
		t.Skip("openssl not installed")
	}
	rng := rand.New(rand.NewSource(21))
	shifts := map[bool]int{}
	for i := range 12 {
		ss := []uint32{512, 4096}[rng.Intn(2)]
		chunk := []uint32{4, 16, 64, 128, 256}[rng.Intn(5)]
		v2 := rng.Intn(2) == 0
		extra := rng.Intn(int(chunk)/2 + 2) // certificates of ~1 KB: up to half a chunk more
		t.Run(fmt.Sprintf("%d/ss%d/chunk%dKB/v2=%v/+%d", i, ss, chunk, v2, extra), func(t *testing.T) {
			b, _ := writeFFU(t, standardDisk(t, ss).image(chunk, v2))
			r := openFFU(t, b)
			big := signed(t, r.Catalog(), extra)
			shift := checkReplace(t, b, r, big)
			shifts[shift > 0]++
			path := filepath.Join(t.TempDir(), "out.cat")
			if err := os.WriteFile(path, big, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(openssl, "pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-noout").CombinedOutput()
			if err != nil {
				t.Fatalf("openssl pkcs7: %v\n%s", err, out)
			}
			if n := strings.Count(string(out), "subject="); n != 2+extra {
				t.Errorf("openssl lists %d certificates in the signed image's catalog, want %d:\n%s", n, 2+extra, out)
			}
		})
	}
	if shifts[true] == 0 || shifts[false] == 0 {
		t.Errorf("the generated catalogs moved the image %d times and left it in place %d times: both shapes are wanted", shifts[true], shifts[false])
	}
}

// checkReplace puts catalog big into the image b (read as r) and checks the result: the
// layout, the hashes, every byte from the image header on shifted by whole chunks, zero
// padding, and the original bytes back when the original catalog is put back. It returns the
// shift.
func checkReplace(t *testing.T, b []byte, r *Reader, big []byte) int64 {
	t.Helper()
	chunk := int64(r.Security.ChunkSizeKB) * 1024
	signed, l := replace(t, r, big)
	want := roundUp(securityHeaderSize+int64(len(big))+int64(len(r.HashTable())), chunk)
	if l.ImageOffset != want || l.Shift != want-r.ImageOffset || l.Shift%chunk != 0 {
		t.Fatalf("layout %+v; want the image header at %d", l, want)
	}
	s := openFFU(t, signed)
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Catalog(), big) || !bytes.Equal(s.HashTable(), r.HashTable()) || s.Security.CatalogSize != uint32(len(big)) {
		t.Fatal("catalog or hash table not as given")
	}
	// Every byte from the image header on is the original's, shifted.
	if !bytes.Equal(signed[l.ImageOffset:], b[r.ImageOffset:]) {
		t.Fatal("image header, stores or payload changed")
	}
	for i := range s.Stores {
		if s.Stores[i].PayloadOffset-r.Stores[i].PayloadOffset != l.Shift {
			t.Errorf("store %d payload moved by %d, want %d", i+1, s.Stores[i].PayloadOffset-r.Stores[i].PayloadOffset, l.Shift)
		}
	}
	// Padding is zeros.
	if pad := signed[securityHeaderSize+len(big)+len(r.HashTable()) : l.ImageOffset]; len(bytes.Trim(pad, "\x00")) != 0 {
		t.Error("padding is not zeros")
	}
	// And back: the unsigned catalog gives the original bytes.
	back, bl := replace(t, s, r.Catalog())
	if !bytes.Equal(back, b) || bl.Shift != -l.Shift {
		t.Fatalf("putting the original catalog back: %d bytes (shift %d), want the original %d", len(back), bl.Shift, len(b))
	}
	return l.Shift
}

func TestReplaceCatalogRefuses(t *testing.T) {
	b, r := signFixture(t)
	other, _ := writeFFU(t, standardDisk(t, 512).image(8, true))
	otherCat := openFFU(t, other).Catalog()
	tableSum := sha1.Sum(r.HashTable())
	for _, c := range []struct {
		name    string
		image   []byte
		catalog []byte
		want    []string
	}{
		{"another image's catalog", b, otherCat, []string{"HashTable.blob member has SHA-1 ", fmt.Sprintf("hash table has SHA-1 %x", tableSum)}},
		{"not a catalog", b, []byte("MZ\x90\x00"), []string{"catalog: not a PKCS#7 ContentInfo"}},
		{"empty catalog", b, nil, []string{"catalog: not a PKCS#7 ContentInfo"}},
		{"huge catalog", b, make([]byte, MaxCatalogBytes+1), []string{"over the limit"}},
		{"corrupt payload", flipped(b, len(b)-5), r.Catalog(), []string{"does not match the hash table: the image is corrupt", "store 1 payload block"}},
		{"extended", append(append([]byte{}, b...), make([]byte, 4096)...), r.Catalog(), []string{"truncated or extended"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rd, err := Open(bytes.NewReader(c.image), int64(len(c.image)))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = rd.ReplaceCatalog(&out, c.catalog)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	var mm *CatalogMismatchError
	if _, err := MatchCatalog(otherCat, r.HashTable()); !errors.As(err, &mm) || !bytes.Equal(mm.TableSHA1, tableSum[:]) || mm.Member != catalogMemberName {
		t.Errorf("MatchCatalog: %v", err)
	}
}

func flipped(b []byte, at int) []byte {
	c := append([]byte{}, b...)
	c[at] ^= 1 // ASCII stays ASCII: the hash must catch it, not the manifest parser
	return c
}

func TestReadHead(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		b, _ := writeFFU(t, standardDisk(t, 512).image(4, v2))
		r := openFFU(t, b)
		h, err := ReadHead(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		chunk := int64(4096)
		wantEnd := r.Stores[0].HeaderOffset + chunk
		if h.End != wantEnd || h.StoreOffset != r.Stores[0].HeaderOffset || h.ImageOffset != r.ImageOffset {
			t.Fatalf("end %d, store at %d; want %d, %d", h.End, h.StoreOffset, wantEnd, r.Stores[0].HeaderOffset)
		}
		if strings.Join(h.Store.PlatformIDs, ",") != "Contoso.MSM8994.P6211,Contoso.*" || h.Member != catalogMemberName || !bytes.Equal(h.Catalog, r.Catalog()) {
			t.Errorf("head %+v", h)
		}
		// The head alone reads the same.
		if t2, err := ReadHead(bytes.NewReader(b[:h.End]), h.End); err != nil || t2.End != h.End {
			t.Errorf("truncated to %d: %v", h.End, err)
		}
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"one byte short", b[:h.End-1], "beyond the end of the file"},
			{"manifest changed", flipped(b[:h.End], int(r.ImageOffset)+imageHeaderSize+3), "chunk 0 (offset " + fmt.Sprint(r.ImageOffset) + ", image header and manifest): SHA-256 does not match"},
			{"store header changed", flipped(b[:h.End], int(h.StoreOffset)+200), "store 1 header): SHA-256 does not match"},
			{"hash table changed", flipped(b[:h.End], securityHeaderSize+int(r.Security.CatalogSize)), "does not match the hash table's"},
			{"security header only", b[:securityHeaderSize], "beyond the end of the file"},
		} {
			if _, err := ReadHead(bytes.NewReader(c.data), int64(len(c.data))); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("v2 %v, %s: %v; want %q", v2, c.name, err, c.want)
			}
		}
	}
}

func FuzzReadHead(f *testing.F) {
	b := smallFFU(f, true)
	h, err := ReadHead(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:h.End])
	f.Add(smallFFU(f, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHead(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if h.End > int64(len(data)) || h.End <= h.StoreOffset || h.StoreOffset <= h.ImageOffset {
			t.Fatalf("head ends at %d (store at %d, image at %d) in %d bytes", h.End, h.StoreOffset, h.ImageOffset, len(data))
		}
		if r, err := Open(bytes.NewReader(data), int64(len(data))); err == nil {
			var out bytes.Buffer
			head := securityHeaderSize + len(h.Catalog) + len(h.HashTable)
			if l, err := r.ReplaceCatalog(&out, h.Catalog); err == nil && (l.Shift != 0 || !bytes.Equal(out.Bytes()[:head], data[:head]) || !bytes.Equal(out.Bytes()[l.ImageOffset:], data[h.ImageOffset:])) {
				t.Fatalf("the same catalog changed the image (shift %d)", l.Shift)
			}
		}
	})
}

// TestVerifySignature: a catalog signed by the test PKI's leaf verifies against its root, not
// against another root; an unsigned catalog, an expired signer and a hash table changed after
// signing are refused.
func TestVerifySignature(t *testing.T) {
	b, r := signFixture(t)
	pki := catalogtest.New(t)
	signedFFU, _ := replace(t, r, signed(t, r.Catalog(), 0))
	s := openFFU(t, signedFFU)
	sig, err := s.VerifySignature(pki.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if sig.Leaf.Subject.String() != pki.Leaf.Cert.Subject.String() || len(sig.Chain) != 2 {
		t.Errorf("signed by %q, chain of %d", sig.Subject, len(sig.Chain))
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	other := x509.NewCertPool()
	other.AddCert(pki.Other.Cert)
	expired, err := catalog.Sign(r.Catalog(), pki.Expired.Signer())
	if err != nil {
		t.Fatal(err)
	}
	expiredFFU, _ := replace(t, r, expired)
	// The hash table changed after signing: the signature still holds, the HashTable.blob
	// member does not.
	edited := bytes.Clone(signedFFU)
	edited[securityHeaderSize+int(s.Security.CatalogSize)] ^= 1
	for _, c := range []struct {
		name  string
		image []byte
		roots *x509.CertPool
		want  string
	}{
		{"another root", signedFFU, other, "is not trusted"},
		{"no roots", signedFFU, nil, "no trusted roots"},
		{"unsigned", b, pki.Pool(), "catalog is not signed"},
		{"expired signer", expiredFFU, pki.Pool(), "is not trusted"},
		{"hash table edited", edited, pki.Pool(), "the signed catalog does not match the hash table: the catalog's HashTable.blob member has SHA-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openFFU(t, c.image).VerifySignature(c.roots)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v; want %q", err, c.want)
			}
		})
	}
}
