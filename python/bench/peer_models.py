"""kerasrt from Python against kerasrt from C++ on the peer kit's workloads (../shared/peers),
interleaved in one process: per configuration, the median ms per call of CompiledModel::run in a
C++ loop, of compiled(x) and of model.predict(x), and the largest difference from Keras's output.

    PYTHONPATH=build/python /usr/bin/python3 python/bench/peer_models.py [PEERS_DIR] [ITERS]
"""
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import kerasrt

REPO = Path(__file__).resolve().parents[2]


def workloads(peers):
    models = peers / "models"
    decoder = peers.parent / "fixtures" / "seed" / "seed_full" / "model.keras"
    for batch in (1, 32):
        yield "decoder", decoder, np.load(models / f"decoder_input_b{batch}.npy"), np.load(models / f"decoder_output_b{batch}.npy")
    x, y = np.load(models / "mobile_input_b1.npy"), np.load(models / "mobile_output_b1.npy")
    yield "mobile", models / "mobile.keras", x, y
    yield "mobile", models / "mobile.keras", np.repeat(x, 32, axis=0), np.repeat(y, 32, axis=0)  # as tools/tile_b32.py


def median_ms(fn, iters):
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main(argv):
    peers = Path(argv[0]) if argv else REPO.parent / "shared" / "peers"
    iters = int(argv[1]) if len(argv) > 1 else 20
    for name, path, x, y in workloads(peers):
        x = np.ascontiguousarray(x, dtype=np.float32)
        model = kerasrt.load(path)
        for threads in (1, 2):
            compiled = model.compile(threads=threads)  # also what model.predict uses from now on
            out = model.predict(x, batch_size=len(x))
            for _ in range(3):
                compiled(x)
            cpp, call, predict = [], [], []
            for _ in range(iters):  # interleaved, one call each, so machine load hits all alike
                cpp.append(1e3 * compiled._core.time_cpp_runs([x], 1))
                call.append(median_ms(lambda: compiled(x), 1))
                predict.append(median_ms(lambda: model.predict(x, batch_size=len(x)), 1))
            row = {"model": name, "batch": len(x), "threads": threads, "iters": iters,
                   "cpp_ms": round(statistics.median(cpp), 3), "call_ms": round(statistics.median(call), 3),
                   "predict_ms": round(statistics.median(predict), 3),
                   "max_abs_diff_vs_keras": float(np.abs(out - y).max())}
            row["predict_over_cpp"] = round(row["predict_ms"] / row["cpp_ms"], 3)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
