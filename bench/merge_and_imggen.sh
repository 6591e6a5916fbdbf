#!/usr/bin/env bash
# Measures FeatureMerger and ImgGen on generated packages, with cp of the same bytes in the same
# run as the copy limit:
#   bench/merge_and_imggen.sh [TOTAL_MIB] [COUNT] [DISK_GIB]   (default 2048 MiB in 2000 packages, 8 GiB disk)
# Prints wall time, MB/s of package bytes and peak memory (RSS) for each step.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-2048}
count=${2:-2000}
disk=${3:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/oemimage" ./tools/oemimage
go build -o "$work/genimage" ./bench/genimage
"$work/genimage" "$work/def" "$total" "$count" "$disk"
bytes=$(du -sb "$work/def/packages" | cut -f1)
echo "packages: $count, $bytes bytes; disk $disk GiB; $(nproc) cores"

measure() { # measure LABEL COMMAND...
  local label=$1; shift
  sync
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
  read -r secs rss <"$work/time"
  awk -v l="$label" -v s="$secs" -v b="$bytes" -v r="$rss" \
    'BEGIN { printf "%-28s %7.2f s %8.1f MB/s  peak RSS %7.1f MiB\n", l, s, b/s/1e6, r/1024 }'
}
measure "cp (the copy limit)" cp -r "$work/def/packages" "$work/copy"
rm -rf "$work/copy"
measure "featuremerger" "$work/oemimage" featuremerger "$work/def/fm/BenchFM.xml" "$work/merged" 10.0.0.1 "$work/mergedfm" \
  /FMID:Phone /OwnerName:Bench "/Variables:_cputype=arm;buildtype=fre;releasetype=production" "--package=$work/def/packages"
measure "imggen ($disk GiB layout)" "$work/oemimage" imggen "$work/bench.ffu" "$work/def/OEMInput.xml" MSPackages \
  "--package=$work/def/packages" "--fm=$work/def/fm" --timings=false
echo "FFU: $(stat -c %s "$work/bench.ffu") bytes"
"$work/oemimage" ffu verify "$work/bench.ffu"
