#!/usr/bin/env bash
# session.sh DRIVEC NAME — runs the scripted REPL session NAME.in through
# `drivec repl` (stdin not a terminal: no prompts) in a fresh directory that
# holds this directory's .drive files and reaches the repository as root/,
# and compares stdout and stderr, interleaved as they were written, with
# NAME.out. A first line "# exit N" gives the expected exit status (default
# 0). NAME.check, when present, runs afterwards in that directory (to check
# a recorded trace or a checkpoint). UPDATE_GOLDEN=1 rewrites NAME.out.
set -u
drivec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") name=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$here"/*.drive "$dir"/
ln -s "$repo" "$dir/root"
want_rc=0
first=$(head -1 "$here/$name.in")
case $first in "# exit "*) want_rc=${first#\# exit } ;; esac
(cd "$dir" && NO_COLOR=1 DRIVE_HISTORY= "$drivec" repl <"$here/$name.in" >"$dir/actual" 2>&1)
rc=$?
status=0
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$dir/actual" "$here/$name.out"
  echo "updated $name.out"
fi
if [ "$rc" != "$want_rc" ]; then
  echo "exit status $rc, expected $want_rc"
  status=1
fi
if ! diff -u "$here/$name.out" "$dir/actual"; then
  echo "the session's output differs from $name.out"
  status=1
fi
if [ -f "$here/$name.check" ]; then
  (cd "$dir" && bash "$here/$name.check") || { echo "$name.check failed"; status=1; }
fi
exit $status
