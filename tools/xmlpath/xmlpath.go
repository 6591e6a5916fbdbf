// Package xmlpath names an XML element by where it is, for error messages about files whose
// parser keeps no line numbers (etree): Package/Components/OSComponent[1]/Files[2]/File[3].
package xmlpath

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Of returns el's path from the root; an index tells same-named siblings apart.
func Of(el *etree.Element) string {
	var parts []string
	for e := el; e != nil && e.Tag != ""; e = e.Parent() {
		name := e.Tag
		if parent := e.Parent(); parent != nil && parent.Tag != "" {
			n, idx := 0, 0
			for _, sib := range parent.ChildElements() {
				if sib.Tag == e.Tag {
					n++
					if sib == e {
						idx = n
					}
				}
			}
			if n > 1 {
				name = fmt.Sprintf("%s[%d]", name, idx)
			}
		}
		parts = append([]string{name}, parts...)
	}
	return strings.Join(parts, "/")
}
