package main

import (
	"strings"
	"testing"
)

// Corrupt FFUs through every verb that opens one (defect class 1: nil-receiver panics).
func init() {
	for _, verb := range [][]string{{"ffu", "info"}, {"ffu", "verify"}, {"ffu", "diff"}, {"imgtowim"}} {
		verb := verb
		for _, in := range []struct{ name, data string }{
			{"empty", ""},
			{"header-only", "\x20\x00\x00\x00SignedImage \x00\x00\x10\x00"},
			{"garbage", strings.Repeat("\xa5", 8192)},
		} {
			in := in
			addHostile(hostileCase{
				name: strings.Join(verb, "-") + "/" + in.name,
				setup: func(t *testing.T, dir string) []string {
					writeFile(t, dir, in.name+".ffu", []byte(in.data))
					args := append(append([]string{}, verb...), in.name+".ffu")
					switch verb[len(verb)-1] {
					case "imgtowim":
						args = append(args, "out.wim")
					case "diff":
						args = append(args, in.name+".ffu")
					}
					return args
				},
				want: []string{in.name + ".ffu"},
			})
		}
	}
}
