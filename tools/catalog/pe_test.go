package catalog_test

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/catalog"
	"github.com/oemimage/rules_oemimage/tools/catalog/catalogtest"
	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// refPEHash is an independent Authenticode PE hash, written from the specification's steps
// (headers without CheckSum and the certificate directory entry up to SizeOfHeaders, then the
// sections sorted by PointerToRawData, then the bytes after them up to the certificate table,
// then zero padding to 8 bytes of an unsigned image), not from the linear walk of pe.go.
const refPEHash = `
import hashlib, struct, sys
b = open(sys.argv[2], 'rb').read()
h = hashlib.new(sys.argv[1])
pe = struct.unpack_from('<I', b, 0x3c)[0]
opt = pe + 24
dirs = 96 if struct.unpack_from('<H', b, opt)[0] == 0x10b else 112
ck, cd = opt + 64, opt + dirs + 32
soh = struct.unpack_from('<I', b, opt + 60)[0]
h.update(b[:ck]); h.update(b[ck+4:cd]); h.update(b[cd+8:soh])
nsec, osz = struct.unpack_from('<HH', b, pe + 6)[0], struct.unpack_from('<H', b, pe + 20)[0]
secs = sorted((struct.unpack_from('<II', b, opt + osz + 40*i + 16) for i in range(nsec)), key=lambda s: s[1])
done = soh
for size, ptr in secs:
    if size:
        h.update(b[ptr:ptr+size]); done += size
coff, csz = struct.unpack_from('<II', b, cd)
h.update(b[done:len(b)-csz])
if csz == 0 and len(b) % 8:
    h.update(bytes(8 - len(b) % 8))
print(h.hexdigest())
`

func refHash(t *testing.T, alg string, img []byte) string {
	t.Helper()
	py := checker.Find(t, "python3")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ref.py"), []byte(refPEHash), 0o644)
	os.WriteFile(filepath.Join(dir, "img"), img, 0o644)
	return strings.TrimSpace(checker.Run(t, dir, py, "ref.py", alg, "img"))
}

// hashChunks writes b to a Hasher chunk bytes at a time.
func hashChunks(alg crypto.Hash, b []byte, chunk int) (catalog.Digest, error) {
	h := catalog.NewHasher(alg)
	for len(b) > 0 {
		n := min(chunk, len(b))
		if w, err := h.Write(b[:n]); w != n || err != nil {
			return catalog.Digest{}, fmt.Errorf("Write of %d bytes: %d, %v", n, w, err)
		}
		b = b[n:]
	}
	return h.Sum()
}

var testPEs = map[string]catalogtest.PESpec{
	"PE32+ two sections": {Sections: [][]byte{bytes.Repeat([]byte("code"), 100), []byte("data")}, CheckSum: 0x1234},
	"PE32 one section":   {PE32: true, Sections: [][]byte{bytes.Repeat([]byte{0xcc}, 0x300)}},
	"odd size (padding)": {Sections: [][]byte{[]byte("x")}, Trailer: []byte("overlay, 21 bytes....")},
	"certificate table":  {Sections: [][]byte{[]byte("signed")}, Trailer: []byte("abc"), Cert: []byte("not really PKCS#7")},
	"no sections":        {},
	"past 64 KiB":        {Sections: [][]byte{[]byte("small"), bytes.Repeat([]byte("large section "), 10000)}, Trailer: []byte("odd")},
}

