#!/usr/bin/env bash
# hostile.sh — programs built to make a compiler slow or crash: each must be
# answered (accepted or rejected with the expected exit code) within a time
# bound, without a crash. Usage: hostile.sh DRIVEC
set -u
drivec=$1
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

exit $fail
