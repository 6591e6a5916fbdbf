#!/usr/bin/env bash
# Compares tools/cab's writer with gcab on the same files, in one run.
#   bench/cab_vs_gcab.sh [TOTAL_MIB] [COUNT]    (default 1024 MiB in 2000 files)
# Prints wall time, MB/s, output size and peak memory (RSS) for stored and MSZIP writes.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-1024}
count=${2:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/cabwrite" ./bench/cabwrite
go build -o "$work/gendata" ./bench/gendata
"$work/gendata" "$work/data" "$total" "$count"
bytes=$(du -sb "$work/data" | cut -f1)
echo "data: $count files, $bytes bytes; $(nproc) cores"
files=$(cd "$work/data" && ls)

measure() { # measure LABEL OUT COMMAND...: runs COMMAND with GNU time, prints a line
  local label=$1 out=$2; shift 2
  sync
  /usr/bin/time -f "%e %M" -o "$work/time" "$@"
  read -r secs rss <"$work/time"
  size=$(stat -c %s "$out")
  awk -v l="$label" -v s="$secs" -v b="$bytes" -v o="$size" -v r="$rss" \
    'BEGIN { printf "%-24s %7.2f s %8.1f MB/s  out %6.1f%%  peak RSS %6.1f MiB\n", l, s, b/s/1e6, 100*o/b, r/1024 }'
}
cd "$work/data"
measure "gcab -c (stored)" "$work/g.cab" gcab -c "$work/g.cab" $files
measure "tools/cab stored" "$work/o.cab" "$work/cabwrite" "$work/o.cab" .
measure "gcab -c -z (MSZIP)" "$work/gz.cab" gcab -c -z "$work/gz.cab" $files
measure "tools/cab MSZIP" "$work/oz.cab" "$work/cabwrite" -z "$work/oz.cab" .
cabextract -t "$work/oz.cab" | tail -1
