#!/usr/bin/env bash
# Packs a CUDA build made here for a GPU machine that lacks the build's Debian packages: the
# kerasrt tool and test binary, the shared libraries they need beyond CUDA's own (xz-compressed),
# and the peer kit's GPU baseline, into .gpu/ (git-ignored) to carry with the device tool:
#   scripts/pack_cuda_build.sh [BUILD_DIR] [KIT]      # defaults: build, ../shared/peers
# There: scripts/gpu_call.sh (the suite, compute-sanitizer and the benchmark in one call), or
# scripts/test_cuda.sh --prebuilt .gpu/bin --kit .gpu/peers (see docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kit=${2:-../shared/peers}
rm -rf .gpu && mkdir -p .gpu/bin/lib .gpu/peers/gpu .gpu/peers/models
for exe in "$build/kerasrt" "$build/tests/kerasrt_tests"; do xz -T2 -6 -c "$exe" > ".gpu/bin/$(basename "$exe").xz"; done
for lib in libdnnl.so.2 libOpenCL.so.1 libpng16.so.16 libjpeg.so.62; do
  path=$(ldd "$build/tests/kerasrt_tests" | awk -v l="$lib" '$1 == l {print $3}')
  [ -n "$path" ] && xz -T2 -6 -c "$(readlink -f "$path")" > ".gpu/bin/lib/$lib.xz"
done
cp "$kit"/gpu/*.py "$kit"/gpu/*.json .gpu/peers/gpu/
cp "$kit"/models/*_input_b*.npy .gpu/peers/models/
du -sh .gpu
