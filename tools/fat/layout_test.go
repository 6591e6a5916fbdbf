package fat

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
)

// The layout generator: volumes of sizes across each variant's boundaries, formatted by the
// writer, filled, and judged by fsck.fat and mtools (which nobody here wrote) and by the reader.

// genCase is one volume to make.
type genCase struct {
	typ  Type // requested; 0 lets the writer choose FAT16 or FAT12
	ss   int
	cs   int // cluster size; 0 lets the writer choose
	secs int64
	why  string
}

func (c genCase) String() string {
	return fmt.Sprintf("%v/%d-byte sectors/cluster %d/%d sectors (%s)", c.typ, c.ss, c.cs, c.secs, c.why)
}

// bounds are the cluster counts of each variant.
var bounds = map[Type][2]int64{FAT12: {1, maxFAT12Clusters}, FAT16: {maxFAT12Clusters + 1, maxFAT16Clusters}, FAT32: {maxFAT16Clusters + 1, maxFAT32Clusters}}

// metaSecs is what a variant puts before the data for n clusters, with the smallest FAT.
func metaSecs(t Type, ss int, n int64) int64 {
	reserved, root := int64(reservedFAT1216), int64(fat16RootEntries*dirEntrySize/ss)
	if t == FAT32 {
		reserved, root = reservedFAT32, 0
	}
	return reserved + 2*fatSectors(t, ss, n) + root
}

func fatSectors(t Type, ss int, n int64) int64 {
	bits := (n + 2) * int64(t)
	return (bits + int64(ss)*8 - 1) / (int64(ss) * 8)
}

// generate makes n cases from seed: near each variant's lower and upper cluster counts (a few
// clusters either way), near the counts that fill whole FAT sectors, at random counts within
// the range (tiny and big), 512- and 4096-byte sectors (sometimes 1024 and 2048), cluster
// sizes from one sector to 128.
func generate(seed int64, n int) []genCase {
	rng := rand.New(rand.NewSource(seed))
	var out []genCase
	for len(out) < n {
		typ := []Type{FAT12, FAT16, FAT32, 0}[rng.Intn(4)]
		ss := []int{512, 512, 4096, 4096, 1024, 2048}[rng.Intn(6)]
		spc := 1 << rng.Intn(8)
		if rng.Intn(3) == 0 {
			spc = 1 // where each FAT sector moves the cluster count most
		}
		b := bounds[typ]
		shape := typ
		if typ == 0 {
			b, shape = [2]int64{1, maxFAT16Clusters}, FAT16
		}
		var clusters int64
		why := ""
		switch k := rng.Intn(6); {
		case k == 5:
			// where the clusters (and the two reserved entries) just fill a whole number of
			// FAT sectors: one cluster more needs another sector
			per := int64(ss) * 8 / int64(shape)
			k := 1 + rng.Int63n(max(1, min(b[1], 1<<20)/per))
			clusters, why = k*per-2+int64(rng.Intn(7))-3, "FAT sector boundary"
		case k == 0:
			clusters, why = b[0]+int64(rng.Intn(7))-3, "lower bound"
		case k == 1 && typ != FAT32:
			clusters, why = b[1]+int64(rng.Intn(7))-3, "upper bound"
		case k == 1 || k == 2:
			clusters, why = maxFAT12Clusters+1+int64(rng.Intn(7))-3, "FAT12/16 boundary"
			if typ == FAT32 {
				clusters, why = maxFAT16Clusters+1+int64(rng.Intn(7))-3, "FAT16/32 boundary"
			}
		default:
			// log-uniform within the range; FAT32 up to 4 M clusters (a 16 MiB FAT)
			hi := min(b[1], 4<<20)
			lo := b[0]
			clusters = int64(float64(lo) * math.Pow(float64(hi)/float64(lo), rng.Float64()))
			why = "random"
		}
		if clusters < 1 {
			clusters = 1
		}
		if shape == FAT16 && clusters <= maxFAT12Clusters {
			shape = FAT12
		}
		secs := metaSecs(shape, ss, clusters) + clusters*int64(spc) + int64(rng.Intn(2*spc+1)) - int64(spc)
		if secs < 8 {
			continue
		}
		cs := ss * spc
		if rng.Intn(4) == 0 {
			cs = 0 // the writer's choice
		}
		out = append(out, genCase{typ: typ, ss: ss, cs: cs, secs: secs, why: why})
	}
	return out
}

// minimalLayout is the layout the writer must choose, found by scanning FAT sizes upwards:
// the smallest FAT that holds an entry for each cluster it leaves room for, plus two.
func minimalLayout(t Type, ss, spc int, secs int64) (fatSecs, clusters int64, ok bool) {
	meta := metaSecs(t, ss, 0) - 2*fatSectors(t, ss, 0) // reserved + root
	for f := int64(1); meta+2*f < secs; f++ {
		c := (secs - meta - 2*f) / int64(spc)
		if f*int64(ss)*8/int64(t) >= c+2 {
			b := bounds[t]
			return f, c, c >= b[0] && c <= b[1]
		}
	}
	return 0, 0, false
}

var fsckClean = regexp.MustCompile(`^fsck\.fat [^\n]*\n[^\n]*: \d+ files, \d+/\d+ clusters\n$`)

