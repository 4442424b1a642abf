#!/usr/bin/env bash
# trace_matches_out.sh DRIVEC — a --trace of every example circuit holds the
# inputs it was given and, column for column, exactly the outputs of the
# same run's --out (tick, time, outputs, every reward stream, total).
set -u
drivec=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for f in cli/rewards3.drive run/instances.drive ../examples/social_attention/*.drive; do
  args=(--random-inputs 7 --ticks 50)
  "$drivec" run "$f" "${args[@]}" --out "$tmp/out.csv" >/dev/null 2>&1 || { echo "$f: run failed"; fail=1; continue; }
  "$drivec" run "$f" "${args[@]}" --trace "$tmp/trace.csv" >/dev/null 2>&1 || { echo "$f: trace failed"; fail=1; continue; }
  n_out=$(head -1 "$tmp/out.csv" | tr ',' '\n' | wc -l)
  n_trace=$(head -1 "$tmp/trace.csv" | tr ',' '\n' | wc -l)
  n_in=$((n_trace - n_out))
  # tick,time then the outputs: the trace without its input columns.
  awk -F, -v k="$n_in" 'BEGIN{OFS=","} {printf "%s,%s", $1, $2; for (i = 3 + k; i <= NF; i++) printf ",%s", $i; print ""}' \
    "$tmp/trace.csv" >"$tmp/trace_outputs.csv"
  if ! cmp -s "$tmp/out.csv" "$tmp/trace_outputs.csv"; then
    echo "$f: the trace's outputs differ from --out"; diff "$tmp/out.csv" "$tmp/trace_outputs.csv" | head -5; fail=1
  fi
  [ "$n_in" -gt 0 ] || { echo "$f: the trace has no input columns"; fail=1; }
done
exit $fail
