#!/usr/bin/env bash
# tests/build_properties.sh: the build properties a device maker moves to Bazel for, tested on
# examples/contoso (run by tests/test_all.sh):
#   1. reproducible: two checkouts at different paths, different --output_user_root, built
#      from nothing: every output file has the same SHA-256 (differing files are listed);
#   2. incremental: after one OEM package's source changes, only the actions downstream of it
#      run (Bazel's execution log says which); a no-op build runs no action;
#   3. remote cache: with bazel-remote on 127.0.0.1, a build after `clean --expunge`, and one
#      from the other checkout, are 100% remote cache hits; --remote_download_minimal builds
#      and the image is still fetched on request (--remote_download_toplevel).
# Needs what tools/bazel's bootstrap installs, and the Go module proxy (bazel-remote is built
# from its module, as ../shared/bazel-offline/build_bazel_remote.sh does).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
remote_pid=
cleanup() {
  [ -n "$remote_pid" ] && kill "$remote_pid" 2>/dev/null || true
  for d in "$work"/ws_*/examples/contoso; do
    [ -d "$d" ] && (cd "$d" && "$root/tools/bazel" --output_user_root="$work/out_$(basename "$(dirname "$(dirname "$d")")")" shutdown >/dev/null 2>&1) || true
  done
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf '\n--- %s\n' "$*"; }

# shellcheck source=bazel_lib.sh
source "$root/tests/bazel_lib.sh"

# Targets whose outputs are compared: every image, WIM and package of the example.
targets=(//images:all //kit:all //oem:all //soc:all //device:all //mmos:all //checks:all //customizations:all)

# checkout NAME: a copy of the working tree (tracked and untracked, not ignored files) at
# another path, sharing the offline setup.
checkout() {
  repo_copy "$root" "$work/ws_$1"
}

# bz NAME ARGS...: Bazel in checkout NAME's example, with its own output user root.
bz() {
  local name=$1; shift
  (cd "$work/ws_$name/examples/contoso" && "$root/tools/bazel" --output_user_root="$work/out_ws_$name" "$@")
}

# digests NAME: SHA-256 of every output of the targets, by path below bazel-bin.
digests() {
  local bin
  bin=$(bz "$1" info bazel-bin 2>/dev/null)
  (cd "$bin" && find images kit oem soc device mmos checks customizations -type f ! -name '*.runfiles_manifest' ! -path '*.runfiles/*' \
    ! -name '*.sh' -print0 | sort -z | xargs -0 sha256sum)
}

# ffu_diffs PATH...: for each .ffu among outputs that differ (paths below bazel-bin), what
# `oemimage ffu diff` finds between checkout a's and checkout b's. The tool is checkout a's:
# `bazel run --script_path` builds it and writes a script that runs it. Not getting it is said,
# not fatal: the digests fail the test anyway.
ffu_diffs() {
  local ffus=() f bin_a bin_b tool=$work/oemimage_run.sh
  for f in "$@"; do
    case $f in *.ffu) ffus+=("$f") ;; esac
  done
  [ "${#ffus[@]}" -gt 0 ] || return 0
  if ! bz a run --script_path="$tool" @rules_oemimage//tools/oemimage >"$work/tool.log" 2>&1; then
    tail -10 "$work/tool.log"
    echo "(oemimage could not be built, so no ffu diff)"
    return 0
  fi
  bin_a=$(bz a info bazel-bin 2>/dev/null)
  bin_b=$(bz b info bazel-bin 2>/dev/null)
  for f in "${ffus[@]}"; do
    echo "oemimage ffu diff a/$f b/$f:"
    "$tool" ffu diff "$bin_a/$f" "$bin_b/$f" 2>&1 | sed 's/^/  /' || true
  done
}

checkout a >/dev/null
checkout b >/dev/null

step "reproducible: two checkouts, two output roots, cold builds"
bz a build "${targets[@]}" >"$work/a1.log" 2>&1 || { tail -30 "$work/a1.log"; fail "build in checkout a"; }
bz b build "${targets[@]}" >"$work/b1.log" 2>&1 || { tail -30 "$work/b1.log"; fail "build in checkout b"; }
digests a >"$work/a.sha"
digests b >"$work/b.sha"
n=$(wc -l <"$work/a.sha")
[ "$n" -gt 20 ] || fail "only $n outputs found"
if ! diff -u "$work/a.sha" "$work/b.sha" >"$work/diff"; then
  mapfile -t differing < <(grep '^[-+][0-9a-f]' "$work/diff" | awk '{print $2}' | sort -u)
  echo "outputs that differ between the checkouts:"
  printf '%s\n' "${differing[@]}"
  ffu_diffs "${differing[@]}"
  fail "not reproducible"
fi
echo "PROPERTY OK reproducible: $n outputs identical ($(bazel_processes "$work/b1.log"))"

