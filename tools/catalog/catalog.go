// Package catalog builds, parses, signs and verifies Authenticode catalogs (.cat): a PKCS#7
// SignedData whose content is a certificate trust list (CTL, szOID_CTL) of usage
// szOID_CATALOG_LIST, one trusted subject ("member") per catalogued file. It makes what
// MakeCat.exe makes from a CDF in the version 1 layout, the layout of the catalogs of Windows 10
// Mobile packages and FFUs:
//
//   - the member tag is UTF-16LE with a terminating NUL: for a hashed entry (CDF "<HASH>") the
//     upper-case hex of the file's digest, for a labelled entry the label (the FFU's
//     "HashTable.blob");
//   - a flat file's attributes are SPC_INDIRECT_DATA (SPC_CAB_DATA_OBJID with an empty file
//     link, the flat-file form, and the SHA-1 digest of the whole file), CAT_MEMBERINFO (the
//     flat-file SIP GUID, version 512) and, for a named file, CAT_NAMEVALUE "File" = its name;
//   - a PE image's (Entry.PE) are SPC_INDIRECT_DATA with SPC_PE_IMAGE_DATAOBJ and the SHA-1
//     Authenticode PE image hash (pe.go: without CheckSum, the certificate directory entry and
//     the certificate table), CAT_MEMBERINFO with the PE SIP GUID, and the File name. Hasher
//     tells the two apart by the file's bytes and computes either digest while streaming.
//
// Parse also reads version 2 catalogs (szOID_CATALOG_LIST_MEMBER2, whose tags are the raw
// digest bytes) and SHA-256 members, and says which members are PE image hashes
// (Member.PE). Sign wraps the CTL in a SHA-256 signature with the signer's certificate chain
// (github.com/sassoftware/relic/v8/lib/pkcs7), and Verify checks a signature and its chain
// (sign.go). docs/signing.md describes the flows.
package catalog

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/oemimage/rules_oemimage/tools/internal/utf16le"
)

var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidCTL               = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 1}    // szOID_CTL
	oidCatalogList       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 1} // szOID_CATALOG_LIST
	oidCatalogListMember = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 2} // szOID_CATALOG_LIST_MEMBER
	oidCatalogMember2    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 3} // szOID_CATALOG_LIST_MEMBER2
	oidIndirectData      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}  // SPC_INDIRECT_DATA_OBJID
	oidCabData           = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 25} // SPC_CAB_DATA_OBJID (flat files)
	oidPEImageData       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 15} // SPC_PE_IMAGE_DATAOBJ (PE images)
	oidNameValue         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 2, 1} // CAT_NAMEVALUE_OBJID
	oidMemberInfo        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 2, 2} // CAT_MEMBERINFO_OBJID
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

const (
	flatFileSIP   = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}" // the SIP MakeCat names for flat files
	memberVersion = 512                                      // CAT_MEMBERINFO dwCertVersion as MakeCat writes it
	// nameValueFlags are the CAT_NAMEVALUE flags of a CDF "ATTR1=0x10010001:File:name" line:
	// CRYPTCAT_ATTR_AUTHENTICATED | CRYPTCAT_ATTR_NAMEASCII | CRYPTCAT_ATTR_DATAASCII.
	nameValueFlags = 0x10010001
	// HashTableMember is the tag of the FFU catalog's one member (ImageApp's CDF label).
	HashTableMember = "HashTable.blob"
)

// MaxBytes bounds the catalogs Parse and Verify read: a package catalog is about 200 bytes per
// file, an FFU catalog a few KB signed.
const MaxBytes = 64 << 20

// DefaultTime is the CTL thisUpdate of catalogs built without a time: a fixed time, so that the
// same inputs give the same bytes.
var DefaultTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Entry is a member of a catalog to build.
type Entry struct {
	// Tag is the member tag; empty means the upper-case hex of Digest (MakeCat's <HASH> entries).
	Tag string
	// File is the CAT_NAMEVALUE "File" attribute (the file's name); empty writes none.
	File string
	// Digest is the file's SHA-1: of the whole file (MakeCat's flat-file hash), or with PE its
	// Authenticode PE image hash (pe.go).
	Digest []byte
	// PE writes the member in the PE image form: SPC_PE_IMAGE_DATA and the PE SIP.
	PE bool
}

