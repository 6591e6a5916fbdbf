#!/usr/bin/env bash
# setup.sh: installs what an offline Debian machine needs to build rules_oemimage with Debian's
# Bazel 4.2.3 (bazel-bootstrap), and prepares <repo>/.offline/ for the WORKSPACE files.
#
# Called by tools/bazel on first use (and whenever this directory changes). Safe to run again:
# every step checks what is already there. Only Debian's packages and the Go module proxy are used,
# each through its ordinary client (apt-get, go mod download).
#
# Environment:
#   OEMIMAGE_OFFLINE_DIR  where to put the prepared repositories (default <repo>/.offline)
#   OEMIMAGE_GO_VERSION   Go SDK version for Bazel builds (default below)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tools/bootstrap
OFF=${OEMIMAGE_OFFLINE_DIR:-$ROOT/.offline}
GO_VERSION=${OEMIMAGE_GO_VERSION:-1.26.8}
RULES_GO_VERSION=v0.34.0
GAZELLE_VERSION=v0.26.0

# Debian packages: Bazel and its rule sets, a C compiler for cgo and rules_cc, the tools the setup
# itself runs, and the independent checkers the tests use on our outputs.
APT_BAZEL=(bazel-bootstrap bazel-skylib bazel-rules-java bazel-rules-proto bazel-rules-cc)
APT_BUILD=(gcc libc6-dev patch unzip ca-certificates git)
APT_CHECKERS=(wimtools cabextract gcab mtools dosfstools gdisk fdisk ntfs-3g osslsigncode softhsm2 openssl libhivex-bin libwin-hivex-perl libxml2-utils chromium)

step=""
LOG=""
say() { printf '[bootstrap] %s\n' "$*" >&2; }
begin() { step=$1; say "$1"; }
fail() {
  local rc=$?
  say "FAILED: $step (exit $rc)"
  if [ -n "$LOG" ] && [ -s "$LOG" ]; then say "last lines of $LOG:"; tail -n 15 "$LOG" >&2; fi
  [ -n "${HINT:-}" ] && say "how to fix: $HINT"
  say "then run the command again; finished steps are not repeated."
  exit "$rc"
}
trap fail ERR

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $*"; return 1; fi
}

missing_debs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

