"""The optimizer leaderboard: every method on the same neurons, seeds and budgets, resumable.

One record per run (network, neuron, T, method, settings, seed, budget) is appended to a JSON-lines
file as it finishes, so an interrupted study resumes where it stopped (``--workers`` processes,
one torch thread each). Plans:

- ``dev``: the 12 development neurons of the demo SNN (tune only here), ``--methods``, ``--budgets``;
- ``heldout``: the pre-registered plan of ``leaderboard_plan.json`` on the neurons frozen in
  ``results/leaderboard_cases.json`` (run ``leaderboard_cases.py freeze`` first);
- ``t100``: the plan's T = 100 condition on a subset of the held-out neurons.

Summarise with ``benchmarks/summarize_leaderboard.py``.

Run:  .venv/bin/python benchmarks/leaderboard.py --plan heldout --workers 2
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from pathlib import Path

# one BLAS thread per worker (set before numpy loads; spawned workers import this module first):
# OpenBLAS's default threads made CMA's generation 17x slower on the loaded 2-core machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from leaderboard_cases import CASES, load_models, load_plan  # noqa: E402
from run_records import done_keys, search_run_fields  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RUNS = {"dev": RESULTS / "leaderboard_dev.jsonl", "heldout": RESULTS / "leaderboard_runs.jsonl",
        "t100": RESULTS / "leaderboard_runs.jsonl"}


def curve_marks(budget: int) -> np.ndarray:
    """Queries at which the best-so-far is recorded: log-spaced (for the log-budget area and the
    early part of success curves) and every 1% of the budget."""
    log = np.geomspace(1, budget, 120)
    linear = np.linspace(budget / 100, budget, 100)
    return np.unique(np.concatenate([log, linear]).round().astype(int).clip(1, budget))


def run_one(job: dict) -> dict:
    """One search, cut at exactly the budget; returns a JSON-able record."""
    import torch

    from mango_widgets.core.objective import Objective
    from mango_widgets.core.search import Search

    torch.set_num_threads(1)
    network, generator = load_models(job["source"], T=job["T"])
    objective = Objective(generator, network, job["target"])
    search = Search(objective, job["method"], budget=job["budget"], seed=job["seed"], threads=1, **job.get("settings", {}))
    search.run()
    optimizer = search.optimizer
    return {
        **{k: v for k, v in job.items() if k != "source"},
        **search_run_fields(search, curve_marks(job["budget"])),
        "repeat_rate": optimizer.repeat_rate,
        "asked": optimizer.asked,
        "params": optimizer.params(),
        "capabilities": optimizer.capabilities(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def key(job: dict) -> str:
    settings = json.dumps(job.get("settings", {}), sort_keys=True)
    return f"{job['network']}|{job['target']}|{job['T']}|{job['label']}|{settings}|{job['seed']}|{job['budget']}"


def make_jobs(plan_name: str, methods=None, budgets=None, seeds=None, variants=None) -> list:
    """The runs of a plan (a label names a method with settings: ``variants`` maps label -> (method, settings))."""
    plan = load_plan()
    variants = {**plan.get("variants", {}), **(variants or {})}

    def job(network, target, label, seed, budget, T):
        method, settings = variants.get(label, (label, {}))
        source = plan["networks"][network]
        return {"network": network, "source": source, "target": target, "T": T, "label": label, "method": method,
                "settings": settings, "seed": seed, "budget": budget}

    jobs = []
    if plan_name == "dev":
        network = plan["dev_network"]
        T = plan["networks"][network]["T"]
        for budget in budgets or (2000,):
            for label in methods or plan["dev_methods"]:
                for seed in range(seeds or 2):
                    jobs += [job(network, t, label, seed, budget, T) for t in plan["networks"][network]["dev"]]
    cases = json.loads(CASES.read_text()) if CASES.exists() else {}
    if plan_name == "heldout" and cases:
        for network, spec in plan["networks"].items():
            if network not in cases:
                print(f"{network}: no frozen held-out cases yet (leaderboard_cases.py freeze --network {network}); skipped")
                continue
            for budget, labels in plan["heldout"]["methods"].items():
                if budgets and int(budget) not in budgets:
                    continue
                for label in methods or labels:
                    if label not in labels:
                        continue
                    for seed in range(seeds or plan["heldout"]["seeds"]):
                        jobs += [job(network, t, label, seed, int(budget), spec["T"]) for t in cases[network]["heldout"]]
    if plan_name == "t100" and cases:
        spec = plan["t100"]
        neurons = cases[spec["network"]]["heldout"][: spec["neurons"]]
        for label in methods or spec["methods"]:
            for seed in range(seeds or spec["seeds"]):
                jobs += [job(spec["network"], t, label, seed, spec["budget"], spec["T"]) for t in neurons]
    # the smaller budget first, then seed by seed, neuron by neuron (layers taken in turn), every
    # method of a neuron together: partial results are paired and cover every depth
    rank = spread_order([j["target"] for j in jobs])
    return sorted(jobs, key=lambda j: (j["budget"], j["seed"], rank[j["target"]], j["network"], j["label"]))


def spread_order(targets) -> dict:
    """target -> rank that takes the layers in turn (lif1's 1st unit, lif2's 1st, ..., lif1's 2nd, ...)."""
    within, rank = {}, {}
    for target in dict.fromkeys(targets):
        layer = target.rsplit(":", 1)[0]
        within[layer] = within.get(layer, -1) + 1
        rank[target] = (within[layer], layer)
    order = sorted(rank, key=lambda t: rank[t])
    return {t: i for i, t in enumerate(order)}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="heldout", choices=("dev", "heldout", "t100"))
    parser.add_argument("--methods", nargs="*", help="labels (methods or the plan's variants); default: the plan's")
    parser.add_argument("--budgets", nargs="*", type=int)
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", help="JSON-lines file (default: by plan)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan's size and stop")
    args = parser.parse_args(argv)

    out = Path(args.out) if args.out else RUNS[args.plan]
    out.parent.mkdir(parents=True, exist_ok=True)
    done = done_keys(out, key)
    jobs = [j for j in make_jobs(args.plan, args.methods, args.budgets, args.seeds) if key(j) not in done]
    print(f"{len(done)} runs already in {out}; {len(jobs)} to go on {args.workers} worker(s)", flush=True)
    if args.dry_run or not jobs:
        return out
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.workers, maxtasksperchild=20) as pool, open(out, "a") as sink:
        for count, record in enumerate(pool.imap_unordered(run_one, jobs), 1):
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            print(f"[{count}/{len(jobs)}] {record['label']:>12} {record['network']} {record['target']:>10} T{record['T']} "
                  f"seed {record['seed']} budget {record['budget']}: best {record['best']:.4f} repeats "
                  f"{record['repeat_rate']:.3f} in {record['wall_seconds']:.1f} s", flush=True)
    return out


if __name__ == "__main__":
    main()
