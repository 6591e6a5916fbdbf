package ffu

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// storeFile assembles an FFU around one store, without catalog or hash table (Open does not
// need them): the security and image headers for 1 KB chunks, a manifest with the given
// [Store] keys, then the store. It is the way to write store headers and descriptors the
// writer never makes.
func storeFile(storeKeys string, store []byte) []byte {
	manifest := "[FullFlash]\r\nVersion = 2.0\r\n\r\n[Store]\r\n" + storeKeys + "\r\n"
	le := binary.LittleEndian
	b := make([]byte, 1024, 4096)
	le.PutUint32(b[0:], securityHeaderSize)
	copy(b[4:], securitySignature)
	le.PutUint32(b[16:], 1)
	le.PutUint32(b[20:], AlgSHA256)
	b = le.AppendUint32(b, imageHeaderSize)
	b = append(b, imageSignature...)
	b = le.AppendUint32(b, uint32(len(manifest)))
	b = le.AppendUint32(b, 1)
	b = append(b, manifest...)
	b = append(b, make([]byte, roundUp(int64(len(b)), 1024)-int64(len(b)))...)
	return append(b, store...)
}

// rawStore lays out a v1 store of bs-byte blocks: header, write descriptors, padding, and a
// payload block per descriptor (block k filled with byte k).
func rawStore(bs uint32, entries []BlockEntry) []byte {
	return rawStoreVersion(1, bs, entries)
}

// rawStoreVersion is rawStore with a store header of version major (2 adds the v2 fields).
func rawStoreVersion(major uint16, bs uint32, entries []BlockEntry) []byte {
	h := StoreHeader{MajorVersion: major, FullFlashMajorVersion: 2, PlatformIDs: []string{"T"}, BlockSize: bs,
		WriteDescriptorCount: uint32(len(entries)), WriteDescriptorLength: uint32(entriesSize(entries)),
		InitialTableCount: uint32(len(entries))}
	if major == 2 {
		h.NumOfStores, h.StoreIndex, h.StorePayloadSize = 1, 1, uint64(len(entries))*uint64(bs)
		h.DevicePath = "VenHw(860845C1-BE09-4355-8BC1-30D64FF8E63A)"
	}
	b := append(h.encode(), encodeEntries(entries)...)
	b = append(b, make([]byte, roundUp(int64(len(b)), int64(bs))-int64(len(b)))...)
	for k := range entries {
		b = append(b, bytes.Repeat([]byte{byte(k)}, int(bs))...)
	}
	return b
}

func begin(blocks ...uint32) BlockEntry {
	var e BlockEntry
	for _, b := range blocks {
		e.Locations = append(e.Locations, DiskLocation{DiskBegin, b})
	}
	return e
}

func TestStoreFileOpens(t *testing.T) {
	b := storeFile("SectorSize = 512\r\nMinSectorCount = 8\r\n", rawStore(512, []BlockEntry{begin(0, 7), begin(3)}))
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	disk := make(memDisk, r.Stores[0].DiskSize)
	if err := r.extractTo(0, disk); err != nil {
		t.Fatal(err)
	}
	if disk[3*512] != 1 || disk[7*512] != 0 || len(disk) != 8*512 {
		t.Fatalf("disk of %d bytes: block 3 holds %d", len(disk), disk[3*512])
	}
	b = storeFile("SectorSize = 512\r\nMinSectorCount = 8\r\n", rawStoreVersion(2, 512, []BlockEntry{begin(2)}))
	if r, err := Open(bytes.NewReader(b), int64(len(b))); err != nil || r.Stores[0].Header.DevicePath == "" {
		t.Fatalf("v2 store: %v", err)
	}
}

// Claims that would make Extract or the readers run away are refused by Open.
func TestOpenBoundsStore(t *testing.T) {
	many := func(n int) BlockEntry {
		e := BlockEntry{}
		for i := range n {
			e.Locations = append(e.Locations, DiskLocation{DiskBegin, uint32(i % 64)})
		}
		return e
	}
	tests := []struct {
		name, keys string
		bs         uint32
		entries    []BlockEntry
		want       string // "" opens
	}{
		{"every block once", "SectorSize = 512\r\nMinSectorCount = 64\r\n", 512, []BlockEntry{many(64), begin(0, 63)}, ""},
		{"blocks plus descriptors", "SectorSize = 512\r\nMinSectorCount = 64\r\n", 512, []BlockEntry{many(66)}, "store 1: 66 disk locations for 1 write descriptors on a disk of 64 blocks: more than blocks + descriptors (65)"},
		{"one block written 100,000 times", "SectorSize = 512\r\nMinSectorCount = 64\r\n", 512, []BlockEntry{many(100000)}, "100000 disk locations"},
		{"MinSectorCount over 32 bits", "SectorSize = 512\r\nMinSectorCount = 4294967296\r\n", 512, []BlockEntry{begin(0)}, "MinSectorCount 4294967296 of 512-byte sectors is over the limits of 2^32-1 sectors and 17592186044416 bytes"},
		{"disk over MaxDiskSize", "SectorSize = 65536\r\nMinSectorCount = 4294967295\r\n", 512, []BlockEntry{begin(0)}, "MinSectorCount 4294967295 of 65536-byte sectors is over the limits"},
		{"largest MinSectorCount", "SectorSize = 4096\r\nMinSectorCount = 4294967295\r\n", 512, []BlockEntry{begin(0)}, ""},
		{"sector size 2^31", "SectorSize = 2147483648\r\nMinSectorCount = 1\r\n", 512, []BlockEntry{begin(0)}, `SectorSize "2147483648" is not a power of two from 512 to 65536`},
		{"no MinSectorCount, block beyond MaxDiskSize", "SectorSize = 512\r\n", 8192, []BlockEntry{begin(0xFFFFFFFF)}, "the write descriptors reach 35184372088832 bytes into the disk, over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := storeFile(tt.keys, rawStore(tt.bs, tt.entries))
			r, err := Open(bytes.NewReader(b), int64(len(b)))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := r.extractTo(0, boundedDisk{t, r.Stores[0].DiskSize}); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if _, ok := err.(*FormatError); !ok {
				t.Errorf("error of type %T", err)
			}
		})
	}
}
