package ffudiff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// maxTextRanges bounds the block ranges the text lists per region (JSON has them all).
const maxTextRanges = 16

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a reader: a section per level that differs, then a summary
// line.
func (r *Report) WriteText(out io.Writer) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "--- a: %s\n+++ b: %s\n", r.A, r.B)
	section(w, "headers and manifest", len(r.Headers), func() {
		for _, f := range r.Headers {
			fmt.Fprintf(w, "  %s: %s -> %s\n", f.Name, f.A, f.B)
		}
	})
	section(w, "partitions", len(r.Partitions), func() { r.partitionsText(w) })
	section(w, "packages", len(r.Packages), func() { r.packagesText(w) })
	section(w, "files", len(r.Files), func() { r.filesText(w) })
	section(w, "disk blocks", len(r.Blocks), func() { r.blocksText(w) })
	section(w, "notes", len(r.Notes), func() {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	})
	if r.Identical {
		fmt.Fprintln(w, "identical")
	} else {
		fmt.Fprintf(w, "different: %d header fields, %d partitions, %d packages, %d files, %d block regions\n",
			len(r.Headers), len(r.Partitions), len(r.Packages), len(r.Files), len(r.Blocks))
	}
	return w.Flush()
}

func section(w io.Writer, title string, n int, body func()) {
	if n > 0 {
		fmt.Fprintf(w, "%s:\n", title)
		body()
	}
}

func (r *Report) partitionsText(w io.Writer) {
	for _, p := range r.Partitions {
		switch p.Change {
		case "added":
			fmt.Fprintf(w, "  added    %s: %s\n", p.Name, p.B)
		case "removed":
			fmt.Fprintf(w, "  removed  %s: %s\n", p.Name, p.A)
		default:
			fmt.Fprintf(w, "  %-8s %s:", p.Change, p.Name)
			for i, f := range p.Fields {
				sep := ","
				if i == 0 {
					sep = ""
				}
				fmt.Fprintf(w, "%s %s %s -> %s", sep, f.Name, f.A, f.B)
			}
			fmt.Fprintln(w)
		}
	}
}

func (p *PartitionInfo) String() string {
	return fmt.Sprintf("LBA %d-%d, %d bytes, %s, type %s", p.FirstLBA, p.LastLBA, p.Bytes, p.FileSystem, p.Type)
}

func (p *PackageInfo) String() string { return fmt.Sprintf("%s (%s)", p.Version, p.Partition) }

func (r *Report) packagesText(w io.Writer) {
	for _, p := range r.Packages {
		switch p.Change {
		case "added":
			fmt.Fprintf(w, "  added    %s %s\n", p.Name, p.B)
		case "removed":
			fmt.Fprintf(w, "  removed  %s %s\n", p.Name, p.A)
		default:
			fmt.Fprintf(w, "  %-8s %s %s -> %s\n", p.Change, p.Name, p.A, p.B)
		}
	}
}

func (r *Report) filesText(w io.Writer) {
	for _, f := range r.Files {
		what := "file"
		if f.Dir {
			what = "directory"
		}
		size := ""
		switch {
		case f.Dir:
		case f.SizeA < 0:
			size = fmt.Sprintf(", %d bytes", f.SizeB)
		case f.SizeB < 0:
			size = fmt.Sprintf(", %d bytes", f.SizeA)
		default:
			size = fmt.Sprintf(", %d -> %d bytes", f.SizeA, f.SizeB)
		}
		pkg := ""
		if f.Package != "" {
			pkg = ", package " + f.Package
		}
		fmt.Fprintf(w, "  %-10s %s%s (%s%s%s)\n", f.Change, f.Partition, f.Path, what, size, pkg)
	}
}

func (r *Report) blocksText(w io.Writer) {
	for _, g := range r.Blocks {
		why := "nothing above explains them"
		if g.Explained {
			why = "where the partition or its files differ too"
		}
		if g.BootSector {
			why += "; one holds the partition's boot sector (a volume serial number?)"
		}
		fmt.Fprintf(w, "  %s: %d blocks of %d bytes differ, %s:\n", g.Region, g.Blocks, g.BlockSize, why)
		for i, br := range g.Ranges {
			if i == maxTextRanges {
				fmt.Fprintf(w, "    ... and %d more ranges (--json lists them all)\n", len(g.Ranges)-i)
				break
			}
			fmt.Fprintf(w, "    blocks %d-%d (bytes %#x-%#x, %d bytes)\n", br.First, br.First+br.Count-1, br.Offset, br.Offset+br.Bytes-1, br.Bytes)
		}
	}
}
