"""Every golden fixture through the Python API (load, predict) against Keras's saved outputs."""
import numpy as np
import pytest

import kerasrt
from fixtures import discover_runs, expected_unsupported, mismatch, read_numbered, reference_prefix, tolerance

RUNS = discover_runs()
UNSUPPORTED = expected_unsupported()


def load_run(run):
    weights = run.case_dir / run.weights_file if run.weights_file else None
    return kerasrt.load(run.case_dir / run.model_file, weights=weights)


def as_list(outputs):
    return outputs if isinstance(outputs, list) else [outputs]


def test_fixtures_were_found():
    # A wrong path must fail here rather than pass as an empty parametrization.
    assert len(RUNS) > 400, f"only {len(RUNS)} fixture runs found"


@pytest.mark.parametrize("run", RUNS, ids=[r.id for r in RUNS])
def test_matches_keras(run):
    case = "/".join(run.id.split("/")[:2])
    inputs = read_numbered(run.set_dir, "input_")
    assert inputs, f"{run.set_dir}: no input_0.npy"
    if case in UNSUPPORTED:
        with pytest.raises(kerasrt.Error) as err:
            load_run(run).predict(inputs)
        assert err.value.code == "unsupported", str(err.value)
        return
    model = load_run(run)
    outputs = as_list(model.predict(inputs))
    assert len(outputs) == len(model.outputs)
    prefix = reference_prefix(run)
    if not prefix:
        # No trustworthy Keras reference (tests/golden/real_references.txt): finite, and the same
        # numbers as the reference device.
        oracle = as_list(model.compile(device="reference")(inputs))
        for got, want in zip(outputs, oracle):
            assert np.isfinite(got).all()
            assert mismatch(got, want, tolerance(run.case_dir)) == ""
        return
    expected = read_numbered(run.set_dir, prefix)
    assert len(outputs) == len(expected)
    for i, (got, want) in enumerate(zip(outputs, expected)):
        assert got.dtype == np.float32
        assert mismatch(got, want, tolerance(run.case_dir)) == "", f"{run.id} output {i}"
