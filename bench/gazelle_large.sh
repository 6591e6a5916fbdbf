#!/usr/bin/env bash
# bench/gazelle_large.sh: the oemimage gazelle on a generated tree of 1,000 feature manifests
# referencing 20,000 packages (10,000 .pkg.xml projects, 10,000 checked-in .spkg) and 10
# OEMInputs (tools/gazelle's TestLargeTree writes it). Times the real gazelle_binary, built by
# Bazel: the first run (every BUILD file new) and a second one (nothing to change), best of 3.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
tools/bazel build //tools/gazelle:gazelle_binary >"$work/build.log" 2>&1 || { tail "$work/build.log"; exit 1; }
bin=$(find "$(tools/bazel info bazel-bin 2>/dev/null)/tools/gazelle/" -name gazelle_binary -type f -perm -u+x | head -1)
[ -n "$bin" ] || { echo "gazelle_binary not found under bazel-bin"; exit 1; }
cp "$bin" "$work/gazelle"
OEMGAZELLE_TREE="$work/tree" go test -count=1 -run 'TestLargeTree$' ./tools/gazelle >/dev/null
echo "tree: $(find "$work/tree" -name '*.pkg.xml' | wc -l) .pkg.xml, $(find "$work/tree" -name '*.spkg' | wc -l) .spkg," \
  "$(grep -rl '<FeatureManifest' "$work/tree" --include='*.xml' | wc -l) FMs; $(nproc) cores"
cp -a "$work/tree" "$work/pristine"
for run in first second; do
  for i in 1 2 3; do
    if [ "$run" = first ]; then rm -rf "$work/tree" && cp -a "$work/pristine" "$work/tree"; fi
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$work/gazelle" update -repo_root="$work/tree" "$work/tree" 2>"$work/err" ||
      { cat "$work/err"; exit 1; }
    [ -s "$work/err" ] && { head "$work/err"; echo "gazelle reported problems"; exit 1; }
    cat "$work/time" >>"$work/$run.times"
  done
  read -r e u s m < <(sort -n "$work/$run.times" | head -1)
  printf '%-6s run: %5.2f s wall (user %.2f s, sys %.2f s), peak RSS %d MiB (best of 3)\n' "$run" "$e" "$u" "$s" $((m / 1024))
done
