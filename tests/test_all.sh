#!/usr/bin/env bash
# tests/test_all.sh: every test of rules_oemimage, as CI runs it (.ci/run calls this).
#   1. Go: gofmt, go vet, go test -race of every package, PKCS#11 signing (-tags pkcs11, SoftHSM2),
#      every fuzz target for a bounded time; buildifier over the Bazel files.
#   2. Bazel, root workspace: bazel test //... (Go tests, docs staleness).
#   3. Bazel, examples/contoso (the ruleset as an external repository): analysis of every
#      target, then every test there: rule analysis tests, and the images built and checked
#      with sgdisk, fsck.fat and mtools (oem_image_test).
#   4. Build properties (tests/build_properties.sh): reproducible, incremental, remote-cached.
#   5. Gazelle on the example (tests/gazelle_example.sh): its generated BUILD files come back.
#   6. A newcomer's workspace from README.md and docs/getting-started.md (tests/getting_started.sh).
# The first Bazel call runs the offline bootstrap if needed (tools/bazel).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bazel=$root/tools/bazel

step() { printf '\n=== %s\n' "$*"; }

# Every test line goes to a log too, for the closing count: Go packages and Bazel test targets.
log=$(mktemp)
trap 'rm -f "$log" "$log.gazelle"' EXIT

# The bootstrap first: it installs Bazel and the independent checkers (cabextract, gcab, ...)
# that the tests run. Without them a test fails here rather than skipping.
"$bazel" --version >/dev/null
export OEMIMAGE_REQUIRE_CHECKERS=1
# Go from the bootstrap's SDK if there is no go on PATH (a fresh machine).
command -v go >/dev/null || export PATH=$root/.offline/go/bin:$PATH

step "gofmt and go vet"
unformatted=$(git ls-files '*.go' | xargs -r gofmt -l)
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted (run gofmt -w):"; echo "$unformatted"; exit 1
fi
go vet ./...

# buildifier (bazelbuild/buildtools) at the version go.mod already requires: pinned, in go.sum's
# module graph, and of the Bazel 4 era, so its lint asks for nothing Bazel 4.2.3 lacks (newer
# ones want sh_test loaded from rules_shell). buildtools' v8.x tags are not Go module versions
# (its module path has no /v8), so `@v8.x.y` cannot be used. Format: every BUILD, BUILD.bazel,
# WORKSPACE and .bzl file git tracks must be as buildifier prints it. Lint: buildifier's default
# warnings (all but out-of-order-load, unsorted-dict-items and native-*), -lint=warn; a
# warning fails the step too (exit 4). MODULE.bazel files are left out: this buildifier
# predates Bzlmod's conventions and would reorder bazel_dep's arguments. Fix with
#   go run github.com/bazelbuild/buildtools/buildifier@VERSION FILES...   (format only)
step "buildifier -mode=check -lint=warn"
buildifier_version=v0.0.0-20220531122519-a43aed7014c8
git ls-files | grep -E '(^|/)(BUILD|BUILD\.bazel|WORKSPACE|WORKSPACE\.bazel|WORKSPACE\.bzlmod)$|\.bzl$' |
  xargs go run "github.com/bazelbuild/buildtools/buildifier@$buildifier_version" -mode=check -lint=warn ||
  { echo "buildifier: format or lint findings above (reformat: go run github.com/bazelbuild/buildtools/buildifier@$buildifier_version FILE...)"; exit 1; }
echo "ok"

step "go test -race ./..."
go test -race -count=1 ./... 2>&1 | tee -a "$log"

# Signing with a key on a PKCS#11 token (SoftHSM2, from the bootstrap): the cgo build with
# -tags pkcs11, which the default pure-Go build leaves out (tools/internal/p11). Its go vet
# first, as the step above vets only the default build's files.
step "PKCS#11 signing: go test -tags pkcs11 (SoftHSM2, osslsigncode)"
go vet -tags pkcs11 ./tools/internal/p11/... ./tools/oemimage
go test -count=1 -tags pkcs11 -run PKCS11 ./tools/internal/p11/... ./tools/oemimage 2>&1 | tee -a "$log"

# The hostile-input suite again without the race detector, which reserves more address space
# than the limit: every case runs the real binary under prlimit --as=2GiB and a time bound
# (tools/oemimage/hostile_test.go). prlimit is required here, not skipped.
step "hostile inputs under a 2 GiB address space"
command -v prlimit >/dev/null || { echo "prlimit (util-linux) is missing"; exit 1; }
go test -count=1 -run '^TestHostileInputs$' ./tools/oemimage 2>&1 | tee -a "$log"

# The tests of every package that reads untrusted bytes, under the same limit: their corrupt
# and hostile cases must not allocate without bound either (docs/reliability.md). Without
# -race, whose shadow memory the limit does not leave room for; TestBrowser is left out
# (chromium reserves more address space than 2 GiB; it runs in the -race step above).
step "reader tests under a 2 GiB address space"
readers=(answerfile cab/... catalog customization devicelayout disk fat ffu ffudiff imggen layout lzx manifest merge ntfs pkggen registry report resolve spkg volume wim winpath xmlpath internal/readfile)
CGO_ENABLED=0 prlimit --as=2147483648 -- go test -count=1 -skip '^TestBrowser$' "${readers[@]/#/./tools/}" 2>&1 | tee -a "$log"

