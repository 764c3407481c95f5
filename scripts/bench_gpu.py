#!/usr/bin/env python3
"""kerasrt on the GPU against PyTorch's best mode, in one call, on the same files and inputs.

    python3 scripts/bench_gpu.py --kerasrt build/kerasrt --kit ../shared/peers --out out/cuda

1. Rebuilds the kit's decoder and mobile as .keras files with seeded weights
   (KIT/gpu/weights_skeleton.py unpack), since the 39 MB decoder cannot travel to the GPU machine.
2. Runs KIT/gpu/torch_baseline.py on them (eager and CUDA graph, torch.compile reduce-overhead
   with --compile-ro, its default mode too with --torch-compile; fp32 with TF32 off and fp16) and
   keeps its fp32 outputs for batch 1 and 32. The table takes PyTorch's best mode per row.
3. Checks kerasrt's outputs on the same files and inputs against PyTorch's: max|y - ref| / max|ref|
   at most 1e-4 in fp32 (2e-2 in fp16), the kit's own rule.
4. Times kerasrt (`bench --device cuda --device-io`: inputs and outputs in GPU memory, CUDA events,
   median of 200 calls after 20), as the baseline times PyTorch.
Writes OUT/torch.jsonl, OUT/kerasrt.jsonl and OUT/results.md, and prints the table.
Needs numpy and h5py (as the kit does) and PyTorch with CUDA.
"""
import argparse, csv, json, os, subprocess, sys

import numpy as np

DECODER_WEIGHT_BYTES = 38.9e6  # the founding model's fp32 weights, read once per batch-1 call


def scale_rel(y, ref):
    return float(np.abs(y.astype(np.float64).reshape(ref.shape) - ref).max() / np.abs(ref).max())


