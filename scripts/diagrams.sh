#!/usr/bin/env bash
# diagrams.sh [--check] [DRIVEC] — draws every circuit of the standard library
# as a Graphviz diagram with `drivec dot --svg`:
#   stdlib/std/MODULE.drive, circuit C -> stdlib/doc/diagrams/std.MODULE.C.svg
# (the file is named after the module's own name: std.core.leaky.svg), with
# the DOT text beside it (.dot). The pages of stdlib/doc link the SVGs. With
# --check, draws them into a temporary folder instead and fails when any DOT
# text differs from the committed one or is missing; the SVGs are not
# compared, since their layout depends on the local Graphviz and fonts. DRIVEC defaults to
# build/drivec. Needs Graphviz (Debian package graphviz); without it --check
# exits 77, which the test suite counts as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
drivec=${1:-build/drivec}
if ! command -v dot >/dev/null 2>&1; then
  echo "diagrams.sh: Graphviz's dot is not installed (scripts/install-deps.sh installs it)" >&2
  [ $check = 1 ] && { echo "diagrams.sh: skipping the check"; exit 77; } # ctest: skipped
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=stdlib/doc/diagrams
mkdir -p "$dest"

status=0
n=0
for f in stdlib/std/*.drive; do
  module=$(sed -n 's/^module[[:space:]]\{1,\}\([A-Za-z0-9_.]*\).*/\1/p' "$f" | head -n 1)
  [ -n "$module" ] || { echo "diagrams.sh: $f has no module line"; status=1; continue; }
  for c in $(sed -n 's/^circuit[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$f"); do
    name=$module.$c
    out=$dest/$name
    [ $check = 1 ] && out=$tmp/$name
    if ! "$drivec" dot "$f" --circuit "$c" -o "$out.dot" --svg "$out.svg" >"$tmp/log" 2>&1; then
      echo "diagrams.sh: cannot draw $c of $f:"; cat "$tmp/log"; status=1; continue
    fi
    n=$((n + 1))
    if [ $check = 1 ] && ! cmp -s "$out.dot" "$dest/$name.dot"; then
      echo "diagrams.sh: $dest/$name.dot is stale or missing (run scripts/diagrams.sh)"
      status=1
    fi
  done
done
if [ $check = 1 ]; then
  # A committed diagram of a circuit that no longer exists is stale too.
  for f in "$dest"/*.dot "$dest"/*.svg; do
    [ -e "$f" ] || continue
    if [ ! -e "$tmp/$(basename "$f")" ]; then
      echo "diagrams.sh: $f draws no current stdlib circuit (delete it)"
      status=1
    fi
  done
  [ $status = 0 ] && echo "diagrams.sh: all $n diagrams are up to date"
else
  [ $status = 0 ] && echo "diagrams.sh: drew $n diagrams into $dest"
fi
exit $status