# Seeded random device layouts and package sets built into FFUs and judged by fdisk, sgdisk,
# fsck.fat, mtools, ntfsfix and ntfscat (tools/imggen/generative_test.go); without -race, which
# makes each image several times slower. OEMIMAGE_GEN_CASES overrides the count.
step "generative images: ${OEMIMAGE_GEN_CASES:=200} seeded layouts"
OEMIMAGE_GEN_CASES=$OEMIMAGE_GEN_CASES go test -count=1 -run '^TestGenerativeImages$' ./tools/imggen 2>&1 | tee -a "$log"

# Every fuzz target (parsers of untrusted bytes and XML), for a bounded time each: new inputs
# beyond the seed corpus, so a crash found here fails CI. Each runs under a 2 GiB address
# space, so an input that makes a reader allocate without bound fails too
# (docs/reliability.md). OEMIMAGE_FUZZTIME=0 skips this. Not much shorter: go test -fuzz
# first replays its cached corpus, and fails with "context deadline exceeded" if that takes
# longer than the fuzz time. CGO_ENABLED=0: a cgo binary's glibc reserves a 64 MiB malloc arena
# per thread, address space that counts against the limit though no reader allocates it (the
# gazelle target, which links net through gazelle, ran out of address space before fuzzing).
fuzztime=${OEMIMAGE_FUZZTIME:-20s}
if [ "$fuzztime" != 0 ]; then
  step "go test -fuzz, $fuzztime per target"
  git ls-files 'tools/*_test.go' | xargs grep -H '^func Fuzz' | sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9]*).*|\1 \2|' | sort -u |
    while read -r dir target; do
      echo "fuzz ./$dir $target"
      out=$(mktemp)
      fuzz_once() { CGO_ENABLED=0 prlimit --as=2147483648 -- go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "./$dir" >"$out" 2>&1; }
      if ! fuzz_once; then
        # Go 1.26's fuzz coordinator can fail a run at the -fuzztime boundary with a bare
        # "context deadline exceeded" and no failing input when workers are starved of CPU
        # (golang/go#75804, fixed in Go 1.27): that, and only that, is run once more.
        if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written to' "$out"; then
          echo "fuzz ./$dir $target: 'context deadline exceeded' with no failing input (golang/go#75804); running it again"
          fuzz_once || { grep -vE '^fuzz: elapsed' "$out" | tee -a "$log"; rm -f "$out"; exit 1; }
        else
          grep -vE '^fuzz: elapsed' "$out" | tee -a "$log"
          rm -f "$out"
          exit 1
        fi
      fi
      grep -vE '^fuzz: elapsed' "$out" | tee -a "$log"
      rm -f "$out"
    done
fi

step "BUILD files in step with the Go sources (gazelle -mode=diff)"
# gazelle -mode=diff exits 1 when it has changes to show; any other failure (the binary does
# not build, bad flags) prints no diff and must not pass as "ok".
gazelle_status=0
gazelle_diff=$("$bazel" run //:gazelle -- -mode=diff 2>"$log.gazelle") || gazelle_status=$?
if echo "$gazelle_diff" | grep -q '^--- '; then
  echo "$gazelle_diff"; echo "BUILD files are stale: run tools/bazel run //:gazelle"; exit 1
fi
if [ "$gazelle_status" != 0 ]; then
  tail -30 "$log.gazelle"; echo "bazel run //:gazelle -- -mode=diff failed (exit $gazelle_status) without a diff"; exit 1
fi
echo "ok"

step "bazel test //... (root workspace)"
"$bazel" test --test_env=OEMIMAGE_REQUIRE_CHECKERS=1 //... 2>&1 | tee -a "$log"

step "examples/contoso: analysis of every target; images built and checked; rule tests"
cd examples/contoso
"$bazel" build --nobuild //...
"$bazel" test --build_tests_only //... 2>&1 | tee -a "$log"

cd "$root"
step "build properties: reproducible, incremental, remote cache"
tests/build_properties.sh 2>&1 | tee -a "$log"

step "gazelle: examples/contoso's generated BUILD files regenerated"
tests/gazelle_example.sh 2>&1 | tee -a "$log"

step "signing: signing_identity, mobile_package(signing), oem_image(trusted_root) with a test PKI"
tests/signing_example.sh 2>&1 | tee -a "$log"

step "getting started: a workspace from README.md and docs/getting-started.md alone"
tests/getting_started.sh 2>&1 | tee -a "$log"

passed=$(grep -cE '^ok[[:space:]]+github.com/|^//.* PASSED in |^PROPERTY OK ' "$log" || true)
failed=$(grep -cE '^FAIL|^//.* FAILED' "$log" || true)
echo
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]