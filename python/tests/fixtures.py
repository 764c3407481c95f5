"""Golden fixtures for the Python tests: the same cases tests/golden/fixture_case.cpp finds (the
project's copies under tests/data/fixtures, plus ../shared/fixtures for cases it lacks), with the
same model files, input sets, reference outputs and tolerances."""
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
ROOTS = [TESTS / "data" / "fixtures", REPO.parent / "shared" / "fixtures"]
GROUPS = ["seed", "layers", "models", "real"]


class FixtureRun(NamedTuple):
    case_dir: Path
    model_file: str
    weights_file: str  # the weights-only .h5 of an architecture JSON, else ""
    set_dir: Path
    id: str  # "layers/conv2d_valid/keras[/batch1]"


def _with_sets(base, runs):
    runs.append(base)
    sets = base.case_dir / "sets"
    if sets.is_dir():
        for s in sorted(sets.iterdir()):
            runs.append(base._replace(set_dir=s, id=f"{base.id}/{s.name}"))


def _listed_runs(case_dir, case_id, runs):
    """meta.json's model_files (real/): a model file, a TF.js folder, or JSON + weights .h5."""
    meta = json.loads((case_dir / "meta.json").read_text())
    files = meta.get("model_files")
    if not isinstance(files, list) or not files:
        return False
    arch = h5 = other = ""
    for name in files:
        if (case_dir / name).is_dir():
            other = f"{name}/model.json"
        elif name.endswith(".json"):
            arch = name
        elif name.endswith(".h5") and not h5:
            h5 = name
        else:
            other = name
    full_h5 = str(meta.get("format", "")).startswith("h5-full-model")
    if arch and h5:
        if full_h5:
            _with_sets(FixtureRun(case_dir, h5, "", case_dir, f"{case_id}/h5"), runs)
        _with_sets(FixtureRun(case_dir, arch, h5, case_dir, f"{case_id}/json_h5"), runs)
    elif other:
        kind = "tfjs" if Path(other).name == "model.json" else Path(other).suffix[1:]
        _with_sets(FixtureRun(case_dir, other, "", case_dir, f"{case_id}/{kind}"), runs)
    elif h5:
        _with_sets(FixtureRun(case_dir, h5, "", case_dir, f"{case_id}/h5"), runs)
    else:
        return False
    return True


def discover_runs():
    runs, seen = [], set()
    for root in ROOTS:
        for group in GROUPS:
            if not (root / group).is_dir():
                continue
            for case_dir in sorted(c for c in (root / group).iterdir() if (c / "meta.json").exists()):
                case_id = f"{group}/{case_dir.name}"
                if case_id in seen:
                    continue
                seen.add(case_id)
                if not _listed_runs(case_dir, case_id, runs):
                    for name in ("model.keras", "model.h5"):
                        if (case_dir / name).exists():
                            _with_sets(FixtureRun(case_dir, name, "", case_dir, f"{case_id}/{name[6:]}"), runs)
    return runs


def _listed(path):
    """Non-comment lines of a tests/golden list, split into fields."""
    lines = (line.split("#")[0].split() for line in path.read_text().splitlines())
    return [fields for fields in lines if fields]


def expected_unsupported():
    return {fields[0] for fields in _listed(TESTS / "golden" / "unsupported.txt")}


def reference_prefix(run):
    """tests/golden/real_references.txt overrides output_; "" means no trustworthy reference."""
    for fields in _listed(TESTS / "golden" / "real_references.txt"):
        if len(fields) >= 2 and fields[0] == run.case_dir.name:
            return "" if fields[1] == "none" else fields[1]
    return "output_"


def read_numbered(directory, prefix):
    out = []
    while (directory / f"{prefix}{len(out)}.npy").exists():
        out.append(np.load(directory / f"{prefix}{len(out)}.npy"))
    return out


def tolerance(case_dir):
    """(rtol, atol, atol scales with max|reference|) from meta.json, as the C++ golden test reads it."""
    meta = json.loads((case_dir / "meta.json").read_text())
    tol = meta.get("tolerance")
    if isinstance(tol, dict):
        rule = tol.get("rule")
        return tol.get("rtol", 1e-5), tol.get("atol", 1e-6), isinstance(rule, str) and "atol*max|ref|" in rule
    if case_dir.parent.name == "real":
        return 1e-4, 1e-5, False
    return 1e-5, 1e-6, False


def mismatch(got, want, tol):
    """"" when every element is within tolerance, else a description of the worst one."""
    rtol, atol, scaled = tol
    got = np.asarray(got, np.float32)
    want = np.asarray(want).astype(np.float32)
    if got.shape != want.shape:
        return f"shape {got.shape} != expected {want.shape}"
    if scaled and want.size:
        atol *= float(np.max(np.abs(want)))
    diff = np.abs(got.astype(np.float64) - want)
    bad = ~((diff <= atol + rtol * np.abs(want)) | (np.isnan(got) & np.isnan(want)))
    if not bad.any():
        return ""
    worst = int(np.argmax(np.where(bad, np.nan_to_num(diff, nan=np.inf), -1)))
    return (f"{int(bad.sum())} of {got.size} elements outside atol {atol} + rtol {rtol}; worst at flat index "
            f"{worst}: got {got.flat[worst]}, expected {want.flat[worst]}")
