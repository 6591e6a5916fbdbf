package ntfs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// Hostile volumes: a volume the writer made, with one structure corrupted the way a hostile
// image would, read by Open, Walk and every file's content. The reader must answer with an
// error naming the record or path at fault, in bounded time and memory, and never panic.

// hostileFiles is the tree the corruptions start from: small and large directories, resident
// and non-resident files, a nest whose inner directory has its ancestor's name.
func hostileFiles() []file {
	files := []file{
		{`\Windows\ImageUpdate\DeviceLayout.xml`, []byte("<DeviceLayout/>")},
		{`\big.bin`, bytes.Repeat([]byte("0123456789abcdef"), 4096)}, // 64 KiB: 16 clusters
		{`\d\e\d\f.txt`, []byte("nested")},
		{`\links\ab`, []byte("ab")},
		{`\links\cd`, []byte("cd")},
		{`\links\ef`, []byte("ef")},
	}
	for i := 0; i < 300; i++ {
		files = append(files, file{fmt.Sprintf(`\many\file%03d.txt`, i), []byte(fmt.Sprint(i))})
	}
	return files
}

// hostileVol is a volume image in memory, opened by the reader before it is corrupted, so
// that structures can be found by path.
type hostileVol struct {
	t   testing.TB
	img []byte
	v   *Volume
}

func (h *hostileVol) rec(path string) uint64 {
	h.t.Helper()
	fi, err := h.v.Stat(path)
	if err != nil {
		h.t.Fatal(err)
	}
	return fi.Record
}

// physical is the image offset of byte off of a non-resident attribute.
func (h *hostileVol) physical(a *attr, off int64) int64 {
	h.t.Helper()
	var vcn int64
	for _, r := range a.runs {
		if off < (vcn+r.n)*h.v.cs {
			return r.lcn*h.v.cs + off - vcn*h.v.cs
		}
		vcn += r.n
	}
	h.t.Fatalf("offset %d past the attribute's runs", off)
	return 0
}

// editRecord changes MFT record n with its update sequence undone, then protects it again.
func (h *hostileVol) editRecord(n uint64, fn func(r []byte)) {
	h.t.Helper()
	off := h.physical(&h.v.mft, int64(n)*h.v.recSize)
	r := h.img[off : off+h.v.recSize]
	if err := undoFixups(r, fileHeader); err != nil {
		h.t.Fatal(err)
	}
	fn(r)
	applyFixups(r, 0x30)
}

// rawRecord is MFT record n as stored, update sequence applied.
func (h *hostileVol) rawRecord(n uint64) []byte {
	off := h.physical(&h.v.mft, int64(n)*h.v.recSize)
	return h.img[off : off+h.v.recSize]
}

// editBlock changes the index block at vcn of a directory's $I30 allocation.
func (h *hostileVol) editBlock(dir string, vcn int64, fn func(b []byte)) {
	h.t.Helper()
	attrs, err := h.v.record(h.rec(dir))
	if err != nil {
		h.t.Fatal(err)
	}
	a := find(attrs, atIndexAlloc, "$I30")
	if a == nil {
		h.t.Fatalf("%s has no index blocks", dir)
	}
	off := h.physical(a, vcn*h.v.vcnUnit)
	b := h.img[off : off+h.v.idxSize]
	if err := undoFixups(b, 0x28); err != nil {
		h.t.Fatal(err)
	}
	fn(b)
	applyFixups(b, 0x28)
}

// attrAt is the offset of the first attribute of typ in a record (fixups undone).
func attrAt(t testing.TB, r []byte, typ uint32) int {
	t.Helper()
	for off := int(le.Uint16(r[20:])); off+8 <= len(r); off += int(le.Uint32(r[off+4:])) {
		if le.Uint32(r[off:]) == typ {
			return off
		}
		if le.Uint32(r[off:]) == atEnd || le.Uint32(r[off+4:]) == 0 {
			break
		}
	}
	t.Fatalf("no attribute 0x%X", typ)
	return 0
}

// rootEntries is where the entries of a record's $INDEX_ROOT are: the buffer holding the index
// header and its offset.
func rootIndex(t testing.TB, r []byte) ([]byte, int) {
	a := attrAt(t, r, atIndexRoot)
	vo := int(le.Uint16(r[a+20:]))
	vl := int(le.Uint32(r[a+16:]))
	return r[a+vo : a+vo+vl], 16
}

