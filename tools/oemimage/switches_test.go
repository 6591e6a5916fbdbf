package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		positional []string
		want       string // error substring
	}{
		{"switch and toggle", []string{"x.pkg.xml", "/CPU:arm", "+Compress"}, []string{"x.pkg.xml"}, ""},
		{"host path with slashes", []string{"/no/such/dir/x.pkg.xml"}, []string{"/no/such/dir/x.pkg.xml"}, ""},
		{"existing one-component path", []string{"/tmp"}, []string{"/tmp"}, ""},
		{"unknown switch without value", []string{"x.pkg.xml", "/onecoreuap"}, nil,
			"unknown switch /onecoreuap (expected one of +|-compress +|-diagnostic --cert= --expect= --key= --password-file= --pfx= --pkcs11-key= --pkcs11-module= --pkcs11-pin-file= --pkcs11-token= --timestamp-url= /build: /config: /cpu: /language: /onecore: /output: /resolution: /variables: /version:; a path of one component such as /onecoreuap is taken as a path only if it exists)"},
		{"the kit's /onecore", []string{"x.pkg.xml", "/onecore"}, []string{"x.pkg.xml"}, ""},
		{"unknown switch with value", []string{"x.pkg.xml", "/bogus:1"}, nil, "unknown switch /bogus"},
		{"toggle given as /switch", []string{"x.pkg.xml", "/compress"}, nil, "unknown switch /compress"},
		{"unknown toggle", []string{"x.pkg.xml", "+fast"}, nil, "unknown switch +fast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseCmdline(tt.args, pkggenSpec)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(c.positional, tt.positional) {
				t.Fatalf("positional %q, %v; want %q", c.positional, err, tt.positional)
			}
		})
	}
	// A verb with flags only lists them.
	if _, err := parseCmdline([]string{"a.ffu", "a.wim", "/lzx"}, cmdSpec{flags: []string{"compression"}}); err == nil || !strings.Contains(err.Error(), "expected one of --compression=;") {
		t.Errorf("imgtowim /lzx: %v", err)
	}
}
