#!/usr/bin/env bash
# Builds a release tree (build-bench/) and runs every benchmark, printing a
# table with ratios to baselines measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDRIVE_UNIT_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target bench_step >/dev/null
build-bench/bench/bench_step
