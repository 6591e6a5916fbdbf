#!/usr/bin/env bash
# tools/bazel passes any Bazel other than Debian's 4.x straight through, without the bootstrap,
# and with OEMIMAGE_BOOTSTRAP=0 passes Debian's through too.
set -euo pipefail
wrapper=${1:?usage: bazel_wrapper_test.sh path/to/tools/bazel}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fake() { # fake NAME VERSION: a bazel that prints its version or its arguments
  printf '#!/bin/sh\nif [ "$1" = --version ]; then echo "%s"; else echo "ran: $*"; fi\n' "$2" >"$tmp/$1"
  chmod +x "$tmp/$1"
}
fake bazel7 "bazel 7.4.1"
fake bazel4 "bazel no_version"

# Setup would create the offline dir: its absence proves no bootstrap ran.
export OEMIMAGE_OFFLINE_DIR=$tmp/offline

out=$(BAZEL_REAL=$tmp/bazel7 "$wrapper" build //x:y)
[ "$out" = "ran: build //x:y" ] || { echo "Bazel 7: got '$out'"; exit 1; }
[ ! -e "$tmp/offline" ] || { echo "Bazel 7: the bootstrap ran"; exit 1; }

out=$(BAZEL_REAL=$tmp/bazel4 OEMIMAGE_BOOTSTRAP=0 "$wrapper" test //...)
[ "$out" = "ran: test //..." ] || { echo "OEMIMAGE_BOOTSTRAP=0: got '$out'"; exit 1; }
[ ! -e "$tmp/offline" ] || { echo "OEMIMAGE_BOOTSTRAP=0: the bootstrap ran"; exit 1; }
echo "PASS"