def tiled_input(kit, model, batch, out):
    path = os.path.join(kit, "models", f"{model}_input_b{batch}.npy")
    if os.path.exists(path):
        return path
    x1 = np.load(os.path.join(kit, "models", f"{model}_input_b1.npy"))
    p32 = os.path.join(kit, "models", f"{model}_input_b32.npy")
    x32 = np.load(p32) if os.path.exists(p32) else np.repeat(x1, 32, axis=0)  # as torch_baseline.py does
    x = np.concatenate([x32] * (-(-batch // 32)), 0)[:batch]
    path = os.path.join(out, f"{model}_input_b{batch}.npy")
    np.save(path, x)
    return path


def run(cmd, log, timeout=None, env=None):
    print("+", " ".join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=None if env is None else {**os.environ, **env})
    except subprocess.TimeoutExpired as e:  # keep what it printed: the rows it finished
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        p = subprocess.CompletedProcess(cmd, 124, out, f"timed out after {timeout} s")
    with open(log, "a") as f:
        f.write("+ " + " ".join(cmd) + "\n" + p.stdout + p.stderr)
    return p


def env_of(spec):
    """{VAR: VALUE} for a VAR=VALUE spec (--ab-env, --profile), None for an empty one."""
    return dict([spec.split("=", 1)]) if spec else None


def profile(a, mdir, work, log, model, prec, batch, env=""):
    """Per-kernel GPU time of one bench call under ncu (each kernel node of the replayed graph);
    env: an optional VAR=VALUE set for that run."""
    iters = 20
    # Clocks and caches left as a timed run has them (ncu locks base clocks and flushes by default).
    p = run(["ncu", "--metrics", "gpu__time_duration.sum", "--clock-control", "none", "--cache-control", "none",
             "--csv", "--print-units", "base", a.kerasrt, "bench",
             os.path.join(mdir, f"{model}.keras"), "-i", tiled_input(a.kit, model, int(batch), work), "--device",
             "cuda", "--precision", prec, "--device-io", "--iters", str(iters), "--warmup", "1"]
            + ([] if a.f32_inputs else ["--stored-inputs"]), log,
            timeout=a.profile_timeout, env=env_of(env))
    per = {}
    for row in csv.reader(l for l in p.stdout.splitlines() if l.startswith('"')):
        if len(row) < 15 or row[-3] != "gpu__time_duration.sum":
            continue
        name = row[4].removeprefix("void ").replace("krt::cuda::", "").replace("(anonymous namespace)::", "")
        per.setdefault(name.split("(")[0][:80], []).append(float(row[-1].replace(",", "")) / 1e3)
    with open(os.path.join(a.out, f"ncu_{model}_{prec}_b{batch}{'_ab' if env else ''}.csv"), "w") as f:
        f.write(p.stdout)
    # Calls: every kernel of a call runs at least once per call; kernels seen fewer times ran once
    # (weight conversion, cuBLASLt's candidates timed on the first run) and are left out.
    counts = [len(ts) for ts in per.values() if len(ts) >= iters]
    runs = min(counts) if counts else 1
    lines = [f"ncu, {model} {prec} batch {batch} {env}: us per call by kernel (mean over {runs} calls)",
             "", "| kernel | launches per call | us per call |", "|---|---|---|"]
    total = 0.0
    for name, ts in sorted(per.items(), key=lambda kv: -sum(kv[1])):
        if len(ts) < runs:
            continue  # once at compile time
        total += sum(ts) / runs
        lines.append(f"| {name} | {len(ts) / runs:.1f} | {sum(ts) / runs:.1f} |")
    lines.append(f"| total | | {total:.1f} |")
    return "\n".join(lines) if per else f"ncu {model} {prec} {batch}: no kernels ({p.stderr[-300:]})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kerasrt", required=True)
    ap.add_argument("--kit", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default="decoder,mobile")
    ap.add_argument("--batches", default="1,32,256")
    ap.add_argument("--precisions", default="fp32,fp16,bf16,tf32")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-modes", default="eager,graph", help="torch_baseline.py --modes")
    ap.add_argument("--torch-compile", action="store_true", help="also torch.compile (minutes per model)")
    ap.add_argument("--compile-ro", default="decoder,mobile", metavar="MODELS",
                    help="also torch.compile reduce-overhead on these models ('' for none; 5-15 s a row)")
    ap.add_argument("--compile-timeout", type=float, default=None, help="seconds for the --compile-ro rows")
    ap.add_argument("--profile", default="", help="MODEL:PRECISION:BATCH[:VAR=VALUE],...: per-kernel times under ncu")
    ap.add_argument("--ab-env", action="append", default=[], metavar="VAR=VALUE",
                    help="also time every kerasrt row with this environment variable set (a column; repeatable)")
    ap.add_argument("--ab-f32-inputs", action="store_true",
                    help="also time every kerasrt row with float32 device inputs (a column)")
    ap.add_argument("--f32-inputs", action="store_true",
                    help="give kerasrt float32 device inputs at every precision (converted inside each timed "
                         "call); by default they are in the precision's dtype, as PyTorch's half inputs")
    ap.add_argument("--profile-timeout", type=float, default=150, help="seconds for each --profile run")
    a = ap.parse_args()
    models, batches = a.models.split(","), [int(b) for b in a.batches.split(",")]
    work = os.environ.get("TMPDIR", "/tmp") + "/kerasrt_bench"  # models and outputs; OUT gets the results
    mdir = os.path.join(work, "models")
    os.makedirs(mdir, exist_ok=True)
    log = os.path.join(a.out, "bench.log")
    for m in models:
        p = run([sys.executable, os.path.join(a.kit, "gpu", "weights_skeleton.py"), "unpack",
                 os.path.join(a.kit, "gpu", f"{m}.skeleton.json"), os.path.join(mdir, f"{m}.keras")], log)
        if p.returncode:
            sys.exit(f"unpack {m} failed: {p.stderr[-500:]}")

    torch_rows = []
    if not a.no_torch:
        p = run([sys.executable, os.path.join(a.kit, "gpu", "torch_baseline.py"), "--models", a.models,
                 "--batches", a.batches, "--modes", a.torch_modes, "--models-dir", mdir, "--no-check",
                 "--save-outputs", mdir] + (["--compile"] if a.torch_compile else []), log)
        with open(os.path.join(a.out, "torch.jsonl"), "w") as f:
            f.write(p.stdout)
        torch_rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    if a.compile_ro and not a.no_torch:
        dtypes = ",".join(d for d in a.precisions.split(",") if d in ("fp32", "fp16"))
        p = run([sys.executable, os.path.join(a.kit, "gpu", "torch_baseline.py"), "--models", a.compile_ro,
                 "--batches", a.batches, "--modes", "compile-ro",
                 "--dtypes", dtypes, "--variants", "bn-folded", "--models-dir", mdir, "--no-check"], log,
                timeout=a.compile_timeout)
        with open(os.path.join(a.out, "torch.jsonl"), "a") as f:
            f.write(p.stdout)
        torch_rows += [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    best = {}
    for r in torch_rows:
        if "median_ms" not in r:
            continue
        k = (r["model"], r["dtype"], r["batch"])
        if k not in best or r["median_ms"] < best[k]["median_ms"]:
            best[k] = r

    def variants(cmd):
        """The extra columns: (label, environment, command) for each --ab-env and --ab-f32-inputs."""
        out = [(f"with {ab}", env_of(ab), cmd) for ab in a.ab_env]
        if a.ab_f32_inputs and not a.f32_inputs:
            out.append(("float32 inputs", None, [c for c in cmd if c != "--stored-inputs"]))
        return out

    checks, rows = [], []
    for m in models:
        for prec in a.precisions.split(","):
            for b in (1, 32):
                ref_path = os.path.join(mdir, f"{m}_torch_b{b}.npy")
                if not os.path.exists(ref_path):
                    continue
                # The A/B variables' kernels are checked too: a column is only worth what they compute.
                for ab in [None] + a.ab_env:
                    label = prec + (f" {ab}" if ab else "")
                    od = os.path.join(work, f"out_{m}_{prec}_b{b}")
                    p = run([a.kerasrt, "run", os.path.join(mdir, f"{m}.keras"), "-i", tiled_input(a.kit, m, b, work),
                             "-o", od, "--device", "cuda", "--precision", prec], log, env=env_of(ab))
                    if p.returncode:
                        checks.append((m, label, b, None, "FAILED: " + (p.stderr.strip().splitlines() or ["?"])[-1]))
                        continue
                    err = scale_rel(np.load(os.path.join(od, "output_0.npy")), np.load(ref_path).astype(np.float64))
                    tol = {"fp32": 1e-4, "tf32": 5e-3, "fp16": 2e-2, "bf16": 8e-2}[prec]
                    checks.append((m, label, b, err, "pass" if err <= tol else f"FAIL (tol {tol})"))
        for prec in a.precisions.split(","):
            for b in batches:
                bench_cmd = [a.kerasrt, "bench", os.path.join(mdir, f"{m}.keras"), "-i", tiled_input(a.kit, m, b, work),
                             "--device", "cuda", "--precision", prec, "--device-io", "--iters", "200", "--warmup", "20",
                             "--json"] + ([] if a.f32_inputs else ["--stored-inputs"])
                p = run(bench_cmd, log)
                line = [l for l in p.stdout.splitlines() if l.startswith("{")]
                r = json.loads(line[-1]) if line else {"error": p.stderr.strip()[-300:]}
                r.update(model=m, precision=prec, batch=b)
                r["ab_ms"] = []
                for label, env, cmd in variants(bench_cmd):  # the same row again, right after
                    p = run(cmd, log, env=env)
                    line = [l for l in p.stdout.splitlines() if l.startswith("{")]
                    r["ab_ms"].append(json.loads(line[-1]).get("median_ms") if line else None)
                rows.append(r)
    with open(os.path.join(a.out, "kerasrt.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

    gpu = next((r.get("gpu") for r in torch_rows if r.get("gpu")), None) or next(
        (r.get("device_name") for r in rows if r.get("device_name")), "?")
    ab = "".join(f" kerasrt ms, {label} |" for label, _, _ in variants([]))
    inputs_note = ("kerasrt's device inputs: float32 at every precision (converted inside each timed call)"
                   if a.f32_inputs else "kerasrt's device inputs: in the precision's dtype (float16 under fp16), "
                   "as PyTorch's")
    md = [f"GPU: {gpu}", "", inputs_note, "", "| model | precision | batch | PyTorch best (mode) ms | kerasrt ms | PyTorch / kerasrt |" + ab,
          "|---|---|---|---|---|---|" + "---|" * len(variants([]))]
    for r in rows:
        t = best.get((r["model"], "fp32" if r["precision"] == "fp32" else r["precision"], r["batch"]))
        k = r.get("median_ms")
        tt = f"{t['median_ms']:.4f} ({t['mode']}, {t['variant']})" if t else "-"
        ratio = f"{t['median_ms'] / k:.2f}x" if t and k else "-"
        md.append(f"| {r['model']} | {r['precision']} | {r['batch']} | {tt} | {k if k else r.get('error', '?')} | {ratio} |"
                  + "".join(f" {v} |" for v in r.get("ab_ms", [])))
        if r["model"] == "decoder" and r["batch"] == 1 and k and r["precision"] in ("fp32", "tf32"):
            md.append(f"|  | (decoder b1 {r['precision']}: {DECODER_WEIGHT_BYTES / (k * 1e-3) / 1e12:.2f} TB/s of weights read) | | | | |")
    md += ["", "| model | precision | batch | max abs err / max abs (vs PyTorch fp32) | result |", "|---|---|---|---|---|"]
    for m, prec, b, err, res in checks:
        md.append(f"| {m} | {prec} | {b} | {'-' if err is None else f'{err:.3g}'} | {res} |")
    for spec in filter(None, a.profile.split(",")):
        md += ["", profile(a, mdir, work, log, *spec.split(":", 3))]
    text = "\n".join(md) + "\n"
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(text)
    print(text)
    return 0 if all(c[4] == "pass" for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
