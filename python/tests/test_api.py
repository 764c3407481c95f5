"""The Keras-like API: loading, inspection, input forms, batching, compile options, errors."""
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import kerasrt
from fixtures import ROOTS

FIXTURES = ROOTS[0]
SEED = FIXTURES / "seed" / "seed_small_functional"
MIMO = FIXTURES / "models" / "multi_input_multi_output"


@pytest.fixture(scope="module")
def seed():
    return kerasrt.load(SEED / "model.keras")


@pytest.fixture(scope="module")
def seed_x():
    return np.load(SEED / "input_0.npy"), np.load(SEED / "output_0.npy")


@pytest.fixture(scope="module")
def mimo():
    return kerasrt.load(MIMO / "model.keras")


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_inputs_outputs_and_params(seed):
    assert seed.inputs == (kerasrt.TensorSpec("input", (None, 8, 8, 3), "float32"),)
    assert [o.name for o in seed.outputs] == ["deconv"]
    assert seed.outputs[0].shape == (None, 8, 8, 32)
    assert seed.count_params() == 155824  # meta.json's num_params, from Keras
    assert [layer[0] for layer in seed.layers][-1] == "deconv"


def test_summary_prints_keras_table(seed, capsys):
    seed.summary()
    printed = capsys.readouterr().out
    assert "deconv (Conv2DTranspose)" in printed and "(None, 8, 8, 32)" in printed
    assert "Total params: 155,824" in printed
    lines = []
    seed.summary(print_fn=lines.append)
    assert lines == [printed.rstrip("\n")]


def test_load_forms_agree(seed_x):
    x, y = seed_x
    for model in (kerasrt.load(str(SEED / "model.h5")), kerasrt.load_from_memory((SEED / "model.keras").read_bytes())):
        close(model.predict(x), y)


def test_input_forms(seed, seed_x):
    x, y = seed_x
    close(seed.predict(x), y)
    close(seed.predict([x]), y)
    close(seed.predict((x,)), y)
    close(seed.predict({"input": x}), y)
    close(seed.predict(x.tolist()), y)  # nested lists, as numpy.asarray reads them
    close(seed.predict(x.astype(np.float64)), y)  # converted to float32
    close(seed.predict(np.asfortranarray(x)), y)  # not C-contiguous: converted
    close(seed.predict(np.repeat(x, 2, axis=0)[::2]), y)  # strided view
    readonly = x.copy()
    readonly.flags.writeable = False
    close(seed.predict(readonly), y)
    close(seed(x), y)
    close(seed.predict_on_batch(x), y)
    close(seed.compile()(x), y)
    close(seed.compile().predict_on_batch(x), y)


def test_inputs_are_read_in_place(seed, seed_x):
    # tracemalloc sees numpy's allocations: a float32 C-contiguous batch must not be copied, a
    # float64 one is converted once.
    x = np.ascontiguousarray(np.tile(seed_x[0], (500, 1, 1, 1)))  # 1000 samples, 768 KB
    compiled = seed.compile(threads=1)
    compiled(x[:2])  # plans memory outside the measurement
    peaks = {}
    for name, arr in (("f32", x), ("f64", x.astype(np.float64))):
        tracemalloc.start()
        compiled(arr)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["f32"] < x.nbytes / 10, peaks
    assert peaks["f64"] >= x.nbytes, peaks
    x_before = x.copy()
    compiled(x)
    assert np.array_equal(x, x_before)  # the engine never writes to its inputs


def test_outputs_own_their_memory(seed, seed_x):
    x, y = seed_x
    first = seed.predict(x)
    second = seed.predict(x)
    first[...] = 0  # writable, and not shared with later results
    close(second, y)
    assert first.flags.c_contiguous and first.flags.writeable


def test_multi_input_multi_output(mimo):
    xs = [np.load(MIMO / "input_0.npy"), np.load(MIMO / "input_1.npy")]
    ys = [np.load(MIMO / "output_0.npy"), np.load(MIMO / "output_1.npy")]
    names = [s.name for s in mimo.inputs]
    for form in (xs, tuple(xs), dict(zip(names, xs)), dict(reversed(list(zip(names, xs))))):
        out = mimo.predict(form)
        assert isinstance(out, list) and len(out) == 2
        for got, want in zip(out, ys):
            close(got, want)
    with pytest.raises(kerasrt.Error, match="missing"):
        mimo.predict({names[0]: xs[0]})
    with pytest.raises(kerasrt.Error, match="unknown"):
        mimo.predict({**dict(zip(names, xs)), "extra": xs[0]})
    with pytest.raises(kerasrt.Error, match="takes 2 inputs"):
        mimo.predict(xs[0])
    with pytest.raises(kerasrt.Error, match="different numbers of samples"):
        mimo.predict([xs[0], xs[1][:1]])


