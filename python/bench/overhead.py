"""Per-call overhead of the Python API over the C++ API, in one process.

For each model: seconds per run from a C++ loop over CompiledModel::run (no Python between
calls), from a Python loop over compiled(x), and over model.predict(x); rounds interleaved so
that load from other processes hits all three alike. Prints one JSON line per model; the
overhead is the median Python time minus the median C++ time.

    PYTHONPATH=build/python /usr/bin/python3 python/bench/overhead.py [MODEL.keras INPUT.npy ...]
"""
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import kerasrt

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data" / "fixtures"
DEFAULT_MODELS = [FIXTURES / "seed" / "seed_small_functional", FIXTURES / "layers" / "activation_relu"]


def per_call(fn, x, n):
    start = time.perf_counter()
    for _ in range(n):
        fn(x)
    return (time.perf_counter() - start) / n


def measure(model_path, x, rounds=15, n=2000):
    model = kerasrt.load(model_path)
    compiled = model.compile(threads=1)
    for _ in range(100):  # memory plan and caches for this input shape
        compiled(x)
        model.predict(x)
    cpp, call, predict = [], [], []
    for _ in range(rounds):
        cpp.append(compiled._core.time_cpp_runs([x], n))
        call.append(per_call(compiled, x, n))
        predict.append(per_call(model.predict, x, n))
    us = {k: 1e6 * statistics.median(v) for k, v in (("cpp", cpp), ("call", call), ("predict", predict))}
    return {"model": str(model_path), "input_shape": list(x.shape), "threads": 1, "calls_per_round": n,
            "rounds": rounds, "cpp_run_us": round(us["cpp"], 2), "call_us": round(us["call"], 2),
            "predict_us": round(us["predict"], 2), "call_overhead_us": round(us["call"] - us["cpp"], 2),
            "predict_overhead_us": round(us["predict"] - us["cpp"], 2)}


def main(argv):
    pairs = list(zip(argv[0::2], argv[1::2])) if argv else [(d / "model.keras", d / "input_0.npy") for d in DEFAULT_MODELS]
    for model_path, input_path in pairs:
        x = np.ascontiguousarray(np.load(input_path)[:1], dtype=np.float32)  # batch 1
        print(json.dumps(measure(model_path, x)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
