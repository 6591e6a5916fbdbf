#!/usr/bin/env bash
# Compares tools/ntfs writing a tree into a new NTFS volume image with cp -r of the same tree,
# in one run:
#   bench/ntfs_vs_cp.sh [TOTAL_MIB] [FILES] [VOLUME_GIB] [ROUNDS]   (default 2048 20000 8 3)
# The tree: bench/gendata's files (log-distributed sizes, 1 KiB to 8 MiB), spread over 200
# directories. ntfsdir (bench/ntfsdir) writes a sparse VOLUME_GIB image; cp -r
# copies the tree on the same file system. Neither syncs; each round runs both, and the best
# round of each is reported: wall time, CPU time, peak RSS (GNU time), then the ratio.
# ntfsfix -n and a spot check with ntfscat follow if ntfs-3g is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-2048}
count=${2:-20000}
vol=${3:-8}
runs=${4:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/gendata" ./bench/gendata
go build -o "$work/ntfsdir" ./bench/ntfsdir
"$work/gendata" "$work/data" "$total" "$count"
(cd "$work/data" && python3 -c '
import os
for i, f in enumerate(sorted(os.listdir("."))):
    d = "d%03d" % (i % 200)
    os.makedirs(d, exist_ok=True)
    os.rename(f, os.path.join(d, f))
')
bytes=$(find "$work/data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "data: $(find "$work/data" -type f | wc -l) files in $(find "$work/data" -mindepth 1 -type d | wc -l) directories, $bytes bytes; volume $vol GiB; $(nproc) cores"
find "$work/data" -type f -exec cat {} + >/dev/null # warm the page cache for both alike

declare -A secs cpu rss
measure() { # measure KEY COMMAND...
  local key=$1; shift
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r s u y r <"$work/time"
  u=$(awk -v u="$u" -v y="$y" 'BEGIN { print u + y }')
  if [ -z "${secs[$key]:-}" ] || awk -v a="$s" -v b="${secs[$key]}" 'BEGIN { exit !(a < b) }'; then
    secs[$key]=$s; rss[$key]=$r
  fi
  if [ -z "${cpu[$key]:-}" ] || awk -v a="$u" -v b="${cpu[$key]}" 'BEGIN { exit !(a < b) }'; then
    cpu[$key]=$u
  fi
}
for round in $(seq "$runs"); do
  rm -rf "$work/copy" "$work/ntfs.img"
  measure cp cp -r "$work/data" "$work/copy"
  rm -rf "$work/copy"
  measure ntfs "$work/ntfsdir" -size $((vol << 30)) "$work/data" "$work/ntfs.img"
done
for key in cp ntfs; do
  awk -v l="$key" -v s="${secs[$key]}" -v c="${cpu[$key]}" -v b="$bytes" -v r="${rss[$key]}" \
    'BEGIN { printf "%-5s %6.2f s %7.1f MB/s  cpu %6.2f s  peak RSS %6.1f MiB\n", l, s, b/s/1e6, c, r/1024 }'
done
awk -v n="${secs[ntfs]}" -v c="${secs[cp]}" 'BEGIN { printf "ntfs/cp wall: %.2fx\n", n/c }'
echo "image: $(du -h --apparent-size "$work/ntfs.img" | cut -f1) apparent, $(du -h "$work/ntfs.img" | cut -f1) on disk"
if command -v ntfsfix >/dev/null; then
  ntfsfix -n "$work/ntfs.img" | tail -1
  f=$(cd "$work/data" && find . -type f | sort | sed -n 12345p | cut -c2-)
  cmp <(ntfscat "$work/ntfs.img" "$f") "$work/data$f" && echo "ntfscat $f: same bytes"
fi
