#!/usr/bin/env bash
# tests/getting_started.sh: a newcomer's workspace, made from the documentation alone (run by
# tests/test_all.sh), so README.md and docs/getting-started.md cannot drift from what works:
#   1. WORKSPACE is README.md's block ("A workspace of your own"), every other file is a
#      `<!-- file: PATH -->` block of docs/getting-started.md; /path/to/rules_oemimage becomes
#      this checkout;
#   2. `bazel build //images:test` and `bazel test //...` (oem_image_test) pass;
#   3. the BUILD files of kit/, soc/, device/, oem/ and images/ are cut down to their
#      `# gazelle:` lines, `bazel run //:gazelle` writes them again with the same targets (the
#      hand-added oem_image_test aside) and reports no problem, and the image builds again;
#   4. deliberately broken targets in a package of their own fail with messages that name the
#      Bazel side (issue 24 item 4): an oem_image without ms_packages names ms_packages of the
#      target; a pkg_xml mobile_package whose srcs lack a Source names srcs of the target.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
ws=$work/woodgrove
cleanup() {
  [ -f "$ws/WORKSPACE" ] && (cd "$ws" && "$root/tools/bazel" --output_user_root="$work/out" shutdown >/dev/null 2>&1) || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
bz() { (cd "$ws" && "$root/tools/bazel" --output_user_root="$work/out" "$@"); }

mkdir -p "$ws"
# 1. The README's WORKSPACE block: the python block that declares the workspace.
awk '/^```python$/ {inb=1; buf=""; next} inb && /^```$/ {inb=0; if (buf ~ /workspace\(name = /) {printf "%s", buf; exit} next} inb {buf = buf $0 "\n"}' \
  "$root/README.md" >"$ws/WORKSPACE"
grep -q 'rules_oemimage_dependencies()' "$ws/WORKSPACE" || fail "README.md has no WORKSPACE block with rules_oemimage_dependencies()"
# Every file of the page: a `<!-- file: PATH -->` line, then a fenced block.
awk -v dir="$ws" '
  /^<!-- file: .* -->$/ {path = $3; want = 1; next}
  want && /^```/ {want = 0; inb = 1; out = dir "/" path; system("mkdir -p \"$(dirname \"" out "\")\""); printf "" > out; next}
  inb && /^```$/ {inb = 0; close(out); n++; next}
  inb {print >> out}
  END {print n " files" > "/dev/stderr"}
' "$root/docs/getting-started.md" 2>"$work/files.count"
files=$(cut -d' ' -f1 <"$work/files.count")
[ "$files" -ge 15 ] || fail "docs/getting-started.md gave $files files, expected the whole workspace"
grep -rl '/path/to/rules_oemimage' "$ws" | xargs sed -i "s|/path/to/rules_oemimage|$root|g"
chmod +x "$ws/tools/bazel"
echo "workspace from README.md and docs/getting-started.md: WORKSPACE and $files files"

# 2. Build and test, as the page says.
bz build //images:test >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "bazel build //images:test"; }
[ -s "$ws/bazel-bin/images/test.ffu" ] || fail "no bazel-bin/images/test.ffu"
bz test //... >"$work/test.log" 2>&1 || { tail -40 "$work/test.log"; fail "bazel test //..."; }
grep -q '//images:test_image_test .*PASSED' "$work/test.log" || { tail -20 "$work/test.log"; fail "oem_image_test did not pass"; }
echo "built //images:test and passed //images:test_image_test"

# 3. Gazelle from scratch.
generated=(kit soc device oem images)
targets() {
  bz query "$(printf '//%s:all + ' "${generated[@]}" | sed 's/ + $//')" --output=label_kind 2>"$work/query.err" |
    grep -v '^oem_image_test ' | sort || { cat "$work/query.err" >&2; fail "bazel query"; }
}
targets >"$work/written.targets"
for d in "${generated[@]}"; do
  f=$ws/$d/BUILD.bazel
  if grep -q '^# gazelle:' "$f"; then grep '^# gazelle:' "$f" >"$f.new" && mv "$f.new" "$f"; else rm "$f"; fi
done
bz run //:gazelle >"$work/gazelle.log" 2>&1 || { tail -30 "$work/gazelle.log"; fail "bazel run //:gazelle"; }
grep '^gazelle:' "$work/gazelle.log" && fail "gazelle reported problems (above)"
targets >"$work/generated.targets"
diff -u "$work/written.targets" "$work/generated.targets" ||
  fail "gazelle's BUILD files do not have the targets of docs/getting-started.md (diff above: - page, + gazelle)"
bz build //images:test >"$work/build2.log" 2>&1 || { tail -30 "$work/build2.log"; fail "bazel build //images:test on gazelle's BUILD files"; }
# 4. Messages that name the attribute to fix (after gazelle, which must not see this package).
mkdir -p "$ws/broken"
cp "$ws/images/TestOEMInput.xml" "$ws/oem/Woodgrove.Apps.Hello.pkg.xml" "$ws/oem/hello.txt" "$ws/broken/"
cat >"$ws/broken/BUILD.bazel" <<'BUILD'
load("@rules_oemimage//rules:defs.bzl", "mobile_package", "oem_image")

oem_image(
    name = "no_kit",
    feature_manifests = ["//oem:woodgrove_fm"],
    oem_input = "TestOEMInput.xml",
)

mobile_package(
    name = "no_srcs",
    component = "Apps",
    owner = "Woodgrove",
    pkg_xml = "Woodgrove.Apps.Hello.pkg.xml",
    sub_component = "Hello",
)
BUILD
expect_failure() { # target, then the text the failure must show
  if bz build "$1" >"$work/broken.log" 2>&1; then fail "bazel build $1 succeeded; expected it to fail"; fi
  grep -qF -- "$2" "$work/broken.log" || { tail -20 "$work/broken.log"; fail "bazel build $1: no '$2' in its failure"; }
}
expect_failure //broken:no_kit "no input file is named Microsoft.PhoneFM.spkg (case-insensitively); add it to ms_packages of //broken:no_kit"
expect_failure //broken:no_srcs "it is not among the declared inputs; add it to srcs of //broken:no_srcs"
rm -rf "$ws/broken"
echo "broken targets name the attribute to fix: ms_packages of //broken:no_kit, srcs of //broken:no_srcs"
echo "PROPERTY OK getting started: a workspace from README.md and docs/getting-started.md builds and tests; gazelle regenerates its $(wc -l <"$work/generated.targets") targets"
