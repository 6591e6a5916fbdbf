package ffu

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// The catalog is what MakeCat.exe makes from a CDF listing one file, "HashTable.blob": an
// Authenticode catalog, i.e. PKCS#7 SignedData whose content is a certificate trust list (CTL)
// with one member. The member's SPC_INDIRECT_DATA attribute holds SHA1(hash table), which the
// device checks after it has checked the catalog's signature. Ours is unsigned: no certificates
// and no signer infos (catalog signing is a later issue).

var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidCTL               = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 1}    // szOID_CTL
	oidCatalogList       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 1} // szOID_CATALOG_LIST
	oidCatalogListMember = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 2} // szOID_CATALOG_LIST_MEMBER
	oidIndirectData      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}  // SPC_INDIRECT_DATA_OBJID
	oidCabData           = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 25} // SPC_CAB_DATA_OBJID (flat files)
	oidMemberInfo        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 2, 2} // CAT_MEMBERINFO_OBJID
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	catalogMemberName    = "HashTable.blob"
	flatFileSIP          = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}" // the SIP MakeCat names for flat files
	catalogMemberVersion = 512                                      // CAT_MEMBERINFO dwCertVersion as MakeCat writes it
)

// DefaultCatalogTime is the CTL thisUpdate of catalogs written without Image.CatalogTime: a
// fixed time, so that the same inputs give the same bytes.
var DefaultCatalogTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

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
	Attributes []attribute `asn1:"set"`
}

type certTrustList struct {
	SubjectUsage     []asn1.ObjectIdentifier
	ListIdentifier   []byte    `asn1:"optional"`
	ThisUpdate       time.Time `asn1:"utc"`
	SubjectAlgorithm algorithmIdentifier
	Subjects         []trustedSubject `asn1:"optional"`
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

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ffu: catalog encoding: %v", err)) // fixed structures: a bug, not input
	}
	return b
}

// BuildCatalog returns the unsigned catalog of a hash table: DER of a PKCS#7 SignedData holding a
// CTL with the member "HashTable.blob" whose SHA-1 is SHA1(hashTable). thisUpdate is t (zero:
// DefaultCatalogTime; UTCTime covers 1950..2049); the list identifier is derived from the hash
// table, where MakeCat uses a random one.
func BuildCatalog(hashTable []byte, t time.Time) ([]byte, error) {
	return buildCatalog(hashTable, t, catalogMemberName)
}

// buildCatalog is BuildCatalog with the member called name (tests make other tools' catalogs).
func buildCatalog(hashTable []byte, t time.Time, member string) ([]byte, error) {
	if t.IsZero() {
		t = DefaultCatalogTime
	}
	t = t.UTC().Truncate(time.Second)
	if t.Year() < 1950 || t.Year() > 2049 {
		return nil, fmt.Errorf("catalog time %v is outside the UTCTime range 1950-2049", t)
	}
	digest := sha1.Sum(hashTable)
	listID := sha256.Sum256(append([]byte("rules_oemimage catalog list id\x00"), hashTable...))

	// SpcLink.file = SpcString.unicode "" as MakeCat writes it for flat files: [2] { [0] }.
	link := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true,
		Bytes: mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0})}
	indirect := mustMarshal(spcIndirectData{
		Data:          spcAttributeTypeAndValue{Type: oidCabData, Value: link},
		MessageDigest: digestInfo{algorithmIdentifier{oidSHA1, asn1Null}, digest[:]},
	})
	memberInfo := mustMarshal(struct {
		SIP     asn1.RawValue
		Version int
	}{asn1.RawValue{Tag: asn1.TagBMPString, Bytes: bmpString(flatFileSIP)}, catalogMemberVersion})
	name := utf16.Encode([]rune(member + "\x00"))
	ident := make([]byte, 0, 2*len(name))
	for _, u := range name {
		ident = append(ident, byte(u), byte(u>>8)) // the member tag is UTF-16LE with its NUL
	}
	ctl := mustMarshal(certTrustList{
		SubjectUsage:     []asn1.ObjectIdentifier{oidCatalogList},
		ListIdentifier:   listID[:16],
		ThisUpdate:       t,
		SubjectAlgorithm: algorithmIdentifier{oidCatalogListMember, asn1Null},
		Subjects: []trustedSubject{{
			Identifier: ident,
			Attributes: []attribute{
				{oidIndirectData, []asn1.RawValue{{FullBytes: indirect}}},
				{oidMemberInfo, []asn1.RawValue{{FullBytes: memberInfo}}},
			},
		}},
	})
	sd := mustMarshal(signedData{
		Version:          1,
		DigestAlgorithms: []algorithmIdentifier{},
		ContentInfo:      contentInfo{oidCTL, explicit0(ctl)},
		SignerInfos:      []asn1.RawValue{},
	})
	return mustMarshal(contentInfo{oidSignedData, explicit0(sd)}), nil
}