// List is the content of a catalog to build.
type List struct {
	Time    time.Time // thisUpdate; zero means DefaultTime. UTCTime covers 1950..2049.
	ListID  []byte    // the CTL list identifier (MakeCat: a random GUID); nil derives one from the entries
	Entries []Entry
}

// FileEntry is the entry of a flat file called name with content data (MakeCat's <HASH>name),
// hashed whole whatever its bytes; Hasher.Entry makes the entry of any file, PE or flat.
func FileEntry(name string, data []byte) Entry {
	d := sha1.Sum(data)
	return Entry{File: name, Digest: d[:]}
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

type spcAttributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"optional"`
}

type digestInfo struct {
	Algorithm algorithmIdentifier
	Digest    []byte
}

type spcIndirectData struct {
	Data          spcAttributeTypeAndValue
	MessageDigest digestInfo
}

type trustedSubject struct {
	Identifier []byte
	Attributes []attribute `asn1:"set,optional"`
}

type certTrustList struct {
	SubjectUsage     []asn1.ObjectIdentifier
	ListIdentifier   []byte    `asn1:"optional"`
	ThisUpdate       time.Time `asn1:"utc"`
	SubjectAlgorithm algorithmIdentifier
	Subjects         []trustedSubject `asn1:"optional"`
}

type nameValue struct {
	Tag   asn1.RawValue // BMPString
	Flags int
	Value []byte // UTF-16LE with NUL
}

// contentInfo is a PKCS#7 ContentInfo; Content is the [0] EXPLICIT wrapper, built and taken
// apart by explicit0 and unwrap0 (encoding/asn1 ignores the tag of a RawValue with FullBytes).
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"optional"`
}

func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

func unwrap0(v asn1.RawValue, what string) ([]byte, error) {
	if v.Class != asn1.ClassContextSpecific || v.Tag != 0 || !v.IsCompound {
		return nil, fmt.Errorf("catalog: %s content is not [0] EXPLICIT", what)
	}
	return v.Bytes, nil
}

type signedData struct {
	Version          int
	DigestAlgorithms []algorithmIdentifier `asn1:"set"`
	ContentInfo      contentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

var asn1Null = asn1.RawValue{Tag: asn1.TagNull, Class: asn1.ClassUniversal}

func bmpString(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func utf16leNUL(s string) []byte {
	u := utf16.Encode([]rune(s + "\x00"))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("catalog: encoding: %v", err)) // fixed structures: a bug, not input
	}
	return b
}

