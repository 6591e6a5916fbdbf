#!/usr/bin/env bash
# Measures an ImageApp update against the full ImgGen of the same image, in the same run:
#   bench/imageapp.sh [TOTAL_MIB] [COUNT] [DISK_GIB]   (default 1024 MiB in 1000 packages, 2 GiB disk)
# The image is built from generated MainOS packages (bench/genimage); the update adds one
# package of 1 MiB to MainOS (pkggen), so the update rebuilds MainOS (all its files copied) and
# Data (the update output), and stores EFIESP's blocks as they were. Prints wall time and peak
# memory (RSS) of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-1024}
count=${2:-1000}
disk=${3:-2}
work=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "work (KEEP=1: left): $work"; fi
go build -o "$work/oemimage" ./tools/oemimage
go build -o "$work/genimage" ./bench/genimage
"$work/genimage" "$work/def" "$total" "$count" "$disk"
# A Test image (ReleaseType Test: production, test and health images); a Retail one is refused.
sed -i 's|<ReleaseType>Production</ReleaseType>|<ReleaseType>Test</ReleaseType>|' "$work/def/OEMInput.xml"
echo "packages: $count, $(du -sb "$work/def/packages" | cut -f1) bytes; disk $disk GiB; $(nproc) cores"

measure() { # measure LABEL COMMAND...
  local label=$1; shift
  sync
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
  read -r secs rss <"$work/time"
  awk -v l="$label" -v s="$secs" -v r="$rss" 'BEGIN { printf "%-34s %7.2f s  peak RSS %7.1f MiB\n", l, s, r/1024 }'
}
measure "imggen ($disk GiB layout)" "$work/oemimage" imggen "$work/bench.ffu" "$work/def/OEMInput.xml" MSPackages \
  "--package=$work/def/packages" "--fm=$work/def/fm" --timings=false
echo "FFU: $(stat -c %s "$work/bench.ffu") bytes"

mkdir -p "$work/upd/payload"
head -c 1048576 /dev/urandom >"$work/upd/payload/update.bin"
cat >"$work/upd/update.pkg.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="urn:Microsoft.WindowsPhone/PackageSchema.v8.00" Owner="Bench" Component="Update" OwnerType="OEM" ReleaseType="Production" Partition="MainOS">
  <Components><OSComponent><Files>
    <File Source="payload\update.bin" DestinationDir="\Windows\System32\Bench"/>
  </Files></OSComponent></Components>
</Package>
XML
(cd "$work/upd" && "$work/oemimage" pkggen update.pkg.xml /output:. /version:1.0.0.0 >/dev/null)
cat >"$work/upd/update.xml" <<XML
<UpdateOSInput xmlns="http://schemas.microsoft.com/embedded/2004/10/ImageUpdate">
  <Description>bench update</Description>
  <PackageFiles><PackageFile>$work/upd/Bench.Update.spkg</PackageFile></PackageFiles>
</UpdateOSInput>
XML
measure "imageapp (one package, new FFU)" "$work/oemimage" imageapp "$work/bench.ffu" "/UpdateInputXML:$work/upd/update.xml" \
  "--output=$work/updated.ffu" --timings=false
echo "updated FFU: $(stat -c %s "$work/updated.ffu") bytes"
"$work/oemimage" ffu verify "$work/updated.ffu"
