#!/usr/bin/env python3
# reduce.py — shrink a failing generated program to a small reproducer by
# deleting items (lines, or a whole predictor block) while a test command
# still fails the same way.
#
#   reduce.py FILE.drive 'COMMAND {}'
#
# {} in COMMAND stands for the candidate file; the candidate is kept when
# COMMAND exits 0 (write it to succeed on "still reproduces"). The smallest
# program is written to FILE.min.drive.
import subprocess, sys

def blocks(text):
    out, cur = [], []
    for line in text.splitlines(keepends=True):
        cur.append(line)
        if cur[0].rstrip().endswith('{') and cur[0].lstrip().startswith('predictor'):
            if line.strip() == '}':
                out.append(''.join(cur)); cur = []
        else:
            out.append(''.join(cur)); cur = []
    if cur:
        out.append(''.join(cur))
    return out

def main():
    path, cmd = sys.argv[1], sys.argv[2]
    cand = path + '.cand.drive'
    def ok(parts):
        with open(cand, 'w') as f:
            f.write(''.join(parts))
        return subprocess.call(cmd.replace('{}', cand), shell=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
    parts = blocks(open(path).read())
    if not ok(parts):
        sys.exit('the command does not succeed on the original program')
    changed = True
    while changed:
        changed = False
        for n in (8, 4, 2, 1):
            i = 0
            while i < len(parts):
                keep = parts[:i] + parts[i + n:]
                if any(p.startswith('circuit') or p.strip() == '}' for p in parts[i:i + n]):
                    i += 1
                    continue
                if ok(keep):
                    parts = keep
                    changed = True
                else:
                    i += 1
    with open(path.replace('.drive', '') + '.min.drive', 'w') as f:
        f.write(''.join(parts))
    print(''.join(parts))

main()
