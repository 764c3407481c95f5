#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, in one call: build with CUDA (or take a build made
# elsewhere), run the whole test suite (golden and op suites include `cuda` in every
# precision), run models under compute-sanitizer, and benchmark against PyTorch. Logs and a
# results table go to $OUT (default out/cuda).
#
#   scripts/test_cuda.sh                         # build here with -DKERASRT_CUDA=ON
#   scripts/test_cuda.sh --prebuilt DIR          # DIR/kerasrt, DIR/kerasrt_tests, DIR/lib/*.so[.xz]
#   scripts/test_cuda.sh --prebuilt DIR --kit K  # also benchmark with the peer kit K (../shared/peers)
#
# A GPU machine without the build's Debian packages (oneDNN, GoogleTest) gets a build made on a
# developer machine (scripts/pack_cuda_build.sh) and the libraries it needs beside it; the test
# binary looks for the project at the path it was built in, so link that path to this checkout
# first (e.g. mkdir -p /work && ln -sfn "$PWD" /work/main). SANITIZER_MODELS (fixture folders
# under tests/data/fixtures) narrows the compute-sanitizer stage; BENCH_ARGS passes options to
# scripts/bench_gpu.py.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/cuda}
prebuilt="" kit="" skip_tests=0 skip_bench=0 skip_sanitizer=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prebuilt) prebuilt=$2; shift 2 ;;
    --kit) kit=$2; shift 2 ;;
    --no-tests) skip_tests=1; shift ;;
    --no-bench) skip_bench=1; shift ;;
    --no-sanitizer) skip_sanitizer=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
status=0
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$out/gpu.txt"

if [ -n "$prebuilt" ]; then
  bin=$prebuilt
  for exe in kerasrt kerasrt_tests; do
    [ -f "$bin/$exe.xz" ] && xz -dc "$bin/$exe.xz" > "$bin/$exe"
  done
  mkdir -p /tmp/kerasrt_lib
  for f in "$bin"/lib/*; do
    case "$f" in
      *.xz) xz -dc "$f" > "/tmp/kerasrt_lib/$(basename "${f%.xz}")" ;;
      *) cp "$f" /tmp/kerasrt_lib/ ;;
    esac
  done
  export LD_LIBRARY_PATH=/tmp/kerasrt_lib:${LD_LIBRARY_PATH:-}
  chmod +x "$bin/kerasrt" "$bin/kerasrt_tests"
  ldd "$bin/kerasrt_tests" | grep "not found" && { echo "missing libraries" >&2; exit 1; }
  # The CLI tests run the tool from where it was built here (build/kerasrt of the checkout).
  [ -e build/kerasrt ] || { mkdir -p build && ln -s "$PWD/$bin/kerasrt" build/kerasrt; }
else
  cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DKERASRT_CUDA=ON -DKERASRT_WERROR=ON >/dev/null || exit 1
  cmake --build build-cuda -j"$(nproc)" || exit 1
  bin=build-cuda
  cp build-cuda/tests/kerasrt_tests "$bin/" 2>/dev/null || true
fi
"$bin/kerasrt" devices | tee "$out/devices.txt"

if [ "$skip_tests" = 0 ]; then
  echo "== test suite (every backend and precision)"
  (cd tests && "../$bin/kerasrt_tests" --gtest_brief=1 2>&1) > "$out/tests.log" || status=1
  tail -n 30 "$out/tests.log"
  grep -c "SKIPPED" "$out/tests.log" >/dev/null && grep "SKIPPED" "$out/tests.log" | head -5
fi

if [ "$skip_tests" = 0 ] && [ "$skip_sanitizer" = 0 ]; then
  echo "== compute-sanitizer (memcheck, racecheck) on a few models"
  fx=tests/data/fixtures
  for m in ${SANITIZER_MODELS:-seed/seed_small_functional models/mobilenetv2_blocks models/transformer_encoder models/dcgan_generator}; do
    name=$(basename "$m")
    inputs=()
    for f in "$fx/$m"/input_*.npy; do inputs+=(-i "$f"); done
    for tool in memcheck racecheck; do
      # --repeat runs the model again, so the recorded CUDA Graph replays are checked too.
      compute-sanitizer --tool "$tool" --error-exitcode 9 "$bin/kerasrt" run "$fx/$m/model.keras" "${inputs[@]}" \
        --device cuda --repeat 3 > "$out/sanitizer_${name}_$tool.log" 2>&1
      rc=$?
      echo "$name $tool: exit $rc; $(grep -h "ERROR SUMMARY\|RACECHECK SUMMARY" "$out/sanitizer_${name}_$tool.log" | tail -1)"
      [ $rc = 0 ] || status=1
    done
  done
fi

if [ "$skip_bench" = 0 ] && [ -n "$kit" ]; then
  echo "== benchmark against PyTorch"
  python3 scripts/bench_gpu.py --kerasrt "$bin/kerasrt" --kit "$kit" --out "$out" ${BENCH_ARGS:-} || status=1
fi
exit $status
