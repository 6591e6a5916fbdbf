package layout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/devicelayout"
)

// The layouts tools/devicelayout's tests parse, placed here; read in TestMain, not at package
// init, because under Bazel the test reaches its runfiles directory only after initializers.
var v1, mbr8R string

func TestMain(m *testing.M) {
	v1, mbr8R = testLayout("v1"), testLayout("mbr8R")
	mbr4 = mbr4From(mbr8R)
	os.Exit(m.Run())
}

func testLayout(name string) string {
	b, err := os.ReadFile(filepath.Join("..", "devicelayout", "testdata", name+".xml"))
	if err != nil {
		panic(err) // the tests' own file
	}
	return string(b)
}

func TestPlace(t *testing.T) {
	d, err := devicelayout.ParseDeviceLayout("v1.xml", []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	content := func(name string) uint64 {
		if name == "MainOS" {
			return 100000
		}
		return 0
	}
	const disk = 2097152
	plan, err := Place(d, d.Stores[0], disk, content, map[string]uint64{"mainos": 32768}, "seed")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name        string
		first, last uint64
	}{
		{"EFIESP", 2048, 2048 + 65536 - 1},
		{"DPP", 67584, 67584 + 16384 - 1},
		{"MainOS", 83968, 83968 + 100000 + 65536 + 32768 - 1}, // DPP ends at 83967; 1 MiB = 2048 sectors
		{"Data", 282624, 0},                                   // up to CrashDump, checked below
		{"CrashDump", 2088832, 2088832 + 8192 - 1},
	}
	for i, w := range want {
		p := plan.Partitions[i]
		if p.Name != w.name || p.FirstLBA != w.first {
			t.Errorf("%s at %d-%d, want %s at %d", p.Name, p.FirstLBA, p.LastLBA, w.name, w.first)
		}
		if w.name != "Data" && p.LastLBA != w.last {
			t.Errorf("%s ends at %d, want %d", p.Name, p.LastLBA, w.last)
		}
	}
	data, crash := plan.Partition("data"), plan.Partition("CrashDump")
	if data.LastLBA+1 != crash.FirstLBA || crash.LastLBA > disk-34 {
		t.Errorf("Data %d-%d, CrashDump %d-%d: Data must fill the gap", data.FirstLBA, data.LastLBA, crash.FirstLBA, crash.LastLBA)
	}
	if plan.Partition("MainOS").GUID != "A76B8CE2-0187-4C13-8FCA-8651C9B0620A" || plan.Partition("MainOS").Attributes&AttrNoDriveLetter != 0 {
		t.Errorf("MainOS %+v", plan.Partition("MainOS"))
	}
	if plan.Partition("EFIESP").Attributes&AttrLegacyBootable == 0 || plan.Partition("DPP").Attributes&AttrNoDriveLetter == 0 {
		t.Error("attributes not mapped")
	}
	again, _ := Place(d, d.Stores[0], disk, content, map[string]uint64{"mainos": 32768}, "seed")
	other, _ := Place(d, d.Stores[0], disk, content, map[string]uint64{"mainos": 32768}, "other image")
	if again.DiskGUID != plan.DiskGUID || again.Partition("Data").GUID != plan.Partition("Data").GUID {
		t.Error("GUIDs differ for the same seed")
	}
	if other.DiskGUID == plan.DiskGUID || other.Partition("Data").GUID == plan.Partition("Data").GUID {
		t.Error("GUIDs equal for different seeds")
	}
	if _, err := Place(d, d.Stores[0], 200000, content, nil, "seed"); err == nil || !strings.Contains(err.Error(), "raise MinSectorCount") {
		t.Errorf("too small a disk: err = %v", err)
	}
}

func TestGUID(t *testing.T) {
	g := GUID("a", "b")
	if len(g) != 36 || g[14] != '4' || !strings.ContainsAny(g[19:20], "89AB") {
		t.Errorf("GUID = %s: want a version-4 RFC 4122 layout", g)
	}
	if GUID("a", "b") != g || GUID("ab") == g {
		t.Error("GUID not stable or parts not separated")
	}
}

// An accepted layout can be placed (or refused) without a panic on a small and a huge disk,
// and a plan Place returns is valid.
func FuzzPlace(f *testing.F) {
	for _, s := range []string{v1, mbr8R, imx8, hummingboard} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("../../examples/contoso/soc/DeviceLayout.xml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := devicelayout.ParseDeviceLayout("f.xml", data)
		if err != nil {
			return
		}
		for _, disk := range []uint64{1 << 21, 1 << 40} {
			plan, err := Place(d, d.MainStore(), disk, func(string) uint64 { return 1 << 20 }, nil, "fuzz")
			if err == nil {
				if err := checkPlan(plan); err != nil {
					t.Fatalf("Place accepted an invalid plan: %v", err)
				}
			}
		}
	})
}
