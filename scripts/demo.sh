#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the main job on the bundled example
# model: the founding Conv2D -> Reshape -> Dense -> Dense -> Reshape -> Conv2DTranspose model
# saved by Keras 3.15.1. Prints its summary, runs it, and compares with Keras's own output.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKERASRT_BUILD_TESTS=OFF >/dev/null
cmake --build build -j2 --target kerasrt_cli
model=tests/data/fixtures/seed/seed_small_functional
echo
./build/kerasrt summary "$model/model.keras"
echo
./build/kerasrt run "$model/model.keras" -i "$model/input_0.npy" -o build/demo_out \
  --expect "$model/output_0.npy" --repeat 50
echo "outputs written to build/demo_out/"
