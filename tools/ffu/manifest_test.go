package ffu

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemimage/rules_oemimage/tools/catalog"
)

func TestManifestBytesAndParse(t *testing.T) {
	m := &Manifest{Sections: []Section{
		{Name: "FullFlash", Keys: []KeyValue{{"Version", "2.0"}, {"DevicePlatformId0", "A.B"}}},
		{Name: "Store", Keys: []KeyValue{{"SectorSize", "512"}}},
		{Name: "Partition", Keys: []KeyValue{{"Name", "EFIESP"}, {"Type", "{x}"}}},
	}}
	want := "[FullFlash]\r\nVersion           = 2.0\r\nDevicePlatformId0 = A.B\r\n\r\n" +
		"[Store]\r\nSectorSize = 512\r\n\r\n" +
		"[Partition]\r\nName = EFIESP\r\nType = {x}\r\n\r\n"
	if got := string(m.Bytes()); got != want {
		t.Fatalf("Bytes:\n%q\nwant\n%q", got, want)
	}
	back, err := ParseManifest(m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Bytes(), m.Bytes()) {
		t.Errorf("parse and format again: %q", back.Bytes())
	}
	ss := back.StoreSections()
	if len(ss) != 1 || len(ss[0].Partitions) != 1 {
		t.Fatalf("store sections %+v", ss)
	}
}

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       string // error text, or "" for success
		check      func(*testing.T, *Manifest)
	}{
		{name: "LF and spacing", text: "[FullFlash]\nVersion=2.0\n  OSVersion   =   10.0  \n", check: func(t *testing.T, m *Manifest) {
			if v, _ := m.Section("FullFlash").Get("OSVersion"); v != "10.0" {
				t.Errorf("OSVersion %q", v)
			}
		}},
		{name: "description continues", text: "[FullFlash]\r\nDescription = one\r\ntwo words\r\nVersion = 2.0\r\n", check: func(t *testing.T, m *Manifest) {
			if v, _ := m.Section("FullFlash").Get("Description"); v != "one\r\ntwo words" {
				t.Errorf("Description %q", v)
			}
		}},
		{name: "empty value", text: "[Partition]\r\nPrimary = \r\n", check: func(t *testing.T, m *Manifest) {
			if v, ok := m.Section("Partition").Get("Primary"); !ok || v != "" {
				t.Errorf("Primary %q %v", v, ok)
			}
		}},
		{name: "key before section", text: "Version = 2.0\r\n", want: "line 1: key \"Version\" before any [section]"},
		{name: "duplicate", text: "[A]\r\nk = 1\r\nk = 2\r\n", want: "line 3: key \"k\" given twice in [A]"},
		{name: "junk", text: "[A]\r\nk = 1\r\njunk\r\n", want: "line 3: not a [section] or key = value"},
		{name: "non-ASCII", text: "[A]\r\nk = \xc3\xa9\r\n", want: "line 2: byte 0xc3"},
		{name: "NUL", text: "[A]\r\nk = a\x00\r\n", want: "line 2: byte 0x00"},
		{name: "bad section", text: "[]\r\n", want: "bad section name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.text))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func TestIniValue(t *testing.T) {
	for _, tc := range []struct{ in, out, err string }{
		{"plain", "plain", ""},
		{"  spaced  ", "spaced", ""},
		{"Contoso ™ phone", "Contoso ? phone", ""},
		{"tab\there", "", "control character"},
		{"c\rr", "", "control character"},
	} {
		got, err := iniValue("FullFlash Description", tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.out {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.out)
		}
	}
}

func TestCatalog(t *testing.T) {
	table := bytes.Repeat([]byte{0xAB}, 96)
	cat, err := BuildCatalog(table, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	members, err := catalog.Parse(cat)
	if err != nil {
		t.Fatal(err)
	}
	want := sha1.Sum(table)
	if len(members) != 1 || members[0].Name != "HashTable.blob" || !bytes.Equal(members[0].Digest, want[:]) || members[0].Hash != crypto.SHA1 {
		t.Fatalf("members %+v", members)
	}
	if m, err := CheckCatalog(cat, table); err != nil || m != "HashTable.blob" {
		t.Fatal(m, err)
	}
	if _, err := CheckCatalog(cat, table[:64]); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("other table: %v", err)
	}
	// Same size whatever the table (the writer plans the layout with it), different list IDs.
	other, _ := BuildCatalog(make([]byte, 32*1000), time.Time{})
	if len(other) != len(cat) || bytes.Equal(other, cat) {
		t.Errorf("catalogs of %d and %d bytes", len(cat), len(other))
	}
	again, _ := BuildCatalog(table, time.Time{})
	if !bytes.Equal(again, cat) {
		t.Error("catalog not deterministic")
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, cat[:100], append(bytes.Clone(cat), 1)} {
		if _, err := catalog.Parse(bad); err == nil {
			t.Errorf("catalog.Parse(% x...) succeeded", bad[:min(len(bad), 8)])
		}
	}
}

// TestCatalogOpenSSL has openssl, when installed, parse the catalog as DER and as PKCS#7.
func TestCatalogOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	cat, err := BuildCatalog(bytes.Repeat([]byte{1}, 64), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.cat")
	if err := os.WriteFile(path, cat, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", path).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, out)
	}
	for _, want := range []string{"pkcs7-signedData", "1.3.6.1.4.1.311.10.1", "1.3.6.1.4.1.311.12.1.1",
		"1.3.6.1.4.1.311.2.1.4", "sha1", "48006100730068005400610062006C0065002E0062006C006F0062000000"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("asn1parse output lacks %q:\n%s", want, out)
		}
	}
	digest := sha1.Sum(bytes.Repeat([]byte{1}, 64))
	if !strings.Contains(string(out), strings.ToUpper(hex.EncodeToString(digest[:]))) {
		t.Errorf("asn1parse output lacks the digest %x", digest)
	}
	out, err = exec.Command(openssl, "pkcs7", "-inform", "DER", "-in", path, "-print").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs7: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pkcs7-signedData") || !strings.Contains(string(out), "1.3.6.1.4.1.311.10.1") {
		t.Errorf("openssl pkcs7 -print:\n%s", out)
	}
}

