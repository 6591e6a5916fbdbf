package locate

import (
	"fmt"
	"sort"
	"strings"
)

// Origin is what a Bazel rule tells the tool about where its inputs come from, so that a
// message about a missing input names the attribute to add it to. The rules pass it before the
// verb (rules/private/common.bzl, run_oemimage): --bazel-target=LABEL, the target of the action,
// and --bazel-attr=ROLE=ATTR, the attribute that gives the inputs of one role. Roles:
//
//	kit       the Microsoft kit's packages, among them the core FM's package (oem_image's ms_packages)
//	packages  the OEMInput's PackageFiles (oem_image's packages)
//	fms       the OEMInput's AdditionalFMs (oem_image's feature_manifests)
//	srcs      the files a package project names (mobile_package's srcs)
//
// The zero Origin (outside Bazel) adds nothing to any message. Labels and attribute names only:
// no paths, so the actions stay cacheable anywhere.
type Origin struct {
	Target string            // e.g. //images:retail
	Attrs  map[string]string // role -> attribute name
}

// Roles are the roles --bazel-attr takes.
var Roles = []string{"fms", "kit", "packages", "srcs"}

// Set takes one --bazel-attr value, ROLE=ATTR.
func (o *Origin) Set(value string) error {
	role, attr, ok := strings.Cut(value, "=")
	if !ok || attr == "" {
		return fmt.Errorf("--bazel-attr=%s: expected ROLE=ATTR", value)
	}
	i := sort.SearchStrings(Roles, role)
	if i == len(Roles) || Roles[i] != role {
		return fmt.Errorf("--bazel-attr=%s: unknown role %q; expected one of %s", value, role, strings.Join(Roles, ", "))
	}
	if o.Attrs == nil {
		o.Attrs = map[string]string{}
	}
	o.Attrs[role] = attr
	return nil
}

// Hint is what to add to a message about a missing input of role: "; add it to ATTR of
// TARGET", or "" outside Bazel (no target, or no attribute for the role).
func (o Origin) Hint(role string) string {
	attr := o.Attrs[role]
	if o.Target == "" || attr == "" {
		return ""
	}
	return fmt.Sprintf("; add it to %s of %s", attr, o.Target)
}
