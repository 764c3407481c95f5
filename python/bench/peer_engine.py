"""The peer kit's engine command (../shared/peers/run_side_by_side.sh) for kerasrt from Python:
times model.predict(x) (one batch: batch_size = the input's batch) and prints the kit's JSON line.

    PYTHONPATH=build/python /usr/bin/python3 python/bench/peer_engine.py MODEL.keras INPUT.npy THREADS ITERS \
        [--out OUT.npy] [--warmup N]
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

import kerasrt


def busy_seconds():
    """CPU seconds all processes spent busy so far (Linux /proc/stat), or None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("threads", type=int)
    p.add_argument("iters", type=int)
    p.add_argument("--out")
    p.add_argument("--warmup", type=int)
    a = p.parse_args()
    x = np.ascontiguousarray(np.load(a.input), dtype=np.float32)
    model = kerasrt.load(a.model)
    model.compile(threads=a.threads)
    batch = len(x)
    y = model.predict(x, batch_size=batch)
    if a.out:
        np.save(a.out, y)
    warmup = a.warmup if a.warmup is not None else (20 if batch == 1 else 3)
    for _ in range(warmup):
        model.predict(x, batch_size=batch)
    load, busy0, own0, wall0 = os.getloadavg()[0], busy_seconds(), time.process_time(), time.perf_counter()
    times = []
    for _ in range(a.iters):
        start = time.perf_counter()
        model.predict(x, batch_size=batch)
        times.append(1e3 * (time.perf_counter() - start))
    wall, own, busy1 = time.perf_counter() - wall0, time.process_time() - own0, busy_seconds()
    times.sort()
    stem = Path(a.model).stem
    name = {"seed_full": "decoder"}.get(Path(a.model).parent.name, stem) if stem == "model" else stem
    print(json.dumps({
        "engine": "kerasrt-python", "model": name, "batch": batch, "threads": a.threads,
        "median_ms": round(statistics.median(times), 3), "min_ms": round(times[0], 3),
        "p90_ms": round(times[max(0, -(-9 * len(times) // 10) - 1)], 3), "version": kerasrt.__version__,
        "iters": a.iters, "warmup": warmup, "mean_ms": round(statistics.mean(times), 3),
        "samples_per_s": round(batch * 1e3 / statistics.median(times), 1), "loadavg_1m": round(load, 2),
        "own_cpu_cores": round(own / wall, 2),
        "others_cpu_cores": None if busy0 is None else round(max(0.0, (busy1 - busy0 - own) / wall), 2),
        "api": "model.predict"}))


if __name__ == "__main__":
    main()
