# tests/bazel_lib.sh: sourced by tests/build_properties.sh, tests/gazelle_example.sh,
# tests/signing_example.sh and bench/build_kit.sh.
#   repo_copy ROOT DST       copies the working tree of ROOT (tracked and untracked files, not
#                            ignored ones nor deleted ones) to DST and links ROOT's offline setup;
#                            fails on any copy error
#   bazel_remote_start DIR   builds bazel-remote v2.6.2 from its Go module (as
#                            ../shared/bazel-offline/build_bazel_remote.sh does) into DIR, starts it
#                            on 127.0.0.1 with its cache in DIR/cache, and sets remote_pid and
#                            remote_cache (the --remote_cache= URL). Stop it with: kill "$remote_pid".
#   example_copy             repo_copy of $root into a new temporary directory: sets work (the
#                            directory) and ex (its examples/contoso); bz runs Bazel there with
#                            an output root of its own; all of it is shut down and removed on exit.
#   fail MESSAGE             prints FAIL: MESSAGE and exits 1.
#   bazel_processes LOG      the "INFO: N processes: ..." line of a Bazel run.
#   bazel_ran LOG            how many actions of that run executed (sandboxed, local or worker).
bazel_remote_start() {
  local dir=$1 src port
  src=$(cd /tmp && GOFLAGS= GOTOOLCHAIN=local go mod download -json github.com/buchgr/bazel-remote/v2@v2.6.2 |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$src" ] || { echo "bazel_remote_start: go mod download of bazel-remote failed" >&2; return 1; }
  rm -rf "$dir/bazel-remote-src" && cp -r "$src" "$dir/bazel-remote-src" && chmod -R u+w "$dir/bazel-remote-src"
  (cd "$dir/bazel-remote-src" && GOFLAGS= GOTOOLCHAIN=local go build -o "$dir/bazel-remote" .) >"$dir/br.log" 2>&1 ||
    { tail "$dir/br.log" >&2; echo "bazel_remote_start: building bazel-remote failed" >&2; return 1; }
  port=$((20000 + RANDOM % 20000))
  "$dir/bazel-remote" --dir "$dir/cache" --max_size 20 --grpc_address "127.0.0.1:$port" \
    --http_address "127.0.0.1:$((port + 1))" >"$dir/remote.log" 2>&1 &
  remote_pid=$!
  for _ in $(seq 100); do grep -q "Starting gRPC server" "$dir/remote.log" 2>/dev/null && break; sleep 0.2; done
  grep -q "Starting gRPC server" "$dir/remote.log" || { cat "$dir/remote.log" >&2; echo "bazel_remote_start: bazel-remote did not start" >&2; return 1; }
  remote_cache="grpc://127.0.0.1:$port"
}
bazel_processes() { grep -E '^INFO: [0-9]+ process' "$1" | tail -1 || true; }
bazel_ran() {
  bazel_processes "$1" | { grep -oE '[0-9]+ (linux-sandbox|processwrapper-sandbox|local|worker)' || true; } |
    awk '{s += $1} END {print s + 0}'
}
repo_copy() {
  local src=$1 dst=$2
  mkdir -p "$dst"
  (cd "$src" && git ls-files -co --exclude-standard -z |
    grep -zvxF -f <(git ls-files -d; echo .offline) |
    xargs -0 cp --parents -t "$dst") || { echo "repo_copy: copying $src to $dst failed" >&2; return 1; }
  ln -s "$src/.offline" "$dst/.offline"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

example_copy() {
  work=$(mktemp -d)
  ex=$work/repo/examples/contoso
  trap _example_cleanup EXIT
  repo_copy "$root" "$work/repo"
  # Defined here, not at the top: scripts that only source this file keep their own bz.
  bz() { (cd "$ex" && "$root/tools/bazel" --output_user_root="$work/out" "$@"); }
}
_example_cleanup() {
  [ -d "$ex" ] && (cd "$ex" && "$root/tools/bazel" --output_user_root="$work/out" shutdown >/dev/null 2>&1) || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
