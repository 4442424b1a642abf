#!/usr/bin/env bash
# terminal.sh DRIVEC — drives `drivec repl` on a real terminal (a detached
# tmux session) the way a person does: Tab completes a command and a signal
# name, a definition spans lines behind a continuation prompt, a long step
# shows a progress bar and stops at Ctrl-C, Ctrl-C at the prompt drops the
# typed line, the Up arrow recalls history, and history persists in a file.
# Also checks `drivec run`'s progress bar on a terminal. Each check reads the
# screen as tmux shows it.
set -u
drivec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
base="drive-test-$$"
sock=$base-1
# Each phase has a tmux server of its own: restarting one on the same socket races.
cleanup() { for s in 1 2 3; do tmux -L "$base-$s" kill-server 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
cp "$here/learner.drive" "$dir/"
fail=0

screen() { tmux -L "$sock" capture-pane -p -t t; }
keys() { tmux -L "$sock" send-keys -t t "$@"; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT (a fixed string).
wait_for() {
  local i limit=$(( ${2:-10} * 10 ))
  for ((i = 0; i < limit; i++)); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "FAIL: the screen never showed: $1"
  echo "--- screen:"; screen
  fail=1
  return 1
}

tmux -L "$sock" new-session -d -s t -x 120 -y 40 \
  "cd '$dir' && HOME='$dir' DRIVE_HISTORY='$dir/history' NO_COLOR=1 '$drivec' repl learner.drive; echo REPL-EXITED; sleep 30"
wait_for "drive>" 20 || exit 1

# Tab completes a command, then an input's name.
keys ":he" Tab
wait_for "drive> :help"
keys "step" Enter
wait_for "step N ticks (default 1)"
keys ":set tea" Tab
wait_for "drive> :set teacher"
keys "= 1" Enter

# A definition over several lines: the continuation prompt, then the result.
keys "circuit two {" Enter
wait_for "  ...>"
keys "  output k : real = 2" Enter "}" Enter
wait_for "defined circuit two"

# A long step: a progress bar on the terminal, Ctrl-C stops it.
keys ":step 2000000000" Enter
wait_for "ticks/s" 10
keys C-c
wait_for "interrupted after" 10

# Ctrl-C at the prompt drops what was typed.
keys "this is not valid input"
keys C-c
sleep 0.3
keys ":print teacher" Enter
wait_for "teacher = 1"
if screen | grep -qF "not a definition, a command or a signal name"; then
  echo "FAIL: the line dropped with Ctrl-C was evaluated"; fail=1
fi

# The Up arrow recalls the last line.
keys Up
wait_for "drive> :print teacher"
keys C-u ":quit" Enter
wait_for "REPL-EXITED"
# (libedit's history file writes spaces as \040)
if ! sed 's/\\040/ /g' "$dir/history" | grep -qF ":set teacher = 1"; then
  echo "FAIL: the history file does not hold the session's lines"; fail=1
fi

# A second session finds the first one's history.
sock=$base-2
tmux -L "$sock" new-session -d -s t -x 120 -y 40 \
  "cd '$dir' && HOME='$dir' DRIVE_HISTORY='$dir/history' NO_COLOR=1 '$drivec' repl learner.drive; echo REPL-EXITED; sleep 30"
wait_for "drive>" 20
keys Up Up
wait_for "drive> :print teacher"
keys C-u C-d
wait_for "REPL-EXITED"

# drivec run: a progress bar on a terminal for a long run.
sock=$base-3
tmux -L "$sock" new-session -d -s t -x 120 -y 40 \
  "cd '$dir' && '$drivec' run learner.drive --random-inputs 1 --ticks 100000000 --out /dev/null; echo RUN-EXITED; sleep 30"
wait_for "ticks/s" 20
wait_for "left" 5
keys C-c
exit $fail