// BuildCTL returns the DER of the certificate trust list of l: the content Sign signs.
func BuildCTL(l List) ([]byte, error) {
	t := l.Time
	if t.IsZero() {
		t = DefaultTime
	}
	t = t.UTC().Truncate(time.Second)
	if t.Year() < 1950 || t.Year() > 2049 {
		return nil, fmt.Errorf("catalog time %v is outside the UTCTime range 1950-2049", t)
	}
	// SpcLink.file = SpcString.unicode "" as MakeCat writes it for flat files: [2] { [0] }.
	link := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true,
		Bytes: mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0})}
	memberInfo := func(sip string) []byte {
		return mustMarshal(struct {
			SIP     asn1.RawValue
			Version int
		}{asn1.RawValue{Tag: asn1.TagBMPString, Bytes: bmpString(sip)}, memberVersion})
	}
	flatInfo, peInfo := memberInfo(flatFileSIP), memberInfo(peSIP)
	// SpcPeImageData as MakeCat's PE SIP writes it without page hashes: flags 0xa0 with 5
	// unused bits (the bit string MakeCat writes: includeResources | includeImportAddressTable),
	// file [0] = SpcLink.file [2] = SpcString.unicode [0] "<<<Obsolete>>>".
	peData := mustMarshal(struct {
		Flags asn1.BitString
		File  asn1.RawValue
	}{asn1.BitString{Bytes: []byte{0xa0}, BitLength: 3}, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true,
			Bytes: mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: bmpString("<<<Obsolete>>>")})})}})

	subjects := make([]trustedSubject, 0, len(l.Entries))
	seen := make(map[string]string, len(l.Entries))
	for i, e := range l.Entries {
		if len(e.Digest) != sha1.Size {
			return nil, fmt.Errorf("catalog entry %d (%q): digest of %d bytes, expected a SHA-1 of %d", i, e.File, len(e.Digest), sha1.Size)
		}
		tag := e.Tag
		if tag == "" {
			tag = strings.ToUpper(hex.EncodeToString(e.Digest))
		}
		if prev, dup := seen[strings.ToUpper(tag)]; dup {
			if e.Tag == "" {
				// Two files with the same content: one member covers both (a catalog lookup is by
				// hash); MakeCat refuses duplicate tags.
				continue
			}
			return nil, fmt.Errorf("catalog entry %d (%q): tag %q is also the tag of %q", i, e.File, tag, prev)
		}
		seen[strings.ToUpper(tag)] = e.File
		data, info := spcAttributeTypeAndValue{Type: oidCabData, Value: link}, flatInfo
		if e.PE {
			data, info = spcAttributeTypeAndValue{Type: oidPEImageData, Value: asn1.RawValue{FullBytes: peData}}, peInfo
		}
		indirect := mustMarshal(spcIndirectData{
			Data:          data,
			MessageDigest: digestInfo{algorithmIdentifier{oidSHA1, asn1Null}, e.Digest},
		})
		attrs := []attribute{
			{oidIndirectData, []asn1.RawValue{{FullBytes: indirect}}},
			{oidMemberInfo, []asn1.RawValue{{FullBytes: info}}},
		}
		if e.File != "" {
			nv := mustMarshal(nameValue{asn1.RawValue{Tag: asn1.TagBMPString, Bytes: bmpString("File")}, nameValueFlags, utf16leNUL(e.File)})
			attrs = append(attrs, attribute{oidNameValue, []asn1.RawValue{{FullBytes: nv}}})
		}
		subjects = append(subjects, trustedSubject{Identifier: utf16leNUL(tag), Attributes: attrs})
	}
	id := l.ListID
	if id == nil {
		h := sha256.New()
		h.Write([]byte("rules_oemimage catalog list id\x00"))
		for _, s := range subjects {
			h.Write(s.Identifier)
			for _, a := range s.Attributes {
				for _, v := range a.Values {
					h.Write(v.FullBytes)
				}
			}
		}
		id = h.Sum(nil)[:16]
	}
	return asn1.Marshal(certTrustList{
		SubjectUsage:     []asn1.ObjectIdentifier{oidCatalogList},
		ListIdentifier:   id,
		ThisUpdate:       t,
		SubjectAlgorithm: algorithmIdentifier{oidCatalogListMember, asn1Null},
		Subjects:         subjects,
	})
}

// Build returns the unsigned catalog of l: DER of a PKCS#7 SignedData with the CTL as content,
// no certificates and no signer infos (what MakeCat writes before signtool signs it).
func Build(l List) ([]byte, error) {
	ctl, err := BuildCTL(l)
	if err != nil {
		return nil, err
	}
	return wrapUnsigned(ctl), nil
}

func wrapUnsigned(ctl []byte) []byte {
	sd := mustMarshal(signedData{
		Version:          1,
		DigestAlgorithms: []algorithmIdentifier{},
		ContentInfo:      contentInfo{oidCTL, explicit0(ctl)},
		SignerInfos:      []asn1.RawValue{},
	})
	return mustMarshal(contentInfo{oidSignedData, explicit0(sd)})
}

