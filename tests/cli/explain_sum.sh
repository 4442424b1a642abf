#!/usr/bin/env bash
# explain_sum.sh DRIVEC — `drivec run --explain TICK` breaks the total reward
# into its streams: at every tick of a run, the streams it lists, summed in
# the order listed (declaration order, as the step sums them), must equal
# exactly both the total it prints and the trace's `reward` column there.
set -eu
drivec=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$drivec" run cli/rewards3.drive --random-inputs 7 --ticks 40 --out "$dir/trace.csv"
status=0
for tick in 0 1 2 3 5 8 13 21 34 39; do
  "$drivec" run cli/rewards3.drive --random-inputs 7 --ticks 40 --out /dev/null \
    --explain "$tick" >"$dir/explain.txt"
  want=$(awk -F, -v t="$tick" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "reward") c = i }
                               NR > 1 && $1 == t { print $c }' "$dir/trace.csv")
  # Header: "tick T (...) of C: reward = TOTAL, the sum of N streams ...";
  # then "stream value share" rows up to the first blank line.
  if ! awk -v want="$want" '
      NR == 1 { total = $0; sub(/.*reward = /, "", total); sub(/,.*/, "", total);
                n = $0; sub(/.*the sum of /, "", n); sub(/ stream.*/, "", n); next }
      NR == 2 { next }
      /^$/ { done = 1 }
      !done { sum = (rows++ ? sum + $2 : $2) }
      END {
        if (rows != n) { print "expected " n " streams, found " rows; exit 1 }
        if (sum + 0 != total + 0) { print "streams sum to " sum ", total is " total; exit 1 }
        if (total + 0 != want + 0) { print "total " total ", trace reward " want; exit 1 }
      }' "$dir/explain.txt"; then
    echo "tick $tick:"; cat "$dir/explain.txt"
    status=1
  fi
done
exit $status
