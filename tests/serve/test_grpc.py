"""gRPC side of `kerasrt serve`: inference.GRPCInferenceService through stubs generated from
our .proto by Debian's grpc_python_plugin; raw and typed tensor contents, several inputs and
outputs, and status codes for errors. Outputs are compared with `kerasrt run`."""
import grpc
import numpy as np
import pytest

from conftest import MIMO, SEED, kerasrt_run


@pytest.fixture(scope="module")
def stub(server, grpc_stubs):
    _, pb_grpc = grpc_stubs
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    grpc.channel_ready_future(channel).result(timeout=30)
    yield pb_grpc.GRPCInferenceServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def pb(grpc_stubs):
    return grpc_stubs[0]


def raw_request(pb, model, inputs, version="", outputs=(), request_id=""):
    req = pb.ModelInferRequest(model_name=model, model_version=version, id=request_id)
    for name, x in inputs:
        req.inputs.add(name=name, datatype="FP32", shape=list(x.shape))
        req.raw_input_contents.append(np.ascontiguousarray(x, np.float32).tobytes())
    for o in outputs:
        req.outputs.add(name=o)
    return req


def outputs_of(res):
    assert len(res.raw_output_contents) == len(res.outputs)
    return {o.name: np.frombuffer(raw, np.float32).reshape(list(o.shape))
            for o, raw in zip(res.outputs, res.raw_output_contents)}


def test_health_and_metadata(stub, pb):
    assert stub.ServerLive(pb.ServerLiveRequest(), timeout=30).live
    assert stub.ServerReady(pb.ServerReadyRequest(), timeout=30).ready
    meta = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=30)
    assert meta.name == "kerasrt" and "binary_tensor_data" in meta.extensions
    assert stub.ModelReady(pb.ModelReadyRequest(name="seed", version="2"), timeout=30).ready
    assert not stub.ModelReady(pb.ModelReadyRequest(name="nope"), timeout=30).ready
    m = stub.ModelMetadata(pb.ModelMetadataRequest(name="mimo"), timeout=30)
    assert m.name == "mimo" and list(m.versions) == ["1"] and m.platform == "kerasrt"
    assert [(t.name, t.datatype, list(t.shape)) for t in m.inputs] == [
        ("tabular", "FP32", [-1, 8]), ("image", "FP32", [-1, 6, 6, 2])]
    assert [(t.name, list(t.shape)) for t in m.outputs] == [("regression", [-1, 1]), ("classes", [-1, 4])]
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelMetadata(pb.ModelMetadataRequest(name="nope"), timeout=30)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and "nope" in e.value.details()


def test_raw_contents_match_kerasrt_run(stub, pb, tmp_path):
    x = np.load(SEED / "input_0.npy").astype(np.float32)
    res = stub.ModelInfer(raw_request(pb, "seed", [("input", x)], version="1", request_id="g1"), timeout=30)
    assert res.model_name == "seed" and res.model_version == "1" and res.id == "g1"
    assert res.outputs[0].datatype == "FP32"
    (want,) = kerasrt_run(SEED / "model.keras", [x], tmp_path)
    np.testing.assert_array_equal(outputs_of(res)["deconv"], want)


def test_typed_contents_and_several_outputs(stub, pb, tmp_path):
    tab = np.load(MIMO / "input_0.npy").astype(np.float32)
    img = np.load(MIMO / "input_1.npy").astype(np.float32)
    want = kerasrt_run(MIMO / "model.keras", [tab, img], tmp_path)
    req = pb.ModelInferRequest(model_name="mimo")
    req.inputs.add(name="image", datatype="FP32", shape=list(img.shape)).contents.fp32_contents.extend(img.ravel())
    t = req.inputs.add(name="tabular", datatype="FP64", shape=list(tab.shape))
    t.contents.fp64_contents.extend(tab.astype(np.float64).ravel())
    req.outputs.add(name="classes")
    req.outputs.add(name="regression")
    out = outputs_of(stub.ModelInfer(req, timeout=30))
    assert list(out) == ["classes", "regression"]
    np.testing.assert_array_equal(out["regression"], want[0])
    np.testing.assert_array_equal(out["classes"], want[1])


def test_errors_have_status_codes(stub, pb):
    x = np.zeros((1, 8, 8, 3), np.float32)

    def code_of(req):
        with pytest.raises(grpc.RpcError) as e:
            stub.ModelInfer(req, timeout=30)
        return e.value.code(), e.value.details()

    code, msg = code_of(raw_request(pb, "nope", [("input", x)]))
    assert code == grpc.StatusCode.NOT_FOUND and "unknown model" in msg
    code, msg = code_of(raw_request(pb, "seed", [("input", np.zeros((1, 8, 8, 4), np.float32))]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "expects [-1, 8, 8, 3]" in msg
    lying = raw_request(pb, "seed", [("input", x)])
    lying.raw_input_contents[0] = lying.raw_input_contents[0][:-4]
    code, msg = code_of(lying)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "takes 768" in msg
    huge = pb.ModelInferRequest(model_name="seed")
    huge.inputs.add(name="input", datatype="FP32", shape=[1 << 40, 8, 8, 3])
    huge.raw_input_contents.append(b"\0" * 16)
    code, msg = code_of(huge)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "limit" in msg
    code, msg = code_of(raw_request(pb, "seed", [("input", x)], outputs=["nope"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "no output 'nope'" in msg
    # Above --max-body-bytes (1 MiB for this server): gRPC itself refuses the message.
    big = raw_request(pb, "seed", [("input", np.zeros((1500, 8, 8, 3), np.float32))])
    code, _ = code_of(big)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert stub.ServerLive(pb.ServerLiveRequest(), timeout=30).live
