package xmlpath

import (
	"testing"

	"github.com/beevik/etree"
)

func TestOf(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<Package><Components><OSComponent><Files><File/><File/></Files></OSComponent></Components></Package>`); err != nil {
		t.Fatal(err)
	}
	files := doc.FindElements("//File")
	tests := []struct {
		el   *etree.Element
		want string
	}{
		{doc.Root(), "Package"},
		{doc.FindElement("//Files"), "Package/Components/OSComponent/Files"},
		{files[1], "Package/Components/OSComponent/Files/File[2]"},
	}
	for _, tt := range tests {
		if got := Of(tt.el); got != tt.want {
			t.Errorf("Of = %q, want %q", got, tt.want)
		}
	}
}
