#!/usr/bin/env bash
# tests/gazelle_example.sh: examples/contoso's generated BUILD files come back from gazelle
# (issue 8), in a copy of the repository (run by tests/test_all.sh):
#   1. every BUILD file of kit/, soc/, device/, oem/ and images/ is cut down to its
#      `# gazelle:` directives (deleted when it has none);
#   2. `bazel run //:gazelle` generates them again: the same targets, of the same kinds, as the
#      committed files (hand-set attributes such as compress aside, which are printed);
#   3. a second gazelle run changes nothing;
#   4. `bazel build //images:retail` succeeds on the result.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bazel_lib.sh
source "$root/tests/bazel_lib.sh"
example_copy
generated=(kit soc device oem images)
targets() { # the generated packages' targets: kind and label, sorted
  bz query "$(printf '//%s:all + ' "${generated[@]}") //images:all" --output=label_kind 2>"$work/query.err" | sort ||
    { cat "$work/query.err" >&2; fail "bazel query"; }
}
targets >"$work/committed.targets"
[ "$(wc -l <"$work/committed.targets")" -gt 30 ] || fail "only $(wc -l <"$work/committed.targets") targets in the committed BUILD files"
mkdir -p "$work/committed"
for d in "${generated[@]}"; do
  f=$ex/$d/BUILD.bazel
  [ -f "$f" ] || fail "$d/BUILD.bazel is not committed"
  cp "$f" "$work/committed/$d.BUILD"
  if grep -q '^# gazelle:' "$f"; then
    grep '^# gazelle:' "$f" >"$f.new" && mv "$f.new" "$f"
  else
    rm "$f"
  fi
done
echo "cut down to their directives: $(printf '%s/BUILD.bazel ' "${generated[@]}")"

bz run //:gazelle >"$work/gazelle.log" 2>&1 || { tail -30 "$work/gazelle.log"; fail "bazel run //:gazelle"; }
grep '^gazelle:' "$work/gazelle.log" && fail "gazelle reported problems (above)"
targets >"$work/regenerated.targets"
if ! diff -u "$work/committed.targets" "$work/regenerated.targets"; then
  fail "the regenerated BUILD files do not have the committed targets (diff above: - committed, + regenerated)"
fi
echo "regenerated: $(wc -l <"$work/regenerated.targets") targets, the committed ones"
for d in "${generated[@]}"; do
  diff -u --label "committed $d/BUILD.bazel" --label "regenerated" "$work/committed/$d.BUILD" "$ex/$d/BUILD.bazel" |
    sed 's/^/  /' || true # hand-set attributes the regeneration does not know
done

mkdir -p "$work/first"
for d in "${generated[@]}"; do cp "$ex/$d/BUILD.bazel" "$work/first/$d.BUILD"; done
bz run //:gazelle >"$work/gazelle2.log" 2>&1 || { tail -30 "$work/gazelle2.log"; fail "second gazelle run"; }
for d in "${generated[@]}"; do
  cmp -s "$work/first/$d.BUILD" "$ex/$d/BUILD.bazel" || fail "the second gazelle run changed $d/BUILD.bazel"
done
echo "a second gazelle run changes nothing"

bz build //images:retail >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "bazel build //images:retail on the regenerated BUILD files"; }
echo "PROPERTY OK gazelle: generated BUILD files deleted, regenerated with the same targets, //images:retail builds"