func TestLayoutGenerated(t *testing.T) {
	tools := [3]string{checker.Find(t, "fsck.fat"), checker.Find(t, "mtype"), checker.Find(t, "mdir")}
	n, seed := 300, int64(17)
	if v := os.Getenv("OEMIMAGE_GEN_CASES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("OEMIMAGE_GEN_SEED"); v != "" {
		seed, _ = strconv.ParseInt(v, 10, 64)
	}
	cases := append([]genCase{
		// Issue 17: the Data partition of a 256 MiB disk, 126,975 clusters of 512 bytes.
		{typ: FAT32, ss: 512, secs: 128991, why: "issue 17"},
	}, generate(seed, n)...)
	dir := t.TempDir()
	var made, refused, bad int
	byType := map[Type]int{}
	for i, c := range cases {
		typ, problems := checkLayout(t, filepath.Join(dir, "v.img"), c, i, tools)
		switch {
		case typ == 0 && len(problems) == 0:
			refused++
		case typ != 0:
			made++
			byType[typ]++
		}
		for _, p := range problems {
			t.Errorf("%v: %s", c, p)
		}
		if len(problems) > 0 {
			if bad++; bad == 20 {
				t.Fatalf("stopping after %d bad volumes", bad)
			}
		}
	}
	t.Logf("seed %d, %d cases: %d volumes made and checked (%d FAT12, %d FAT16, %d FAT32), %d sizes refused by the writer, %d bad",
		seed, len(cases), made, byType[FAT12], byType[FAT16], byType[FAT32], refused, bad)
}

// checkLayout makes one volume and returns its variant (0 if the writer refused the size) and
// what is wrong with it.
func checkLayout(t *testing.T, path string, c genCase, seed int, tools [3]string) (Type, []string) {
	fsck, mtype, mdir := tools[0], tools[1], tools[2]
	os.Remove(path)
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	size := c.secs * int64(c.ss)
	if err := img.Truncate(size); err != nil {
		t.Fatal(err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	w, err := New(img, 0, size, Options{Type: c.typ, SectorSize: c.ss, ClusterSize: c.cs, Label: "GEN"})
	if c.cs != 0 && c.typ != 0 {
		// The writer refuses exactly the sizes no layout of that variant fits.
		if _, _, ok := minimalLayout(c.typ, c.ss, c.cs/c.ss, c.secs); ok != (err == nil) {
			bad("writer err = %v, but a layout fits: %v", err, ok)
		}
	}
	if err != nil {
		return 0, problems
	}
	if fatSecs, clusters, ok := minimalLayout(w.typ, c.ss, w.spc, c.secs); !ok || int64(w.fatSecs) != fatSecs || int64(w.clusters) != clusters {
		bad("writer chose %v, %d FAT sectors for %d clusters; the smallest FAT is %d sectors for %d", w.typ, w.fatSecs, w.clusters, fatSecs, clusters)
	}
	files := genFiles(w, seed)
	for _, f := range files {
		if err := w.AddFile(f.path, int64(len(f.data)), bytes.NewReader(f.data), 0); err != nil {
			t.Fatalf("%v: %s: %v", c, f.path, err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	if out, err := runTool(fsck, "-n", path); err != nil || !fsckClean.MatchString(out) {
		bad("fsck.fat -n: %v\n%s", err, out)
		return w.typ, problems
	}
	for _, f := range files {
		if out, err := runTool(mtype, "-i", path, mpath(f.path)); err != nil || out != string(f.data) {
			bad("mtype %s: %v, %d bytes, want %d: %.200q", f.path, err, len(out), len(f.data), out)
		}
	}
	if len(files) > 0 {
		if out, err := runTool(mdir, "-i", path, "::/Sub Directory"); err != nil || !strings.Contains(out, "Long Name.txt") {
			bad("mdir: %v\n%s", err, out)
		}
	}
	v, err := Open(img, 0, size)
	if err != nil {
		bad("reader: %v", err)
		return w.typ, problems
	}
	if v.Type() != w.typ {
		bad("read as %v, written as %v", v.Type(), w.typ)
	}
	for _, f := range files {
		_, r, err := v.Open(f.path)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
		}
		if err != nil || !bytes.Equal(got, f.data) {
			bad("reader: %s: %v, %d bytes of %d", f.path, err, len(got), len(f.data))
		}
	}
	return w.typ, problems
}

func runTool(path string, args ...string) (string, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// genFiles fits a few files into the volume: one in a subdirectory with a long name, one
// spanning clusters, and, when the rest is small, one that fills the volume to its last cluster.
func genFiles(w *Writer, seed int) []file {
	rng := rand.New(rand.NewSource(int64(seed)))
	cb := w.clusterBytes()
	free := int64(w.clusters) - int64(w.next-2) - 2 // two clusters for the directories
	var files []file
	add := func(path string, n int64) {
		b := make([]byte, n)
		rng.Read(b)
		files = append(files, file{path, b})
		free -= (n + cb - 1) / cb
	}
	if free >= 1 {
		add(`\Sub Directory\Long Name.txt`, 1+rng.Int63n(cb))
	}
	if free >= 3 {
		add(`\SPAN.BIN`, 2*cb+rng.Int63n(cb))
	}
	if free >= 1 && free*cb <= 8<<20 {
		add(`\fill.bin`, free*cb-rng.Int63n(cb))
	}
	return files
}