// manyKeys is a manifest of one section with n distinct keys k0=1, k1=1... (9 bytes or so each).
func manyKeys(n int) []byte {
	var b bytes.Buffer
	b.WriteString("[FullFlash]\r\n")
	for i := range n {
		fmt.Fprintf(&b, "k%d=1\r\n", i)
	}
	return b.Bytes()
}

// longDescription is a Description of n continuation lines.
func longDescription(n int) []byte {
	var b bytes.Buffer
	b.WriteString("[FullFlash]\r\nDescription = 0\r\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "%d\r\n", i)
	}
	b.WriteString("Version = 2.0\r\n")
	return b.Bytes()
}

// The large cases parse right (their cost is BenchmarkParseManifest's business): 80,000 keys,
// a duplicate after them named by its line, a Description of 80,000 lines.
func TestParseManifestLarge(t *testing.T) {
	const n = 80000
	text := manyKeys(n)
	if len(text) > MaxManifestBytes {
		t.Fatalf("%d keys are %d bytes, over MaxManifestBytes", n, len(text))
	}
	m, err := ParseManifest(text)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Section("FullFlash")
	if len(s.Keys) != n || s.Keys[n-1] != (KeyValue{"k79999", "1"}) {
		t.Fatalf("%d keys, last %+v", len(s.Keys), s.Keys[len(s.Keys)-1])
	}
	dup := append(bytes.Clone(text), "k40000 = again\r\n"...)
	if _, err := ParseManifest(dup); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d: key \"k40000\" given twice in [FullFlash]", n+2)) {
		t.Fatalf("duplicate after %d keys: %v", n, err)
	}

	m, err = ParseManifest(longDescription(n))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := m.Section("FullFlash").Get("Description")
	lines := strings.Split(d, "\r\n")
	if len(lines) != n || lines[0] != "0" || lines[n-1] != "79999" {
		t.Fatalf("Description of %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if v, _ := m.Section("FullFlash").Get("Version"); v != "2.0" {
		t.Fatalf("Version after the Description: %q", v)
	}
}

// A manifest over MaxManifestBytes is refused, saying its size and the limit.
func TestParseManifestLimit(t *testing.T) {
	text := manyKeys(MaxManifestBytes / 8)
	_, err := ParseManifest(text)
	want := fmt.Sprintf("manifest of %d bytes is over the limit of %d bytes", len(text), MaxManifestBytes)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// BenchmarkParseManifest parses 10,000 and 80,000 keys, and as many Description lines: ns/key
// stays the same at both sizes when parsing is linear (it grew eightfold when it was not).
func BenchmarkParseManifest(b *testing.B) {
	for _, kind := range []struct {
		name string
		make func(int) []byte
	}{{"keys", manyKeys}, {"description-lines", longDescription}} {
		for _, n := range []int{10000, 80000} {
			text := kind.make(n)
			b.Run(fmt.Sprintf("%s=%d", kind.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					if _, err := ParseManifest(text); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
			})
		}
	}
}

// Verify takes the catalog's SHA-1 of the hash table, whatever the member that holds it is
// called (the documented check); another name than HashTable.blob is only a warning.
func TestVerifyCatalogMember(t *testing.T) {
	good := smallFFU(t, false)
	r := openFFU(t, good)
	table := r.HashTable()
	for _, tt := range []struct {
		name, member string
		table        []byte
		want         string // error; "" verifies
		warning      string
	}{
		{"ImageApp's", "HashTable.blob", table, "", ""},
		{"other name", "HashTable.blub", table, "", `called "HashTable.blub", not HashTable.blob`},
		{"other name, other table", "HashTable.blub", table[32:], "none of its 1 members holds the hash table's SHA-1", ""},
		{"ImageApp's name, other table", "HashTable.blob", table[32:], "HashTable.blob SHA-1", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := catalog.HashTable(tt.table, time.Time{}, tt.member)
			if err != nil || len(cat) != len(r.Catalog()) {
				t.Fatalf("catalog of %d bytes (%v), the image's has %d", len(cat), err, len(r.Catalog()))
			}
			b := bytes.Clone(good)
			copy(b[securityHeaderSize:], cat)
			rd := openFFU(t, b)
			err = rd.Verify()
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := strings.Join(rd.Warnings(), "\n")
			if tt.warning == "" && w != "" || !strings.Contains(w, tt.warning) {
				t.Errorf("warnings %q, want %q", w, tt.warning)
			}
		})
	}
}
