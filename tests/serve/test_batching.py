"""Dynamic batching and graceful shutdown, end to end: concurrent requests that the server
batches get exactly what each gets run alone (`kerasrt run` on that request's input), and a
SIGTERM lets a request in flight finish before the server exits 0."""
import json
import signal
import threading
import time

import numpy as np
import requests

from conftest import SEED, kerasrt_run

TIMEOUT = 60


def binary_infer(server, x, model="seed", version="1"):
    head = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": list(x.shape),
                                   "parameters": {"binary_data_size": x.nbytes}}],
                       "parameters": {"binary_data_output": True}}).encode()
    r = requests.post(f"{server.url}/v2/models/{model}/versions/{version}/infer", data=head + x.tobytes(),
                      headers={"Inference-Header-Content-Length": str(len(head))}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    n = int(r.headers["Inference-Header-Content-Length"])
    shape = json.loads(r.content[:n])["outputs"][0]["shape"]
    return np.frombuffer(r.content[n:], np.float32).reshape(shape)


def metric(server, name):
    for line in requests.get(server.url + "/metrics", timeout=TIMEOUT).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_batched_requests_equal_running_each_alone(start_server, tmp_path):
    server = start_server("--max-batch", "16", "--max-queue-delay-us", "100000", "--instances", "2",
                          "--access-log", "off")
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((1 + i % 3, 8, 8, 3)).astype(np.float32) for i in range(12)]
    results = [None] * len(inputs)
    barrier = threading.Barrier(len(inputs))

    def client(i):
        barrier.wait()
        results[i] = binary_infer(server, inputs[i])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    labels = 'model="seed",version="1"'
    batches = metric(server, f"kerasrt_batch_size_count{{{labels}}}")
    rows = metric(server, f"kerasrt_batch_size_sum{{{labels}}}")
    assert rows == sum(x.shape[0] for x in inputs)
    assert batches < len(inputs), "no two requests were batched"
    for i, x in enumerate(inputs):
        (want,) = kerasrt_run(SEED / "model.keras", [x], tmp_path / str(i))
        # Up to float rounding: a batch may take another kernel than one request alone.
        np.testing.assert_allclose(results[i], want, rtol=0, atol=1e-5 * max(1.0, float(np.abs(want).max())),
                                   err_msg=f"request {i}")


def test_sigterm_finishes_the_request_in_flight(start_server):
    # A 1.5 s queue delay keeps the request in flight when the signal arrives.
    server = start_server("--max-batch", "8", "--max-queue-delay-us", "1500000")
    x = np.load(SEED / "input_0.npy").astype(np.float32)
    result = {}

    def client():
        result["y"] = binary_infer(server, x)

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.4)
    server.proc.send_signal(signal.SIGTERM)
    t.join(TIMEOUT)
    assert server.proc.wait(30) == 0
    assert "y" in result, "the request in flight was not answered"
    np.testing.assert_allclose(result["y"], np.load(SEED / "output_0.npy"), rtol=1e-5, atol=1e-5)
    out = "".join(server.stdout_lines) + server.proc.stdout.read().decode()
    assert "finishing requests in flight" in out and "stopped" in out
