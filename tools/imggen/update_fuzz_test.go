package imggen

import (
	"strings"
	"testing"
)

// FuzzParseUpdateInput: any bytes give an input with at least one non-empty PackageFile, or
// an error naming the file; never a panic.
func FuzzParseUpdateInput(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="utf-8"?>
<UpdateOSInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
   <Description>Add Debugger On package</Description>
   <PackageFiles><PackageFile>C:\Kit\Microsoft.BCD.DebuggerOn.spkg</PackageFile></PackageFiles>
</UpdateOSInput>`))
	f.Add([]byte(`<UpdateOSInput><PackageFiles><PackageFile/></PackageFiles></UpdateOSInput>`))
	f.Add([]byte(`<UpdateOSInput xmlns="urn:other"><PackageFiles/><PackageFiles/></UpdateOSInput>`))
	f.Add([]byte(`<OEMInput/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseUpdateInput("u.xml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "u.xml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(in.PackageFiles) == 0 {
			t.Fatal("an input without packages was accepted")
		}
		for i, p := range in.PackageFiles {
			if strings.TrimSpace(p) == "" {
				t.Fatalf("PackageFile %d is empty", i+1)
			}
		}
	})
}
