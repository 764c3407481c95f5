"""Load test (about 15 s): wrk at concurrency 32 against the seed model over REST with binary
tensors, without and with dynamic batching, 3 alternating rounds of 2 s each. Every response must be 200 and equal,
byte for byte, to the reference response (itself checked against `kerasrt run`); batching must
at least double the throughput. The numbers are printed and, with KRT_LOAD_REPORT=FILE,
written there as JSON (docs/serving.md quotes them).

The seed model is the founding topology at full size (founding_model.py, 9.7M parameters, the
shape of ../shared/fixtures/seed/seed_full). The small test copies in tests/data are so cheap
(0.04 ms a row) that HTTP dominates and batching mostly saves thread-team wake-ups, a gain that
varies with the load on the machine (1.6x to 6.7x measured); with real weights to stream per
run, batching's gain is the model's own and steady."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
import requests

import founding_model
from conftest import ROOT, kerasrt_run

SECONDS = int(os.environ.get("KRT_LOAD_SECONDS", "2"))
CONNECTIONS = 32
# Defaults in both runs (one instance, the cores for each run); only batching differs.
CONFIGS = {
    "no batching": ["--max-batch", "0"],
    "dynamic batching": ["--max-batch", "32", "--max-queue-delay-us", "1000"],
}
# Rounds alternate between the two servers, and each configuration is judged by its median
# round: on a shared machine one round slowed by someone else's work, or one unusually quiet
# round for one side only (a no-batching best of 495 req/s against 362-366 in its other rounds
# once decided the ratio), should not decide it.
ROUNDS = 3

def run_wrk(server, body_file, header_length, expected_file, expected_header_length):
    env = dict(os.environ, KRT_PATH="/v2/models/founding/versions/1/infer", KRT_BODY=str(body_file),
               KRT_HEADER_LENGTH=str(header_length), KRT_EXPECTED=str(expected_file),
               KRT_EXPECTED_HEADER_LENGTH=str(expected_header_length))
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s",
                          "-s", str(ROOT / "tests" / "serve" / "load.lua"), server.url],
                         env=env, capture_output=True, text=True, timeout=SECONDS + 60, check=True)
    m = re.search(r"KRT_RESULT requests=(\d+) duration_us=(\d+) wrong=(\d+) errors=(\d+) "
                  r"p50_us=(\d+) p99_us=(\d+)", out.stdout)
    assert m, out.stdout + out.stderr
    requests_, duration, wrong, errors, p50, p99 = map(int, m.groups())
    return {"requests": requests_, "requests_per_s": round(requests_ / (duration / 1e6), 1),
            "wrong": wrong, "errors": errors, "p50_ms": p50 / 1000, "p99_ms": p99 / 1000}


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (scripts/install_deps.sh)")
def test_dynamic_batching_doubles_throughput_at_concurrency_32(start_server, tmp_path):
    model = founding_model.write(tmp_path / "repo" / "founding" / "1")
    x = np.random.default_rng(1).standard_normal((1, 8, 8, 3)).astype(np.float32)
    head = json.dumps({"inputs": [{"name": "conv_input", "datatype": "FP32", "shape": list(x.shape),
                                   "parameters": {"binary_data_size": x.nbytes}}],
                       "parameters": {"binary_data_output": True}}).encode()
    body_file = tmp_path / "body.bin"
    body_file.write_bytes(head + x.tobytes())
    (want,) = kerasrt_run(model, [x], tmp_path / "oracle")
    servers, expected = {}, {}
    for name, args in CONFIGS.items():
        server = servers[name] = start_server(*args, "--access-log", "off", repo=tmp_path / "repo")
        # The reference response: checked against kerasrt run; wrk wants its JSON byte for byte
        # and its floats within 1e-5 of their scale (load.lua).
        r = requests.post(f"{server.url}/v2/models/founding/versions/1/infer", data=body_file.read_bytes(),
                          headers={"Inference-Header-Content-Length": str(len(head))}, timeout=30)
        assert r.status_code == 200, r.text
        n = int(r.headers["Inference-Header-Content-Length"])
        np.testing.assert_array_equal(np.frombuffer(r.content[n:], np.float32).reshape(want.shape), want)
        expected[name] = (tmp_path / f"expected_{len(expected)}.bin", n)
        expected[name][0].write_bytes(r.content)
    rounds = {name: [] for name in CONFIGS}
    for _ in range(ROUNDS):
        for name, server in servers.items():
            rounds[name].append(run_wrk(server, body_file, len(head), *expected[name]))
    for name, server in servers.items():
        assert server.stop() == 0
    results = {name: sorted(rs, key=lambda r: r["requests_per_s"])[len(rs) // 2] for name, rs in rounds.items()}
    report = {"seconds": SECONDS, "connections": CONNECTIONS, "model": "founding (seed topology, full size)",
              "cores": os.cpu_count(), "configs": {k: " ".join(v) for k, v in CONFIGS.items()},
              "rounds": ROUNDS, "results": results,
              "all_rounds_requests_per_s": {n: [r["requests_per_s"] for r in rs] for n, rs in rounds.items()},
              "speedup": round(results["dynamic batching"]["requests_per_s"] /
                               results["no batching"]["requests_per_s"], 2)}
    print("\nload test:", json.dumps(report, indent=1))
    if os.environ.get("KRT_LOAD_REPORT"):
        pathlib.Path(os.environ["KRT_LOAD_REPORT"]).write_text(json.dumps(report, indent=1) + "\n")
    for name, rs in rounds.items():
        for res in rs:
            assert res["requests"] > 0 and res["wrong"] == 0 and res["errors"] == 0, (name, res)
    assert report["speedup"] >= 2.0, report
