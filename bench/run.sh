#!/usr/bin/env bash
# Builds a release tree (build-bench/) and runs every benchmark, printing
# Markdown tables with ratios to baselines measured in the same run.
# Arguments go to the benchmark: --quick, --only TEXT, --ticks N,
# --pop-n N, --pop-ticks N (see bench/bench.c); then the REPL's latency
# (bench/bench_repl.c).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDRIVE_UNIT_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target bench bench_repl >/dev/null
build-bench/bench/bench "$@"
echo
# REPL latency (only --quick applies to it).
quick=
for a in "$@"; do [ "$a" = --quick ] && quick=--quick; done
build-bench/bench/bench_repl $quick
