"""Per-call overhead of the Python API over the C++ API, in one process.

For each model, rounds of N calls each, interleaved so that load from other processes hits all
alike, timing:
  cpp_loop:   CompiledModel::run in a C++ loop, back to back (no Python between runs);
  cpp_single: one CompiledModel::run per call from a Python loop, timed inside C++: the run's
              own time when calls are not back to back, as in any real caller;
  call:       compiled(x) from a Python loop;  predict: model.predict(x) from a Python loop.
Prints JSON lines per model, timed with this thread's CPU time (which other processes on the
core do not inflate) and with wall time, for the median and for the fastest round, in
microseconds per call; the overheads are call and predict minus each C++ time.

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


def per_call(fn, x, n, clock):
    start = clock()
    for _ in range(n):
        fn(x)
    return (clock() - start) / n


def measure(model_path, x, cpu_time, rounds=60, n=500):
    model = kerasrt.load(model_path)
    compiled = model.compile(threads=1)  # one thread: all the work is on the calling thread
    core, xs = compiled._core, [x]
    clock = time.thread_time if cpu_time else time.perf_counter
    for _ in range(100):  # memory plan and caches for this input shape
        compiled(x)
        model.predict(x)
    times = {"cpp_loop": [], "cpp_single": [], "call": [], "predict": []}
    for _ in range(rounds):
        times["cpp_loop"].append(core.time_cpp_runs(xs, n, cpu_time))
        times["cpp_single"].append(sum(core.time_cpp_runs(xs, 1, cpu_time) for _ in range(n)) / n)
        times["call"].append(per_call(compiled, x, n, clock))
        times["predict"].append(per_call(model.predict, x, n, clock))
    row = {"model": Path(model_path).parent.name, "input_shape": list(x.shape), "threads": 1,
           "clock": "thread CPU time" if cpu_time else "wall", "calls_per_round": n, "rounds": rounds}
    for stat in (statistics.median, min):
        us = {k: round(1e6 * stat(v), 2) for k, v in times.items()}
        for api in ("call", "predict"):
            for base in ("cpp_loop", "cpp_single"):
                us[f"{api}_over_{base}"] = round(us[api] - us[base], 2)
        row[stat.__name__] = us
    return row


def main(argv):
    pairs = list(zip(argv[0::2], argv[1::2])) if argv else [(d / "model.keras", d / "input_0.npy") for d in DEFAULT_MODELS]
    for model_path, input_path in pairs:
        x = np.ascontiguousarray(np.load(input_path)[:1], dtype=np.float32)  # batch 1
        for cpu_time in (True, False):
            print(json.dumps(measure(model_path, x, cpu_time)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