// entryAt finds the entry called name (or the end entry, for "") of an index node.
func entryAt(t testing.TB, b []byte, hdr int, name string) int {
	t.Helper()
	for off := hdr + int(le.Uint32(b[hdr:])); off+16 <= len(b); off += int(le.Uint16(b[off+8:])) {
		flags := le.Uint16(b[off+12:])
		if flags&ieEnd != 0 {
			if name == "" {
				return off
			}
			break
		}
		k := b[off+16:]
		if n := getUTF16(k[66:], int(k[64])); name != "" && string(utf16.Decode(n)) == name {
			return off
		}
	}
	t.Fatalf("no index entry %q", name)
	return 0
}

// childVCN is the sub-node VCN of the entry at off.
func childVCN(b []byte, off int) int64 {
	return int64(le.Uint64(b[off+int(le.Uint16(b[off+8:]))-8:]))
}

func setChildVCN(b []byte, off int, vcn int64) {
	le.PutUint64(b[off+int(le.Uint16(b[off+8:]))-8:], uint64(vcn))
}

// setRuns replaces the mapping pairs and the sizes of the non-resident attribute at a, which
// grows into the record's free space if it is the last one.
func setRuns(t testing.TB, r []byte, a int, runs []byte, alloc, size int64) {
	t.Helper()
	length, mp := int(le.Uint32(r[a+4:])), int(le.Uint16(r[a+32:]))
	if n := align8(mp + len(runs)); n > length {
		if le.Uint32(r[a+length:]) != atEnd || a+n+8 > len(r)-2 {
			t.Fatalf("%d bytes of runs do not fit the attribute's %d", len(runs), length-mp)
		}
		length = n
		le.PutUint32(r[a+4:], uint32(n))
		le.PutUint32(r[a+n:], atEnd)
		le.PutUint32(r[24:], uint32(a+n+8))
	}
	clear(r[a+mp : a+length])
	copy(r[a+mp:], runs)
	le.PutUint64(r[a+40:], uint64(alloc))
	le.PutUint64(r[a+48:], uint64(size))
	le.PutUint64(r[a+56:], uint64(size))
}

// makeNonResident turns the attribute at a, the record's last, into a non-resident one with
// these runs and size.
func makeNonResident(t testing.TB, r []byte, a int, runs []byte, size int64) {
	t.Helper()
	if le.Uint32(r[a+int(le.Uint32(r[a+4:])):]) != atEnd {
		t.Fatal("not the last attribute")
	}
	n := align8(64 + len(runs))
	clear(r[a+4 : a+n+8])
	le.PutUint32(r[a+4:], uint32(n))
	r[a+8] = 1
	le.PutUint16(r[a+10:], 64)
	le.PutUint16(r[a+32:], 64)
	copy(r[a+64:], runs)
	le.PutUint32(r[a+n:], atEnd)
	le.PutUint32(r[24:], uint32(a+n+8))
	clusters := (size + 4095) / 4096
	le.PutUint64(r[a+24:], uint64(clusters-1))
	setRuns(t, r, a, runs, clusters*4096, size)
}

// exercise does what a capture does: open the volume, walk it, read every file to the end.
func exercise(b []byte) error {
	v, err := Open(bytes.NewReader(b), 0, int64(len(b)))
	if err != nil {
		return err
	}
	return v.Walk(func(p string, fi FileInfo, f *File) error {
		if fi.IsDir() {
			return nil
		}
		_, err = io.Copy(io.Discard, f)
		return err
	})
}

// boundedRun runs fn, turning a panic into an error and giving up after limit.
func boundedRun(limit time.Duration, fn func() error) (err error, done bool) {
	ch := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- fmt.Errorf("panic: %v", p)
			}
		}()
		ch <- fn()
	}()
	select {
	case err := <-ch:
		return err, true
	case <-time.After(limit):
		return nil, false
	}
}

