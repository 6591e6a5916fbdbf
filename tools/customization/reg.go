package customization

import (
	"github.com/oemimage/rules_oemimage/tools/answerfile"
	"github.com/oemimage/rules_oemimage/tools/registry"
)

// regValue is one value of OEMSettings.reg (tools/registry writes the file); name "@" is the
// key's default value.
func regValue(key, name string, v answerfile.Value) registry.Value {
	return registry.Value{Key: key, Name: name, Type: v.Type, Data: v.Data}
}
