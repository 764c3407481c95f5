"""Several Python threads running models at once: correct results, and real overlap (the GIL is
released while the engine runs)."""
import threading
import time

import numpy as np

import kerasrt
from fixtures import ROOTS

SEED = ROOTS[0] / "seed" / "seed_small_functional"


def run_threads(target, count):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as e:  # re-raised in the main thread, where pytest sees it
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_threads_share_one_compiled_model():
    model = kerasrt.load(SEED / "model.keras")
    compiled = model.compile(threads=1)
    x = np.load(SEED / "input_0.npy")
    inputs = [np.ascontiguousarray(x * (1 + 0.1 * i)) for i in range(8)]
    serial = [compiled(a) for a in inputs]
    results = {}

    def work(i):
        for r in range(10):
            out = compiled(inputs[i]) if r % 2 else model.predict(inputs[i], batch_size=1)
            results.setdefault(i, []).append(out)

    run_threads(work, 8)
    for i in range(8):
        for out in results[i]:
            np.testing.assert_allclose(out, serial[i], rtol=1e-5, atol=1e-6)


def long_call_input(compiled, x, seconds):
    """A batch that keeps `compiled` busy for about `seconds` (calibrated here, on this machine)."""
    batch = np.repeat(x, 32, axis=0)
    start = time.perf_counter()
    compiled(batch)
    per_sample = (time.perf_counter() - start) / len(batch)
    reps = int(min(max(seconds / per_sample, len(batch)), 8192)) // len(x)
    return np.ascontiguousarray(np.repeat(x, max(reps, 1), axis=0))


def middle(start, end):
    return start + 0.25 * (end - start), start + 0.75 * (end - start)


def test_gil_is_released_while_a_model_runs():
    # With the GIL held by the running model, the other thread could not execute one Python
    # instruction before the call returned: it must make progress in the middle of the call.
    compiled = kerasrt.load(SEED / "model.keras").compile(device="reference", threads=1)
    x = long_call_input(compiled, np.load(SEED / "input_0.npy"), 0.3)
    ticks, stop = [], threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.02)
    start = time.perf_counter()
    compiled(x)
    end = time.perf_counter()
    stop.set()
    spinner.join()
    lo, hi = middle(start, end)
    assert sum(lo < t < hi for t in ticks) > 100, f"the other thread did not run during a {end - start:.3f} s call"


def test_two_model_runs_overlap():
    # One thread runs a long call; another completes whole (short) model calls inside it.
    model = kerasrt.load(SEED / "model.keras")
    long_model = model.compile(device="reference", threads=1)
    short_model = model.compile(device="cpu", threads=1)
    x = np.load(SEED / "input_0.npy")
    big = long_call_input(long_model, x, 0.3)
    spans, window, stop = [], [], threading.Event()

    def short_calls(_):
        while not stop.is_set():
            start = time.perf_counter()
            short_model(x)
            spans.append((start, time.perf_counter()))

    def long_call(_):
        time.sleep(0.02)
        start = time.perf_counter()
        long_model(big)
        window.append((start, time.perf_counter()))
        stop.set()

    run_threads(lambda i: (long_call if i == 0 else short_calls)(i), 2)
    lo, hi = middle(*window[0])
    inside = [s for s in spans if lo < s[0] and s[1] < hi]
    assert inside, f"no short run started and ended inside the middle of a {window[0][1] - window[0][0]:.3f} s run"
