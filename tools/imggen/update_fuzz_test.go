package imggen

import (
	"bytes"
	"os"
	"path/filepath"
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

// zeroRange and its fallback leave zeros in exactly the range, the rest as it was.
func TestZeroRange(t *testing.T) {
	for name, zero := range map[string]func(*os.File, int64, int64) error{"zeroRange": zeroRange, "writeZeros": writeZeros} {
		f, err := os.Create(filepath.Join(t.TempDir(), "disk"))
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{0xA5}, 3<<20)
		f.Write(data)
		if err := zero(f, 4096, 2<<20+7); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := os.ReadFile(f.Name())
		want := bytes.Clone(data)
		clear(want[4096 : 4096+2<<20+7])
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the bytes around the range changed or the range is not zero", name)
		}
		f.Close()
	}
}