// HashTable returns the unsigned FFU catalog of a hash table: one member tagged name (ImageApp:
// HashTableMember) whose SHA-1 is SHA1(hashTable), no File attribute, at time t (zero:
// DefaultTime). The list identifier is derived from the hash table, where MakeCat uses a
// random one, so the catalog's size does not depend on the table.
func HashTable(hashTable []byte, t time.Time, name string) ([]byte, error) {
	digest := sha1.Sum(hashTable)
	listID := sha256.Sum256(append([]byte("rules_oemimage catalog list id\x00"), hashTable...))
	return Build(List{Time: t, ListID: listID[:16], Entries: []Entry{{Tag: name, Digest: digest[:]}}})
}

// Member is a member of a parsed catalog.
type Member struct {
	Name   string      // File attribute when there is one, else Tag
	Tag    string      // the member tag (version 2 catalogs: hex of the identifier bytes)
	File   string      // the CAT_NAMEVALUE "File" attribute, "" when absent
	Hash   crypto.Hash // digest algorithm of the member's indirect data (SHA-1 or SHA-256)
	Digest []byte      // the file's digest
	PE     bool        // the digest is the Authenticode PE image hash (SPC_PE_IMAGE_DATA), not the flat hash
}

// parsed is a catalog taken apart: its members, its CTL's DER (the signed content) and
// whether it has signer infos.
type parsed struct {
	members []Member
	ctl     []byte
	signers int
}

// Parse reads the members of an Authenticode catalog, signed or not. It decodes the
// structure only; Verify checks the signature. Allocations are bounded by the input (at most
// MaxBytes).
func Parse(der []byte) ([]Member, error) {
	p, err := parse(der)
	if err != nil {
		return nil, err
	}
	return p.members, nil
}

func parse(der []byte) (*parsed, error) {
	if len(der) > MaxBytes {
		return nil, fmt.Errorf("catalog: %d bytes is over the limit of %d bytes", len(der), MaxBytes)
	}
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("catalog: not a PKCS#7 ContentInfo: %v", err)
	}
	if len(rest) != 0 && len(bytes.Trim(rest, "\x00")) != 0 {
		return nil, fmt.Errorf("catalog: %d bytes after the ContentInfo", len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("catalog: content type %v is not signedData", ci.ContentType)
	}
	inner, err := unwrap0(ci.Content, "ContentInfo")
	if err != nil {
		return nil, err
	}
	var sd signedData
	if _, err := asn1.Unmarshal(inner, &sd); err != nil {
		return nil, fmt.Errorf("catalog: bad SignedData: %v", err)
	}
	if !sd.ContentInfo.ContentType.Equal(oidCTL) {
		return nil, fmt.Errorf("catalog: content type %v is not szOID_CTL", sd.ContentInfo.ContentType)
	}
	ctlDER, err := unwrap0(sd.ContentInfo.Content, "SignedData")
	if err != nil {
		return nil, err
	}
	subjects, v2, err := ctlSubjects(ctlDER)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(subjects))
	for i, s := range subjects {
		m := Member{Tag: utf16le.CString(s.Identifier)}
		if v2 {
			m.Tag = strings.ToUpper(hex.EncodeToString(s.Identifier))
		}
		for _, a := range s.Attributes {
			if len(a.Values) == 0 {
				continue
			}
			switch {
			case a.Type.Equal(oidIndirectData):
				var ind spcIndirectData
				if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &ind); err != nil {
					return nil, fmt.Errorf("catalog: member %d (%q): bad SPC_INDIRECT_DATA: %v", i, m.Tag, err)
				}
				switch alg := ind.MessageDigest.Algorithm.Algorithm; {
				case alg.Equal(oidSHA1):
					m.Hash = crypto.SHA1
				case alg.Equal(oidSHA256):
					m.Hash = crypto.SHA256
				default:
					return nil, fmt.Errorf("catalog: member %d (%q): digest algorithm %v, expected SHA-1 or SHA-256", i, m.Tag, alg)
				}
				if len(ind.MessageDigest.Digest) != m.Hash.Size() {
					return nil, fmt.Errorf("catalog: member %d (%q): %v digest of %d bytes, expected %d", i, m.Tag, m.Hash, len(ind.MessageDigest.Digest), m.Hash.Size())
				}
				m.Digest = ind.MessageDigest.Digest
				m.PE = ind.Data.Type.Equal(oidPEImageData)
			case a.Type.Equal(oidNameValue):
				var nv nameValue
				if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &nv); err != nil {
					return nil, fmt.Errorf("catalog: member %d (%q): bad CAT_NAMEVALUE: %v", i, m.Tag, err)
				}
				if bmpDecode(nv.Tag.Bytes) == "File" {
					m.File = utf16le.CString(nv.Value)
				}
			}
		}
		m.Name = m.Tag
		if m.File != "" {
			m.Name = m.File
		}
		out = append(out, m)
	}
	return &parsed{members: out, ctl: ctlDER, signers: len(sd.SignerInfos)}, nil
}

