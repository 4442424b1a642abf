#!/usr/bin/env bash
# stress.sh DRIVEC [SEED] [N] — feeds the REPL N scripted sessions of random
# inputs: commands with good, bad and missing arguments, definitions cut
# short or mangled, stray bytes, huge numbers and names. Every session must
# end with exit status 0 or 1 (never a signal, a sanitizer report or a hang),
# whatever it was given.
set -u
drivec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seed=${2:-1} n=${3:-40}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$here/learner.drive" "$dir/"
cd "$dir"
fail=0
for ((k = 0; k < n; k++)); do
  python3 - "$((seed * 1000 + k))" >script.txt <<'PY'
import random, sys
r = random.Random(int(sys.argv[1]))
names = ["cue", "teacher", "guess", "p.w", "p.w[1]", "p.w[9]", "rate0", "startle", "x",
         "doubled", "", "p.target", "p", "cue[0]", "cue[3]", "y", "acc", "learner", "two"]
values = ["1", "0", "-1", "1e308", "-1e308", "nan", "inf", "true", "maybe", "[1, 2, 3]",
          "[1,", "[]", "300ms", "2 s", "1min", "0x10", "", "= =", "[" * 50]
cmds = ["help", "load", "reload", "list", "forget", "circuit", "info", "set", "step",
        "watch", "unwatch", "view", "print", "record", "save", "restore", "reset", "ir",
        "dot", "test", "stpe", ""]
defs = [
    "circuit acc {\n  input x : real\n  output y : real\n  state s : real = 0\n  next s = s + x\n  y = s\n}",
    "circuit two {\n  input x : real\n  output y : real = 2 * x\n}",
    "const K = 3", "tick 5 ms", "import std.core", "module m.n",
    "scenario sc for 200ms {\n  during 0s .. 0.1s { x = 1 }\n  expect final(y) >= 0\n}",
    "circuit learner {\n  input cue : vec[2] learned\n  output guess : real = 1\n}",
]
out = [":load learner.drive"]
for _ in range(r.randint(5, 40)):
    c = r.random()
    if c < 0.45:
        cmd = r.choice(cmds)
        args = " ".join(r.choice(names + values + ["a.csv", "b.ckpt", "/nonexistent/x",
                        "x.svg", "1", "3", "10000", "1e13", "-5", "0.5s"])
                        for _ in range(r.randint(0, 3)))
        if cmd == "set" and r.random() < 0.7:
            args = "%s = %s" % (r.choice(names), r.choice(values))
        out.append((":%s %s" % (cmd, args)).rstrip())
    elif c < 0.75:
        d = r.choice(defs)
        if r.random() < 0.3:  # cut short or mangled
            d = d[: r.randint(0, len(d))]
        if r.random() < 0.2:
            i = r.randint(0, len(d))
            d = d[:i] + r.choice(["}", "{", "(", "#", "\x01", "\xff", "é", "in [0, 1]"]) + d[i:]
        out.append(d)
    elif c < 0.9:
        out.append(" ".join(r.choice(names) for _ in range(r.randint(1, 4))))
    else:
        out.append("".join(chr(r.randint(1, 255)) for _ in range(r.randint(1, 80))))
sys.stdout.write("\n".join(out) + "\n")
PY
  NO_COLOR=1 DRIVE_HISTORY= timeout 60 "$drivec" repl <script.txt >out.txt 2>&1
  rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "session $k (seed $((seed * 1000 + k))): exit status $rc"
    tail -20 out.txt
    echo "--- the session:"; cat script.txt
    fail=1
  fi
done
exit $fail
