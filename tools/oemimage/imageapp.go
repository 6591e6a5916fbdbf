package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/internal/readfile"
	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runImageApp is `oemimage imageapp <imageFile.ffu> /UpdateInputXML:<updateInputfile.xml>`,
// ImageApp.exe's update command line: the packages of the update input are added to the image,
// or replace older versions of themselves (imggen.Update). Besides the documented switch:
// --output=FILE writes the updated image (and its side files) there instead of replacing the
// input; --package=PATH (repeatable, files or directories) finds each PackageFile by its file
// name among these files, as Bazel passes inputs; --timings=false keeps durations out of the
// log, so that it is reproducible.
func runImageApp(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{values: []string{"UpdateInputXML"}, flags: []string{"output", "package", "timings"}})
	if err != nil {
		return err
	}
	if len(c.positional) != 1 {
		return usageError{fmt.Sprintf("expected one image file (the .ffu to update), got %d argument(s)", len(c.positional))}
	}
	image := c.positional[0]
	input := c.value("UpdateInputXML", "")
	if input == "" {
		return usageError{"/UpdateInputXML:<file> is required: the update input naming the packages to add"}
	}
	r := imggen.UpdateRequest{Image: image, Input: input, Progress: stdout}
	if r.Output, err = singleFlag(c, "output", "a file"); err != nil {
		return err
	}
	if r.Output != "" {
		if dir := filepath.Dir(r.Output); dir != "" {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return fmt.Errorf("--output=%s: the directory %s must exist", r.Output, dir)
			}
		}
		if st, err := os.Stat(r.Output); err == nil && st.IsDir() {
			return fmt.Errorf("--output=%s is a directory; expected the path of the .ffu to write", r.Output)
		}
	}
	if r.Timings, err = timingsFlag(c); err != nil {
		return err
	}
	// A named pipe given as the image would block the open: only a regular file is read.
	if _, err := readfile.Regular(image); err != nil {
		return err
	}
	host, err := winpath.Mapper{}.ToHost(input)
	if err != nil {
		return fmt.Errorf("/UpdateInputXML:%s: %v", input, err)
	}
	data, err := readfile.ReadRegular(host, imggen.MaxUpdateInput)
	if err != nil {
		return fmt.Errorf("/UpdateInputXML: %w", err)
	}
	in, err := imggen.ParseUpdateInput(host, data)
	if err != nil {
		return err
	}
	r.Description = in.Description
	files, err := winpath.ExpandDirs(c.flags["package"])
	if err != nil {
		return err
	}
	loc := locate.Files(files, "the --package files", nil)
	for i, pf := range in.PackageFiles {
		p, err := loc.Locate(pf)
		if err != nil {
			return fmt.Errorf("%s: PackageFile %d (%s): %v%s", host, i+1, pf, err, origin.Hint("packages"))
		}
		r.Packages = append(r.Packages, p)
	}
	if r.Time, err = imggen.EpochFromEnv(winpath.EnvMap(os.Environ())); err != nil {
		return err
	}
	return imggen.Update(r)
}
