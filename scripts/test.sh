#!/usr/bin/env bash
# Second command of the quick start: the whole test suite. Builds twice — a
# normal build (build/) and one with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/) — and runs every test under ctest in both; then builds the
# libFuzzer targets with clang (build-fuzz/, tests/fuzz/) and runs each for a
# short fixed time, and every input that once crashed them. Exits non-zero
# when anything fails; the last line is ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRIVE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDRIVE_SANITIZE=ON -DDRIVE_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
# Only the fuzz targets are built there (the rest is tested above).
CC=clang-19 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRIVE_SANITIZE=ON \
  -DDRIVE_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_frontend fuzz_run fuzz_data

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== tests (release build)"
ctest --test-dir build -j"$jobs" --output-on-failure --timeout 300
echo
echo "== tests (ASan + UBSan build)"
ctest --test-dir build-asan -j"$jobs" --output-on-failure --timeout 600
echo
echo "== fuzzing (libFuzzer: each target for a fixed time, then every saved crasher)"
ctest --test-dir build-fuzz -L fuzz --output-on-failure --timeout 600
