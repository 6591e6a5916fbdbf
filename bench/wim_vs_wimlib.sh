#!/usr/bin/env bash
# Compares tools/wim's writer with wimlib-imagex capture on the same tree, in one run.
#   bench/wim_vs_wimlib.sh [TOTAL_MIB] [ROUNDS]    (default 512 MiB, best of 3 rounds)
# The tree (tools/wim/internal/wimgen) mixes text-like and random runs, ~2:1 for XPRESS.
# wimlib-imagex runs with --threads=$(nproc) (its default: one thread per core), once as
# asked (no integrity table, no boot index) and once with --check --boot, which writes
# what our writer always writes (integrity table, boot index 1). Ours runs
# tools/wim/internal/wimcapture with one compressor per core. Prints wall time, MB/s of
# input, CPU time (user+sys), output size and peak RSS (GNU time) of the best round of each
# (best wall and best CPU time separately), then the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-512}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v wimlib-imagex >/dev/null || { echo "wimlib-imagex not found (apt-get install wimtools)" >&2; exit 1; }
go build -o "$work/wimgen" ./tools/wim/internal/wimgen
go build -o "$work/wimcapture" ./tools/wim/internal/wimcapture
"$work/wimgen" "$work/data" "$total"
bytes=$(find "$work/data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
threads=$(nproc)
echo "data: $(find "$work/data" -type f | wc -l) files in $(find "$work/data" -type d | wc -l) directories, $bytes bytes; $threads cores; $(wimlib-imagex --version | head -1)"
find "$work/data" -type f -exec cat {} + >/dev/null # warm the page cache for everyone alike

# Every round runs every configuration once, so that a slow moment of a shared machine
# hits all of them alike; each configuration's best round is reported.
configs=()
declare -A cmd secs cpu size rss
add() { # add KEY OUT COMMAND...
  local key=$1; shift
  configs+=("$key"); cmd[$key]="$*"
}
for c in none xpress; do
  add "wimlib $c" "$work/wl-$c.wim" wimlib-imagex capture "$work/data" "$work/wl-$c.wim" --compress=$c --threads="$threads"
  add "wimlib $c --check --boot" "$work/wlc-$c.wim" wimlib-imagex capture "$work/data" "$work/wlc-$c.wim" --compress=$c --threads="$threads" --check --boot
  add "tools/wim $c" "$work/ours-$c.wim" "$work/wimcapture" -compress $c "$work/data" "$work/ours-$c.wim"
done
for round in $(seq "$runs"); do
  for key in "${configs[@]}"; do
    set -- ${cmd[$key]}
    out=$1; shift
    rm -f "$out"
    sync
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r s u y r <"$work/time"
    if [ -z "${secs[$key]:-}" ] || awk -v a="$s" -v b="${secs[$key]}" 'BEGIN { exit !(a < b) }'; then
      secs[$key]=$s; rss[$key]=$r
    fi
    u=$(awk -v u="$u" -v y="$y" 'BEGIN { print u + y }')
    if [ -z "${cpu[$key]:-}" ] || awk -v a="$u" -v b="${cpu[$key]}" 'BEGIN { exit !(a < b) }'; then
      cpu[$key]=$u
    fi
    size[$key]=$(stat -c %s "$out")
  done
done
for key in "${configs[@]}"; do
  awk -v l="$key" -v s="${secs[$key]}" -v c="${cpu[$key]}" -v b="$bytes" -v o="${size[$key]}" -v r="${rss[$key]}" \
    'BEGIN { printf "%-28s %6.2f s %6.1f MB/s  cpu %6.2f s  out %10d bytes (%5.1f%%)  peak RSS %5.1f MiB\n", l, s, b/s/1e6, c, o, 100*o/b, r/1024 }'
done

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
