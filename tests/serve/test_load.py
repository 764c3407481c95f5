"""Load test (about 15 s): wrk at concurrency 32 against the seed model over REST with binary
tensors, first without dynamic batching, then with it. Every response must be 200 and equal,
byte for byte, to the reference response (itself checked against `kerasrt run`); batching must
at least double the throughput. The numbers are printed and, with KRT_LOAD_REPORT=FILE,
written there as JSON (docs/serving.md quotes them)."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
import requests

from conftest import ROOT, SEED, kerasrt_run

SECONDS = int(os.environ.get("KRT_LOAD_SECONDS", "6"))
CONNECTIONS = 32
CONFIGS = {
    "no batching": ["--max-batch", "0"],
    "dynamic batching": ["--max-batch", "32", "--max-queue-delay-us", "1000"],
}


def run_wrk(server, body_file, header_length, expected_file):
    env = dict(os.environ, KRT_PATH="/v2/models/seed/versions/1/infer", KRT_BODY=str(body_file),
               KRT_HEADER_LENGTH=str(header_length), KRT_EXPECTED=str(expected_file))
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
    x = np.load(SEED / "input_0.npy").astype(np.float32)[:1]
    head = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": list(x.shape),
                                   "parameters": {"binary_data_size": x.nbytes}}],
                       "parameters": {"binary_data_output": True}}).encode()
    body_file = tmp_path / "body.bin"
    body_file.write_bytes(head + x.tobytes())
    (want,) = kerasrt_run(SEED / "model.keras", [x], tmp_path / "oracle")
    results = {}
    for name, args in CONFIGS.items():
        server = start_server(*args, "--access-log", "off")
        # The reference response: checked against kerasrt run, then wrk wants it byte for byte.
        r = requests.post(f"{server.url}/v2/models/seed/versions/1/infer", data=body_file.read_bytes(),
                          headers={"Inference-Header-Content-Length": str(len(head))}, timeout=30)
        assert r.status_code == 200, r.text
        n = int(r.headers["Inference-Header-Content-Length"])
        np.testing.assert_array_equal(np.frombuffer(r.content[n:], np.float32).reshape(want.shape), want)
        expected_file = tmp_path / f"expected_{len(results)}.bin"
        expected_file.write_bytes(r.content)
        results[name] = run_wrk(server, body_file, len(head), expected_file)
        assert server.stop() == 0
    report = {"seconds": SECONDS, "connections": CONNECTIONS, "model": "seed_small_functional",
              "cores": os.cpu_count(), "configs": {k: " ".join(v) for k, v in CONFIGS.items()},
              "results": results,
              "speedup": round(results["dynamic batching"]["requests_per_s"] /
                               results["no batching"]["requests_per_s"], 2)}
    print("\nload test:", json.dumps(report, indent=1))
    if os.environ.get("KRT_LOAD_REPORT"):
        pathlib.Path(os.environ["KRT_LOAD_REPORT"]).write_text(json.dumps(report, indent=1) + "\n")
    for name, res in results.items():
        assert res["requests"] > 0 and res["wrong"] == 0 and res["errors"] == 0, (name, res)
    assert report["speedup"] >= 2.0, report