// hostileVolume is the clean volume the cases corrupt, 8 MiB.
func hostileVolume(t testing.TB) []byte {
	path, _ := build(t, 8<<20, Options{}, hostileFiles())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type hostileCase struct {
	name    string
	corrupt func(h *hostileVol) // h.img is changed in place
	want    []string            // substrings of the error; "%R" is the record of \big.bin
}

// corrupted is clean with c's corruption.
func (c hostileCase) corrupted(t testing.TB, clean []byte) (img []byte, big uint64) {
	t.Helper()
	img = bytes.Clone(clean)
	v, err := Open(bytes.NewReader(img), 0, int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileVol{t: t, img: img, v: v}
	big = h.rec(`\big.bin`)
	c.corrupt(h)
	return img, big
}

func hostileCases() []hostileCase {
	const oneTiB = 1 << 40
	return []hostileCase{
		{"1TiB-sparse-run", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				// One sparse run of 2^28 4-KiB clusters: header 0x04, a 4-byte length.
				setRuns(h.t, r, attrAt(h.t, r, atData), []byte{0x04, 0, 0, 0, 0x10, 0}, oneTiB, oneTiB)
			})
		}, []string{`\big.bin`, "MFT record %R", "268435456 clusters"}},
		{"data-size-past-allocation", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				a := attrAt(h.t, r, atData)
				le.PutUint64(r[a+48:], oneTiB)
			})
		}, []string{`\big.bin`, "MFT record %R", "allocated"}},
		{"data-size-negative", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				a := attrAt(h.t, r, atData)
				le.PutUint64(r[a+48:], 1<<63)
			})
		}, []string{`\big.bin`, "MFT record %R"}},
		{"run-outside-volume", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				// 16 clusters at LCN 0x01000000, far past the 2047 of the volume.
				setRuns(h.t, r, attrAt(h.t, r, atData), []byte{0x41, 16, 0, 0, 0, 1, 0}, 16*4096, 64<<10)
			})
		}, []string{`\big.bin`, "MFT record %R", "outside the volume"}},
		{"run-negative-lcn", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				setRuns(h.t, r, attrAt(h.t, r, atData), []byte{0x11, 16, 0xFB, 0}, 16*4096, 64<<10)
			})
		}, []string{`\big.bin`, "MFT record %R", "outside the volume"}},
		{"run-negative-length", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				setRuns(h.t, r, attrAt(h.t, r, atData), []byte{0x11, 0xF0, 0x40, 0x11, 0x20, 0x10, 0}, 16*4096, 64<<10)
			})
		}, []string{`\big.bin`, "MFT record %R", "length"}},
		{"run-lcn-overflow", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				// LCN 0x7FFF... then +0x7FFF...: the sum wraps around.
				setRuns(h.t, r, attrAt(h.t, r, atData), []byte{0x81, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
					0x81, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0}, 16*4096, 64<<10)
			})
		}, []string{`\big.bin`, "MFT record %R", "outside the volume"}},
		{"attribute-length-0", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				le.PutUint32(r[attrAt(h.t, r, atFileName)+4:], 0)
			})
		}, []string{"MFT record %R", "length 0"}},
		{"attribute-name-past-end", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) { r[attrAt(h.t, r, atData)+9] = 200 })
		}, []string{"MFT record %R", "name"}},
		{"resident-value-past-record", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				le.PutUint32(r[attrAt(h.t, r, atStandardInfo)+16:], 0xFFFFFF00)
			})
		}, []string{"MFT record %R", "value"}},
		{"file-name-past-value", func(h *hostileVol) {
			h.editRecord(h.rec(`\big.bin`), func(r []byte) {
				a := attrAt(h.t, r, atFileName)
				r[a+int(le.Uint16(r[a+20:]))+64] = 255
			})
		}, []string{"MFT record %R", "name"}},
		{"fixup-count", func(h *hostileVol) {
			le.PutUint16(h.rawRecord(h.rec(`\big.bin`))[6:], 9)
		}, []string{"MFT record %R", "update sequence"}},
		{"fixup-offset-past-record", func(h *hostileVol) {
			le.PutUint16(h.rawRecord(h.rec(`\big.bin`))[4:], 0x3FE)
		}, []string{"MFT record %R", "update sequence"}},
		{"fixup-torn-sector", func(h *hostileVol) {
			h.rawRecord(h.rec(`\big.bin`))[510] ^= 0xFF
		}, []string{"MFT record %R", "torn"}},
		{"entry-record-beyond-mft", func(h *hostileVol) {
			h.editRecord(h.rec(`\links`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				le.PutUint64(b[entryAt(h.t, b, hdr, "cd"):], 1<<40)
			})
		}, []string{`\links\cd`, "MFT record 1099511627776", "beyond"}},
		{"directory-cycle", func(h *hostileVol) {
			// \d\e's entry "d" points back at \d.
			outer := h.rec(`\d`)
			h.editRecord(h.rec(`\d\e`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				le.PutUint64(b[entryAt(h.t, b, hdr, "d"):], fileRef(outer, 1))
			})
		}, []string{`\d\e\d`, "cycle"}},
		{"hard-link-repeated", func(h *hostileVol) {
			// \links\cd and \links\ef name the record of \links\ab, which has one name.
			ab := h.rec(`\links\ab`)
			h.editRecord(h.rec(`\links`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				le.PutUint64(b[entryAt(h.t, b, hdr, "cd"):], fileRef(ab, 1))
				le.PutUint64(b[entryAt(h.t, b, hdr, "ef"):], fileRef(ab, 1))
			})
		}, []string{`\links\cd`, "names"}},
		{"cross-linked-clusters", func(h *hostileVol) {
			// Three files each claim clusters 0..999 of the volume's 2047.
			for _, p := range []string{`\links\ab`, `\links\cd`, `\links\ef`} {
				h.editRecord(h.rec(p), func(r []byte) {
					makeNonResident(h.t, r, attrAt(h.t, r, atData), []byte{0x12, 0xE8, 0x03, 0x00, 0}, 1000*4096)
				})
			}
		}, []string{`\links\ef`, "clusters are claimed twice"}},
		{"name-dot-dot", func(h *hostileVol) {
			h.editRecord(h.rec(`\links`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				k := b[entryAt(h.t, b, hdr, "ab")+16:]
				putUTF16(k[66:], []uint16{'.', '.'})
			})
		}, []string{`\links`, `".."`}},
		{"name-backslash", func(h *hostileVol) {
			h.editRecord(h.rec(`\links`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				k := b[entryAt(h.t, b, hdr, "ab")+16:]
				putUTF16(k[66:], []uint16{'a', '\\'})
			})
		}, []string{`\links`, `"a\\"`}},
		{"index-entry-length-huge", func(h *hostileVol) {
			h.editRecord(h.rec(`\links`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				le.PutUint16(b[entryAt(h.t, b, hdr, "cd")+8:], 0xFFF8)
			})
		}, []string{`\links`, "length 65528"}},
		{"index-vcn-negative", func(h *hostileVol) {
			h.editRecord(h.rec(`\many`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				setChildVCN(b, entryAt(h.t, b, hdr, ""), -1)
			})
		}, []string{`\many`, "VCN -1"}},
		{"index-vcn-beyond", func(h *hostileVol) {
			h.editRecord(h.rec(`\many`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				setChildVCN(b, entryAt(h.t, b, hdr, ""), 1<<40)
			})
		}, []string{`\many`, "VCN 1099511627776"}},
		{"index-block-self-loop", func(h *hostileVol) {
			// Every entry of the top block points back at the top block: 2^n paths in n levels.
			var top int64
			h.editRecord(h.rec(`\many`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				top = childVCN(b, entryAt(h.t, b, hdr, ""))
			})
			h.editBlock(`\many`, top, func(b []byte) {
				for off := 24 + int(le.Uint32(b[24:])); off+16 <= len(b); off += int(le.Uint16(b[off+8:])) {
					setChildVCN(b, off, top)
					if le.Uint16(b[off+12:])&ieEnd != 0 {
						break
					}
				}
			})
		}, []string{`\many`, "index block", "twice"}},
		{"index-blocks-dag", func(h *hostileVol) {
			// Every entry of block i points to block i+1: 20^(blocks-1) paths to the last.
			attrs, err := h.v.record(h.rec(`\many`))
			if err != nil {
				h.t.Fatal(err)
			}
			blocks := int(find(attrs, atIndexAlloc, "$I30").size / indexBlock)
			e := ientry{ref: fileRef(h.rec(`\many\file000.txt`), 1), key: fileNameValue(fileRef(h.rec(`\many`), 1), 0, 0, 0, 0, nsWin32, utf16.Encode([]rune("file000.txt")))}
			ents := make([]ientry, 20)
			for i := range ents {
				ents[i] = e
			}
			for i := 0; i < blocks; i++ {
				blk := iblock{ents: ents, end: -1}
				if i < blocks-1 {
					blk.kids, blk.end = make([]int, len(ents)), i+1
					for k := range blk.kids {
						blk.kids[k] = i + 1
					}
				}
				b := indexBlockBytes(blk, int64(i), 1)
				off := h.physical(find(attrs, atIndexAlloc, "$I30"), int64(i)*indexBlock)
				copy(h.img[off:], b)
			}
			h.editRecord(h.rec(`\many`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				setChildVCN(b, entryAt(h.t, b, hdr, ""), 0)
			})
		}, []string{`\many`, "index block", "twice"}},
		{"indx-magic", func(h *hostileVol) {
			var top int64
			h.editRecord(h.rec(`\many`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				top = childVCN(b, entryAt(h.t, b, hdr, ""))
			})
			h.editBlock(`\many`, top, func(b []byte) { copy(b, "XXXX") })
		}, []string{`\many`, "INDX"}},
		{"indx-vcn-mismatch", func(h *hostileVol) {
			var top int64
			h.editRecord(h.rec(`\many`), func(r []byte) {
				b, hdr := rootIndex(h.t, r)
				top = childVCN(b, entryAt(h.t, b, hdr, ""))
			})
			h.editBlock(`\many`, top, func(b []byte) { le.PutUint64(b[16:], 77) })
		}, []string{`\many`, "VCN 77"}},
		{"boot-total-sectors-past-region", func(h *hostileVol) {
			le.PutUint64(h.img[40:], 1<<40)
		}, []string{"boot sector", "sectors"}},
		{"boot-mft-outside-volume", func(h *hostileVol) {
			le.PutUint64(h.img[48:], 1<<50)
		}, []string{"boot sector", "$MFT"}},
		{"boot-record-size", func(h *hostileVol) {
			h.img[64] = 0x3 // 3 clusters: 12 KiB records
		}, []string{"boot sector", "12288-byte MFT records"}},
		{"mft-size-past-volume", func(h *hostileVol) {
			h.editRecord(0, func(r []byte) {
				le.PutUint64(r[attrAt(h.t, r, atData)+48:], oneTiB)
			})
		}, []string{"MFT record 0"}},
	}
}

