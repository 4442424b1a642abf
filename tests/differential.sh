#!/usr/bin/env bash
# differential.sh — every circuit of a valid program runs through the IR
# interpreter and the JIT (at -O0 and -O2) in lock step on the same inputs;
# outputs, params and state must agree bit for bit (any NaN equals any NaN).
#
#   differential.sh DRIVEC FILE.drive [TICKS]
#
# Inputs: FILE.csv beside the program when it exists, else random inputs
# from three fixed seeds.
set -u
drivec=$1 file=$2 ticks=${3:-2000}
csv=${file%.drive}.csv
circuits=$("$drivec" ir -O0 "$file" | sed -n 's/^circuit [^.]*\.\([A-Za-z0-9_]*\) .*/\1/p')
[ -n "$circuits" ] || { echo "no circuits found in $file"; exit 1; }
status=0 runs=0
for c in $circuits; do
  for opt in -O0 -O2; do
    if [ -f "$csv" ]; then
      sources=("--in $csv")
    else
      sources=("--random-inputs 1 --ticks $ticks" "--random-inputs 2 --ticks $ticks"
               "--random-inputs 99 --ticks $ticks")
    fi
    for src in "${sources[@]}"; do
      # shellcheck disable=SC2086
      if ! "$drivec" run "$file" --circuit "$c" $src $opt --backend both --out /dev/null; then
        echo "FAIL: $file circuit $c $opt $src"
        status=1
      fi
      runs=$((runs + 1))
    done
  done
done
echo "$file: $runs lock-step runs"
exit $status
