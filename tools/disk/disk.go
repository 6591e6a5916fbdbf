// Package disk is the partition layer of the imaging path: what a disk image is made of, below
// the file systems (tools/fat, tools/ntfs) and the FFU container (tools/ffu), and above
// nothing. It holds the one type each of those packages shares, so that imggen passes their
// results along without converting them:
//
//   - Extent, a byte range of the disk: what a file system reports as holding data and what
//     the FFU writer stores (the rest of the disk is zeros, left out of the FFU).
//   - Partition, a partition-table entry: what tools/layout places (layout.Placed holds one),
//     WriteGPT and MBRTables write, and ReadGPT, ReadMBR and ReadTable read back, for the FFU
//     writer, tools/volume and the tools that look into images. The GPT written is the one
//     go-diskfs wrote before (gptwrite_test.go compares them).
//   - FileSystem, the writer of a partition's file system (fat.Writer, ntfs.Writer), with
//     typed Attributes (ParseAttributes reads a package's attribute names once, here) and the
//     Windows file-name rule both file systems share (CheckName).
package disk

// Extent is a byte range of the disk image.
type Extent struct{ Offset, Length int64 }
