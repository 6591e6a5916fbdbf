package imggen

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/internal/checker"
	"github.com/oemimage/rules_oemimage/tools/spkg"
)

// genUpdateDefaultCases is how many generated layouts TestGenerativeUpdate updates unless
// OEMIMAGE_GEN_UPDATE_CASES says otherwise (each builds an image, updates it and runs the
// checkers over both disks' partitions).
const genUpdateDefaultCases = 12

// TestGenerativeUpdate: images of seeded random layouts (genImageCase: 512- and 4096-byte
// sectors, FAT12/16/32, NTFS, raw partitions, GPT and MBR) are updated with a new package
// into one of their file-system partitions, chosen by the seed; the updated image is judged
// as buildAndCheck judges a built one, by fdisk, sgdisk, fsck.fat -n, ntfsfix -n, mtools and
// ntfscat: every partition still holds the files it had, and the updated one the new file
// too. OEMIMAGE_GEN_SEED is the first seed (as for TestGenerativeImages).
func TestGenerativeUpdate(t *testing.T) {
	tools := map[string]string{}
	for _, name := range []string{"fdisk", "sgdisk", "fsck.fat", "mcopy", "ntfsfix", "ntfscat"} {
		tools[name] = checker.Find(t, name)
	}
	first, _ := genCount(t)
	n := genUpdateDefaultCases
	if v := os.Getenv("OEMIMAGE_GEN_UPDATE_CASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("OEMIMAGE_GEN_UPDATE_CASES=%q: expected a positive number", v)
		}
	}
	stats := map[string]int{}
	for seed := first; seed < first+int64(n); seed++ {
		c := genImageCase(seed)
		if !t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { updateAndCheck(t, c, tools, stats) }) {
			t.Logf("case: %s", c)
		}
	}
	t.Logf("%d layouts updated from seed %d; partitions updated: %v", n, first, stats)
}

func updateAndCheck(t *testing.T, c *genCase, tools map[string]string, stats map[string]int) {
	img := buildGenImage(t, c)
	r := rand.New(rand.NewSource(c.Seed ^ 0x5eed))
	var fsParts []*genPartition
	for _, p := range c.Partitions {
		if p.FS != "" {
			fsParts = append(fsParts, p)
		}
	}
	if len(fsParts) == 0 {
		t.Fatalf("the layout has no file-system partition (MainOS is one): %s", c)
	}
	target := choose(r, fsParts)
	// A new file of a few clusters at most, in a new directory: it fits the free space every
	// generated partition keeps.
	newPath := fmt.Sprintf(`\Update%d\new-%d.bin`, c.Seed, r.Intn(1000))
	content := string(randomBytes(c.Seed, 1+r.Intn(6000)))
	files := map[string]string{newPath: content}
	src := t.TempDir()
	var name string
	// Half the time, when the partition holds a package of files (Gen.Files.<partition>), its
	// version 1.1 replaces it: every other of its files again with new content, the others
	// gone, and the new file; otherwise a new package brings the new file.
	replace := target.files != nil && r.Intn(2) == 0
	if replace {
		for i, k := range sortedKeys(target.files) {
			if i%2 == 0 {
				files[k] = "v1.1 of " + k
			}
		}
		name, _ = makePackageVersion(t, src, "Gen", "Files."+target.Name, target.Name, spkg.Version{Major: 1, Minor: 1}, files)
	} else {
		name, _ = makePackage(t, src, "Gen", "Update."+target.Name, target.Name, files)
	}
	out := filepath.Join(t.TempDir(), "updated.ffu")
	if err := Update(UpdateRequest{Image: img, Output: out, Input: "update.xml", Packages: []string{filepath.Join(src, name)}}); err != nil {
		t.Fatalf("Update of %s (%s) with %s (replacing its package: %v): %v", target.Name, target.FS, newPath, replace, err)
	}
	// The partitions as they should be now: the target with the new package's files, and the
	// old ones that stay.
	want := make([]*genPartition, 0, len(c.Partitions))
	for _, p := range c.Partitions {
		if p == target {
			q := *p
			q.files = map[string]string{}
			if !replace {
				for k, v := range p.files {
					q.files[k] = v
				}
			}
			for k, v := range files {
				q.files[k] = v
			}
			p = &q
		}
		want = append(want, p)
	}
	checkGenImage(t, c, out, want, tools, map[string]int{})
	stats[target.FS+map[bool]string{true: " (package replaced)", false: ""}[replace]]++
}
