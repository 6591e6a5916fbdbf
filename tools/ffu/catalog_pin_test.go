package ffu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// TestCatalogBytesPinned pins the bytes of the unsigned FFU catalog for fixed hash tables and
// times: the catalog is part of every FFU, so a change here changes every image's digest
// (tests/reproducibility). The digests were taken from the catalog code as it was before it
// moved to tools/catalog; they must not change without a reason given in the commit.
func TestCatalogBytesPinned(t *testing.T) {
	for _, tc := range []struct {
		table []byte
		time  time.Time
		want  string
	}{
		{bytes.Repeat([]byte{0xAB}, 96), time.Time{}, "6c541e9ac822dc48afa4f500c47677232a1db26ae3387ec5ce8efa6e936add32"},
		{make([]byte, 32*1000), time.Date(2026, 12, 2, 10, 11, 12, 0, time.UTC), "5de711a52fd5c1794aa2015e323bc4ad67e5caca29177b068bb907d7538fe964"},
	} {
		cat, err := BuildCatalog(tc.table, tc.time)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(cat)
		if got := hex.EncodeToString(sum[:]); got != tc.want {
			t.Errorf("catalog of a %d-byte table at %v: sha256 %s (%d bytes), want %s", len(tc.table), tc.time, got, len(cat), tc.want)
		}
	}
}
