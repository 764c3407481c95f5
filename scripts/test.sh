#!/usr/bin/env bash
# Builds kerasrt and runs the whole test suite: unit, op conformance, golden Keras fixtures,
# error cases and the CLI; then the readers' and error cases' tests once more under
# AddressSanitizer + UndefinedBehaviorSanitizer, the concurrent runs under ThreadSanitizer, and
# each fuzzer for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
jobs=${JOBS:-2}

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKERASRT_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure --timeout 600)

echo "== sanitizers (ASan + UBSan): readers, error cases, CLI, seed models"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKERASRT_SANITIZE=ON -DKERASRT_WERROR=ON -DKERASRT_CUDA=OFF >/dev/null
cmake --build build-asan -j"$jobs" --target kerasrt_tests kerasrt_cli
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ./build-asan/tests/kerasrt_tests \
  --gtest_filter='ErrorCases.*:Cli*:ImageTensor.*:Hdf5*:Zip*:Json*:Npy*:*seed*:MemoryPlan.*:*FuzzReplay*:MalformedCorpus.*:HugeClaims.*:Limits.*:RunSafety.*'

echo "== ThreadSanitizer: one compiled model run from 8 threads"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DKERASRT_TSAN=ON -DKERASRT_WERROR=ON -DKERASRT_CUDA=OFF >/dev/null
cmake --build build-tsan -j"$jobs" --target kerasrt_thread_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ./build-tsan/tests/kerasrt_thread_tests

echo "== fuzzers (libFuzzer + ASan + UBSan), ${FUZZ_SECONDS:-20} s each; see docs/security.md"
JOBS="$jobs" ./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