// ctlSubjects finds the TrustedSubjects of a CTL, and says whether its subject algorithm is
// szOID_CATALOG_LIST_MEMBER2. The CTL's optional fields (listIdentifier, sequenceNumber,
// nextUpdate) are told apart by tag rather than by a fixed struct, so catalogs written by other
// tools decode too.
func ctlSubjects(der []byte) ([]trustedSubject, bool, error) {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || seq.Tag != asn1.TagSequence || len(rest) != 0 {
		return nil, false, errors.New("catalog: CTL is not a SEQUENCE")
	}
	body := seq.Bytes
	var fields []asn1.RawValue
	for len(body) > 0 && len(fields) < 16 { // a CTL has at most 8 fields
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(body, &f)
		if err != nil {
			return nil, false, fmt.Errorf("catalog: bad CTL field %d: %v", len(fields), err)
		}
		fields = append(fields, f)
		body = rest
	}
	if len(fields) == 0 {
		return nil, false, errors.New("catalog: empty CTL")
	}
	var usage []asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(fields[0].FullBytes, &usage); err != nil {
		return nil, false, fmt.Errorf("catalog: bad CTL subjectUsage: %v", err)
	}
	if len(usage) == 0 || !usage[0].Equal(oidCatalogList) {
		return nil, false, fmt.Errorf("catalog: CTL subject usage %v is not szOID_CATALOG_LIST", usage)
	}
	// subjectUsage, [listIdentifier], [sequenceNumber], thisUpdate, [nextUpdate],
	// subjectAlgorithm, [subjects], [extensions]: the SEQUENCEs after the time are the
	// algorithm and then the subjects.
	timeSeen, v2 := false, false
	var alg *algorithmIdentifier
	for _, f := range fields[1:] {
		if f.Class != asn1.ClassUniversal {
			continue
		}
		switch {
		case f.Tag == asn1.TagUTCTime || f.Tag == asn1.TagGeneralizedTime:
			timeSeen = true
		case f.Tag == asn1.TagSequence && timeSeen && alg == nil:
			alg = new(algorithmIdentifier)
			if _, err := asn1.Unmarshal(f.FullBytes, alg); err != nil {
				return nil, false, fmt.Errorf("catalog: bad CTL subjectAlgorithm: %v", err)
			}
			v2 = alg.Algorithm.Equal(oidCatalogMember2)
			if !v2 && !alg.Algorithm.Equal(oidCatalogListMember) {
				return nil, false, fmt.Errorf("catalog: CTL subject algorithm %v is not szOID_CATALOG_LIST_MEMBER(2)", alg.Algorithm)
			}
		case f.Tag == asn1.TagSequence && alg != nil:
			var subjects []trustedSubject
			if _, err := asn1.Unmarshal(f.FullBytes, &subjects); err != nil {
				return nil, false, fmt.Errorf("catalog: bad CTL subjects: %v", err)
			}
			return subjects, v2, nil
		}
	}
	if alg == nil {
		return nil, false, errors.New("catalog: CTL has no thisUpdate and subjectAlgorithm")
	}
	return nil, v2, nil
}

func bmpDecode(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

// Find returns the member whose File (or, lacking one, tag) is name, compared
// case-insensitively as Windows does, or nil.
func Find(members []Member, name string) *Member {
	for i := range members {
		if strings.EqualFold(members[i].Name, name) {
			return &members[i]
		}
	}
	return nil
}
