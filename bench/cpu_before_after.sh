#!/bin/sh
# CPU speed of two kerasrt builds side by side with ONNX Runtime, in one run: for every
# configuration ORT, then BEFORE and AFTER interleaved twice; each engine's best of its medians.
#   bench/cpu_before_after.sh PEERS_DIR BEFORE_KERASRT AFTER_KERASRT [MODELS] [BATCHES] [THREADS]
# PEERS_DIR is a writable copy of ../shared/peers with `npm ci` done (see its README).
set -e
peers=$(cd "$1" && pwd); before=$(readlink -f "$2"); after=$(readlink -f "$3")
MODELS=${4:-"decoder mobile"}; BATCHES=${5:-"1 32"}; THREADS=${6:-"1 2"}
cd "$peers"
mkdir -p out results
/usr/bin/python3 tools/tile_b32.py >/dev/null
kfile() { if [ "$1" = decoder ]; then echo ../fixtures/seed/seed_full/model.keras; else echo "models/$1.keras"; fi; }
[ -f ../fixtures/seed/seed_full/model.keras ] || kfile() { if [ "$1" = decoder ]; then echo /work/shared/fixtures/seed/seed_full/model.keras; else echo "models/$1.keras"; fi; }
npy() { if [ -f "models/$1_$2.npy" ]; then echo "models/$1_$2.npy"; else echo "out/$1_$2.npy"; fi; }
iters() { case "$1-$2" in decoder-1) echo 300;; decoder-32) echo 60;; mobile-1) echo 100;; *) echo 12;; esac; }
med() { sed 's/.*"median_ms":\([0-9.]*\).*/\1/'; }
echo "| model | batch | threads | ORT ms | before ms | after ms | after / before |"
echo "|---|---|---|---|---|---|---|"
for m in $MODELS; do for b in $BATCHES; do for t in $THREADS; do
  it=$(iters $m $b); x=$(npy $m input_b$b)
  o=$(node ort_bench.js models/$m.onnx $x $t $it | med)
  b1=$($before peer-bench $(kfile $m) $x $t $it | med); a1=$($after peer-bench $(kfile $m) $x $t $it | med)
  b2=$($before peer-bench $(kfile $m) $x $t $it | med); a2=$($after peer-bench $(kfile $m) $x $t $it | med)
  python3 -c "b=min($b1,$b2); a=min($a1,$a2); print(f'| $m | $b | $t | $o | {b:.3f} | {a:.3f} | {a/b:.3f} |')"
done; done; done
