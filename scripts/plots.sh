#!/usr/bin/env bash
# plots.sh [--check] [DRIVEC] — draws the plots of every example and of the
# standard library's documentation pages from their scenarios' `plot` lines:
#   examples/NAME/*.drive   -> examples/NAME/SCENARIO.svg
#   stdlib/std/MODULE.drive -> stdlib/doc/plots/SCENARIO.svg
# With --check, draws them into a temporary folder instead and fails when any
# differs from the committed one (the test suite runs this, so plots cannot
# go stale). DRIVEC defaults to build/drivec.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
drivec=${1:-build/drivec}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
draw() { # draw SOURCE.drive DEST_DIR
  local src=$1 dest=$2 out
  out=$dest
  [ $check = 1 ] && out=$tmp/$(echo "$dest" | tr / _) && mkdir -p "$out"
  if ! "$drivec" test "$src" --plot "$out" >"$tmp/log" 2>&1; then
    echo "plots.sh: scenarios of $src fail:"; cat "$tmp/log"; status=1; return
  fi
  if [ $check = 1 ]; then
    for f in "$out"/*.svg; do
      [ -e "$f" ] || continue
      if ! cmp -s "$f" "$dest/$(basename "$f")"; then
        echo "plots.sh: $dest/$(basename "$f") is stale or missing (run scripts/plots.sh)"
        status=1
      fi
    done
  fi
}
for f in examples/*/*.drive; do draw "$f" "$(dirname "$f")"; done
mkdir -p stdlib/doc/plots
for f in stdlib/std/*.drive; do draw "$f" stdlib/doc/plots; done
[ $status = 0 ] && [ $check = 1 ] && echo "plots.sh: every plot is up to date"
exit $status
