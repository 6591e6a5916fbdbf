package ffudiff

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/ffu"
)

const none = "(none)"

// headers compares the FFU structures: file size, security header, catalog, hash table, image
// header, stores, partition table identity and manifest.
func (c *comparison) headers() {
	ra, rb := c.a.im.FFU, c.b.im.FFU
	c.field("file size", strconv.FormatInt(ra.Size(), 10), strconv.FormatInt(rb.Size(), 10))
	c.field("security header chunk size (KB)", fmt.Sprint(ra.Security.ChunkSizeKB), fmt.Sprint(rb.Security.ChunkSizeKB))
	c.field("security header algorithm ID", fmt.Sprintf("%#x", ra.Security.AlgID), fmt.Sprintf("%#x", rb.Security.AlgID))
	c.field("catalog", digest(ra.Catalog()), digest(rb.Catalog()))
	if ha, hb := ra.HashTable(), rb.HashTable(); !bytes.Equal(ha, hb) {
		// The counts may agree: the field is the chunks that differ.
		c.r.Headers = append(c.r.Headers, Field{fmt.Sprintf("hash table (%d chunks differ)", differingChunks(ha, hb)), chunks(ha), chunks(hb)})
	}
	c.field("image header size", fmt.Sprint(ra.Image.Size), fmt.Sprint(rb.Image.Size))
	c.field("image header device target infos", fmt.Sprint(ra.Image.DeviceTargetInfoCount), fmt.Sprint(rb.Image.DeviceTargetInfoCount))
	c.field("stores", fmt.Sprint(len(ra.Stores)), fmt.Sprint(len(rb.Stores)))
	for i := range min(len(ra.Stores), len(rb.Stores)) {
		c.store(i+1, ra.Stores[i], rb.Stores[i])
	}
	c.field("partition table", c.a.im.Table(), c.b.im.Table())
	c.manifest(ra.Manifest(), rb.Manifest())
}

func (c *comparison) store(n int, a, b *ffu.Store) {
	ha, hb := a.Header, b.Header
	f := func(name, va, vb string) { c.field(fmt.Sprintf("store %d %s", n, name), va, vb) }
	f("update type", fmt.Sprint(ha.UpdateType), fmt.Sprint(hb.UpdateType))
	f("version", fmt.Sprintf("%d.%d", ha.MajorVersion, ha.MinorVersion), fmt.Sprintf("%d.%d", hb.MajorVersion, hb.MinorVersion))
	f("full flash version", fmt.Sprintf("%d.%d", ha.FullFlashMajorVersion, ha.FullFlashMinorVersion), fmt.Sprintf("%d.%d", hb.FullFlashMajorVersion, hb.FullFlashMinorVersion))
	f("platform IDs", strings.Join(ha.PlatformIDs, ", "), strings.Join(hb.PlatformIDs, ", "))
	f("block size", fmt.Sprint(ha.BlockSize), fmt.Sprint(hb.BlockSize))
	f("write descriptors", fmt.Sprint(len(a.Entries)), fmt.Sprint(len(b.Entries)))
	f("tables (initial, flash-only, final)", tables(ha), tables(hb))
	f("device path", ha.DevicePath, hb.DevicePath)
	f("sector size", fmt.Sprint(a.SectorSize), fmt.Sprint(b.SectorSize))
	f("disk size", fmt.Sprint(a.DiskSize), fmt.Sprint(b.DiskSize))
}

func tables(h ffu.StoreHeader) string {
	return fmt.Sprintf("%d+%d, %d+%d, %d+%d", h.InitialTableIndex, h.InitialTableCount, h.FlashOnlyTableIndex, h.FlashOnlyTableCount, h.FinalTableIndex, h.FinalTableCount)
}

// digest names a blob by size and the start of its SHA-256.
func digest(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes, SHA-256 %x", len(b), s[:8])
}

func chunks(table []byte) string { return fmt.Sprintf("%d chunks", len(table)/sha256.Size) }

// differingChunks counts the chunk hashes that differ, a chunk one table lacks included.
func differingChunks(a, b []byte) int {
	na, nb := len(a)/sha256.Size, len(b)/sha256.Size
	n := max(na, nb) - min(na, nb)
	for i := range min(na, nb) {
		if !bytes.Equal(a[i*sha256.Size:(i+1)*sha256.Size], b[i*sha256.Size:(i+1)*sha256.Size]) {
			n++
		}
	}
	return n
}

// manifestKey is one key of a manifest, named by section: [FullFlash], [Store 1],
// [Store 1 Partition MainOS] (the
// partition's Name), another section by its name and occurrence.
type manifestKey struct{ section, key string }

func manifestKeys(m *ffu.Manifest) (keys []manifestKey, values map[manifestKey]string) {
	values = map[manifestKey]string{}
	seen := map[string]int{}
	stores := 0
	for i := range m.Sections {
		s := &m.Sections[i]
		name := s.Name
		switch s.Name {
		case "Store":
			stores++
			name = fmt.Sprintf("Store %d", stores)
		case "Partition":
			if v, ok := s.Get("Name"); ok {
				name = fmt.Sprintf("Store %d Partition %s", stores, v)
			}
		}
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, seen[name])
		}
		for _, kv := range s.Keys {
			k := manifestKey{name, kv.Key}
			if _, dup := values[k]; !dup {
				keys = append(keys, k)
			}
			values[k] = kv.Value
		}
	}
	return keys, values
}

// manifest compares the manifests key by key: A's keys in A's order, then those only B has.
func (c *comparison) manifest(a, b *ffu.Manifest) {
	ka, va := manifestKeys(a)
	kb, vb := manifestKeys(b)
	for _, k := range append(ka, kb...) {
		x, inA := va[k]
		y, inB := vb[k]
		if !inA {
			x = none
		}
		if !inB {
			y = none
		}
		if inA != inB || x != y {
			c.field(fmt.Sprintf("manifest [%s] %s", k.section, k.key), x, y)
		}
		delete(va, k) // each key once
		delete(vb, k)
	}
}
