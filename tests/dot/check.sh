#!/usr/bin/env bash
# check.sh GOLDEN.dot DRIVEC ARGS... — run `DRIVEC dot ARGS...`, compare its
# output with GOLDEN.dot (UPDATE_GOLDEN=1 rewrites it), then check that
# Graphviz accepts it by rendering it with `dot -Tsvg` (skipped, with a
# message, when Graphviz is not installed).
set -u
golden=$1 drivec=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NO_COLOR=1 "$drivec" dot "$@" >"$tmp/out.dot" 2>"$tmp/err"
rc=$?
if [ $rc != 0 ]; then
  echo "drivec dot exited with $rc:"; cat "$tmp/err"; exit 1
fi
if [ -s "$tmp/err" ]; then
  echo "drivec dot wrote to stderr:"; cat "$tmp/err"; exit 1
fi
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$tmp/out.dot" "$golden"
  echo "updated $golden"
fi
if ! diff -u "$golden" "$tmp/out.dot"; then
  echo "output differs from $golden"; exit 1
fi
if ! command -v dot >/dev/null 2>&1; then
  echo "check.sh: Graphviz's dot is not installed: skipping the rendering check"
  exit 0
fi
if ! dot -Tsvg "$tmp/out.dot" -o "$tmp/out.svg" 2>"$tmp/dot_err" || [ -s "$tmp/dot_err" ]; then
  echo "Graphviz rejects (or warns about) the drawing:"; cat "$tmp/dot_err"; exit 1
fi
# --svg renders the same drawing.
if ! "$drivec" dot "$@" --svg "$tmp/direct.svg" 2>"$tmp/err" || ! cmp -s "$tmp/out.svg" "$tmp/direct.svg"; then
  echo "drivec dot --svg differs from dot -Tsvg of its output:"; cat "$tmp/err"; exit 1
fi
echo "ok: $golden (Graphviz renders it)"
