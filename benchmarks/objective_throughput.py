"""Queries per second of the demo objective (generator + SNN at T steps) by threads and batch size.

Every configuration is measured in interleaved rounds in one process, so machine noise hits
them alike; the medians and ratios go to benchmarks/results/objective_throughput.json.

Run: .venv/bin/python benchmarks/objective_throughput.py [--rounds 7] [--T 20]
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from mango_widgets.core.objective import Objective
from mango_widgets.models.bundled import demo_generator, demo_network
from mango_widgets.runtime.threads import torch_threads

RESULTS = Path(__file__).parent / "results" / "objective_throughput.json"


def measure(objective: Objective, batch: int, queries: int, rng: np.random.Generator) -> float:
    """Queries per second over ``queries`` fresh (uncached) random grid points."""
    start = time.perf_counter()
    done = 0
    while done < queries:
        objective.evaluate(objective.grid.random(batch, rng))
        done += batch
    return done / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--queries", type=int, default=400, help="queries per measurement")
    parser.add_argument("--T", type=int, nargs="+", default=[20])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[10, 25, 50, 100])
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    generator = demo_generator()
    configs = list(itertools.product(args.T, args.threads, args.batches))
    objectives = {T: Objective(generator, demo_network(T=T), "lif3:0") for T in args.T}
    samples = {c: [] for c in configs}
    rng = np.random.default_rng(0)
    for T, threads, batch in configs:  # warm-up
        with torch_threads(threads):
            measure(objectives[T], batch, batch * 2, rng)
    for round_ in range(args.rounds):
        for config in configs:
            T, threads, batch = config
            with torch_threads(threads):
                samples[config].append(measure(objectives[T], batch, args.queries, rng))
        print(f"round {round_ + 1}/{args.rounds} done")

    rows = []
    for (T, threads, batch), values in samples.items():
        rows.append({"T": T, "threads": threads, "batch": batch, "median_qps": statistics.median(values),
                     "min_qps": min(values), "max_qps": max(values), "samples": values})
    ratios = []
    for T, batch in itertools.product(args.T, args.batches):
        by_threads = {r["threads"]: r["median_qps"] for r in rows if r["T"] == T and r["batch"] == batch}
        if 1 in by_threads:
            ratios.append({"T": T, "batch": batch, **{f"{t}_threads_over_1": by_threads[t] / by_threads[1] for t in by_threads if t != 1}})
    result = {
        "benchmark": "objective_throughput",
        "what": "queries/s of the demo objective (DCGAN generator + demo SNN, target lif3:0), uncached random grid points",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "rounds": args.rounds,
        "queries_per_measurement": args.queries,
        "rows": rows,
        "thread_ratios": ratios,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    for row in rows:
        print(f"T={row['T']:>3} threads={row['threads']} batch={row['batch']:>4}: median {row['median_qps']:7.1f} q/s")
    for ratio in ratios:
        print(ratio)
    return result


if __name__ == "__main__":
    main()
