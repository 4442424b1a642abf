#!/usr/bin/env bash
# First command of the quick start: install what is missing, build drivec into
# build/, and run the bundled example so you can see a circuit at work.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

example=examples/social_attention
echo
echo "== drivec run $example/social_attention.drive --in $example/scene.csv"
build/drivec run "$example/social_attention.drive" --in "$example/scene.csv"

example=examples/05_compassion_spite
echo
echo "== drivec test $example (behaviours of the theory, checked as scenarios)"
build/drivec test "$example"
