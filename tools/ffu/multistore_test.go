package ffu

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twoStoreFFU assembles a v2 image of two stores from two single-store v2 images, as ImageApp
// lays out several stores: every store's metadata, then every store's payload.
func twoStoreFFU(t *testing.T, a, b []byte) []byte {
	t.Helper()
	ra, rb := openFFU(t, a), openFFU(t, b)
	const chunk = 128 << 10
	if ra.chunk() != chunk || rb.chunk() != chunk {
		t.Fatal("want 128 KiB chunks")
	}
	meta := func(r *Reader, src []byte, index uint16) []byte {
		s := r.Stores[0]
		m := bytes.Clone(src[s.HeaderOffset:s.PayloadOffset])
		binary.LittleEndian.PutUint16(m[storeHeaderV1Size:], 2)
		binary.LittleEndian.PutUint16(m[storeHeaderV1Size+2:], index)
		return m
	}
	payload := func(r *Reader, src []byte) []byte {
		s := r.Stores[0]
		return src[s.PayloadOffset : s.PayloadOffset+int64(len(s.Entries))*BlockSize]
	}
	manifest := string(ra.ManifestBytes())
	mb := string(rb.ManifestBytes())
	manifest += mb[strings.Index(mb, "[Store]"):]

	var body []byte
	hdr := make([]byte, imageHeaderSize)
	binary.LittleEndian.PutUint32(hdr[0:], imageHeaderSize)
	copy(hdr[4:], imageSignature)
	binary.LittleEndian.PutUint32(hdr[16:], uint32(len(manifest)))
	binary.LittleEndian.PutUint32(hdr[20:], chunk/1024)
	body = append(append(body, hdr...), manifest...)
	body = append(body, make([]byte, roundUp(int64(len(body)), chunk)-int64(len(body)))...)
	body = append(append(body, meta(ra, a, 1)...), meta(rb, b, 2)...)
	body = append(append(body, payload(ra, a)...), payload(rb, b)...)
	body = append(body, make([]byte, roundUp(int64(len(body)), chunk)-int64(len(body)))...)
	var table []byte
	for off := 0; off < len(body); off += chunk {
		s := sha256.Sum256(body[off : off+chunk])
		table = append(table, s[:]...)
	}
	cat, err := BuildCatalog(table, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sec := make([]byte, securityHeaderSize)
	binary.LittleEndian.PutUint32(sec[0:], securityHeaderSize)
	copy(sec[4:], securitySignature)
	binary.LittleEndian.PutUint32(sec[16:], chunk/1024)
	binary.LittleEndian.PutUint32(sec[20:], AlgSHA256)
	binary.LittleEndian.PutUint32(sec[24:], uint32(len(cat)))
	binary.LittleEndian.PutUint32(sec[28:], uint32(len(table)))
	sec = append(append(sec, cat...), table...)
	sec = append(sec, make([]byte, roundUp(int64(len(sec)), chunk)-int64(len(sec)))...)
	return append(sec, body...)
}

func TestTwoStores(t *testing.T) {
	d1 := standardDisk(t, 512)
	d2 := newTestDisk(t, 16<<20, 512, []testPart{{"PLAT", typeBasicData, 2048, 4095, true, 0}, {"MMOS", typeBasicData, 4096, 30000, false, 0}})
	d2.fill(t, 2048*512, 9000, 7, false)
	d2.fill(t, 4096*512+BlockSize, 2*BlockSize, 8, false)
	a, _ := writeFFU(t, d1.image(128, true))
	img2 := d2.image(128, true)
	img2.Store = StoreInfo{StoreID: "{11111111-2222-3333-4444-555555555555}", DevicePath: "VenHw(FEEDFACE)"}
	b, _ := writeFFU(t, img2)
	both := twoStoreFFU(t, a, b)
	r := openFFU(t, both)
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	if len(r.Stores) != 2 || r.Stores[1].Header.StoreIndex != 2 || r.Stores[1].Header.DevicePath != "VenHw(FEEDFACE)" || r.Stores[1].DiskSize != 16<<20 {
		t.Fatalf("stores: %d, second %+v", len(r.Stores), r.Stores[1].Header)
	}
	if v, _ := r.Stores[1].Manifest.Partitions[1].Get("Name"); v != "MMOS" {
		t.Errorf("second store's second partition %q", v)
	}
	if err := r.Extract(nil); err == nil || !strings.Contains(err.Error(), "2 stores") {
		t.Errorf("Extract of two stores: %v", err)
	}
	for i, d := range []*testDisk{d1, d2} {
		out, err := os.Create(filepath.Join(t.TempDir(), "store.img"))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.ExtractStore(i, out); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out.Name())
		out.Close()
		checkExtracted(t, d, got)
	}
	// A payload error names the store and block.
	bad := bytes.Clone(both)
	s2 := r.Stores[1]
	bad[s2.PayloadOffset+3*BlockSize+5] ^= 1
	if err := openFFU(t, bad).Verify(); err == nil || !strings.Contains(err.Error(), "store 2 payload block 3") {
		t.Errorf("Verify: %v", err)
	}
	// Store headers must agree.
	bad = bytes.Clone(both)
	binary.LittleEndian.PutUint16(bad[s2.HeaderOffset+storeHeaderV1Size+2:], 3)
	if _, err := Open(bytes.NewReader(bad), int64(len(bad))); err == nil || !strings.Contains(err.Error(), "StoreIndex 3, want 2") {
		t.Errorf("Open: %v", err)
	}
}
