"""Start-up of the command line: seconds until ``mango search --budget 25`` shows its first result.

Each run is a fresh process (`mango search ... --out <tmp>`), timed from launch until the
progress bar first shows a best value (the first batch answered), and until the process ends.
Variants, interleaved round by round so machine load hits them alike:

* ``first``: an empty jax compilation cache (what the very first run on a machine pays),
* ``second``: the cache the ``first`` run of the same round filled (every later run),
* ``no-cache``: ``MANGO_JAX_CACHE=0`` (the start-up before the cache existed);

and, in each round, one more process that times the steps to the first result in-process
(imports, models, optimizer, first ask/values/tell; cumulative seconds) with the filled cache.

The OS file cache is left as it is (dropping it needs root and disturbs the machine); the
first process of the whole benchmark is a warm-up whose time is not counted. Medians and the
ratios between variants come from the same run. Results: ``benchmarks/results/startup.json``.

Run: ``.venv/bin/python benchmarks/startup.py [--rounds 5] [--methods random tt-b]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "startup.json"
VARIANTS = ("first", "second", "no-cache")


def mango_command() -> list:
    """The installed ``mango`` script next to this interpreter (the command users run)."""
    script = Path(sys.executable).parent / "mango"
    return [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from mango_widgets.cli import main; sys.exit(main())"]


def time_run(method: str, cache: str, out: Path, threads: int) -> dict:
    """Launch one ``mango search``; seconds to its first shown best value and to its end."""
    environment = {**os.environ, "MANGO_JAX_CACHE": cache}
    command = mango_command() + ["search", "--budget", "25", "--method", method, "--threads", str(threads),
                                 "--out", str(out), "--save-every", "1000"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=environment)
    first = {}

    def watch():
        seen = b""
        for chunk in iter(lambda: process.stderr.read1(4096), b""):
            seen = (seen + chunk)[-4096:]
            if "first" not in first and b"best=" in seen:
                first["first"] = time.perf_counter() - started

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout = process.stdout.read()
    code = process.wait(timeout=600)
    total = time.perf_counter() - started
    watcher.join(timeout=10)
    if code != 0:
        raise RuntimeError(f"mango search {method} exited {code}: {stdout.decode()[-500:]}")
    return {"first_result_s": round(first.get("first", float("nan")), 3), "total_s": round(total, 3)}


#: a fresh process that times the steps to a first result in-process (where the start-up goes)
PHASES = """
import json, sys, time
t0 = time.perf_counter()
marks = {}
def mark(label):
    marks[label] = round(time.perf_counter() - t0, 3)
import torch
torch.set_num_threads(1)
mark("import torch")
from mango_widgets.core.objective import Objective
from mango_widgets.models.bundled import demo_generator, demo_network
mark("import mango_widgets")
objective = Objective(demo_generator(), demo_network(), "lif3:0")
mark("models loaded, network probed")
from mango_widgets.core.optimizers import make_optimizer
optimizer = make_optimizer(sys.argv[1], objective.grid, seed=0, budget=25)
mark("optimizer built (jax imported)")
indices = optimizer.ask()
mark("first ask (traced, compiled or loaded)")
values = objective(indices)
mark("first values: the first result")
optimizer.tell(indices, values)
mark("first tell")
print(json.dumps(marks))
"""


def time_phases(method: str, cache: str) -> dict:
    environment = {**os.environ, "MANGO_JAX_CACHE": cache}
    done = subprocess.run([sys.executable, "-c", PHASES, method], capture_output=True, text=True, env=environment, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-500:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=["random", "tt-b"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads of each run (default 1)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mango-startup-"))
    rows = []
    load_before = os.getloadavg()
    try:
        time_run(args.methods[0], "0", work / "warm-up", args.threads)  # load the OS file cache once
        for round_ in range(args.rounds):
            for method in args.methods:
                cache = work / f"jax-cache-{round_}-{method}"
                for variant in VARIANTS:
                    setting = "0" if variant == "no-cache" else str(cache)
                    result = time_run(method, setting, work / f"run-{round_}-{method}-{variant}", args.threads)
                    rows.append({"round": round_, "method": method, "variant": variant, **result})
                    print(json.dumps(rows[-1]), flush=True)
                phases = time_phases(method, str(cache))  # with the cache this round filled
                rows.append({"round": round_, "method": method, "variant": "phases (cache filled)", "phases": phases})
                print(json.dumps(rows[-1]), flush=True)
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {}
    for method in args.methods:
        medians = {}
        for variant in VARIANTS:
            chosen = [r for r in rows if r["method"] == method and r["variant"] == variant]
            medians[variant] = {key: round(statistics.median(r[key] for r in chosen), 3) for key in ("first_result_s", "total_s")}
        medians["second_vs_no_cache_first_result"] = round(
            medians["second"]["first_result_s"] / medians["no-cache"]["first_result_s"], 3)
        medians["second_vs_first_first_result"] = round(medians["second"]["first_result_s"] / medians["first"]["first_result_s"], 3)
        phases = [r["phases"] for r in rows if r["method"] == method and "phases" in r]
        medians["phases_in_process"] = {label: round(statistics.median(p[label] for p in phases), 3) for label in phases[0]}
        summary[method] = medians
    record = {
        "what": "seconds from launching `mango search --budget 25` to its first shown result, and to its end",
        "command": "python benchmarks/startup.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "rounds": args.rounds, "threads": args.threads,
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg(),
                    "python": platform.python_version(), "platform": platform.platform()},
        "summary": summary, "runs": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
