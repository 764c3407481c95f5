#!/usr/bin/python3
"""Seeds tests/fuzz/corpus/<target>/ from the fixtures, keeping only files that add coverage.

Collects candidates (models, their config.json and model.weights.h5, .npy files, the reader
test files), then lets each libFuzzer target pick a minimal covering subset with -merge=1.
Files above --max-kb are skipped, and if a target's merged seeds still exceed --budget-kb the
largest are dropped, to keep the committed corpora small.

    /usr/bin/python3 scripts/make_fuzz_seeds.py [--build build-fuzz] [--max-kb 24] [--budget-kb 320]
(the fuzz targets must be built: scripts/fuzz.sh 0 builds them).
"""
import argparse
import pathlib
import shutil
import subprocess
import tempfile
import zipfile

import h5py

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def small(paths, max_bytes):
    return sorted(p for p in paths if 0 < p.stat().st_size <= max_bytes)


def collect(work, max_bytes):
    cands = {t: work / t for t in ("zip", "hdf5", "json_config", "npy", "load_run")}
    for d in cands.values():
        d.mkdir(parents=True)
    fixtures = DATA / "fixtures"
    for i, k in enumerate(sorted(fixtures.rglob("model.keras"))):
        if 0 < k.stat().st_size <= max_bytes:
            shutil.copy(k, cands["zip"] / f"{i}.keras")
            shutil.copy(k, cands["load_run"] / f"{i}.keras")
        try:
            with zipfile.ZipFile(k) as z:
                names = z.namelist()
                if "config.json" in names:
                    (cands["json_config"] / f"{i}.json").write_bytes(z.read("config.json"))
                if "model.weights.h5" in names:
                    w = z.read("model.weights.h5")
                    if len(w) <= max_bytes:
                        (cands["hdf5"] / f"{i}.weights.h5").write_bytes(w)
        except (zipfile.BadZipFile, OSError):
            pass  # the error fixtures are broken on purpose; the fuzzers still see them above
    for i, h in enumerate(small(fixtures.rglob("model.h5"), max_bytes)):
        shutil.copy(h, cands["hdf5"] / f"{i}.h5")
        shutil.copy(h, cands["load_run"] / f"{i}.h5")
        try:
            with h5py.File(h, "r") as f:
                cfg = f.attrs.get("model_config")
                if cfg is not None:
                    text = cfg.decode() if isinstance(cfg, bytes) else str(cfg)
                    (cands["json_config"] / f"{i}.h5config.json").write_text(text)
        except OSError:
            pass
    for h in small((DATA / "hdf5").glob("*.h5"), max_bytes):
        shutil.copy(h, cands["hdf5"] / h.name)
    for z in small((DATA / "io").glob("*.zip"), max_bytes):
        shutil.copy(z, cands["zip"] / z.name)
    npys = small(list(fixtures.rglob("*.npy")) + list((DATA / "io").glob("*.npy")), max_bytes)
    for i, n in enumerate(npys):
        shutil.copy(n, cands["npy"] / f"{i}_{n.name}")
    return cands


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-fuzz")
    ap.add_argument("--max-kb", type=int, default=24)
    ap.add_argument("--budget-kb", type=int, default=320)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cands = collect(pathlib.Path(tmp), args.max_kb * 1024)
        for target, cand in cands.items():
            out = ROOT / "tests" / "fuzz" / "corpus" / target
            out.mkdir(parents=True, exist_ok=True)
            fuzzer = ROOT / args.build / "tests" / "fuzz" / f"fuzz_{target}"
            subprocess.run([str(fuzzer), "-merge=1", "-rss_limit_mb=2048", "-timeout=10", str(out), str(cand)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            files = sorted(out.iterdir(), key=lambda f: f.stat().st_size)
            total = 0
            for i, f in enumerate(files):
                total += f.stat().st_size
                if total > args.budget_kb * 1024:
                    for g in files[i:]:
                        g.unlink()
                    files = files[:i]
                    break
            print(f"{target}: {len(files)} seeds, {sum(f.stat().st_size for f in files) // 1024} KB")


if __name__ == "__main__":
    main()