func TestPEHash(t *testing.T) {
	for name, spec := range testPEs {
		t.Run(name, func(t *testing.T) {
			img := catalogtest.PE(spec)
			for _, alg := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
				want := refHash(t, map[crypto.Hash]string{crypto.SHA1: "sha1", crypto.SHA256: "sha256"}[alg], img)
				for _, chunk := range []int{1, 7, 512, 1 << 16, len(img)} {
					d, err := hashChunks(alg, img, chunk)
					if err != nil {
						t.Fatalf("%v, chunks of %d: %v", alg, chunk, err)
					}
					if got := hex.EncodeToString(d.PE); got != want {
						t.Fatalf("%v, chunks of %d: PE hash %s, the reference says %s", alg, chunk, got, want)
					}
					flat := alg.New()
					flat.Write(img)
					if !bytes.Equal(d.Flat, flat.Sum(nil)) {
						t.Fatalf("%v: flat hash %x is not the file's", alg, d.Flat)
					}
				}
			}
			base, _ := hashChunks(crypto.SHA1, img, len(img))
			// The CheckSum field and the certificate table are outside the hash; a section byte
			// and the certificate directory's neighbours are inside.
			same := func(what string, change func([]byte)) {
				b := bytes.Clone(img)
				change(b)
				d, err := hashChunks(crypto.SHA1, b, 100)
				if err != nil || !bytes.Equal(d.PE, base.PE) || bytes.Equal(d.Flat, base.Flat) {
					t.Errorf("%s: PE hash %x (was %x), flat changed %v, err %v: expected the same PE hash and another flat one", what, d.PE, base.PE, !bytes.Equal(d.Flat, base.Flat), err)
				}
			}
			differs := func(what string, change func([]byte)) {
				b := bytes.Clone(img)
				change(b)
				d, err := hashChunks(crypto.SHA1, b, 100)
				if err != nil || bytes.Equal(d.PE, base.PE) {
					t.Errorf("%s: PE hash %x unchanged or err %v", what, d.PE, err)
				}
			}
			same("CheckSum", func(b []byte) { binary.LittleEndian.PutUint32(b[catalogtest.PECheckSum:], 0xdeadbeef) })
			differs("SizeOfImage", func(b []byte) { b[catalogtest.PEOptOffset+56]++ })
			differs("the byte after the certificate directory", func(b []byte) { b[catalogtest.PEDataDirs(spec.PE32)+5*8]++ })
			if len(spec.Sections) > 0 {
				differs("a section byte", func(b []byte) { b[0x200]++ })
			}
			if spec.Cert != nil {
				same("certificate table content", func(b []byte) { b[len(b)-1]++ })
			}
		})
	}
}

// TestPEFlat: files that are not PE images get no PE hash and no error.
func TestPEFlat(t *testing.T) {
	lfanew := func(off uint32, at uint32, sig string, size int) []byte {
		b := make([]byte, size)
		copy(b, "MZ")
		binary.LittleEndian.PutUint32(b[0x3c:], off)
		if int(at)+len(sig) <= size {
			copy(b[at:], sig)
		}
		return b
	}
	for name, b := range map[string][]byte{
		"empty":                       nil,
		"text":                        []byte("<Package/>"),
		"MZ, short":                   []byte("MZ\x90\x00"),
		"e_lfanew past the end":       lfanew(0x1000, 0, "", 0x100),
		"e_lfanew at no PE signature": lfanew(0x80, 0x80, "NE\x00\x00", 0x200),
		"PE signature past 64 KiB":    lfanew(0x10000, 0x10000, "PE\x00\x00", 0x20000),
		"e_lfanew 0xffffffff":         lfanew(0xffffffff, 0, "", 0x200),
	} {
		d, err := hashChunks(crypto.SHA1, b, 4096)
		want := sha1.Sum(b)
		if err != nil || d.PE != nil || !bytes.Equal(d.Flat, want[:]) {
			t.Errorf("%s: PE %x, err %v, flat %x: expected a flat file", name, d.PE, err, d.Flat)
		}
	}
}

