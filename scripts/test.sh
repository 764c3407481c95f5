#!/usr/bin/env bash
# Builds kerasrt and runs the whole test suite: unit, op conformance, golden Keras fixtures,
# error cases and the CLI; `kerasrt serve` with real REST and gRPC clients, hostile clients and
# a short load test; then the readers' and error cases' tests once more under
# AddressSanitizer + UndefinedBehaviorSanitizer, the concurrent runs under ThreadSanitizer, and
# each fuzzer for a bounded time.
#
# Every stage fails when it ran no test: a configuration or filter that selects nothing must not
# pass for green. The build options are given explicitly, so a build/ configured earlier with
# other ones (scripts/demo.sh turns the tests off) is reconfigured rather than reused as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
jobs=${JOBS:-2}
# Debian's interpreter, resolved, so that setup.py (which passes its own, resolved) finds the
# same cache entry and reuses the build instead of reconfiguring it.
python=$(readlink -f /usr/bin/python3)

# Runs a GoogleTest binary and fails unless it ran at least one test.
gtest_ran() {
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  grep -Eq '^\[  PASSED  \] [1-9][0-9]* tests?\.' "$log" || { echo "error: $1 ran no test" >&2; exit 1; }
  rm -f "$log"
}

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKERASRT_WERROR=ON -DKERASRT_BUILD_TESTS=ON \
  -DKERASRT_BUILD_PYTHON=ON -DKERASRT_SERVE=ON -DPython_EXECUTABLE="$python" >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure --timeout 600 --no-tests=error)

echo "== Python module: every golden fixture through kerasrt, input forms, batching, errors, threads"
# pytest exits non-zero (5) when it collects no test.
PYTHONPATH="$PWD/build/python" "$python" -m pytest -q -p no:cacheprovider python/tests

echo "== kerasrt serve: REST and gRPC clients, hostile clients, batching, shutdown, load test (wrk, ~15 s)"
KERASRT_BUILD_DIR="$PWD/build" KRT_LOAD_REPORT="$PWD/build/serve_load.json" \
  "$python" -m pytest -q -p no:cacheprovider tests/serve
yamllint -s deploy/

echo "== Python package: the README's offline pip install into a venv of Debian's python3, and a wheel"
./scripts/check_python_install.sh build

echo "== sanitizers (ASan + UBSan): readers, error cases, CLI, seed models"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKERASRT_SANITIZE=ON -DKERASRT_WERROR=ON -DKERASRT_CUDA=OFF >/dev/null
cmake --build build-asan -j"$jobs" --target kerasrt_tests kerasrt_cli
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  gtest_ran ./build-asan/tests/kerasrt_tests \
  --gtest_filter='ErrorCases.*:Cli*:ImageTensor.*:Hdf5*:Zip*:Json*:Npy*:*seed*:MemoryPlan.*:*FuzzReplay*:MalformedCorpus.*:HugeClaims.*:Limits.*:RunSafety.*'

echo "== ThreadSanitizer: one compiled model run from 8 threads"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DKERASRT_TSAN=ON -DKERASRT_WERROR=ON -DKERASRT_CUDA=OFF >/dev/null
cmake --build build-tsan -j"$jobs" --target kerasrt_thread_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 gtest_ran ./build-tsan/tests/kerasrt_thread_tests

echo "== fuzzers (libFuzzer + ASan + UBSan), ${FUZZ_SECONDS:-20} s each; see docs/security.md"
JOBS="$jobs" ./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