// TestWalkPathLimit: a path longer than Windows' 32,767 characters ends the walk with an error
// (building such paths would take time quadratic in the depth).
func TestWalkPathLimit(t *testing.T) {
	name := strings.Repeat("n", 255)
	deep := strings.Repeat(`\`+name, 128) // 32,768 characters
	path, _ := build(t, 8<<20, Options{NoShortNames: true}, []file{{deep + `\f`, []byte("f")}, {`\` + name + `\g`, []byte("g")}})
	v, err := Open(bytes.NewReader(readFile(t, path)), 0, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = v.Walk(func(p string, fi FileInfo, f *File) error {
		seen++
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "longer than 32767 characters") {
		t.Errorf("Walk: %v, want a path longer than 32767 characters", err)
	}
	if seen != 128 { // 127 directories of at most 32,512 characters, and g in the first
		t.Errorf("Walk visited %d entries before the error, want 128", seen)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileVolumes has the reader open, walk and read volumes with one structure corrupted.
func TestHostileVolumes(t *testing.T) {
	clean := hostileVolume(t)
	if err := exercise(clean); err != nil {
		t.Fatalf("the clean volume: %v", err)
	}
	for _, tt := range hostileCases() {
		t.Run(tt.name, func(t *testing.T) {
			img, big := tt.corrupted(t, clean)
			err, done := boundedRun(10*time.Second, func() error { return exercise(img) })
			if !done {
				t.Fatal("no answer within 10 s")
			}
			if err == nil {
				t.Fatal("no error")
			}
			if strings.HasPrefix(err.Error(), "panic:") {
				t.Fatal(err)
			}
			t.Log(err)
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "%R", fmt.Sprint(big)); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
