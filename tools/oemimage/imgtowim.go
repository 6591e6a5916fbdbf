package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oemimage/rules_oemimage/tools/capture"
	"github.com/oemimage/rules_oemimage/tools/imggen"
	"github.com/oemimage/rules_oemimage/tools/wim"
	"github.com/oemimage/rules_oemimage/tools/winpath"
)

// runImgToWIM is `oemimage imgtowim <FFUFileName> <WIMFileName> [--compression=lzx|xpress|none]`:
// ImgToWIM's command line (capture.ToWIM).
func runImgToWIM(args []string, stdout, stderr io.Writer) error {
	c, err := parseCmdline(args, cmdSpec{flags: []string{"compression"}})
	if err != nil {
		return err
	}
	if len(c.positional) != 2 {
		return usageError{fmt.Sprintf("expected <FFUFileName> <WIMFileName>, got %d argument(s)", len(c.positional))}
	}
	opt := capture.Options{Compression: wim.LZX, Progress: stdout, Warnings: stderr} // LZX: the original ImgToWIM's
	if v := c.flags["compression"]; len(v) > 0 {
		switch strings.ToLower(v[len(v)-1]) {
		case "none":
			opt.Compression = wim.None
		case "xpress":
			opt.Compression = wim.XPRESS
		case "lzx":
		default:
			return usageError{"--compression= takes lzx, xpress or none"}
		}
	}
	if opt.Time, err = imggen.EpochFromEnv(winpath.EnvMap(os.Environ())); err != nil {
		return err
	}
	return capture.ToWIM(c.positional[0], c.positional[1], opt)
}