// hostilePEs are PE images whose headers lie, each with the words its error must have.
func hostilePEs() map[string]struct {
	img  []byte
	want string
} {
	good := catalogtest.PE(testPEs["PE32+ two sections"])
	le := binary.LittleEndian
	edit := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	dirs := catalogtest.PEDataDirs(false)
	out := map[string]struct {
		img  []byte
		want string
	}{
		"truncated in the COFF header":     {good[:catalogtest.PEHeaderOffset+10], "COFF header"},
		"truncated in the optional header": {good[:catalogtest.PEOptOffset+100], "optional header"},
		"truncated in the section table":   {good[:catalogtest.PEOptOffset+240+50], "section table"},
		"truncated in a section":           {good[:0x300], "section data"},
		"unknown magic":                    {edit(func(b []byte) []byte { b[catalogtest.PEOptOffset] = 0x07; return b }), "magic"},
		"SizeOfOptionalHeader 8":           {edit(func(b []byte) []byte { le.PutUint16(b[catalogtest.PEHeaderOffset+20:], 8); return b }), "SizeOfOptionalHeader"},
		"NumberOfRvaAndSizes 2":            {edit(func(b []byte) []byte { le.PutUint32(b[dirs-4:], 2); return b }), "NumberOfRvaAndSizes"},
		"NumberOfSections 65535":           {edit(func(b []byte) []byte { le.PutUint16(b[catalogtest.PEHeaderOffset+6:], 0xffff); return b }), "NumberOfSections"},
		"section table past SizeOfHeaders": {edit(func(b []byte) []byte { le.PutUint16(b[catalogtest.PEHeaderOffset+6:], 90); return b }), "section table"},
		"section table past 64 KiB": {edit(func(b []byte) []byte {
			// the headers moved to end 8 bytes before 64 KiB, the section table after them
			const at = 0x10000 - 24 - 240 - 8
			big := make([]byte, 0x20000)
			copy(big, b[:0x40])
			le.PutUint32(big[0x3c:], at)
			copy(big[at:], b[catalogtest.PEHeaderOffset:catalogtest.PEOptOffset+240+80])
			return big
		}), "section table"},
		"SizeOfHeaders past the end": {edit(func(b []byte) []byte { le.PutUint32(b[catalogtest.PEOptOffset+60:], 1<<30); return b }), "SizeOfHeaders"},
		"section data past the end":  {edit(func(b []byte) []byte { le.PutUint32(b[catalogtest.PEOptOffset+240+20:], 0xfffffe00); return b }), "section data"},
		"certificate table past the end": {edit(func(b []byte) []byte {
			le.PutUint32(b[dirs+32:], 0x1000)
			le.PutUint32(b[dirs+36:], 0x7fffffff)
			return b
		}), "certificate table"},
		"certificate table not at the end": {edit(func(b []byte) []byte {
			le.PutUint32(b[dirs+32:], uint32(len(b)-0x200))
			le.PutUint32(b[dirs+36:], 8)
			return b
		}), "certificate table"},
		"certificate table unaligned":   {edit(func(b []byte) []byte { le.PutUint32(b[dirs+32:], 0x601); le.PutUint32(b[dirs+36:], 8); return b }), "8-aligned"},
		"certificate table size 0":      {edit(func(b []byte) []byte { le.PutUint32(b[dirs+32:], 0x600); return b }), "certificate table"},
		"certificate table in a header": {edit(func(b []byte) []byte { le.PutUint32(b[dirs+32:], 0x100); le.PutUint32(b[dirs+36:], 8); return b }), "overlaps"},
	}
	sig := catalogtest.PE(testPEs["certificate table"])
	out["signed, truncated in the certificate table"] = struct {
		img  []byte
		want string
	}{sig[:len(sig)-3], "certificate table"}
	return out
}

// TestPEHostile: lying headers are refused with an error naming the field, never a panic or a
// large allocation (run under prlimit --as=2147483648), and whatever the write sizes; every
// truncation of a valid image is refused or hashed flat, never given a PE hash.
func TestPEHostile(t *testing.T) {
	for name, c := range hostilePEs() {
		for _, chunk := range []int{1, 333, 1 << 20} {
			d, err := hashChunks(crypto.SHA256, c.img, chunk)
			if err == nil || d.PE != nil || !strings.Contains(err.Error(), c.want) || d.Flat == nil {
				t.Errorf("%s (chunks of %d): PE %x, err %v: expected an error about %q and a flat hash", name, chunk, d.PE, err, c.want)
			}
		}
		if _, err := catalog.NewHasher(crypto.SHA1).Entry(`\Windows\x.dll`); err != nil {
			t.Fatal(err) // the empty file is flat
		}
		h := catalog.NewHasher(crypto.SHA1)
		h.Write(c.img)
		if _, err := h.Entry(`\Windows\x.dll`); err == nil || !strings.HasPrefix(err.Error(), `\Windows\x.dll: PE image: `) {
			t.Errorf("%s: Entry error %v does not name the file", name, err)
		}
	}
	good := catalogtest.PE(testPEs["certificate table"])
	for n := 0; n < len(good); n++ {
		if d, err := hashChunks(crypto.SHA1, good[:n], 64); d.PE != nil {
			t.Fatalf("truncated to %d bytes: PE hash %x, err %v", n, d.PE, err)
		}
	}
}

// FuzzPEHash: any bytes, written in any chunks, give the same digests and error as written at
// once, and no panic.
func FuzzPEHash(f *testing.F) {
	for _, spec := range testPEs {
		f.Add(catalogtest.PE(spec), uint16(100))
	}
	for _, c := range hostilePEs() {
		if len(c.img) < 1<<16 {
			f.Add(c.img, uint16(7))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, chunk uint16) {
		if len(b) > 1<<20 {
			return // the mutator's megabyte inputs only slow the run down
		}
		size := max(int(chunk)+1, len(b)/1024) // at most 1024 writes
		whole, errWhole := hashChunks(crypto.SHA1, b, len(b)+1)
		parts, errParts := hashChunks(crypto.SHA1, b, size)
		if !bytes.Equal(whole.PE, parts.PE) || !bytes.Equal(whole.Flat, parts.Flat) || (errWhole == nil) != (errParts == nil) {
			t.Fatalf("at once: %x %x %v; in chunks of %d: %x %x %v", whole.PE, whole.Flat, errWhole, size, parts.PE, parts.Flat, errParts)
		}
		if errWhole != nil && whole.PE != nil {
			t.Fatal("a PE hash and an error")
		}
	})
}

