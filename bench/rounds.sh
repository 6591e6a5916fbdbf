# bench/rounds.sh: sourced by the bench scripts that compare several commands on one input.
#   add KEY OUT COMMAND...   a configuration: COMMAND writes OUT
#   run_rounds N             every round runs every configuration once, so that a slow moment
#                            of a shared machine hits all of them alike; keeps each one's best
#                            wall time (with its peak RSS) and best CPU time (user+sys)
#   print_table BYTES WIDTH  wall, MB/s of BYTES, CPU, output size and peak RSS per configuration
# Needs $work (a scratch directory) and GNU time at /usr/bin/time. Results are in secs[KEY],
# cpu[KEY], size[KEY] and rss[KEY] (KiB).
configs=()
declare -A cmd secs cpu size rss
add() {
  local key=$1; shift
  configs+=("$key"); cmd[$key]="$*"
}
run_rounds() {
  local round key out s u y r
  for round in $(seq "$1"); do
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
}
print_table() {
  local key
  for key in "${configs[@]}"; do
    awk -v l="$key" -v w="$2" -v s="${secs[$key]}" -v c="${cpu[$key]}" -v b="$1" -v o="${size[$key]}" -v r="${rss[$key]}" \
      'BEGIN { printf "%-*s %6.2f s %6.1f MB/s  cpu %6.2f s  out %10d bytes (%5.1f%%)  peak RSS %6.1f MiB\n", w, l, s, b/s/1e6, c, o, 100*o/b, r/1024 }'
  done
}
