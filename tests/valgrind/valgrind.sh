#!/usr/bin/env bash
# valgrind.sh — a sample of the test suite under valgrind (memcheck): no
# invalid access, no use of uninitialised values, no definite or indirect
# leak. Run on the release build (valgrind cannot run an ASan build):
#
#   valgrind.sh BUILD_DIR
#
# LLVM's JIT runs some 50 times slower under valgrind, so the sample is
# chosen to reach every part of the tool at least once without much JIT
# code: the checker on every example (no LLVM), runs and scenarios with the
# interpreter, one `drivec build` (LLVM code generation, the C
# compiler is a child valgrind does not follow), a libdrive host over that
# .so (load, populations, traces, checkpoints), a few generated programs
# through the interpreter, and unit tests.
set -u
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2 # paths and globs below are relative to the source tree
drivec=$build/drivec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
supp=$root/tests/valgrind/llvm.supp
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --suppressions="$supp" --num-callers=30)
status=0 n=0
check() { # check NAME CMD...: run CMD under valgrind, in the source tree
  local name=$1
  shift
  n=$((n + 1))
  local start=$SECONDS
  "${vg[@]}" "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  if [ $rc -eq 99 ] || grep -q "^==[0-9]*==" "$tmp/err"; then
    echo "FAIL valgrind: $name"
    cat "$tmp/err"
    status=1
  elif [ $rc -ne 0 ]; then
    echo "FAIL $name: exit status $rc"
    tail -20 "$tmp/err"
    status=1
  else
    echo "ok   $name ($((SECONDS - start)) s)"
  fi
}
check "drivec check (every example and the stdlib)" "$drivec" check examples/*/*.drive stdlib/std/*.drive
check "drivec run (interpreter)" "$drivec" run tests/run/predictor.drive --in tests/run/predictor.csv --backend interp --out "$tmp/run.csv"
check "drivec test (interpreter)" "$drivec" test --backend interp examples/04_empathetic_readout
check "drivec dot" "$drivec" dot examples/05_compassion_spite/compassion_spite.drive
check "drivec build" "$drivec" build tests/run/instances.drive -o "$tmp/instances.so" --header "$tmp/instances.h" --no-cache
check "libdrive host (load, step, trace, checkpoint)" "$build/tests/valgrind/valgrind_host" "$tmp/instances.so" "$tmp"
check "a generated program (interpreter, JIT -O0 and -O2)" "$build/tests/gen/gen_run" --from 3 --count 1 --ticks 20 --so-every 0 -q --out "$tmp/gen"
check "regression: select of constants (JIT -O0)" "$build/tests/gen/gen_run" --file tests/gen/regressions/cg_select_folded_metadata.drive --ticks 20 --so-every 0 -q --out "$tmp/gen"
for u in arena csv diag passes; do
  [ -x "$build/tests/unit/unit_$u" ] && check "unit_$u" "$build/tests/unit/unit_$u"
done
echo "$n programs under valgrind"
exit $status
