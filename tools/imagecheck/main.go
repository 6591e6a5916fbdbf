// Command imagecheck checks an FFU image with tools nobody in this project wrote, the way
// oem_image_test runs it:
//
//	imagecheck IMAGE.ffu --package=PATH...   (PATH a package, or a directory of packages)
//
// It verifies the FFU's hashes, extracts the raw disk, runs `sgdisk -v` on it, `fsck.fat -n`
// on every FAT partition and `ntfsfix -n` on every NTFS one, then reads the image's own
// UpdateHistory.xml and, for every package it lists, checks with mtools (`mtype`) or ntfs-3g
// (`ntfscat`) that each file of the package is at its device path with the package's content,
// and for a binary partition package (IsBinaryPartition) that its raw partition starts with the
// package's image (read with `dd`) and its DSM and catalog are in MainOS. Exit status 0 when everything holds, 1 otherwise.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/internal/imageconst"

	"github.com/beevik/etree"

	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/volume"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

func main() {
	var image, other, wimPath string
	var pkgs []string
	for _, a := range os.Args[1:] {
		switch {
		case strings.HasPrefix(a, "--package="):
			pkgs = append(pkgs, strings.TrimPrefix(a, "--package="))
		case strings.HasPrefix(a, "--wim="):
			wimPath = strings.TrimPrefix(a, "--wim=")
		case strings.HasPrefix(a, "--same-files-as="):
			other = strings.TrimPrefix(a, "--same-files-as=")
		case image == "" && !strings.HasPrefix(a, "-"):
			image = a
		default:
			image = ""
			pkgs = nil
			fmt.Fprintf(os.Stderr, "imagecheck: unexpected argument %q\n", a)
			os.Exit(2)
		}
	}
	if image == "" {
		fmt.Fprintln(os.Stderr, "usage: imagecheck IMAGE.ffu --package=PATH... | IMAGE.ffu --same-files-as=OTHER.ffu | IMAGE.ffu --wim=MAINOS.wim")
		os.Exit(2)
	}
	if wimPath != "" {
		if err := checkWIM(image, wimPath, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "imagecheck %s: %v\n", wimPath, err)
			os.Exit(1)
		}
		return
	}
	if other != "" {
		if err := sameFiles(image, other, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "imagecheck %s: %v\n", image, err)
			os.Exit(1)
		}
		return
	}
	pkgs, err := winpath.ExpandDirs(pkgs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := check(image, pkgs, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "imagecheck %s: %v\n", image, err)
		os.Exit(1)
	}
}

// tool finds a checker in PATH or the sbin directories that test environments leave out.
func tool(name string) (string, error) {
	for _, dir := range []string{"", "/usr/sbin/", "/sbin/", "/usr/bin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: install it (tools/bazel's bootstrap does)", name)
}

