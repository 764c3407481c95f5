#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time, one at
# a time. New crash/timeout/leak/OOM reproducers are copied to tests/fuzz/regressions/<target>/
# (commit them with the fix: the GoogleTest FuzzReplay test replays them on every run).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every target
#
# The seed corpora in tests/fuzz/corpus/ are read-only here; inputs the fuzzer finds go to
# $FUZZ_BUILD_DIR/fuzz-corpus/<target>/ and are reused by later runs. Exits non-zero when any
# target found a problem.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(zip hdf5 json_config npy load_run)
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-1}

# -O1 with line tables: quick to compile on small machines, fast enough to fuzz, symbolized reports.
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS_FUZZ="-O1 -gline-tables-only" -DKERASRT_FUZZ=ON \
  -DKERASRT_BUILD_TESTS=OFF -DKERASRT_CUDA=OFF >/dev/null
for t in "${targets[@]}"; do cmake --build "$build" -j"$jobs" --target "fuzz_$t" >/dev/null; done
[ "$seconds" -gt 0 ] || exit 0  # 0: build only (libFuzzer would read 0 as "no time limit")

found=0
for t in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz_$t: ${seconds} s"
  status=0
  # -rss_limit_mb and -timeout turn runaway allocations and hangs into reported bugs.
  "$build/tests/fuzz/fuzz_$t" "$corpus" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    >"$build/fuzz-$t.log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' "$build/fuzz-$t.log" || true
  shopt -s nullglob
  repros=("$artifacts"/crash-* "$artifacts"/timeout-* "$artifacts"/leak-* "$artifacts"/oom-* "$artifacts"/slow-unit-*)
  shopt -u nullglob
  if [ "$status" -ne 0 ] || [ ${#repros[@]} -gt 0 ]; then
    found=1
    mkdir -p "tests/fuzz/regressions/$t"
    for r in "${repros[@]}"; do mv "$r" "tests/fuzz/regressions/$t/"; done
    echo "fuzz_$t found a problem (exit $status); reproducers in tests/fuzz/regressions/$t/"
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$build/fuzz-$t.log" | head -20 || true
  fi
done
exit $found
