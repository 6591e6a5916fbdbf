package devicelayout

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// checkPositioned fails unless err is nil or every error in it names f.xml with a line and
// column.
func checkPositioned(t *testing.T, err error) {
	if err == nil {
		return
	}
	var list manifest.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is %T, want a non-empty manifest.ErrorList: %v", err, err)
	}
	for _, e := range list {
		if e.Pos.File != "f.xml" || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Fatalf("error without a position: %v", e)
		}
	}
}

func layoutSeeds(f *testing.F) {
	for _, s := range []string{v1, v2, mbr8R, strings.Replace(v1, "<TotalSectors>65536", "<TotalSectors>lots", 1)} {
		f.Add([]byte(s))
		f.Add(utf16File(s, false))
	}
	if data, err := os.ReadFile("../../examples/contoso/soc/DeviceLayout.xml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte{0xFF, 0xFE, '<', 0})
}

// No input makes the layout parser panic, and a refused one is refused with positions
// (tools/layout's FuzzPlace places what it accepts).
func FuzzParseDeviceLayout(f *testing.F) {
	layoutSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseDeviceLayout("f.xml", data)
		checkPositioned(t, err)
	})
}

func FuzzParseDevicePlatform(f *testing.F) {
	f.Add([]byte(`<OEMDevicePlatform xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate"><MinSectorCount>2097152</MinSectorCount>
<DevicePlatformIDs><ID>A.B.C</ID></DevicePlatformIDs><Rules/></OEMDevicePlatform>`))
	if data, err := os.ReadFile("../../examples/contoso/device/OEMDevicePlatform.xml"); err == nil {
		f.Add(data)
		f.Add(utf16File(string(data), true))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseDevicePlatform("f.xml", data)
		checkPositioned(t, err)
	})
}
