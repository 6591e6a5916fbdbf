package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/ffu"
	"github.com/oemimage/rules_oemimage/tools/volume"
)

// oemimage ffu info: what an FFU holds, read from its headers, manifest and partitions.

func ffuInfo(rd *ffu.Reader, path string, w io.Writer) error {
	fmt.Fprintf(w, "%s: %d bytes\n", path, rd.Size())
	fmt.Fprintf(w, "security header: chunk %d KB, catalog %d bytes, hash table %d bytes\n", rd.Security.ChunkSizeKB, rd.Security.CatalogSize, rd.Security.HashTableSize)
	fmt.Fprintf(w, "image header: manifest %d bytes\n", rd.Image.ManifestLength)
	for i, s := range rd.Stores {
		h := s.Header
		fmt.Fprintf(w, "store %d: version %d.%d, block %d bytes, %d write descriptors, platform %s, disk %d bytes\n",
			i+1, h.MajorVersion, h.MinorVersion, h.BlockSize, len(s.Entries), strings.Join(h.PlatformIDs, ", "), s.DiskSize)
	}
	fmt.Fprintf(w, "\nmanifest:\n%s", strings.ReplaceAll(string(rd.ManifestBytes()), "\r\n", "\n"))

	// Partitions and packages come from the disk itself.
	im, err := volume.OpenImage(path, false)
	if err != nil {
		return err
	}
	defer im.Close()
	fmt.Fprintf(w, "partitions (%s):\n", im.Table())
	for _, e := range im.GPT.Entries {
		fmt.Fprintf(w, "  %-12s %10d-%-10d %s %s\n", e.Name, e.FirstLBA, e.LastLBA, e.Type, e.GUID)
	}
	mainOS := im.Partition("MainOS")
	if mainOS == nil {
		return nil
	}
	vol, err := im.Volume(mainOS)
	if err != nil {
		fmt.Fprintf(w, "packages: MainOS has no readable file system (%v)\n", err)
		return nil
	}
	history, err := vol.ReadFile(imageconst.UpdateHistoryPath)
	if err != nil {
		fmt.Fprintf(w, "packages: no update history (%v)\n", err)
		return nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(history); err != nil {
		return fmt.Errorf("MainOS%s: %v", imageconst.UpdateHistoryPath, err)
	}
	// Each package once: an update event's version replaces the one an earlier event installed
	// (oemimage imageapp), at the place the package first appeared.
	var pkgs []*etree.Element
	at := map[string]int{}
	for _, p := range doc.FindElements("//Package") {
		id := ""
		if e := p.SelectElement("PackageIdentity"); e != nil {
			id = strings.ToUpper(strings.TrimSpace(e.Text()))
		}
		if i, ok := at[id]; ok && id != "" {
			pkgs[i] = p
			continue
		}
		at[id] = len(pkgs)
		pkgs = append(pkgs, p)
	}
	fmt.Fprintf(w, "packages (MainOS%s): %d\n", imageconst.UpdateHistoryPath, len(pkgs))
	for _, p := range pkgs {
		v := p.FindElement("Identity/Version")
		ver := ""
		if v != nil {
			ver = strings.Join([]string{v.SelectAttrValue("Major", "0"), v.SelectAttrValue("Minor", "0"), v.SelectAttrValue("QFE", "0"), v.SelectAttrValue("Build", "0")}, ".")
		}
		part := ""
		if e := p.SelectElement("Partition"); e != nil {
			part = e.Text()
		}
		id := ""
		if e := p.SelectElement("PackageIdentity"); e != nil {
			id = e.Text()
		}
		if e := p.SelectElement("IsBinaryPartition"); e != nil && e.Text() == "true" {
			part += " (binary partition image)"
		}
		fmt.Fprintf(w, "  %-50s %-12s %s\n", id, ver, part)
	}
	return nil
}
