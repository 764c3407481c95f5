#!/usr/bin/env bash
# The command of one `device` call (run from the repository root there, with .gpu/ carried after
# scripts/pack_cuda_build.sh here): links the checkout where the test binary looks for it, runs the
# whole suite and compute-sanitizer (scripts/test_cuda.sh), then the benchmark against PyTorch
# (scripts/bench_gpu.py), everything under $OUT. Environment:
#   TESTS=0 skips the suite; BENCH=0 skips the benchmark; TEST_TIMEOUT, BENCH_TIMEOUT (seconds);
#   BENCH_ARGS: options for bench_gpu.py; PROFILE: MODEL:PRECISION:BATCH[:VAR=VALUE],... kernels under ncu.
# Example: BENCH_ARGS="--torch-modes graph --precisions fp32,fp16 --ab-env KERASRT_CUDA_MMA=1" \
#          scripts/gpu_call.sh
set -u
cd "$(dirname "$0")/.."
mkdir -p /work && ln -sfn "$PWD" /work/main
export OUT=${OUT:-out/cuda}
mkdir -p "$OUT"
if [ "${TESTS:-1}" = 1 ]; then
  timeout "${TEST_TIMEOUT:-150}" env SANITIZER_MODELS="${SANITIZER_MODELS:-models/mobilenetv2_blocks}" \
    scripts/test_cuda.sh --prebuilt .gpu/bin --no-bench 2>&1 | tail -40
else
  scripts/test_cuda.sh --prebuilt .gpu/bin --no-tests --no-bench 2>&1 | tail -5  # unpacks the build
fi
export LD_LIBRARY_PATH=/tmp/kerasrt_lib:${LD_LIBRARY_PATH:-}
if [ "${BENCH:-1}" = 1 ]; then
  # BENCH_ARGS is split into words on purpose (several options).
  # shellcheck disable=SC2086
  timeout "${BENCH_TIMEOUT:-400}" python3 scripts/bench_gpu.py --kerasrt .gpu/bin/kerasrt --kit .gpu/peers \
    --out "$OUT" ${BENCH_ARGS:-} --profile "${PROFILE:-}" 2>&1 | tail -60
fi
grep -h "FAILED\|tests ran\|PASSED" "$OUT/tests.log" 2>/dev/null | head -30
# The device tool brings back at most 8 files: everything in one archive, the summaries beside it.
tar czf /tmp/all.tar.gz -C "$OUT" . && mv /tmp/all.tar.gz "$OUT/" &&
  find "$OUT" -type f ! -name all.tar.gz ! -name results.md ! -name tests.log -delete
