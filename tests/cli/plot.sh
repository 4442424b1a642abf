#!/usr/bin/env bash
# plot.sh DRIVEC — `drivec plot` draws a trace from `drivec run` as an SVG:
# with and without stacked reward streams, the same bytes every time, and a
# clear error without gnuplot.
set -eu
drivec=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0
fail() { echo "$*"; status=1; }
"$drivec" run cli/rewards3.drive --random-inputs 3 --ticks 500 --out "$dir/trace.csv"
if command -v gnuplot >/dev/null; then
  "$drivec" plot "$dir/trace.csv" -o "$dir/all.svg"
  grep -q "<svg" "$dir/all.svg" || fail "all.svg is not an SVG"
  "$drivec" plot "$dir/trace.csv" -o "$dir/stacked.svg" --circuit cli/rewards3.drive \
    --title "three rewards"
  grep -q "<svg" "$dir/stacked.svg" || fail "stacked.svg is not an SVG"
  grep -q "novelty" "$dir/stacked.svg" || fail "stacked.svg lacks the stream novelty"
  "$drivec" plot "$dir/trace.csv" -o "$dir/again.svg" --rewards comfort,fright,novelty \
    --title "three rewards"
  cmp -s "$dir/stacked.svg" "$dir/again.svg" || fail "the same plot drawn twice differs"
  "$drivec" plot "$dir/trace.csv" -o "$dir/some.svg" --signals arousal,reward
  grep -q "<svg" "$dir/some.svg" || fail "some.svg is not an SVG"
  [ ! -e "$dir/all.svg.tmp" ] || fail "a temporary file was left behind"
fi
# Without gnuplot on PATH: exit 1 and one clear message, no file.
rc=0
err=$(PATH=/nonexistent "$drivec" plot "$dir/trace.csv" -o "$dir/none.svg" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "without gnuplot: exit $rc, expected 1"
case $err in *"needs gnuplot"*) ;; *) fail "without gnuplot: unclear message: $err" ;; esac
[ ! -e "$dir/none.svg" ] || fail "without gnuplot a file was written"
exit $status
