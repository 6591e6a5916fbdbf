package answerfile

import (
	"errors"
	"testing"

	"github.com/oemimage/rules_oemimage/tools/manifest"
)

// The fuzz targets check that no input makes a parser panic, and that a failed parse reports
// positions in the file.

func checkPositions(t *testing.T, err error) {
	if err == nil {
		return
	}
	var list manifest.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is %T, want a non-empty ErrorList: %v", err, err)
	}
	for _, e := range list {
		if e.Pos.File != "/f.xml" || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Fatalf("error without a position: %v", e)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(answer(` Priority="1"`, imports("a.xml")+targetsXML+static(setting("A", "B", "C"))+variant("V", "SIM_Tiny", setting("A", "B", "D")))))
	f.Add([]byte(answer("", static(`<DataAssets Type="MapData"><DataAsset Source="/m.map"/></DataAssets><Applications><Application Source="/a.xap"/></Applications>`))))
	f.Add([]byte("<"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("/f.xml", data, map[string]string{"X": "/x"})
		checkPositions(t, err)
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(testPolicy))
	f.Add([]byte("<CustomizationPolicy/>"))
	f.Add([]byte(`<CustomizationPolicy><SettingsGroup xmlns="` + PolicyNamespace + `" Path="A/$(X)"><Setting Name="S"><RegistrySource Type="REG_SZ" Path="HKLM\A\$(X)\S"/></Setting></SettingsGroup></CustomizationPolicy>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParsePolicy("/f.xml", data)
		checkPositions(t, err)
	})
}
