#!/usr/bin/env bash
# hostile.sh — programs and data built to make a compiler slow or crash: each
# must be answered (accepted, or rejected with the expected exit code and a
# clear message) within a time bound, without a crash. The limits they probe
# are those of lang/SPEC.md, "Limits". Damaged shared objects and checkpoints
# given to libdrive are in tests/hostile/damaged.c.
# Usage: hostile.sh DRIVEC
set -u
drivec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # the tests run in a scratch directory
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

# expect NAME EXIT_CODE: run `drivec check` on $dir/NAME.drive with a 20 s bound
expect() {
  local name=$1 want=$2 rc
  timeout 20 "$drivec" check "$dir/$name.drive" >"$dir/$name.out" 2>&1
  rc=$?
  if [ "$rc" != "$want" ]; then
    echo "$name: exit code $rc, expected $want (124: timed out, >128: crashed)"
    head -5 "$dir/$name.out"
    fail=1
  fi
}

# 20,000 signals, each pre() of the one before: liveness must be linear.
{
  echo "circuit main {"; echo "  input x : real"; echo "  let a0 = x"
  for i in $(seq 1 20000); do echo "  let a$i = pre(a$((i - 1)))"; done
  echo "  output y : real = a20000"; echo "}"
} >"$dir/pre_chain.drive"
expect pre_chain 0

# 300 circuits, each an instance of the next: nesting is bounded.
{
  for i in $(seq 0 299); do
    echo "circuit c$i {"; echo "  input x : real"; echo "  output y : real = c$((i + 1))(x)"; echo "}"
  done
  echo "circuit c300 {"; echo "  input x : real"; echo "  output y : real = x"; echo "}"
} >"$dir/instance_chain.drive"
expect instance_chain 1

# 24 levels of two instances each: 16 million instances if flattened.
{
  for i in $(seq 0 23); do
    echo "circuit d$i {"; echo "  input x : real"
    echo "  output y : real = d$((i + 1))(x) + d$((i + 1))(x)"; echo "}"
  done
  echo "circuit d24 {"; echo "  input x : real"; echo "  output y : real = x"; echo "}"
} >"$dir/instance_tree.drive"
expect instance_tree 1

# Constants each twice the one before: 2^30 terms if re-evaluated naively.
{
  echo "const K0 = 1"
  for i in $(seq 1 30); do echo "const K$i = K$((i - 1)) + K$((i - 1))"; done
  echo "circuit main {"; echo "  input x : real"; echo "  output y : real = x * K30"; echo "}"
} >"$dir/const_doubling.drive"
expect const_doubling 0

# A long predictor delay: history is a ring, so compile time does not grow with it.
{
  echo "circuit main {"; echo "  input x : vec[8]"; echo "  output y : real = p"
  echo "  predictor p {"; echo "    context x"; echo "    supervisor x[0]"; echo "    rate 0.1"
  echo "    delay 1000 s"; echo "  }"; echo "}"
} >"$dir/long_delay.drive"
expect long_delay 0

# expect_cmd NAME EXIT_CODE SECONDS MESSAGE COMMAND...: run COMMAND (in $dir)
# within SECONDS; its exit code must be EXIT_CODE and its output must hold
# MESSAGE (an extended regular expression; empty: anything).
expect_cmd() {
  local name=$1 want=$2 secs=$3 msg=$4 rc
  shift 4
  (cd "$dir" && timeout "$secs" "$@") >"$dir/$name.out" 2>&1
  rc=$?
  if [ "$rc" != "$want" ]; then
    echo "$name: exit code $rc, expected $want (124: timed out, >128: crashed)"
    head -c 600 "$dir/$name.out" | head -5
    fail=1
  elif [ -n "$msg" ] && ! grep -Eq "$msg" "$dir/$name.out"; then
    echo "$name: the output does not say /$msg/:"
    head -c 600 "$dir/$name.out" | head -5
    fail=1
  fi
}

# A small circuit to feed data to: a ranged real, a bool, a ranged param.
cat >"$dir/two.drive" <<'DRIVE'
circuit main {
  input  x : real in [0, 1]
  input  b : bool
  param  g : real in [0, 10] = 1
  output y : real = g * x + real(b)
}
DRIVE
printf 'x,b\n0.5,true\n' >"$dir/ok.csv"
expect_cmd run_ok 0 20 '' "$drivec" run two.drive --in ok.csv --out -