# 1. Debian packages.
begin "1/6 Debian packages (Bazel 4.2.3, rule sets, gcc, checkers)"
mapfile -t need < <(missing_debs "${APT_BAZEL[@]}" "${APT_BUILD[@]}" "${APT_CHECKERS[@]}")
if [ ${#need[@]} -gt 0 ]; then
  HINT="check that Debian's package archive is reachable ('apt-get update'), or install by hand: apt-get install ${need[*]}"
  say "    installing: ${need[*]}"
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. A Go command to talk to the module proxy. Any version will do for 'go mod download'.
begin "2/6 Go command for module downloads"
GO=
for g in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go "$OFF/go/bin/go"; do
  if [ -n "$g" ] && [ -x "$g" ]; then GO=$g; break; fi
done
if [ -z "$GO" ]; then
  HINT="apt-get install golang-go"
  say "    no go on PATH: installing Debian's golang-go"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >/dev/null
  GO=$(command -v go)
fi
export GOFLAGS= GOTOOLCHAIN=local GO111MODULE=on
HINT="check that the Go module proxy is reachable: '$GO env GOPROXY' names it; 'go mod download -json MODULE@VERSION' must work"

moddir() { # moddir MODULE@VERSION -> directory of the extracted module in the module cache
  local d
  d=$(cd "${TMPDIR:-/tmp}" && "$GO" mod download -json "$1" 2>>"${LOG:-/dev/null}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$d" ] && [ -d "$d" ] || { say "go mod download $1 gave no directory"; return 1; }
  echo "$d"
}
fresh_copy() { # fresh_copy SRC DST: writable copy, replacing DST atomically
  rm -rf "$2.tmp"; cp -r "$1" "$2.tmp"; chmod -R u+w "$2.tmp"; rm -rf "$2"; mv "$2.tmp" "$2"
}
mkdir -p "$OFF"
LOG=$OFF/bootstrap.log
: >"$LOG"
quiet() { "$@" >>"$LOG" 2>&1; } # keeps the go command's chatter out of the terminal

# 3. Go SDK for Bazel: the golang.org/toolchain module made into a GOROOT rules_go 0.34 accepts.
begin "3/6 Go SDK $GO_VERSION (golang.org/toolchain module)"
if [ ! -f "$OFF/go/.prepared-$GO_VERSION" ]; then
  src=$(moddir "golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64")
  fresh_copy "$src" "$OFF/go"
  chmod +x "$OFF"/go/bin/* "$OFF"/go/pkg/tool/*/*
  HINT="the Go SDK copy in $OFF/go is incomplete: rm -rf $OFF/go and run again"
  # Go >= 1.20 ships no precompiled std; rules_go 0.34 expects GOROOT/pkg/linux_amd64/*.a.
  (cd "${TMPDIR:-/tmp}" && GOROOT="$OFF/go" GODEBUG=installgoroot=all quiet "$OFF/go/bin/go" install std)
  # Go >= 1.25 ships only the tools the go command needs; rules_go 0.34 execs these directly.
  for t in pack buildid nm objdump addr2line test2json; do
    [ -x "$OFF/go/pkg/tool/linux_amd64/$t" ] ||
      (cd "${TMPDIR:-/tmp}" && GOROOT="$OFF/go" quiet "$OFF/go/bin/go" build -trimpath -o "$OFF/go/pkg/tool/linux_amd64/$t" "cmd/$t")
  done
  touch "$OFF/go/.prepared-$GO_VERSION"
fi
GO=$OFF/go/bin/go

# 4. rules_go and gazelle from their Go modules, with the project's patches.
begin "4/6 rules_go $RULES_GO_VERSION and gazelle $GAZELLE_VERSION (patched)"
patch_key=$(cat "$HERE"/patches/*.patch | sha256sum | cut -c1-16)
if [ ! -f "$OFF/rules_go/.prepared-$patch_key" ]; then
  fresh_copy "$(moddir "github.com/bazelbuild/rules_go@$RULES_GO_VERSION")" "$OFF/rules_go"
  HINT="patches in tools/bootstrap/patches no longer apply to rules_go $RULES_GO_VERSION"
  patch -s -d "$OFF/rules_go" -p1 <"$HERE/patches/rules_go-v0.34.0-offline-newgo.patch"
  find "$OFF/rules_go" -type f \( -name '*.sh' -o -name '*.bash' \) -exec chmod +x {} +
  touch "$OFF/rules_go/.prepared-$patch_key"
fi
if [ ! -f "$OFF/bazel_gazelle/.prepared-$patch_key" ]; then
  fresh_copy "$(moddir "github.com/bazelbuild/bazel-gazelle@$GAZELLE_VERSION")" "$OFF/bazel_gazelle"
  # Module zips drop vendor/; go_repository_tools builds gazelle in GOPATH mode from it.
  (cd "$OFF/bazel_gazelle" && quiet "$GO" mod vendor)
  HINT="patches in tools/bootstrap/patches no longer apply to gazelle $GAZELLE_VERSION"
  patch -s -d "$OFF/bazel_gazelle" -p1 <"$HERE/patches/bazel_gazelle-v0.26.0-skylib103.patch"
  find "$OFF/bazel_gazelle" -type f \( -name '*.sh' -o -name '*.bash' \) -exec chmod +x {} +
  touch "$OFF/bazel_gazelle/.prepared-$patch_key"
fi

# 5. Repositories Bazel 4.2.3's built-in WORKSPACE suffix would otherwise download.
begin "5/6 rules_cc (patched for Bazel 4.2.3) and a coverage-tools stub"
HINT="reinstall Debian's bazel-rules-cc: apt-get install --reinstall bazel-rules-cc"
if [ ! -f "$OFF/rules_cc/.prepared" ]; then
  fresh_copy /usr/share/bazel/rules/cc "$OFF/rules_cc"
  # Debian's rules_cc 0.0.4 calls use_cpp_toolchain(), which Bazel 4.2.3's @bazel_tools lacks.
  sed -i -e 's/, "use_cpp_toolchain")/)/' \
    -e 's#use_cpp_toolchain()#["@bazel_tools//tools/cpp:toolchain_type"]#' \
    "$OFF"/rules_cc/cc/private/rules_impl/cc_flags_supplier.bzl \
    "$OFF"/rules_cc/cc/private/rules_impl/compiler_flag.bzl
  touch "$OFF/rules_cc/.prepared"
fi
mkdir -p "$OFF/remote_coverage_tools"
echo 'workspace(name = "remote_coverage_tools")' >"$OFF/remote_coverage_tools/WORKSPACE"
cat >"$OFF/remote_coverage_tools/BUILD" <<'EOF'
package(default_visibility = ["//visibility:public"])

sh_binary(name = "coverage_report_generator", srcs = ["stub.sh"])

sh_binary(name = "lcov_merger", srcs = ["stub.sh"])
EOF
printf '#!/bin/sh\necho "bazel coverage is not available offline: use go test -cover" >&2\nexit 1\n' \
  >"$OFF/remote_coverage_tools/stub.sh"
chmod +x "$OFF/remote_coverage_tools/stub.sh"

# 6. Links to Debian's rule sets, so WORKSPACE files name only paths under .offline/.
begin "6/6 links to Debian's rule sets"
ln -sfn /usr/share/bazel/rules/java "$OFF/rules_java"
ln -sfn /usr/share/bazel/rules/proto "$OFF/rules_proto"
ln -sfn /usr/share/bazel/tools/skylib "$OFF/bazel_skylib"

say "ready: $OFF (Go $("$OFF/go/bin/go" env GOVERSION), rules_go $RULES_GO_VERSION, gazelle $GAZELLE_VERSION)"
