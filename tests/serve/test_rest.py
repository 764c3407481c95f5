"""REST side of `kerasrt serve` (Open Inference Protocol, KServe V2) with a real client
(requests + numpy): every endpoint, JSON and binary tensors, several inputs and outputs,
versions, errors. Outputs are compared with `kerasrt run` on the same model and input, and
with the Keras fixture outputs."""
import json
import struct

import numpy as np
import pytest
import requests

from conftest import MIMO, SEED, FIXTURES, kerasrt_run

TIMEOUT = 30


def infer(server, model, body, version=None, headers=None):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(server.url + path, data=data, headers=headers or {}, timeout=TIMEOUT)


def binary_request(inputs, outputs=None, binary_output=True, request_id=None):
    """A body in the binary tensor data extension, as Triton's HTTP client builds it:
    (JSON, header length)."""
    header = {"inputs": [{"name": n, "datatype": "FP32", "shape": list(x.shape),
                          "parameters": {"binary_data_size": x.nbytes}} for n, x in inputs]}
    if outputs is not None:
        header["outputs"] = [{"name": o, "parameters": {"binary_data": binary_output}} for o in outputs]
    elif binary_output:
        header["parameters"] = {"binary_data_output": True}
    if request_id:
        header["id"] = request_id
    head = json.dumps(header).encode()
    return head + b"".join(np.ascontiguousarray(x, np.float32).tobytes() for _, x in inputs), len(head)


def decode_binary_response(response):
    """The outputs of a response: JSON data or binary_data_size slices, by name."""
    length = int(response.headers.get("Inference-Header-Content-Length", len(response.content)))
    header = json.loads(response.content[:length])
    rest = response.content[length:]
    outputs = {}
    for o in header["outputs"]:
        if "data" in o:
            outputs[o["name"]] = np.array(o["data"], np.float64).astype(np.float32).reshape(o["shape"])
        else:
            n = o["parameters"]["binary_data_size"]
            outputs[o["name"]] = np.frombuffer(rest[:n], np.float32).reshape(o["shape"])
            rest = rest[n:]
    assert rest == b"", "bytes left after the binary outputs"
    return header, outputs


def test_health_and_server_metadata(server):
    assert requests.get(server.url + "/v2/health/live", timeout=TIMEOUT).status_code == 200
    assert requests.get(server.url + "/v2/health/ready", timeout=TIMEOUT).status_code == 200
    meta = requests.get(server.url + "/v2", timeout=TIMEOUT).json()
    assert meta["name"] == "kerasrt"
    assert "binary_tensor_data" in meta["extensions"]
    assert meta["version"]


def test_bad_model_is_reported_and_others_serve(server):
    assert any("'broken'" in line and "not loaded" in line for line in server.stdout_lines)
    r = requests.get(server.url + "/v2/models/broken", timeout=TIMEOUT)
    assert r.status_code == 404 and "broken" in r.json()["error"]


def test_model_metadata_has_dynamic_dims_and_versions(server):
    meta = requests.get(server.url + "/v2/models/mimo", timeout=TIMEOUT).json()
    assert meta["name"] == "mimo" and meta["versions"] == ["1"] and meta["platform"] == "kerasrt"
    assert meta["inputs"] == [{"name": "tabular", "datatype": "FP32", "shape": [-1, 8]},
                              {"name": "image", "datatype": "FP32", "shape": [-1, 6, 6, 2]}]
    assert meta["outputs"] == [{"name": "regression", "datatype": "FP32", "shape": [-1, 1]},
                               {"name": "classes", "datatype": "FP32", "shape": [-1, 4]}]
    seed = requests.get(server.url + "/v2/models/seed/versions/2", timeout=TIMEOUT).json()
    assert seed["versions"] == ["1", "2"]
    assert seed["inputs"][0]["shape"] == [-1, 8, 8, 3]
    for path in ["/v2/models/seed/ready", "/v2/models/seed/versions/1/ready", "/v2/models/mimo/ready"]:
        assert requests.get(server.url + path, timeout=TIMEOUT).status_code == 200, path
    for path in ["/v2/models/nope", "/v2/models/seed/versions/3", "/v2/models/nope/ready",
                 "/v2/models/seed/versions/01/ready"]:
        r = requests.get(server.url + path, timeout=TIMEOUT)
        assert r.status_code == 404 and "error" in r.json(), path


def test_documented_json_example_matches_kerasrt_run_and_keras(server, tmp_path):
    # The protocol's documented request shape: id, inputs with name/shape/datatype/flat data,
    # requested outputs.
    x = np.load(SEED / "input_0.npy").astype(np.float32)
    body = {"id": "42", "inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                                    "data": x.ravel().tolist()}],
            "outputs": [{"name": "deconv"}]}
    r = infer(server, "seed", body, version="1")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["id"] == "42" and doc["model_name"] == "seed" and doc["model_version"] == "1"
    (out,) = doc["outputs"]
    assert out["name"] == "deconv" and out["datatype"] == "FP32" and out["shape"] == [2, 8, 8, 32]
    got = np.array(out["data"], np.float64).astype(np.float32).reshape(out["shape"])
    (want,) = kerasrt_run(SEED / "model.keras", [x], tmp_path)
    np.testing.assert_array_equal(got, want)  # bit for bit: same engine, same input
    keras = np.load(SEED / "output_0.npy")
    np.testing.assert_allclose(got, keras, rtol=1e-5, atol=1e-5)


