#!/usr/bin/env bash
# bench/build_kit.sh: what Bazel gives a device maker, measured on a generated kit.
#   bench/build_kit.sh [PACKAGES...]      (default: 200 2000)
# For each size it generates a workspace: examples/contoso's kit, BSP and device, plus PACKAGES
# OEM packages (mobile_package, one 4 KiB file each) in feature manifests of 20, and one retail
# image holding all of them. Then it times, with a fresh output root:
#   cold       the first build of the image (Bazel server start and the Go tools included)
#   no-op      the same build again
#   one change one package's file changed, then the build
#   remote     clean --expunge, then the build with a warm bazel-remote cache (127.0.0.1)
# and prints one table row per size, with Bazel's own "N processes" counts.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tests/bazel_lib.sh
source "$root/tests/bazel_lib.sh"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200 2000)
work=$(mktemp -d)
remote_pid=
ws=
cleanup() {
  [ -n "$remote_pid" ] && kill "$remote_pid" 2>/dev/null || true
  [ -n "$ws" ] && (cd "$ws" && "$root/tools/bazel" --output_user_root="$work/out" shutdown >/dev/null 2>&1) || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench/build_kit.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# generate DIR N: the workspace.
generate() {
  local dir=$1 n=$2 i f fms=()
  mkdir -p "$dir"
  (cd "$root/examples/contoso" && git ls-files -co --exclude-standard -- WORKSPACE BUILD.bazel .bazelrc kit soc device oem |
    xargs cp --parents -t "$dir")
  # The workspace refers to the ruleset by absolute path here (it is not committed anywhere).
  sed -i -e "s|path = \"../..\"|path = \"$root\"|" -e "s|offline_dir = \"../../.offline\"|offline_dir = \"$root/.offline\"|" "$dir/WORKSPACE"
  grep -q "path = \"$root\"" "$dir/WORKSPACE" || { echo "generate: could not point WORKSPACE at $root" >&2; exit 1; }
  # The generated packages and their feature manifests, 20 packages each.
  mkdir -p "$dir/gen/payload" "$dir/gen/fm"
  {
    echo 'load("@rules_oemimage//rules:defs.bzl", "feature_manifest", "mobile_package")'
    echo 'package(default_visibility = ["//visibility:public"])'
    for i in $(seq -w 1 "$n"); do
      printf 'mobile_package(name = "p%s", owner = "Contoso", component = "Gen", sub_component = "P%s", files = {"\\\\Programs\\\\Gen\\\\p%s.bin": "payload/p%s.bin"})\n' "$i" "$i" "$i" "$i"
    done
  } >"$dir/gen/BUILD.bazel"
  for i in $(seq -w 1 "$n"); do
    head -c 4096 /dev/zero | tr '\0' "$(printf '\\%03o' $((10#$i % 26 + 97)))" >"$dir/gen/payload/p$i.bin"
    echo "package $i" >>"$dir/gen/payload/p$i.bin"
  done
  local fm=0 pkgs=() label
  for i in $(seq -w 1 "$n"); do
    pkgs+=("$i")
    if [ ${#pkgs[@]} -eq 20 ] || [ "$((10#$i))" -eq "$n" ]; then
      fm=$((fm + 1))
      f=$(printf 'GenFM%03d' "$fm")
      {
        echo '<?xml version="1.0" encoding="utf-8"?>'
        echo "<FeatureManifest xmlns=\"http://schemas.microsoft.com/embedded/2004/10/ImageUpdate\" OwnerType=\"OEM\" OwnerName=\"Contoso\" ReleaseType=\"Production\" ID=\"$f\">"
        echo '  <BasePackages>'
        for p in "${pkgs[@]}"; do echo "    <PackageFile Path=\"%OEM_ROOT%\\Packages\\Gen\" Name=\"Contoso.Gen.P$p.spkg\"/>"; done
        echo '  </BasePackages>'
        echo '</FeatureManifest>'
      } >"$dir/gen/fm/$f.xml"
      label=$(printf '"%s", ' "${pkgs[@]/#/:p}")
      echo "feature_manifest(name = \"$f\", src = \"fm/$f.xml\", packages = [${label%, }])" >>"$dir/gen/BUILD.bazel"
      fms+=("$f")
      pkgs=()
    fi
  done
  mkdir -p "$dir/images"
  sed -e "s|<AdditionalFM>%OEM_ROOT%\\\\FMFiles\\\\ContosoFM.xml</AdditionalFM>|&$(printf '<AdditionalFM>%%OEM_ROOT%%\\\\FMFiles\\\\%s.xml</AdditionalFM>' "${fms[@]}")|" \
    "$root/examples/contoso/images/RetailOEMInput.xml" >"$dir/images/RetailOEMInput.xml"
  grep -q GenFM001 "$dir/images/RetailOEMInput.xml" || { echo "generate: could not add the FMs to the OEMInput" >&2; exit 1; }
  {
    echo 'load("@rules_oemimage//rules:defs.bzl", "oem_image")'
    echo 'oem_image('
    echo '    name = "retail",'
    echo '    oem_input = "RetailOEMInput.xml",'
    echo '    ms_packages = ["//kit:ms_packages"],'
    echo "    feature_manifests = [\"//kit:ms_optional_features\", \"//oem:contoso_fm\", $(printf '"//gen:%s", ' "${fms[@]}")],"
    echo ')'
  } >"$dir/images/BUILD.bazel"
}

# timed LOG ARGS...: runs Bazel in $ws, sets secs to the wall time; fails with the log's tail.
timed() {
  local log=$1 t0 t1; shift
  t0=$(date +%s.%N)
  (cd "$ws" && "$root/tools/bazel" --output_user_root="$work/out" "$@") >"$log" 2>&1 || { tail -30 "$log" >&2; echo "FAIL: bazel $*" >&2; exit 1; }
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
# summary LOG: "N actions" run by that build, from Bazel's processes line.
summary() { echo "$(bazel_ran "$1") ran; $(bazel_processes "$1" | sed 's/^INFO: //')"; }

rows=()
for n in "${sizes[@]}"; do
  ws=$work/ws_$n
  echo "--- $n packages: generating $ws" >&2
  generate "$ws" "$n"
  rm -rf "$work/out"
  timed "$work/cold.log" build //images:retail
  cold=$secs cold_p=$(summary "$work/cold.log")
  timed "$work/noop.log" build //images:retail
  noop=$secs noop_p=$(summary "$work/noop.log")
  echo "changed" >>"$ws/gen/payload/p$(printf "%0${#n}d" $((n / 2))).bin"
  timed "$work/one.log" build //images:retail
  one=$secs one_p=$(summary "$work/one.log")
  # Warm the cache: a clean build uploads every action it runs.
  if [ -z "$remote_pid" ]; then bazel_remote_start "$work"; fi
  timed "$work/clean.log" clean
  timed "$work/upload.log" build //images:retail --remote_cache="$remote_cache"
  timed "$work/expunge.log" clean --expunge
  timed "$work/cached.log" build //images:retail --remote_cache="$remote_cache"
  remote=$secs remote_p=$(summary "$work/cached.log")
  hits=$(bazel_processes "$work/cached.log" | { grep -oE '[0-9]+ remote cache hit' || true; } | awk '{print $1}')
  hits=${hits:-0}
  total=$((hits + $(bazel_ran "$work/cached.log")))
  (cd "$ws" && "$root/tools/bazel" --output_user_root="$work/out" shutdown >/dev/null 2>&1) || true
  rows+=("$(printf '| %5d | %7.1f s | %5.2f s | %6.2f s (%4.1f%% of cold) | %6.1f s, %d/%d hits (%.0f%%) |' \
    "$n" "$cold" "$noop" "$one" "$(awk -v a="$one" -v b="$cold" 'BEGIN { print 100 * a / b }')" \
    "$remote" "$hits" "$total" "$(awk -v a="$hits" -v b="$total" 'BEGIN { print b ? 100 * a / b : 0 }')")")
  printf '%s packages\n  cold:       %s\n  no-op:      %s\n  one change: %s\n  remote:     %s\n' \
    "$n" "$cold_p" "$noop_p" "$one_p" "$remote_p" >&2
done
echo "$(nproc) cores, $(free -g | awk "/^Mem:/ {print \$2}") GiB; Bazel $(dpkg-query -W -f "\${Version}" bazel-bootstrap 2>/dev/null || bazel --version)"
echo "| packages | cold | no-op | one package changed | clean --expunge, warm remote cache |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
