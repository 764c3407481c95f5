#!/usr/bin/python3
"""kerasrt against ONNX Runtime on the peer kit's workloads, in one run, with the machine's ceilings.

    bench/side_by_side.py PEERS_DIR KERASRT [--write docs/performance.md] [--models decoder mobile]
                          [--batches 1 32] [--threads 1 2] [--rounds 2] [--before OTHER_KERASRT]

PEERS_DIR is a writable copy of ../shared/peers with `ONNXRUNTIME_NODE_INSTALL=skip npm ci` done.
In one run it measures:
  - the machine's fp32 FMA peak and DRAM read bandwidth (the kit's peak/fma_peak.c and membw.c,
    built here with -march=native: they are measuring tools, not part of kerasrt);
  - for every model, batch and thread count, ORT (`ort_bench.js`) and kerasrt (`peer-bench`)
    interleaved `--rounds` times, each engine's best median; every output checked against Keras
    with the kit's compare.py; with --before, a second kerasrt build interleaved too;
  - start-up: ORT's session creation + first run (`ort_first_result.js`, in-process, one thread)
    against a whole `kerasrt run --threads 1` process (best of 5 each), kerasrt's load_ms, the time
    to read the model file from the page cache, and peak RSS of `kerasrt run` above a tiny model's.
It prints a Markdown section; --write replaces the part of FILE between the markers
`<!-- side_by_side:begin -->` and `<!-- side_by_side:end -->` (appended when absent).
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BEGIN, END = "<!-- side_by_side:begin -->", "<!-- side_by_side:end -->"
ITERS = {("decoder", 1): 300, ("decoder", 32): 60, ("mobile", 1): 100, ("mobile", 32): 12}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def json_line(text):
    return json.loads([l for l in text.splitlines() if l.startswith("{")][-1])


def keras_file(peers, m):
    if m != "decoder":
        return os.path.join(peers, "models", m + ".keras")
    for p in (os.path.join(peers, "..", "fixtures", "seed", "seed_full", "model.keras"),
              "/work/shared/fixtures/seed/seed_full/model.keras",
              os.path.join(ROOT, "..", "shared", "fixtures", "seed", "seed_full", "model.keras")):
        if os.path.exists(p):
            return os.path.abspath(p)
    sys.exit("side_by_side: the decoder (seed_full/model.keras) was not found")


def npy(peers, m, what, b):
    p = os.path.join(peers, "models", f"{m}_{what}_b{b}.npy")
    return p if os.path.exists(p) else os.path.join(peers, "out", f"{m}_{what}_b{b}.npy")


def ceilings(peers, tmp):
    out = {}
    for tool in ("fma_peak", "membw"):
        sh(["gcc", "-O3", "-march=native", "-fopenmp", os.path.join(peers, "peak", tool + ".c"),
            "-o", os.path.join(tmp, tool)])
    for t in (1, 2):
        env = dict(os.environ, OMP_NUM_THREADS=str(t))
        text = sh([os.path.join(tmp, "fma_peak")], env=env)
        out[("fma", t)] = float(re.search(r"AVX-512 fp32 FMA peak.*?: ([0-9.]+) GFLOP/s", text)[1])
        text = sh([os.path.join(tmp, "membw"), "512"], env=env)
        out[("bw", t)] = float(re.search(r": ([0-9.]+) GB/s", text)[1])
    return out


def compare(peers, out, ref):
    r = subprocess.run(["/usr/bin/python3", os.path.join(peers, "tools", "compare.py"), out, ref],
                       capture_output=True, text=True)
    return json_line(r.stdout) if r.stdout.strip() else {"pass": False, "scale_rel_err": math.nan}


def timed_rows(a, peers, engines, manifest):
    rows = []
    for m in a.models:
        for b in a.batches:
            for t in a.threads:
                it = ITERS.get((m, b), 20)
                x = npy(peers, m, "input", b)
                best = {name: math.inf for name in ["ort"] + [e for e, _ in engines]}
                errs, others = {}, []
                for r in range(a.rounds):
                    o = os.path.join(peers, "out", f"sbs_ort_{m}_b{b}_t{t}.npy")
                    j = json_line(sh(["node", "ort_bench.js", f"models/{m}.onnx", x, str(t), str(it),
                                      "--out", o], cwd=peers))
                    best["ort"] = min(best["ort"], j["median_ms"])
                    others.append(j.get("others_cpu_cores") or 0)
                    if r == 0:
                        errs["ort"] = compare(peers, o, npy(peers, m, "output", b))
                    for name, exe in engines:
                        o = os.path.join(peers, "out", f"sbs_{name}_{m}_b{b}_t{t}.npy")
                        j = json_line(sh([exe, "peer-bench", keras_file(peers, m), x, str(t), str(it),
                                          "--out", o]))
                        best[name] = min(best[name], j["median_ms"])
                        others.append(j.get("others_cpu_cores") or 0)
                        if r == 0:
                            errs[name] = compare(peers, o, npy(peers, m, "output", b))
                flops = manifest["models"][m]["flops_per_sample"] * b
                rows.append(dict(model=m, batch=b, threads=t, best=best, errs=errs,
                                 others=max(others), gflops=flops / best["kerasrt"] / 1e6))
                print(f"side_by_side: {m} b{b} t{t}: " +
                      ", ".join(f"{k} {v:.3f} ms" for k, v in best.items()), file=sys.stderr)
    return rows


def process_ms(cmd, n=5):
    best = math.inf
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


def peak_rss_mb(cmd):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, check=True, capture_output=True, text=True)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)[1]) / 1024


def page_cache_read_ms(path, n=5):
    best = math.inf
    for _ in range(n):
        t0 = time.perf_counter()
        with open(path, "rb", buffering=0) as f:
            while f.read(1 << 22):
                pass
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


def startup_rows(a, peers, exe, tmp):
    # A tiny model that still starts oneDNN (a convolution), so the baseline holds its runtime.
    tiny = os.path.join(ROOT, "tests", "data", "fixtures", "layers",
                        "cf_stack_conv_bn_pool_flatten_dense")
    tiny_cmd = [exe, "run", os.path.join(tiny, "model.keras"), "-i", os.path.join(tiny, "input_0.npy"),
                "-o", tmp, "--threads", "1"]
    tiny_rss = min(peak_rss_mb(tiny_cmd) for _ in range(3))
    rows = []
    for m in a.models:
        k, x = keras_file(peers, m), npy(peers, m, "input", 1)
        ort = json_line(sh(["node", "ort_first_result.js", f"models/{m}.onnx", x, "5"], cwd=peers))
        run_cmd = [exe, "run", k, "-i", x, "-o", tmp, "--threads", "1"]
        first = process_ms(run_cmd)
        load = min(json_line(sh([exe, "bench", k, "-i", x, "--iters", "1", "--warmup", "0", "--json",
                                 "--threads", "1"]))["load_ms"] for _ in range(5))
        read = page_cache_read_ms(k)
        rss = min(peak_rss_mb(run_cmd) for _ in range(3))
        with open(os.path.join(peers, "models", "MANIFEST.json")) as f:
            params = json.load(f)["models"][m]["params"]
        rows.append(dict(model=m, ort_first=ort["first_result_ms"], ort_create=ort["create_ms"],
                         first=first, load=load, read=read, rss=rss, tiny_rss=tiny_rss,
                         weights_mb=params * 4 / 2**20))
    return rows


def machine():
    name = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            name = re.search(r"model name\s*:\s*(.*)", f.read())[1]
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores ({platform.machine()}, Linux {platform.release()})"


def markdown(a, rows, start, ceil, engines, command, when):
    has_before = any(e == "before" for e, _ in engines)
    out = [f"### {when}, side by side with ONNX Runtime (`bench/side_by_side.py`)", "",
           f"Machine: {machine()}. Command, from the repository root: `{command}`. "
           f"Each engine's best of {a.rounds} medians, interleaved in one run; ms per call. "
           "FMA peak and DRAM read bandwidth were measured in the same run "
           f"(`peak/fma_peak.c`, `peak/membw.c`): FMA {ceil[('fma', 1)]:.1f} GFLOP/s on one "
           f"thread, {ceil[('fma', 2)]:.1f} on two; reads {ceil[('bw', 1)]:.1f} GB/s on one "
           f"thread, {ceil[('bw', 2)]:.1f} on two.", ""]
    head = "| model | batch | threads | ORT ms | kerasrt ms |"
    rule = "|---|---|---|---|---|"
    if has_before:
        head += " before ms | after / before |"
        rule += "---|---|"
    head += " ORT / kerasrt | kerasrt GFLOP/s | % of FMA peak | % of read bandwidth | others' cores |"
    rule += "---|---|---|---|---|"
    out += [head, rule]
    ratios = []
    for r in rows:
        o, k = r["best"]["ort"], r["best"]["kerasrt"]
        ratios.append(o / k)
        line = f"| {r['model']} | {r['batch']} | {r['threads']} | {o:.3f} | {k:.3f} |"
        if has_before:
            line += f" {r['best']['before']:.3f} | {k / r['best']['before']:.3f} |"
        fma = 100 * r["gflops"] / ceil[("fma", r["threads"])]
        bw = ""
        if r["model"] == "decoder" and r["batch"] == 1:
            bw = f"{100 * 38.9e6 / (k / 1000) / 1e9 / ceil[('bw', r['threads'])]:.0f}%"
        fails = [e for e, c in r["errs"].items() if not c.get("pass")]
        line += (f" **{o / k:.2f}** | {r['gflops']:.1f} | {fma:.0f}% | {bw} | {r['others']:.2f} |"
                 + (f" output check FAILED: {', '.join(fails)}" if fails else ""))
        out.append(line)
    if not rows:
        out = out[:3]
    geo = math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else math.nan
    out += [] if not rows else ["", f"Geometric mean of ORT time / kerasrt time: **{geo:.2f}**. Every output passed the "
            "kit's compare.py against Keras" +
            ("." if all(c.get("pass") for r in rows for c in r["errs"].values()) else
             " except those marked.") + " The read-bandwidth column counts the decoder's 38.9 MB "
            "of weights per call.", ""]
    if start:
        out += ["Start-up (one thread; best of 5): ORT's `InferenceSession.create` + first run in-process "
                "against a whole `kerasrt run` process (process start, load, compile, run, writing "
                "the output); `load_ms` from `kerasrt bench --json`; the model file read from the page "
                "cache; peak RSS of `kerasrt run` (`/usr/bin/time -v`) above that of a tiny model's "
                f"(`layers/cf_stack_conv_bn_pool_flatten_dense`, {start[0]['tiny_rss']:.1f} MB).", "",
                "| model | ORT create + first run ms | kerasrt run process ms | ORT / kerasrt | "
                "load_ms | file read ms | load / (3 x read + 10) | peak RSS MB | above tiny / weights |",
                "|---|---|---|---|---|---|---|---|---|"]
        for s in start:
            above = (s["rss"] - s["tiny_rss"]) / s["weights_mb"]
            out.append(f"| {s['model']} | {s['ort_first']:.1f} | {s['first']:.1f} | "
                       f"{s['ort_first'] / s['first']:.2f} | {s['load']:.1f} | {s['read']:.1f} | "
                       f"{s['load'] / (3 * s['read'] + 10):.2f} | {s['rss']:.1f} | {above:.2f} |")
        out.append("")
    return "\n".join(out)


def write_section(path, text):
    doc = open(path).read() if os.path.exists(path) else ""
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("peers")
    ap.add_argument("kerasrt")
    ap.add_argument("--before", help="another kerasrt binary, interleaved as 'before'")
    ap.add_argument("--write", help="Markdown file whose marked section is replaced")
    ap.add_argument("--models", nargs="+", default=["decoder", "mobile"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 32])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-startup", action="store_true")
    ap.add_argument("--startup-only", action="store_true", help="skip the timed rows")
    a = ap.parse_args()
    peers = os.path.abspath(a.peers)
    engines = [("kerasrt", os.path.abspath(a.kerasrt))]
    if a.before:
        engines.append(("before", os.path.abspath(a.before)))
    command = "bench/side_by_side.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    when = datetime.date.today().isoformat()
    os.makedirs(os.path.join(peers, "out"), exist_ok=True)
    sh(["/usr/bin/python3", "tools/tile_b32.py"], cwd=peers)
    with open(os.path.join(peers, "models", "MANIFEST.json")) as f:
        manifest = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        ceil = ceilings(peers, tmp)
        rows = [] if a.startup_only else timed_rows(a, peers, engines, manifest)
        start = [] if a.no_startup else startup_rows(a, peers, engines[0][1], tmp)
    text = markdown(a, rows, start, ceil, engines, command, when)
    print(text)
    if a.write:
        write_section(a.write, text)


if __name__ == "__main__":
    main()