step "incremental: one OEM package changes"
bz a build "${targets[@]}" >"$work/noop.log" 2>&1
p=$(bazel_processes "$work/noop.log")
echo "no-op: $p"
echo "$p" | grep -qE '^INFO: [0-9]+ process(es)?: [0-9]+ internal\.$' || fail "the no-op build ran actions: $p"
# Outputs an action rewrites get a new modification time; outputs of actions that did not run
# keep theirs.
mtimes() { (cd "$(bz a info bazel-bin 2>/dev/null)" && find images kit oem soc device mmos checks customizations -type f -printf '%T@ %p\n' | sort -k2); }
mtimes >"$work/before"
changed=$work/ws_a/examples/contoso/oem/payload/diagnostics.txt
cp "$changed" "$work/diagnostics.orig"
echo "changed" >>"$changed"
bz a build "${targets[@]}" >"$work/inc.log" 2>&1 || { tail -30 "$work/inc.log"; fail "incremental build"; }
p=$(bazel_processes "$work/inc.log")
echo "after the change: $p"
# Bazel's own count: the package, then resolve and imggen of the two images whose FMs list it
# (test, which selects it, and mfg, whose inputs include it); the WIM of mfg is an action-cache
# hit since mfg.ffu comes out the same.
n=$(bazel_ran "$work/inc.log")
[ "$n" -le 5 ] || fail "$n actions ran after one package changed; expected at most 5"
mtimes >"$work/after"
ran=$( (diff "$work/before" "$work/after" || true) | grep '^>' | awk '{print $3}' | grep -E '\.(spkg|ffu|wim|selection\.json)$' | sort -u) || true
echo "$ran" | sed 's/^/  rewritten: /'
echo "$ran" | grep -q 'oem/diagnostics/Contoso.Test.Diagnostics.spkg' || fail "the changed package was not rebuilt"
for unrelated in kit/ soc/ device/ oem/settings oem/camera oem/contoso_fm_merged images/retail images/production images/health images/customer_care checks/retail_unmerged customizations/; do
  if echo "$ran" | grep -q "^$unrelated"; then fail "$unrelated was rebuilt though it does not depend on the change"; fi
done
echo "$ran" | grep -q 'images/test.ffu' || fail "images/test.ffu, which holds the package, was not rebuilt"
echo "PROPERTY OK incremental: only the changed package and what depends on it ran; no-op ran no action"
cp "$work/diagnostics.orig" "$changed" # the checkouts agree again for the remote-cache checks

# Remote cache: bazel-remote from its Go module, on loopback.
step "remote cache: bazel-remote on 127.0.0.1"
bazel_remote_start "$work"
cache=(--remote_cache="$remote_cache")
# Bazel uploads only what it executes: checkout a's outputs are up to date, so clean them first.
bz a clean >/dev/null 2>&1
bz a build "${targets[@]}" "${cache[@]}" >"$work/r1.log" 2>&1 || { tail -30 "$work/r1.log"; fail "build uploading to the cache"; }
bz a clean --expunge >/dev/null 2>&1
all_hits() { # all_hits LOG: every action that ran was a remote cache hit
  local p; p=$(bazel_processes "$1")
  echo "$p"
  echo "$p" | grep -q 'remote cache hit' || fail "no remote cache hit: $p"
  if echo "$p" | grep -qE 'linux-sandbox|local|processwrapper-sandbox|worker'; then fail "actions ran instead of coming from the cache: $p"; fi
}
bz a build "${targets[@]}" "${cache[@]}" >"$work/r2.log" 2>&1 || { tail -30 "$work/r2.log"; fail "build after clean --expunge"; }
echo -n "after clean --expunge: "; all_hits "$work/r2.log"
bz b clean --expunge >/dev/null 2>&1
bz b build "${targets[@]}" "${cache[@]}" --remote_download_minimal >"$work/r3.log" 2>&1 || { tail -30 "$work/r3.log"; fail "build from checkout b with --remote_download_minimal"; }
echo -n "checkout b, --remote_download_minimal: "; all_hits "$work/r3.log"
bz b build //images:retail "${cache[@]}" --remote_download_toplevel >"$work/r4.log" 2>&1 || { tail -30 "$work/r4.log"; fail "fetching the image"; }
bin=$(bz b info bazel-bin 2>/dev/null)
[ -s "$bin/images/retail.ffu" ] || fail "retail.ffu was not fetched with --remote_download_toplevel"
want=$(grep ' images/retail.ffu$' "$work/a.sha" | cut -d' ' -f1)
got=$(sha256sum "$bin/images/retail.ffu" | cut -d' ' -f1)
[ "$want" = "$got" ] || fail "the fetched retail.ffu differs from the one built"
echo "PROPERTY OK remote cache: all hits after clean --expunge and from another checkout; retail.ffu fetched on request, identical"
