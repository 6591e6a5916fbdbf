package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/locate"
	"github.com/oemimage/rules_oemimage/tools/merge"
	"github.com/oemimage/rules_oemimage/tools/spkg"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

var featureMergerSpec = cmdSpec{
	values:  []string{"FMID", "Languages", "Resolutions", "OwnerName", "Variables", "OwnerType", "MergePackageRootReplacement", "InputFMDirPath"},
	toggles: []string{"Incremental", "Compress"},
	flags:   append([]string{"package", "fm"}, signingFlags...),
}

// runFeatureMerger is FeatureMerger.exe's two command lines:
//
//	InputFile OutputPackageDir OutputPackageVersion OutputFMDir /FMID: /Languages: /Resolutions:
//	  /OwnerName: /Variables: [/OwnerType:] [/MergePackageRootReplacement:] [+|-Incremental] [+|-Compress]
//	FMFileList.xml OutputPackageDir OutputPackageVersion OutputFMDir /InputFMDirPath: /Variables: [...]
//
// plus the Bazel flags --package=PATH and --fm=PATH (files found by name; a directory stands
// for the files in it) and the signing flags of `sign`, which sign the merged packages.
func runFeatureMerger(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, featureMergerSpec)
	if err != nil {
		return err
	}
	limitMemory()
	if len(c.positional) != 4 {
		return usageError{fmt.Sprintf("expected InputFile OutputPackageDir OutputPackageVersion OutputFMDir, got %d argument(s)", len(c.positional))}
	}
	in := merge.Input{Path: c.positional[0], OutPkgDir: c.positional[1], OutFMDir: c.positional[3], FMDir: c.value("InputFMDirPath", "")}
	if in.Options, err = featureMergerOptions(c); err != nil {
		return err
	}
	if in.Options.Signer, err = loadSigner(c); err != nil {
		return err
	}
	pkgFiles, err := winpath.ExpandDirs(c.flags["package"])
	if err != nil {
		return err
	}
	if in.FMFiles, err = winpath.ExpandDirs(c.flags["fm"]); err != nil {
		return err
	}
	in.Packages = locate.Files(pkgFiles, "", nil)
	results, err := merge.MergeInput(in)
	if errors.Is(err, merge.ErrNoFMDir) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	for _, res := range results {
		fmt.Fprintf(stdout, "%s: %d merged packages (%d up to date), %d passed through\n", filepath.Base(res.FM), len(res.Merged), len(res.Kept), len(res.PassThrough))
	}
	return nil
}

// featureMergerOptions reads OutputPackageVersion and the switches.
func featureMergerOptions(c *cmdline) (merge.Options, error) {
	version, err := spkg.ParseVersion(c.positional[2])
	if err != nil {
		return merge.Options{}, usageError{"OutputPackageVersion: " + err.Error()}
	}
	vars, err := variables(c.value("Variables", ""))
	if err != nil {
		return merge.Options{}, err
	}
	lower := map[string]string{}
	for k, v := range vars {
		lower[strings.ToLower(k)] = v
	}
	for _, required := range []string{"_cputype", "buildtype"} {
		if lower[required] == "" {
			return merge.Options{}, usageError{fmt.Sprintf("/Variables: must set %s (e.g. /Variables:_cputype=arm;buildtype=fre)", required)}
		}
	}
	if lower["releasetype"] == "" {
		lower["releasetype"] = "test"
	}
	return merge.Options{
		FMID:                   c.value("FMID", ""),
		OwnerName:              c.value("OwnerName", ""),
		Version:                version,
		Languages:              list(c.value("Languages", "")),
		Resolutions:            list(c.value("Resolutions", "")),
		CPU:                    strings.ToLower(lower["_cputype"]),
		BuildType:              strings.ToLower(lower["buildtype"]),
		ReleaseType:            strings.ToLower(lower["releasetype"]),
		Compress:               c.toggle("Compress", false),
		Incremental:            c.toggle("Incremental", false),
		PackageRootReplacement: c.value("MergePackageRootReplacement", ""),
		OwnerType:              c.value("OwnerType", "OEM"),
		Vars:                   vars,
		Env:                    winpath.EnvMap(os.Environ()),
	}, nil
}
