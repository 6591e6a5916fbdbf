#!/usr/bin/env bash
# Compares tools/wim's writer with wimlib-imagex capture on the same tree, in one run.
#   bench/wim_vs_wimlib.sh [TOTAL_MIB] [ROUNDS]    (default 512 MiB, best of 3 rounds)
# The tree (bench/gendata -tree) mixes text-like and random runs, ~2:1 for XPRESS.
# wimlib-imagex runs with --threads=$(nproc) (its default: one thread per core), once as
# asked (no integrity table, no boot index) and once with --check --boot, which writes
# what our writer always writes (integrity table, boot index 1). Ours runs
# bench/wimcapture with one compressor per core. Prints wall time, MB/s of
# input, CPU time (user+sys), output size and peak RSS (GNU time) of the best round of each
# (best wall and best CPU time separately), then the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-512}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v wimlib-imagex >/dev/null || { echo "wimlib-imagex not found (apt-get install wimtools)" >&2; exit 1; }
go build -o "$work/gendata" ./bench/gendata
go build -o "$work/wimcapture" ./bench/wimcapture
"$work/gendata" -tree "$work/data" "$total"
bytes=$(find "$work/data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
threads=$(nproc)
echo "data: $(find "$work/data" -type f | wc -l) files in $(find "$work/data" -type d | wc -l) directories, $bytes bytes; $threads cores; $(wimlib-imagex --version | head -1)"
find "$work/data" -type f -exec cat {} + >/dev/null # warm the page cache for everyone alike

. bench/rounds.sh
for c in none xpress; do
  add "wimlib $c" "$work/wl-$c.wim" wimlib-imagex capture "$work/data" "$work/wl-$c.wim" --compress=$c --threads="$threads"
  add "wimlib $c --check --boot" "$work/wlc-$c.wim" wimlib-imagex capture "$work/data" "$work/wlc-$c.wim" --compress=$c --threads="$threads" --check --boot
  add "tools/wim $c" "$work/ours-$c.wim" "$work/wimcapture" -compress $c "$work/data" "$work/ours-$c.wim"
done
run_rounds "$runs"
print_table "$bytes" 28

echo
for c in none xpress; do
  awk -v c="$c" -v o="${secs[tools/wim $c]}" -v w="${secs[wimlib $c]}" -v wc="${secs[wimlib $c --check --boot]}" \
      -v oc="${cpu[tools/wim $c]}" -v cw="${cpu[wimlib $c]}" -v cwc="${cpu[wimlib $c --check --boot]}" \
      -v os="${size[tools/wim $c]}" -v ws="${size[wimlib $c]}" \
    'BEGIN { printf "%-7s ours/wimlib: wall %.2fx (%.2fx against --check --boot), cpu %.2fx (%.2fx), size %.4f\n", c, o/w, o/wc, oc/cw, oc/cwc, os/ws }'
done
for c in none xpress; do
  wimlib-imagex verify "$work/ours-$c.wim" 2>&1 | tail -1
done