# --- Deep nesting: an error at the expression, never a stack overflow.
deep() { # deep NAME OPEN ATOM CLOSE COUNT
  python3 -c "import sys; n=int(sys.argv[5]); print('circuit main {\n input x : vec[4]\n output y : real = ' + sys.argv[2]*n + sys.argv[3] + sys.argv[4]*n + '\n}')" "$@" >"$dir/$1.drive"
}
deep parens '(' x ')' 200000;               expect_cmd deep_parens 1 20 'nests too deeply' "$drivec" check parens.drive
deep unary '-' 'x[0]' '' 200000;            expect_cmd deep_unary 1 20 'nests too deeply' "$drivec" check unary.drive
deep calls 'abs(' 'x[0]' ')' 100000;        expect_cmd deep_calls 1 20 'nests too deeply' "$drivec" check calls.drive
deep ifs 'if x[0] > 0 then ' 1 ' else 0' 50000; expect_cmd deep_ifs 1 20 'nests too deeply' "$drivec" check ifs.drive
deep sums '' 'x[0]' ' + x[0]' 100000;       expect_cmd deep_sum 1 20 'nested too deeply' "$drivec" check sums.drive
deep index '' 'x' '[0]' 100000;             expect_cmd deep_index 1 20 'nested too deeply' "$drivec" check index.drive
# 999 additions (1000 terms) are the deepest sum; one more is too deep.
for n in 999 1000; do
  python3 -c "n=$n; print('circuit main {\n input x : real\n output y : real = ' + '(x + '*n + '1' + ')'*n + '\n}')" >"$dir/sum$n.drive"
done
expect_cmd depth_at_limit 0 20 '' "$drivec" check sum999.drive
expect_cmd depth_over_limit 1 20 'nested too deeply \(the limit is 1000 levels\)' "$drivec" check sum1000.drive

# --- Vectors: the length is bounded; the longest is accepted.
vec() { printf 'circuit main {\n  input x : vec[%s]\n  output y : real = sum(x)\n}\n' "$2" >"$dir/$1.drive"; }
vec vec_max 65536;  expect_cmd vec_max 0 60 '' "$drivec" check vec_max.drive
vec vec_over 65537; expect_cmd vec_over 1 20 'vector length must be a whole number from 1 to 65536' "$drivec" check vec_over.drive
vec vec_huge 99999999999999999999999; expect_cmd vec_huge 1 20 'vector length' "$drivec" check vec_huge.drive
vec vec_zero 0;     expect_cmd vec_zero 1 20 'vector length' "$drivec" check vec_zero.drive
vec vec_frac 2.5;   expect_cmd vec_frac 1 20 'vector length' "$drivec" check vec_frac.drive
# Running a long vector (compile time grows with the length: 1024 is quick).
vec vec_run 1024
python3 -c "print(','.join('x[%d]' % i for i in range(1024))); print(','.join(['0.5'] * 1024))" >"$dir/vec_run.csv"
expect_cmd vec_run 0 120 '512' "$drivec" run vec_run.drive --in vec_run.csv --out - --backend both

# --- Identifiers: at most 256 characters.
python3 -c "print('circuit main {\n input ' + 'a'*256 + ' : real\n output y : real = ' + 'a'*256 + '\n}')" >"$dir/id_max.drive"
expect_cmd id_max 0 20 '' "$drivec" check id_max.drive
python3 -c "print('circuit main {\n input ' + 'a'*5000000 + ' : real\n output y : real = 1\n}')" >"$dir/id_long.drive"
expect_cmd id_long 1 20 'identifier of 5000000 characters: names are at most 256' "$drivec" check id_long.drive

# --- Bytes that are not text.
printf 'circuit main {\n  input x : real # caf\xc3\xa9 \xff ok in a comment\n  output y\xff\xfe : real = x\n}\n' >"$dir/utf8.drive"
expect_cmd bad_utf8 1 20 'utf8.drive:3:11: error: non-ASCII text is only allowed in comments' "$drivec" check utf8.drive
printf 'circuit main {\n  input x : real\0\n  output y : real = x\n}\n' >"$dir/nul.drive"
expect_cmd nul_byte 1 20 'stray control character \(byte 0x00\)' "$drivec" check nul.drive
head -c 100000 /dev/urandom >"$dir/noise.drive"
expect_cmd random_bytes 1 20 'error' "$drivec" check noise.drive