// TestOsslsigncodePE: osslsigncode verify -catalog finds each PE image of a signed catalog in
// it (it computes the PE hash itself and compares it with the member's SPC_PE_IMAGE_DATA
// digest), and refuses a PE image changed in a section. It cannot hash flat files; the flat
// member is checked against openssl dgst -sha1 in the catalog's asn1parse dump.
func TestOsslsigncodePE(t *testing.T) {
	tool := checker.Find(t, "osslsigncode")
	openssl := checker.Find(t, "openssl")
	pki := catalogtest.New(t)
	dir := t.TempDir()
	root := pki.Root.CertFile(t, dir, "root")
	var entries []catalog.Entry
	files := map[string]string{}
	for name, spec := range testPEs {
		img := catalogtest.PE(spec)
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".dll")
		os.WriteFile(path, img, 0o644)
		h := catalog.NewHasher(crypto.SHA1)
		h.Write(img)
		e, err := h.Entry(`\Windows\System32\` + filepath.Base(path))
		if err != nil || !e.PE {
			t.Fatalf("%s: %+v %v", name, e, err)
		}
		entries = append(entries, e)
		files[name] = path
	}
	flat := []byte("a flat file, not MZ\n")
	flatPath := filepath.Join(dir, "flat.txt")
	os.WriteFile(flatPath, flat, 0o644)
	h := catalog.NewHasher(crypto.SHA1)
	h.Write(flat)
	e, err := h.Entry(`\Windows\flat.txt`)
	if err != nil || e.PE {
		t.Fatalf("flat: %+v %v", e, err)
	}
	entries = append(entries, e)
	signed, err := catalog.BuildSigned(catalog.List{Entries: entries}, pki.Leaf.Signer())
	if err != nil {
		t.Fatal(err)
	}
	cat := filepath.Join(dir, "x.cat")
	os.WriteFile(cat, signed, 0o644)
	members, err := catalog.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	pes := 0
	for _, m := range members {
		if m.PE {
			pes++
		}
	}
	if pes != len(testPEs) || len(members) != len(testPEs)+1 {
		t.Fatalf("parsed %d members, %d PE: expected %d PE and a flat one", len(members), pes, len(testPEs))
	}
	verify := func(path string) (string, error) {
		out, err := exec.Command(tool, "verify", "-CAfile", root, "-catalog", cat, "-in", path).CombinedOutput()
		return string(out), err
	}
	for name, path := range files {
		out, err := verify(path)
		if err != nil || !strings.Contains(out, "Signature verification: ok") {
			t.Errorf("%s: osslsigncode verify -catalog: %v\n%s", name, err, out)
			continue
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "message digest") || strings.Contains(l, "verification:") {
				t.Logf("%s: %s", name, l)
			}
		}
		img, _ := os.ReadFile(path)
		tampered := bytes.Clone(img)
		if len(testPEs[name].Sections) == 0 {
			tampered[catalogtest.PEOptOffset+56]++ // SizeOfImage: no section to change
		} else {
			tampered[0x200+3] ^= 0x40
		}
		bad := filepath.Join(dir, "tampered.dll")
		os.WriteFile(bad, tampered, 0o644)
		if out, err := verify(bad); err == nil {
			t.Errorf("%s: osslsigncode accepted the image changed after cataloguing:\n%s", name, out)
		}
		binary.LittleEndian.PutUint32(img[catalogtest.PECheckSum:], 0x0badf00d)
		os.WriteFile(bad, img, 0o644)
		if out, err := verify(bad); err != nil {
			t.Errorf("%s: osslsigncode refused the image with only its CheckSum changed: %v\n%s", name, err, out)
		}
	}
	dgst := checker.Run(t, dir, openssl, "dgst", "-sha1", "-r", flatPath)
	sum := strings.ToUpper(strings.Fields(dgst)[0])
	dump := checker.Run(t, dir, openssl, "asn1parse", "-inform", "DER", "-in", cat)
	if !strings.Contains(dump, "[HEX DUMP]:"+sum) || strings.Count(dump, ":1.3.6.1.4.1.311.2.1.15") != len(testPEs) || strings.Count(dump, ":1.3.6.1.4.1.311.2.1.25") != 1 {
		t.Errorf("asn1parse: expected the flat member's SHA-1 %s, %d SPC_PE_IMAGE_DATA and 1 SPC_CAB_DATA:\n%s", sum, len(testPEs), dump)
	}
}
