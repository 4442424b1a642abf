#!/usr/bin/env bash
# trace.sh DRIVEC — `drivec test --trace DIR` writes one CSV per run (the
# scenario and each variant) with every input, output and measured signal;
# checked against the traces in scenario/traces/.
set -eu
drivec=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$drivec" test cli/scenarios.drive --scenario doubles --trace "$dir" >/dev/null
status=0
for want in scenario/traces/*.csv; do
  if ! diff -u "$want" "$dir/$(basename "$want")"; then
    echo "trace $(basename "$want") differs"
    status=1
  fi
done
n=$(ls "$dir" | wc -l)
[ "$n" = 2 ] || { echo "expected 2 traces, got $n: $(ls "$dir")"; status=1; }
exit $status
