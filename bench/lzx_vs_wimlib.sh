#!/usr/bin/env bash
# LZX benchmark, in one run on one tree (bench/gendata -tree: text-like and random runs):
#   bench/lzx_vs_wimlib.sh [TOTAL_MIB] [ROUNDS]    (default 256 MiB, best of 3 rounds)
# WIM: tools/wim's LZX writer (bench/wimcapture) against wimlib-imagex capture
# --compress=LZX, both with one thread per core. CAB: tools/cab's LZX (window 2^21, the
# default, and 2^15) against its MSZIP, all files in one cabinet (bench/cabdir).
# Prints wall time, MB/s of input, CPU time, output size and peak RSS of each configuration's
# best round, the ratios, and what wimlib-imagex verify and cabextract -t say of our files.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-256}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v wimlib-imagex >/dev/null || { echo "wimlib-imagex not found (apt-get install wimtools)" >&2; exit 1; }
command -v cabextract >/dev/null || { echo "cabextract not found (apt-get install cabextract)" >&2; exit 1; }
go build -o "$work/gendata" ./bench/gendata
go build -o "$work/wimcapture" ./bench/wimcapture
go build -o "$work/cabdir" ./bench/cabdir
"$work/gendata" -tree "$work/data" "$total"
bytes=$(find "$work/data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
threads=$(nproc)
echo "data: $(find "$work/data" -type f | wc -l) files, $bytes bytes; $threads cores; $(wimlib-imagex --version | head -1)"
find "$work/data" -type f -exec cat {} + >/dev/null # warm the page cache for everyone alike

. bench/rounds.sh
add "wimlib LZX" "$work/wl.wim" wimlib-imagex capture "$work/data" "$work/wl.wim" --compress=LZX --threads="$threads"
add "tools/wim LZX" "$work/ours.wim" "$work/wimcapture" -compress lzx "$work/data" "$work/ours.wim"
add "tools/cab MSZIP" "$work/mszip.cab" "$work/cabdir" -compress mszip "$work/mszip.cab" "$work/data"
add "tools/cab LZX 2^21" "$work/lzx21.cab" "$work/cabdir" -compress lzx "$work/lzx21.cab" "$work/data"
add "tools/cab LZX 2^15" "$work/lzx15.cab" "$work/cabdir" -compress lzx:15 "$work/lzx15.cab" "$work/data"
run_rounds "$runs"
print_table "$bytes" 20
echo
awk -v o="${secs[tools/wim LZX]}" -v w="${secs[wimlib LZX]}" -v oc="${cpu[tools/wim LZX]}" -v wc="${cpu[wimlib LZX]}" \
    -v os="${size[tools/wim LZX]}" -v ws="${size[wimlib LZX]}" \
  'BEGIN { printf "WIM LZX ours/wimlib: wall %.2fx, cpu %.2fx, size %.4f\n", o/w, oc/wc, os/ws }'
for k in "tools/cab LZX 2^21" "tools/cab LZX 2^15"; do
  awk -v k="$k" -v o="${secs[$k]}" -v m="${secs[tools/cab MSZIP]}" -v os="${size[$k]}" -v ms="${size[tools/cab MSZIP]}" \
    'BEGIN { printf "%s / MSZIP: wall %.2fx, size %.4f\n", k, o/m, os/ms }'
done
wimlib-imagex verify "$work/ours.wim" 2>&1 | tail -1
for c in lzx21 lzx15; do
  echo "$c.cab: $(cabextract -t "$work/$c.cab" | tail -1)"
done
