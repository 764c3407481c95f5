#!/bin/sh
# ONNX Runtime, kerasrt from C++ (`kerasrt peer-bench`) and kerasrt from Python (model.predict),
# back to back for each configuration, on the peer kit's workloads; every output checked against
# Keras with the kit's compare.py. Run from the repository root, with a copy of ../shared/peers in
# which `ONNXRUNTIME_NODE_INSTALL=skip npm ci` was run, and `../fixtures` reachable from that copy.
#
#   python/bench/side_by_side.sh PEERS_COPY [BUILD_DIR] [MODELS] [BATCHES] [THREADS] > results.jsonl
set -e
peers=$(readlink -f "$1"); build=$(readlink -f "${2:-build}")
models=${3:-"decoder mobile"}; batches=${4:-"1 32"}; threads=${5:-"1 2"}
engine_py="$(pwd)/python/bench/peer_engine.py"
out=$(mktemp -d)
cd "$peers"
/usr/bin/python3 tools/tile_b32.py >&2
kfile() { if [ "$1" = decoder ]; then echo ../fixtures/seed/seed_full/model.keras; else echo "models/$1.keras"; fi; }
npy() { if [ -f "models/$1_$2.npy" ]; then echo "models/$1_$2.npy"; else echo "out/$1_$2.npy"; fi; }
iters() { case "$1-$2" in decoder-1) echo 500;; decoder-32) echo 100;; mobile-1) echo 200;; *) echo 20;; esac; }
for m in $models; do for b in $batches; do for t in $threads; do
  it=$(iters "$m" "$b"); x=$(npy "$m" "input_b$b")
  node ort_bench.js "models/$m.onnx" "$x" "$t" "$it" --quiet-wait 60 --out "$out/ort.npy"
  "$build/kerasrt" peer-bench "$(kfile "$m")" "$x" "$t" "$it" --out "$out/cpp.npy"
  PYTHONPATH="$build/python" /usr/bin/python3 "$engine_py" "$(kfile "$m")" "$x" "$t" "$it" --out "$out/py.npy"
  for e in ort cpp py; do
    printf '  %s vs Keras: ' "$e" >&2
    /usr/bin/python3 tools/compare.py "$out/$e.npy" "$(npy "$m" "output_b$b")" >&2 || true
  done
done; done; done
rm -rf "$out"