// CatalogMember is a member of a catalog: its tag and the SHA-1 digest of its indirect data.
type CatalogMember struct {
	Name   string
	SHA1   []byte
	Signed bool // the catalog has signer infos (not checked here)
}

// ParseCatalog reads the members of an Authenticode catalog (signed or not). It only decodes
// the structure; it does not check signatures.
func ParseCatalog(der []byte) ([]CatalogMember, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("catalog: not a PKCS#7 ContentInfo: %v", err)
	}
	if len(rest) != 0 && !allZero(rest) {
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
	subjects, err := ctlSubjects(ctlDER)
	if err != nil {
		return nil, err
	}
	var out []CatalogMember
	for i, s := range subjects {
		m := CatalogMember{Name: utf16leString(s.Identifier), Signed: len(sd.SignerInfos) > 0}
		for _, a := range s.Attributes {
			if !a.Type.Equal(oidIndirectData) || len(a.Values) == 0 {
				continue
			}
			var ind spcIndirectData
			if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &ind); err != nil {
				return nil, fmt.Errorf("catalog: member %d (%q): bad indirect data: %v", i, m.Name, err)
			}
			m.SHA1 = ind.MessageDigest.Digest
		}
		out = append(out, m)
	}
	return out, nil
}

// ctlSubjects finds the TrustedSubjects of a CTL. The CTL's optional fields (listIdentifier,
// sequenceNumber, nextUpdate) are told apart by tag rather than by a fixed struct, so catalogs
// written by other tools decode too.
func ctlSubjects(der []byte) ([]trustedSubject, error) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil || seq.Tag != asn1.TagSequence {
		return nil, errors.New("catalog: CTL is not a SEQUENCE")
	}
	body := seq.Bytes
	var fields []asn1.RawValue
	for len(body) > 0 {
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(body, &f)
		if err != nil {
			return nil, fmt.Errorf("catalog: bad CTL field %d: %v", len(fields), err)
		}
		fields = append(fields, f)
		body = rest
	}
	// subjectUsage, [listIdentifier], [sequenceNumber], thisUpdate, [nextUpdate],
	// subjectAlgorithm, [subjects], [extensions]: the SEQUENCEs after the time are the
	// algorithm and then the subjects.
	timeSeen, algSeen := false, false
	for _, f := range fields[min(1, len(fields)):] {
		if f.Class != asn1.ClassUniversal {
			continue
		}
		switch {
		case f.Tag == asn1.TagUTCTime || f.Tag == asn1.TagGeneralizedTime:
			timeSeen = true
		case f.Tag == asn1.TagSequence && timeSeen && !algSeen:
			algSeen = true
		case f.Tag == asn1.TagSequence && algSeen:
			var subjects []trustedSubject
			if _, err := asn1.Unmarshal(f.FullBytes, &subjects); err != nil {
				return nil, fmt.Errorf("catalog: bad CTL subjects: %v", err)
			}
			return subjects, nil
		}
	}
	return nil, nil
}

func utf16leString(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := uint16(b[i]) | uint16(b[i+1])<<8
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func allZero(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0
}

// CheckCatalog checks that catalog has a member whose SHA-1 is SHA1(hashTable), and returns
// that member's name. The SHA-1 is what a device checks ("The signature check assumes that
// catalog contains a SHA1 hash", Implementing image integrity validation); the name is
// MakeCat's choice: ImageApp's catalogs call the member HashTable.blob, other tools' may not,
// so a caller may warn about another name but the image is sound.
func CheckCatalog(catalog, hashTable []byte) (member string, err error) {
	members, err := ParseCatalog(catalog)
	if err != nil {
		return "", err
	}
	want := sha1.Sum(hashTable)
	for _, m := range members {
		if bytes.Equal(m.SHA1, want[:]) {
			return m.Name, nil
		}
	}
	for _, m := range members {
		if m.Name == catalogMemberName {
			return "", fmt.Errorf("catalog: %s SHA-1 %x does not match the hash table's %x", m.Name, m.SHA1, want)
		}
	}
	return "", fmt.Errorf("catalog: none of its %d members holds the hash table's SHA-1 %x", len(members), want)
}