def test_nested_data_equals_flat_data(server):
    x = np.load(SEED / "input_0.npy").astype(np.float32)
    flat = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}]}
    nested = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32", "data": x.tolist()}]}
    a, b = infer(server, "seed", flat).json(), infer(server, "seed", nested).json()
    assert a["outputs"][0]["data"] == b["outputs"][0]["data"]


def test_binary_tensor_data_matches_kerasrt_run(server, tmp_path):
    x = np.load(SEED / "input_0.npy").astype(np.float32)
    body, length = binary_request([("input", x)], request_id="bin-1")
    r = infer(server, "seed", body, version="1", headers={"Inference-Header-Content-Length": str(length),
                                             "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/octet-stream"
    header, outputs = decode_binary_response(r)
    assert header["id"] == "bin-1"
    assert header["outputs"][0]["parameters"]["binary_data_size"] == 2 * 8 * 8 * 32 * 4
    (want,) = kerasrt_run(SEED / "model.keras", [x], tmp_path)
    np.testing.assert_array_equal(outputs["deconv"], want)


def test_versions_run_their_own_model(server, tmp_path):
    x = np.load(FIXTURES / "seed" / "seed_small_sequential" / "input_0.npy").astype(np.float32)
    body, length = binary_request([("input", x)])
    headers = {"Inference-Header-Content-Length": str(length)}
    _, v2 = decode_binary_response(infer(server, "seed", body, version="2", headers=headers))
    _, latest = decode_binary_response(infer(server, "seed", body, headers=headers))
    _, v1 = decode_binary_response(infer(server, "seed", body, version="1", headers=headers))
    (want,) = kerasrt_run(FIXTURES / "seed" / "seed_small_sequential" / "model.h5", [x], tmp_path)
    np.testing.assert_array_equal(v2["deconv"], want)
    np.testing.assert_array_equal(latest["deconv"], want)  # no version: the highest
    assert not np.array_equal(v1["deconv"], want)


def test_several_inputs_and_requested_outputs(server, tmp_path):
    tab = np.load(MIMO / "input_0.npy").astype(np.float32)
    img = np.load(MIMO / "input_1.npy").astype(np.float32)
    want = kerasrt_run(MIMO / "model.keras", [tab, img], tmp_path)
    # Inputs in another order than the model's, one output in binary, one in JSON, in the
    # order asked for.
    head = {"inputs": [
        {"name": "image", "datatype": "FP32", "shape": list(img.shape), "data": img.ravel().tolist()},
        {"name": "tabular", "datatype": "FP32", "shape": list(tab.shape),
         "parameters": {"binary_data_size": tab.nbytes}}],
        "outputs": [{"name": "classes", "parameters": {"binary_data": True}}, {"name": "regression"}]}
    hb = json.dumps(head).encode()
    r = infer(server, "mimo", hb + tab.tobytes(), headers={"Inference-Header-Content-Length": str(len(hb))})
    assert r.status_code == 200, r.text
    header, outputs = decode_binary_response(r)
    assert [o["name"] for o in header["outputs"]] == ["classes", "regression"]
    np.testing.assert_array_equal(outputs["regression"], want[0])
    np.testing.assert_array_equal(outputs["classes"], want[1])
    keras = [np.load(MIMO / "output_0.npy"), np.load(MIMO / "output_1.npy")]
    np.testing.assert_allclose(outputs["regression"], keras[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outputs["classes"], keras[1], rtol=1e-4, atol=1e-5)
    only = infer(server, "mimo", {"inputs": [
        {"name": "tabular", "datatype": "FP32", "shape": list(tab.shape), "data": tab.ravel().tolist()},
        {"name": "image", "datatype": "FP32", "shape": list(img.shape), "data": img.ravel().tolist()}],
        "outputs": [{"name": "classes"}]}).json()
    assert [o["name"] for o in only["outputs"]] == ["classes"]


@pytest.mark.parametrize("datatype,dtype", [("FP64", np.float64), ("FP16", np.float16),
                                            ("INT32", np.int32), ("INT64", np.int64)])
def test_other_datatypes_are_converted_to_the_models(server, tmp_path, datatype, dtype):
    # Values exact in every datatype (small integers and halves), so the conversion to the
    # model's float32 loses nothing and the result must equal the float32 request's.
    x = (np.arange(2 * 8 * 8 * 3).reshape(2, 8, 8, 3) % 7 - 3).astype(np.float32)
    if dtype in (np.float64, np.float16):
        x = x / 2
    body = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": datatype,
                        "data": x.astype(dtype).ravel().tolist()}]}
    r = infer(server, "seed", body, version="1")
    assert r.status_code == 200, r.text
    (want,) = kerasrt_run(SEED / "model.keras", [x], tmp_path)
    got = np.array(r.json()["outputs"][0]["data"], np.float64).astype(np.float32).reshape(want.shape)
    np.testing.assert_array_equal(got, want)


