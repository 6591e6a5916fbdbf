package ffu

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"fmt"
	"time"

	"github.com/oemimage/rules_oemimage/tools/catalog"
)

// The FFU's catalog is what MakeCat.exe makes from a CDF listing one file, "HashTable.blob":
// an Authenticode catalog with one member whose SPC_INDIRECT_DATA holds SHA1(hash table),
// which the device checks after it has checked the catalog's signature. tools/catalog builds
// it (catalog.HashTable); the FFU writer writes it unsigned.

const catalogMemberName = catalog.HashTableMember

// DefaultCatalogTime is the CTL thisUpdate of catalogs written without Image.CatalogTime: a
// fixed time, so that the same inputs give the same bytes.
var DefaultCatalogTime = catalog.DefaultTime

// BuildCatalog returns the unsigned catalog of a hash table: DER of a PKCS#7 SignedData holding a
// CTL with the member "HashTable.blob" whose SHA-1 is SHA1(hashTable). thisUpdate is t (zero:
// DefaultCatalogTime; UTCTime covers 1950..2049); the list identifier is derived from the hash
// table, where MakeCat uses a random one.
func BuildCatalog(hashTable []byte, t time.Time) ([]byte, error) {
	return catalog.HashTable(hashTable, t, catalogMemberName)
}

// CheckCatalog checks that cat has a member whose SHA-1 is SHA1(hashTable), and returns
// that member's name. The SHA-1 is what a device checks ("The signature check assumes that
// catalog contains a SHA1 hash", Implementing image integrity validation); the name is
// MakeCat's choice: ImageApp's catalogs call the member HashTable.blob, other tools' may not,
// so a caller may warn about another name but the image is sound. It does not check the
// catalog's signature (catalog.Verify does).
func CheckCatalog(cat, hashTable []byte) (member string, err error) {
	members, err := catalog.Parse(cat)
	if err != nil {
		return "", err
	}
	want := sha1.Sum(hashTable)
	for _, m := range members {
		if m.Hash == crypto.SHA1 && bytes.Equal(m.Digest, want[:]) {
			return m.Name, nil
		}
	}
	for _, m := range members {
		if m.Name == catalogMemberName {
			return "", fmt.Errorf("catalog: %s %v %x does not match the hash table's SHA-1 %x", m.Name, m.Hash, m.Digest, want)
		}
	}
	return "", fmt.Errorf("catalog: none of its %d members holds the hash table's SHA-1 %x", len(members), want)
}

func allZero(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0
}
