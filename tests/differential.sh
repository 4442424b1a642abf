#!/usr/bin/env bash
# differential.sh — every circuit of a valid program runs through the IR
# interpreter and the JIT in lock step on the same inputs, at -O0 (no IR
# passes, no LLVM passes) and at -O2; outputs, params and state must agree
# bit for bit (any NaN equals any NaN). The -O0 and -O2 traces must then be
# identical too, which checks the IR passes against the unoptimised program.
#
#   differential.sh DRIVEC FILE.drive [TICKS]
#
# Inputs: FILE.csv beside the program when it exists, else random inputs
# from three fixed seeds.
set -u
drivec=$1 file=$2 ticks=${3:-2000}
csv=${file%.drive}.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
circuits=$("$drivec" ir -O0 "$file" | sed -n 's/^circuit .*\.\([A-Za-z0-9_]*\)  ;.*/\1/p')
[ -n "$circuits" ] || { echo "no circuits found in $file"; exit 1; }
if [ -f "$csv" ]; then
  sources=("--in $csv")
else
  sources=("--random-inputs 1 --ticks $ticks" "--random-inputs 2 --ticks $ticks"
           "--random-inputs 99 --ticks $ticks")
fi
status=0 runs=0
for c in $circuits; do
  for src in "${sources[@]}"; do
    for opt in -O0 -O2; do
      # shellcheck disable=SC2086
      if ! "$drivec" run "$file" --circuit "$c" $src $opt --backend both --out "$tmp/$opt.csv"; then
        echo "FAIL: $file circuit $c $opt $src: interpreter and JIT disagree"
        status=1
      fi
      runs=$((runs + 1))
    done
    if ! cmp -s "$tmp/-O0.csv" "$tmp/-O2.csv"; then
      echo "FAIL: $file circuit $c $src: -O0 and -O2 traces differ"
      diff "$tmp/-O0.csv" "$tmp/-O2.csv" | head -5
      status=1
    fi
  done
done
echo "$file: $runs lock-step runs, -O0 against -O2 on each input"
exit $status
