"""Optimizer overhead at a 10,000-query budget: model vs optimizer time of TT-b and Portfolio.

Each configuration is one full Search on a demo neuron in a fresh process (XLA reads its flags
once per process), run one at a time and interleaved over rounds so that machine noise hits
all alike. Configurations: TT-b with jax's default CPU runtime, with the bit-identical
("exact") and the full ``mango_widgets.runtime.xla_cpu`` tuning, and Portfolio; each with 1 and 2
torch threads. Whether each tuned TT-b asked exactly the points of the untuned one is recorded
(the hash of the query history): "exact" must, full tuning rounds differently.
A cProfile of Portfolio's ask/tell without a model says where nevergrad spends its time.

Run: .venv/bin/python benchmarks/optimizer_overhead.py   (about 20 minutes on 2 idle cores)
Results: benchmarks/results/optimizer_overhead.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
#: MANGO_XLA_TUNING values: "0" jax's defaults, "exact" bit-identical tuning, "1" full tuning
CONFIGS = (
    {"method": "tt-b", "xla_tuning": "0"},
    {"method": "tt-b", "xla_tuning": "exact"},
    {"method": "tt-b", "xla_tuning": "1"},
    {"method": "portfolio", "xla_tuning": "1"},
)


def run_config(job: dict) -> dict:
    """One search in this (fresh) process; the XLA setting is fixed before jax starts."""
    os.environ["MANGO_XLA_TUNING"] = job["xla_tuning"]
    from mango_widgets.core.objective import Objective
    from mango_widgets.core.optimizers import make_optimizer
    from mango_widgets.core.search import Search
    from mango_widgets.models.bundled import demo_generator, demo_network

    objective = Objective(demo_generator(), demo_network(), job["target"])
    started = time.perf_counter()  # JIT compilation of ask and tell (PROTES), kept apart
    warm_up = make_optimizer(job["method"], objective.generator.grid, seed=job["seed"] + 1, budget=job["budget"])
    asked = warm_up.ask()
    warm_up.tell(asked, np.zeros(len(asked)))
    compile_seconds = time.perf_counter() - started
    search = Search(objective, job["method"], budget=job["budget"], seed=job["seed"], threads=job["threads"])
    search.run()
    history = search.history
    batch = int(getattr(search.optimizer, "K", None) or getattr(search.optimizer, "batch_size", 1))
    asks = -(-len(history.values) // batch)
    indices = np.ascontiguousarray(np.asarray(history.indices, dtype=np.int64))
    return {
        **job,
        "queries": int(len(history.values)),
        "best": float(np.max(history.values)),
        "model_seconds": history.objective_seconds,
        "optimizer_seconds": history.optimizer_seconds,
        "wall_seconds": history.wall_seconds,
        "compile_seconds": compile_seconds,
        "optimizer_share": history.optimizer_seconds / history.wall_seconds,
        "model_ms_per_batch": 1e3 * history.objective_seconds / asks,
        "optimizer_ms_per_ask_tell": 1e3 * history.optimizer_seconds / asks,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "history_sha256": hashlib.sha256(indices.tobytes()).hexdigest(),
    }


def profile_portfolio(rounds: int = 80, batch: int = 25) -> dict:
    """Seconds of Portfolio's ask/tell (128 axes x 64 points, random values, no model) by the
    module the time is spent in (cProfile's own time per function, summed per file)."""
    import cProfile
    import pstats

    from mango_widgets.core.optimizers import make_optimizer
    from mango_widgets.core.space import LatentGrid

    optimizer = make_optimizer("portfolio", LatentGrid(d=128, n=64), seed=0, budget=10_000, batch_size=batch)
    rng = np.random.default_rng(0)
    for _ in range(20):  # past the first generations
        indices = optimizer.ask()
        optimizer.tell(indices, rng.random(len(indices)))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        indices = optimizer.ask()
        optimizer.tell(indices, rng.random(len(indices)))
    profiler.disable()
    by_file = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():
        by_file[_short(filename)] += own
    total = sum(by_file.values())
    top = sorted(by_file.items(), key=lambda kv: -kv[1])[:12]
    return {"rounds": rounds, "batch": batch, "profiled_seconds": total,
            "share_by_module": {name: seconds / total for name, seconds in top}}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lib/python"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def summarize(records: list) -> dict:
    groups = defaultdict(list)
    for r in records:
        groups[(r["method"], r["xla_tuning"], r["threads"])].append(r)
    rows = []
    for (method, tuning, threads), runs in sorted(groups.items()):
        rows.append({
            "method": method, "xla_tuning": tuning, "threads": threads, "runs": len(runs),
            **{f"{key}_median": float(np.median([r[key] for r in runs]))
               for key in ("optimizer_share", "model_ms_per_batch", "optimizer_ms_per_ask_tell",
                           "model_seconds", "optimizer_seconds", "wall_seconds", "compile_seconds")},
        })
    untuned_hash = {(r["threads"], r["round"]): r["history_sha256"] for r in records
                    if r["method"] == "tt-b" and r["xla_tuning"] == "0"}
    same = {f"tuning={r['xla_tuning']},threads={r['threads']},round={r['round']}":
            r["history_sha256"] == untuned_hash[(r["threads"], r["round"])]
            for r in records if r["method"] == "tt-b" and r["xla_tuning"] != "0"
            and (r["threads"], r["round"]) in untuned_hash}
    untuned_ms = {row["threads"]: row["optimizer_ms_per_ask_tell_median"] for row in rows
                  if row["method"] == "tt-b" and row["xla_tuning"] == "0"}
    ratios = {f"tuning={row['xla_tuning']},threads={row['threads']}":
              untuned_ms[row["threads"]] / row["optimizer_ms_per_ask_tell_median"]
              for row in rows if row["method"] == "tt-b" and row["xla_tuning"] != "0" and row["threads"] in untuned_ms}
    return {"rows": rows, "ttb_same_queries_as_untuned": same, "ttb_optimizer_speedup_over_untuned": ratios}


TUNING_NAMES = {"0": "off", "exact": "exact", "1": "full"}


def markdown(summary: dict) -> str:
    lines = ["| method | XLA tuning | torch threads | model ms / batch | optimizer ms / ask+tell | optimizer share | wall s | runs |",
             "|---|---|---|---|---|---|---|---|"]
    for row in summary["rows"]:
        lines.append(f"| {row['method']} | {TUNING_NAMES[row['xla_tuning']]} | {row['threads']} | "
                     f"{row['model_ms_per_batch_median']:.1f} | {row['optimizer_ms_per_ask_tell_median']:.2f} | "
                     f"{100 * row['optimizer_share_median']:.1f}% | {row['wall_seconds_median']:.1f} | {row['runs']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--target", default=None, help="neuron (default: the first benchmark neuron)")
    parser.add_argument("--out", default=str(RESULTS / "optimizer_overhead.json"))
    args = parser.parse_args(argv)

    target = args.target or json.loads((RESULTS / "optimizers.neurons.json").read_text())[0]
    context = multiprocessing.get_context("spawn")
    records = []
    for rnd in range(args.rounds):
        for threads in args.threads:
            for config in CONFIGS:
                job = {**config, "threads": threads, "round": rnd, "target": target, "seed": rnd, "budget": args.budget}
                with context.Pool(1) as pool:  # a fresh process per search
                    record = pool.apply(run_config, (job,))
                records.append(record)
                print(f"round {rnd} threads {threads} {record['method']:>9} tuning {record['xla_tuning']!s:>5}: "
                      f"model {record['model_ms_per_batch']:.1f} ms/batch, optimizer "
                      f"{record['optimizer_ms_per_ask_tell']:.2f} ms/ask+tell, share "
                      f"{100 * record['optimizer_share']:.1f}%", flush=True)
    with context.Pool(1) as pool:
        profile = pool.apply(profile_portfolio)
    summary = summarize(records)
    import jax
    import nevergrad
    import protes
    import torch

    out = Path(args.out)
    out.write_text(json.dumps({
        "command": "benchmarks/optimizer_overhead.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": {"jax": jax.__version__, "nevergrad": nevergrad.__version__,
                     "protes": getattr(protes, "__version__", "?"), "torch": torch.__version__},
        "target": target, "budget": args.budget, "summary": summary,
        "portfolio_profile": profile, "records": records,
    }, indent=2))
    print(markdown(summary))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))
    print(json.dumps(profile, indent=2))
    return out


if __name__ == "__main__":
    main()