# --- Empty and enormous files, and things that are not files.
: >"$dir/empty.drive"
expect_cmd empty_check 0 20 'defines no circuit' "$drivec" check empty.drive
expect_cmd empty_run 1 20 'defines no circuit' "$drivec" run empty.drive --ticks 1
expect_cmd empty_build 1 20 'defines no circuit' "$drivec" build empty.drive -o empty.so
{ echo 'circuit main {'; echo '  input x : real'; echo '  output y : real = x'; echo '}'
  head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' '#'; } >"$dir/big.drive"
expect_cmd source_too_big 1 20 'larger than the limit of 64 MiB' "$drivec" check big.drive
rm -f "$dir/big.drive"
expect_cmd source_dev_zero 1 20 'larger than the limit of 64 MiB' "$drivec" check /dev/zero
expect_cmd source_directory 1 20 'cannot read' "$drivec" check "$dir"
expect_cmd source_missing 1 20 'cannot open' "$drivec" check missing.drive

# --- Input traces: non-finite, out of range, malformed, empty, enormous.
csv() { printf "$2" >"$dir/$1.csv"; }
csv nan 'x,b\nnan,true\n';      expect_cmd csv_nan 1 20 "value 'nan' in column 'x' is not finite" "$drivec" run two.drive --in nan.csv
csv inf 'x,b\n-inf,true\n';     expect_cmd csv_inf 1 20 'is not finite' "$drivec" run two.drive --in inf.csv
csv e999 'x,b\n1e999,true\n';   expect_cmd csv_overflow 1 20 'is not finite' "$drivec" run two.drive --in e999.csv
csv range 'x,b\n0.5,true\n2,false\n'; expect_cmd csv_out_of_range 1 20 "input 'x' = 2 is outside its range \\[0, 1\\]" "$drivec" run two.drive --in range.csv --out -
csv bool 'x,b\n0.5,2\n';        expect_cmd csv_bad_bool 1 20 "input 'b' is bool" "$drivec" run two.drive --in bool.csv
csv word 'x,b\n0.5x,true\n';    expect_cmd csv_not_number 1 20 'is not a number' "$drivec" run two.drive --in word.csv
csv ragged 'x,b\n0.5\n';        expect_cmd csv_ragged 1 20 'expected 2 fields' "$drivec" run two.drive --in ragged.csv
csv nul 'x,b\n0.5,tr\0ue\n';   expect_cmd csv_nul 1 20 'a NUL byte' "$drivec" run two.drive --in nul.csv
csv utf8 'x,\xff\xfe\n0.5,1\n'; expect_cmd csv_bad_utf8 1 20 "missing input column: 'b'" "$drivec" run two.drive --in utf8.csv
csv empty '';                    expect_cmd csv_empty 1 20 'the file is empty' "$drivec" run two.drive --in empty.csv
python3 -c "print(','.join('c%d' % i for i in range(100001)))" >"$dir/wide.csv"
expect_cmd csv_too_wide 1 20 'more than 100000 columns' "$drivec" run two.drive --in wide.csv
expect_cmd csv_dev_zero 1 60 'larger than the limit of 1024 MiB' "$drivec" run two.drive --in /dev/zero
expect_cmd csv_directory 1 20 'cannot read' "$drivec" run two.drive --in "$dir"

# --- Params and tick counts from the command line.
for v in nan inf 1e999 abc ''; do
  expect_cmd "param_$v" 1 20 'is not a finite number' "$drivec" run two.drive --in ok.csv --param "g=$v"
done
expect_cmd param_out_of_range 1 20 "'g' must lie in \\[0, 10\\]" "$drivec" run two.drive --in ok.csv --param g=11
expect_cmd ticks_huge 2 20 'at most 100000000' "$drivec" run two.drive --in ok.csv --ticks 1000000000000
expect_cmd ticks_overflow 2 20 'needs a whole number' "$drivec" run two.drive --in ok.csv --ticks 99999999999999999999999
expect_cmd ticks_negative 2 20 'needs a whole number' "$drivec" run two.drive --in ok.csv --ticks -1
{ cat "$dir/two.drive"; printf 'scenario long for 1e12 s {\n  circuit main\n  x = 0.5\n  expect final(y) > 0\n}\n'; } >"$dir/long_scn.drive"
expect_cmd scenario_too_long 1 20 '100000000' "$drivec" test long_scn.drive

# --- Out-of-range numbers in programs.
printf 'circuit main {\n  input x : real\n  output y : real = x * 1e999\n}\n' >"$dir/num.drive"
expect_cmd number_too_large 1 20 'too large for a real' "$drivec" check num.drive
printf 'tick 0 s\ncircuit main {\n  input x : real\n  output y : real = x\n}\n' >"$dir/tick0.drive"
expect_cmd tick_zero 1 20 'the tick must be a positive duration' "$drivec" check tick0.drive

exit $fail