func run(name string, args ...string) (string, error) {
	p, err := tool(name)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(p, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func check(image string, pkgs []string, w io.Writer) error {
	im, err := volume.OpenImage(image, true)
	if err != nil {
		return err
	}
	defer im.Close()
	fmt.Fprintf(w, "ffu: hashes verified (%d chunks)\n", len(im.FFU.HashTable())/32)
	if err := checkTable(im, w); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "imagecheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cat, err := checkFileSystems(im, dir, w)
	if err != nil {
		return err
	}
	return checkPackages(im, dir, pkgs, cat, w)
}

// checkTable checks the partition table with sfdisk (MBR) or sgdisk (GPT).
func checkTable(im *volume.Image, w io.Writer) error {
	f, err := im.Disk()
	if err != nil {
		return err
	}
	disk := f.Name()
	if im.MBR != nil {
		// An MBR layout's disk: sgdisk would convert it to a GPT; sfdisk reads it as it is.
		out, err := run("sfdisk", "--dump", disk)
		if err != nil {
			return err
		}
		if !strings.Contains(out, "label: dos") || strings.Count(out, "start=") < len(im.GPT.Entries) {
			return fmt.Errorf("sfdisk --dump does not list the %d MBR partitions:\n%s", len(im.GPT.Entries), out)
		}
		fmt.Fprintf(w, "sfdisk --dump: MBR with %d partitions\n", len(im.GPT.Entries))
	} else {
		out, err := run("sgdisk", "-v", disk)
		if err != nil {
			return err
		}
		if !strings.Contains(out, "No problems found") {
			return fmt.Errorf("sgdisk -v reports problems:\n%s", out)
		}
		fmt.Fprintln(w, "sgdisk -v: no problems found")
	}
	return nil
}

// checkFileSystems checks each FAT and NTFS partition with fsck.fat or ntfsfix and returns, by
// lower-case partition name, how to read a file of it as a checker nobody here wrote reads it.
func checkFileSystems(im *volume.Image, dir string, w io.Writer) (map[string]func(devicePath string) (string, error), error) {
	f, err := im.Disk()
	if err != nil {
		return nil, err
	}
	disk := f.Name()
	// cat returns a file of a partition as a checker nobody here wrote reads it: mtype for FAT,
	// ntfscat (on a copy of the partition, ntfs-3g has no offset option) for NTFS.
	cat := map[string]func(devicePath string) (string, error){}
	for i := range im.GPT.Entries {
		e := &im.GPT.Entries[i]
		off, size := im.Extent(e)
		name := strings.ToLower(e.Name)
		if im.IsNTFS(e) {
			part := filepath.Join(dir, e.Name+".ntfs")
			if err := copyRange(f, part, off, size); err != nil {
				return nil, err
			}
			if _, err := run("ntfsfix", "-n", part); err != nil {
				return nil, fmt.Errorf("partition %s: %v", e.Name, err)
			}
			fmt.Fprintf(w, "ntfsfix -n %s: clean\n", e.Name)
			names := &ntfsNames{part: part, dirs: map[string]map[string]string{}}
			cat[name] = func(p string) (string, error) {
				actual, err := names.resolve(p)
				if err != nil {
					return "", err
				}
				return run("ntfscat", part, actual)
			}
			continue
		}
		at := fmt.Sprintf("%s@@%d", disk, off)
		cat[name] = func(p string) (string, error) {
			return run("mtype", "-i", at, "::"+strings.ReplaceAll(p, `\`, "/"))
		}
		if !im.IsFAT(e) {
			continue
		}
		// fsck.fat has no offset option: it checks a copy of the partition.
		part := filepath.Join(dir, e.Name+".img")
		if err := copyRange(f, part, off, size); err != nil {
			return nil, err
		}
		if _, err := run("fsck.fat", "-n", part); err != nil {
			return nil, fmt.Errorf("partition %s: %v", e.Name, err)
		}
		os.Remove(part)
		fmt.Fprintf(w, "fsck.fat -n %s: clean\n", e.Name)
	}
	return cat, nil
}

// checkPackages checks that every package the update history lists is one of pkgs and that its
// files are at their device paths with their content (binary partition images at the start of
// their partitions).
func checkPackages(im *volume.Image, dir string, pkgs []string, cat map[string]func(devicePath string) (string, error), w io.Writer) error {
	// The packages the image says it holds, and their files as mtools reads them.
	mainOS, ok := cat["mainos"]
	if !ok {
		return errors.New("no MainOS partition")
	}
	history, err := mainOS(imageconst.UpdateHistoryPath)
	if err != nil {
		return err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(history); err != nil {
		return fmt.Errorf("MainOS%s: %v", imageconst.UpdateHistoryPath, err)
	}
	byName := map[string]string{}
	for _, p := range pkgs {
		// A directory (Bazel's tree artifact of customization packages) stands for its packages.
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if !e.IsDir() {
					byName[strings.ToLower(e.Name())] = filepath.Join(p, e.Name())
				}
			}
			continue
		}
		byName[strings.ToLower(filepath.Base(p))] = p
	}
	listed := doc.FindElements("//Package/PackageFile")
	if len(listed) == 0 {
		return errors.New("the update history lists no package")
	}
	files, images, regs := 0, 0, 0
	for _, pf := range listed {
		path, ok := byName[strings.ToLower(pf.Text())]
		if !ok {
			return fmt.Errorf("the image holds %s, which is not among the --package files", pf.Text())
		}
		p, err := spkg.Open(path)
		if err != nil {
			return err
		}
		if p.Manifest.IsBinaryPartition {
			n, err := checkBinary(im, dir, pf.Text(), p, mainOS)
			p.Close()
			if err != nil {
				return err
			}
			images += n
			continue
		}
		read, ok := cat[strings.ToLower(p.Manifest.Partition)]
		if !ok {
			p.Close()
			return fmt.Errorf("%s installs into %s, which the disk lacks", pf.Text(), p.Manifest.Partition)
		}
		err = p.Walk(func(fe spkg.FileEntry, r io.Reader) error {
			want, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			got, err := read(fe.DevicePath)
			if err != nil {
				return fmt.Errorf("%s: %v", pf.Text(), err)
			}
			if !bytes.Equal([]byte(got), want) {
				return fmt.Errorf("%s: %s\\%s differs from the package's (%d bytes, want %d)", pf.Text(), p.Manifest.Partition, strings.TrimPrefix(fe.DevicePath, `\`), len(got), len(want))
			}
			files++
			if strings.HasPrefix(strings.ToLower(fe.DevicePath), strings.ToLower(imageconst.RegistryFilesDir)+`\`) {
				regs++
			}
			return nil
		})
		p.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "mtype/ntfscat: %d files of %d packages at their device paths with their content\n", files, len(listed)-images)
	if images > 0 {
		fmt.Fprintf(w, "dd: %d binary partition images at the start of their partitions\n", images)
	}
	if regs > 0 {
		fmt.Fprintf(w, "registry: %d .reg files of the packages' registry settings in place (%s)\n", regs, imageconst.RegistryFilesDir)
	}
	return nil
}

func copyRange(src *os.File, dst string, off, size int64) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(src, off, size)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ntfsNames finds device paths in an NTFS volume the way Windows does, whatever their letter
// case (package device paths come from macros such as $(runtime.drivers), "\windows\System32\
// drivers", while the volume holds \Windows), for ntfs-3g's tools, whose lookups are
// case-sensitive. Each directory is listed once (ntfsls), so the cost is one run per directory.
type ntfsNames struct {
	part string
	dirs map[string]map[string]string // actual directory path -> lower-case name -> actual name
}

func (n *ntfsNames) resolve(devicePath string) (string, error) {
	cur := "/"
	for _, c := range strings.Split(strings.Trim(strings.ReplaceAll(devicePath, `\`, "/"), "/"), "/") {
		names, ok := n.dirs[cur]
		if !ok {
			out, err := run("ntfsls", "-a", "-p", cur, n.part)
			if err != nil {
				return "", fmt.Errorf("%s: %v", devicePath, err)
			}
			names = map[string]string{}
			for _, l := range strings.Split(out, "\n") {
				if l != "" && l != "." && l != ".." {
					names[strings.ToLower(l)] = l
				}
			}
			n.dirs[cur] = names
		}
		actual, ok := names[strings.ToLower(c)]
		if !ok {
			return "", fmt.Errorf("%s: ntfsls -p %s lists no %q (in any letter case)", devicePath, cur, c)
		}
		cur = path.Join(cur, actual)
	}
	return cur, nil
}
