#!/usr/bin/env bash
# bench/imaging_floor.sh: imggen, imgtowim and featuremerger against the tools that set their
# floor, in the same run, as ratios (docs/performance.md):
#   imggen        vs cabextract of every package, in as many parallel jobs as cores
#   imgtowim      vs wimlib-imagex capture of the same MainOS (its files for FAT32, the volume
#                 itself through NTFS-3G for NTFS), for each WIM compression
#   featuremerger vs cp -r of the packages
#
#   bench/imaging_floor.sh [-c mszip|gcab|lzx|none] [-f fat32|ntfs] [-w lzx,xpress,none] [TOTAL_MIB] [COUNT...]
#
# -c: package compression (default gcab: MSZIP cabinets repacked by `gcab -c -z`, as a kit made
# by other tools; mszip: our own MSZIP writer). -f: MainOS file system (default fat32). -w: the
# WIM compressions to compare (default lzx). TOTAL_MIB (default 2048) of payload in COUNT
# packages (default 2000; several counts give the scaling table: same payload, more packages).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
comp=gcab fs=fat32 wims=lzx
while getopts "c:f:w:" o; do
  case $o in
  c) comp=$OPTARG ;;
  f) fs=$OPTARG ;;
  w) wims=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
total=${1:-2048}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(2000)
jobs=$(nproc)
for t in cabextract gcab wimlib-imagex mcopy sfdisk /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "imaging_floor: $t is not installed (tools/bootstrap/setup.sh installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/oemimage" ./tools/oemimage && go build -o "$work/genimage" ./bench/genimage)

# measure LABEL COMMAND...: runs COMMAND, records "secs user sys rssKiB" under LABEL.
declare -A secs rss cpu
measure() {
  local label=$1
  shift
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
    echo "imaging_floor: $label failed:" >&2
    cat "$work/err" >&2
    exit 1
  }
  read -r s u y m <"$work/time"
  secs[$label]=$s rss[$label]=$m cpu[$label]=$(awk -v u="$u" -v y="$y" 'BEGIN{print u+y}')
  printf '  %-34s %8.2f s  cpu %8.2f s  peak RSS %7.1f MiB\n' "$label" "$s" "${cpu[$label]}" "$(awk -v m="$m" 'BEGIN{print m/1024}')"
}
ratio() { awk -v a="${secs[$1]}" -v b="${secs[$2]}" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "n/a" }'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%Y-%m-%d); packages: $comp; MainOS: $fs; $total MiB"
for n in "${counts[@]}"; do
  d=$work/n$n
  gen=mszip
  [ "$comp" = gcab ] || gen=$comp
  "$work/genimage" -compress="$gen" -mainos="$fs" "$d/def" "$total" "$n" 8
  if [ "$comp" = gcab ]; then
    # Repack every package with gcab: same files, same order, MSZIP by another writer.
    find "$d/def/packages" -name '*.spkg' -print0 | xargs -0 -P "$jobs" -n 16 sh -c '
      for p; do
        t=$(mktemp -d) && cabextract -q -d "$t" "$p" && names=$(cabextract -l "$p" | awk "/\\|/ && !/File size/ {print \$NF}") &&
          (cd "$t" && rm -f "$p" && gcab -c -z "$p" $names) && rm -rf "$t" || exit 255
      done' sh
  fi
  bytes=$(du -sb "$d/def/packages" | cut -f1)
  echo "== $n packages, $bytes bytes of packages"
  mkdir -p "$d/x"
  measure "cabextract x$jobs ($n)" sh -c 'find "$1" -name "*.spkg" -print0 | xargs -0 -P "$2" -n 32 sh -c '"'"'for p; do cabextract -q -d "$0/${p##*/}" "$p" || exit 255; done'"'"' "$3"' \
    sh "$d/def/packages" "$jobs" "$d/x"
  rm -rf "$d/x"
  measure "cp -r ($n)" cp -r "$d/def/packages" "$d/copy"
  rm -rf "$d/copy"
  measure "featuremerger ($n)" "$work/oemimage" featuremerger "$d/def/fm/BenchFM.xml" "$d/merged" 10.0.0.1 "$d/mergedfm" \
    /FMID:Phone /OwnerName:Bench "/Variables:_cputype=arm;buildtype=fre;releasetype=production" "--package=$d/def/packages"
  rm -rf "$d/merged" "$d/mergedfm"
  measure "imggen ($n)" "$work/oemimage" imggen "$d/bench.ffu" "$d/def/OEMInput.xml" MSPackages \
    "--package=$d/def/packages" "--fm=$d/def/fm" --timings=false
  echo "  imggen / cabextract x$jobs: $(ratio "imggen ($n)" "cabextract x$jobs ($n)");  featuremerger / cp -r: $(ratio "featuremerger ($n)" "cp -r ($n)");  featuremerger / cabextract x$jobs: $(ratio "featuremerger ($n)" "cabextract x$jobs ($n)")"

  # MainOS for wimlib: the volume, and for FAT32 its files (mtools), not timed.
  "$work/oemimage" ffu extract "$d/bench.ffu" "$d/disk.img" >/dev/null
  read -r start size < <(sfdisk -d "$d/disk.img" | sed -n 's/.*start= *\([0-9]*\), *size= *\([0-9]*\),.*name="MainOS".*/\1 \2/p')
  dd if="$d/disk.img" of="$d/mainos.img" bs=512 skip="$start" count="$size" conv=sparse status=none
  rm -f "$d/disk.img"
  src=$d/mainos.img
  if [ "$fs" = fat32 ]; then
    mkdir -p "$d/mainos" && mcopy -s -n -m -i "$d/mainos.img" '::/*' "$d/mainos/"
    src=$d/mainos
  fi
  for w in ${wims//,/ }; do
    measure "imgtowim $w ($n)" "$work/oemimage" imgtowim "$d/bench.ffu" "$d/o-$w.wim" "--compression=$w"
    measure "wimlib-imagex $w ($n)" wimlib-imagex capture "$src" "$d/w-$w.wim" MainOS "--compress=$w" --threads="$jobs"
    so=$(stat -c %s "$d/o-$w.wim") sw=$(stat -c %s "$d/w-$w.wim")
    echo "  imgtowim / wimlib ($w): $(ratio "imgtowim $w ($n)" "wimlib-imagex $w ($n)");  size $so vs $sw bytes ($(awk -v a="$so" -v b="$sw" 'BEGIN{printf "%+.2f%%", (a-b)*100/b}'))"
    rm -f "$d/o-$w.wim" "$d/w-$w.wim"
  done
  rm -rf "$d"
done
