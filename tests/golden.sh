#!/usr/bin/env bash
# golden.sh — run a command and compare one of its streams with a golden file.
#
#   golden.sh EXPECTED_FILE EXIT_CODE stdout|stderr COMMAND [ARGS...]
#
# Fails when the exit code differs or the stream differs (a diff is shown).
# With UPDATE_GOLDEN=1 in the environment the golden file is rewritten.
set -u
expected=$1 want_rc=$2 stream=$3
shift 3
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
NO_COLOR=1 "$@" >"$out" 2>"$err"
rc=$?
actual=$out
[ "$stream" = stderr ] && actual=$err
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$actual" "$expected"
  echo "updated $expected"
fi
status=0
if [ "$rc" != "$want_rc" ]; then
  echo "exit code $rc, expected $want_rc"
  echo "--- stderr:"; cat "$err"
  status=1
fi
if ! diff -u "$expected" "$actual"; then
  echo "$stream differs from $expected"
  status=1
fi
exit $status