@pytest.mark.parametrize("batch_size", [1, 3, 7, 32, None, 1000])
def test_batching_concatenates(seed, seed_x, batch_size):
    x = np.concatenate([seed_x[0], seed_x[0][::-1] * 0.5] * 10)  # 40 samples
    whole = seed.compile(threads=1)(x)
    got = seed.predict(x, batch_size=batch_size)
    assert got.shape == whole.shape
    close(got, whole)


def test_batching_multi_output(mimo):
    xs = [np.repeat(np.load(MIMO / f"input_{i}.npy"), 5, axis=0) for i in range(2)]
    whole = mimo(xs)
    batched = mimo.predict(xs, batch_size=3)
    for got, want in zip(batched, whole):
        close(got, want)


def test_verbose_prints_progress(seed, seed_x, capsys):
    seed.predict(np.repeat(seed_x[0], 5, axis=0), batch_size=2, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("5/5 [") and "ms/step" in out
    seed.predict(seed_x[0], verbose=0)
    assert capsys.readouterr().out == ""


def test_compile_options(seed, seed_x):
    x, y = seed_x
    for device in ("cpu", "reference"):
        for threads in (0, 1, 2):
            compiled = seed.compile(device=device, threads=threads, precision="fp32")
            assert compiled.device == device and compiled.threads == threads
            close(compiled(x), y)
            close(compiled.predict(x, batch_size=1), y)
    model = kerasrt.load(SEED / "model.keras")
    chosen = model.compile(device="reference")
    assert model._default() is chosen  # predict and __call__ use the model compiled last


def test_compile_errors(seed):
    with pytest.raises(kerasrt.Error, match=r"unknown device 'tpu' \(available: reference, cpu"):
        seed.compile(device="tpu")
    with pytest.raises(kerasrt.Error, match=r"unknown precision 'int4' \(expected fp32, tf32, fp16 or bf16\)"):
        seed.compile(precision="int4")
    with pytest.raises(kerasrt.Error, match="threads must be"):
        seed.compile(threads=-1)


def test_error_is_value_error_with_code_and_message(seed, seed_x):
    with pytest.raises(ValueError) as err:
        kerasrt.load("/nonexistent/model.keras")
    assert isinstance(err.value, kerasrt.Error)
    assert err.value.code == "io_error" and "/nonexistent/model.keras" in str(err.value)
    with pytest.raises(kerasrt.Error) as err:
        kerasrt.load(FIXTURES / "errors" / "lambda_layer" / "model.keras")
    assert err.value.code == "unsupported" and "Lambda" in str(err.value)
    with pytest.raises(kerasrt.Error) as err:
        seed.predict(np.zeros((2, 8, 8, 4), np.float32))
    assert err.value.code == "invalid_argument"
    assert "(2, 8, 8, 4)" in str(err.value) and "(None, 8, 8, 3)" in str(err.value)
    with pytest.raises(kerasrt.Error, match="expected a numpy array"):
        seed.predict(np.array([["a"]], dtype=object))
    with pytest.raises(kerasrt.Error, match="scalar"):
        seed.predict(np.float32(1))
    with pytest.raises(kerasrt.Error, match="batch_size"):
        seed.predict(seed_x[0], batch_size=0)
    with pytest.raises(kerasrt.Error, match="takes 1 input"):
        seed.compile()([seed_x[0], seed_x[0]])


def test_errors_fixtures_raise_kerasrt_error():
    # Every malformed file in tests/data/fixtures/errors is refused with a kerasrt.Error.
    cases = sorted(p for p in (FIXTURES / "errors").iterdir() if p.is_dir())
    assert cases
    for case in cases:
        files = [f for f in case.iterdir() if f.suffix in (".keras", ".h5")]
        assert files, case
        for f in files:
            with pytest.raises(kerasrt.Error) as err:
                kerasrt.load(f)
            assert f.name in str(err.value), f"{f}: the message names no file: {err.value}"


def test_paths_may_be_pathlike_and_repr(seed):
    model = kerasrt.load(Path(SEED) / "model.keras")
    assert "seed" in repr(model) and "input" in repr(model)
    assert kerasrt.__version__.count(".") == 2
    assert ("Dense", ) == tuple(n for n, _ in kerasrt.supported_layers() if n == "Dense")
