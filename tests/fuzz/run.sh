#!/usr/bin/env bash
# run.sh — run the libFuzzer targets of a fuzz build (tests/fuzz/README.md).
#
#   tests/fuzz/run.sh SECONDS [BUILD_DIR [TARGET...]]
#
# BUILD_DIR (default build-fuzz) is a build configured with -DDRIVE_FUZZ=ON;
# TARGET is frontend, run or data (default: all three, one after the other,
# SECONDS each). The seed corpus is rebuilt from the repository's programs,
# traces and checkpoints into BUILD_DIR/fuzz/seeds; inputs the fuzzer finds
# accumulate in BUILD_DIR/fuzz/corpus; a crash, hang, leak or excess memory
# leaves its input in BUILD_DIR/fuzz/artifacts/TARGET and fails the run (copy
# it to tests/fuzz/regressions/TARGET/ once fixed). One job each: the runs are
# meant to share a small machine. The last line per target gives its
# executions and time. DRIVE_FUZZ_FRESH=1 (ctest) starts from the seeds alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:?usage: run.sh SECONDS [BUILD_DIR [TARGET...]]}
build=$(cd "${2:-$root/build-fuzz}" && pwd)
shift $(($# < 2 ? $# : 2))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frontend run data)
work=$build/fuzz

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Programs of the repository: the seeds of the two source targets.
programs() {
  find "$root/tests" "$root/examples" "$root/stdlib" -name '*.drive' -not -path '*/fuzz/*' | sort
}

seed() {
  local t=$1 d=$work/seeds/$1
  rm -rf "$d"
  mkdir -p "$d"
  local i=0
  case $t in
  frontend)
    while read -r f; do i=$((i + 1)); cp "$f" "$d/p$i"; done < <(programs)
    ;;
  run)
    # As they are (8 ticks), and with control bytes after a NUL: 48 ticks,
    # params from the stream, a stream with special values.
    while read -r f; do
      i=$((i + 1))
      cp "$f" "$d/p$i"
      { cat "$f"; printf '\0\057\002\005\020\200\240\140\006\004\001\210\377\007'; } >"$d/c$i"
    done < <(programs)
    ;;
  data)
    # CSV traces (mode byte 0), and checkpoints written by the target itself.
    while read -r f; do
      i=$((i + 1))
      { printf '\0'; cat "$f"; } >"$d/csv$i"
    done < <(find "$root/tests" "$root/examples" -name '*.csv' -not -path '*/fuzz/*' | sort)
    DRIVE_FUZZ_SEEDS=$d "$build/tests/fuzz/fuzz_data" -runs=0 >/dev/null 2>&1
    ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "run.sh: no $bin (configure with -DDRIVE_FUZZ=ON and build)" >&2; exit 2; }
  seed "$t"
  corpus=$work/corpus/$t
  if [ "${DRIVE_FUZZ_FRESH:-0}" = 1 ]; then
    # A fixed amount of work (ctest): from the seeds alone, not from all a
    # long run once found.
    corpus=$work/corpus-fresh/$t
    rm -rf "$corpus"
  fi
  mkdir -p "$corpus" "$work/artifacts/$t"
  log=$work/$t.log
  echo "== fuzz_$t: $seconds s"
  # -timeout: an input taking longer is a hang; -rss_limit_mb: memory is
  # bounded too. Both are failures like a crash.
  if ! "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=12000 \
      -dict="$here/drive.dict" -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 \
      "$corpus" "$work/seeds/$t" >"$log" 2>&1; then
    status=1
    grep -E "ERROR|SUMMARY|==[0-9]+==|fuzz_[a-z]+:|Test unit written" "$log" | head -30 || true
    tail -n 60 "$log"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
  echo "fuzz_$t: $execs executions in $seconds s, $cov, $(ls "$corpus" | wc -l) new inputs"
done
exit $status