def error_of(response, status):
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_request_errors_name_the_problem(server):
    x = {"name": "input", "datatype": "FP32", "shape": [1, 8, 8, 3], "data": [0.0] * 192}
    assert "unknown model 'nope'" in error_of(infer(server, "nope", {"inputs": [x]}), 404)
    assert "no version '7'" in error_of(infer(server, "seed", {"inputs": [x]}, version="7"), 404)
    wrong_shape = dict(x, shape=[1, 8, 8, 4], data=[0.0] * 256)
    assert "expects [-1, 8, 8, 3]" in error_of(infer(server, "seed", {"inputs": [wrong_shape]}), 400)
    assert "datatype 'BYTES'" in error_of(infer(server, "seed", {"inputs": [dict(x, datatype="BYTES")]}), 400)
    assert "has no input 'x'" in error_of(infer(server, "seed", {"inputs": [dict(x, name="x")]}), 400)
    assert "given twice" in error_of(infer(server, "seed", {"inputs": [x, x]}), 400)
    assert "'image' is missing" in error_of(infer(server, "mimo", {"inputs": [
        {"name": "tabular", "datatype": "FP32", "shape": [1, 8], "data": [0] * 8}]}), 400)
    assert "batch size" in error_of(infer(server, "mimo", {"inputs": [
        {"name": "tabular", "datatype": "FP32", "shape": [1, 8], "data": [0] * 8},
        {"name": "image", "datatype": "FP32", "shape": [2, 6, 6, 2], "data": [0] * 144}]}), 400)
    assert "no output 'nope'" in error_of(infer(server, "seed", {"inputs": [x], "outputs": [{"name": "nope"}]}), 400)
    assert "192 elements but \"data\" has 3" in error_of(infer(server, "seed", {"inputs": [dict(x, data=[1, 2, 3])]}), 400)
    assert "invalid JSON" in error_of(infer(server, "seed", b'{"inputs": [{"name": '), 400)
    r = requests.post(server.url + "/v2/models/seed/infer", data=b"x" * (2 << 20), timeout=TIMEOUT)
    assert "too large" in error_of(r, 413)
    huge = dict(x, shape=[1, 100000, 100000, 3], data=[0.0])
    assert "limit of 100000 elements" in error_of(infer(server, "seed", {"inputs": [huge]}), 413)
    assert "not found" in error_of(requests.get(server.url + "/v2/nothing", timeout=TIMEOUT), 404)


def test_metrics_and_access_log(server):
    x = {"name": "input", "datatype": "FP32", "shape": [1, 8, 8, 3], "data": [0.0] * 192}
    assert infer(server, "mimo", {"inputs": [x]}).status_code == 400
    assert infer(server, "seed", {"id": "m", "inputs": [x]}, version="1").status_code == 200
    text = requests.get(server.url + "/metrics", timeout=TIMEOUT).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    assert samples['kerasrt_requests_total{model="seed",version="1",protocol="http"}'] >= 1
    assert samples['kerasrt_request_failures_total{model="mimo",version="1",reason="bad_request"}'] >= 1
    assert samples['kerasrt_compute_seconds_count{model="seed",version="1"}'] >= 1
    assert samples['kerasrt_batch_size_bucket{model="seed",version="1",le="+Inf"}'] >= 1
    assert "# TYPE kerasrt_batch_size histogram" in text
    records = [json.loads(line) for line in server.access_log().splitlines() if line.startswith("{")]
    infer_records = [r for r in records if r["path"] == "/v2/models/seed/versions/1/infer"]
    assert infer_records and infer_records[-1]["status"] == 200 and infer_records[-1]["ms"] >= 0
    assert {"time", "remote", "method", "request_bytes", "response_bytes"} <= set(infer_records[-1])


def test_command_line_errors(tmp_path):
    import subprocess
    from conftest import CLI

    def run(*args):
        return subprocess.run([str(CLI), "serve", *args], capture_output=True, text=True, timeout=60)

    r = run()
    assert r.returncode == 2 and "serve needs --model-repository DIR" in r.stderr
    r = run("--model-repository", str(tmp_path / "absent"))
    assert r.returncode == 1 and "is not a directory" in r.stderr
    (tmp_path / "only_broken" / "m").mkdir(parents=True)
    (tmp_path / "only_broken" / "m" / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    r = run("--model-repository", str(tmp_path / "only_broken"), "--http-port", "0")
    assert r.returncode == 1 and "no model could be loaded" in r.stderr
    assert "model 'm' version 1 not loaded" in r.stdout
    r = run("--model-repository", str(tmp_path), "--max-batch", "x")
    assert r.returncode == 2 and "--max-batch expects a whole number" in r.stderr
