"""Our PROTES driver against the PROTES authors' published log, on the same problem.

The PROTES repository's calc/log_one.txt reports PROTES on the binary knapsack problem P-14
(d = 50, n = 2, Dong et al. 2021 problem k3, known minimum -3103) with k=50, k_top=5, k_gd=100,
lr=1e-4, r=5: 10 seeds at 1e5 queries, mean -3094.5, best -3103 (and -3079 for one run at 1e4
in calc/log.txt). teneva_bm's ``BmQuboFixKnap50`` is that problem. Each seed here runs our
ask/tell driver and, side by side, ``protes.protes`` itself with the same settings and seed;
both results are written to benchmarks/results/published_check.json next to the published ones.
(The log's analytic functions: benchmarks/analytic_check.py, which finds the log's values
unreachable with teneva_bm 0.1.0's definitions and checks both drivers against exact grid minima.)

Run (slow: 100 Adam steps per batch; about 1-2 min per 1e4 queries on an idle core):
  .venv/bin/python benchmarks/published_check.py --budget 10000 --seeds 3
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
PUBLISHED = {"problem": "P-14 knapsack (calc/log_one.txt, calc/log.txt of anabatsh/PROTES)", "optimum": -3103.0,
             "budget_1e5_mean_of_10_seeds": -3094.5, "budget_1e5_best_of_10_seeds": -3103.0,
             "budget_1e5_per_seed": [-3087, -3091, -3095, -3103, -3095, -3096, -3091, -3103, -3093, -3091],
             "budget_1e4_single_run": -3079.0}
SETTINGS = {"K": 50, "k_top": 5, "k_gd": 100, "lr": 1e-4, "rank": 5}


def minimise_ours(f, d: int, n: int, budget: int, seed: int) -> dict:
    """Minimise f on a d x n grid with our ask/tell PROTES and the authors' settings (it
    maximises: tell -f); whole batches until the budget is spent, as ``protes.protes`` does."""
    from mango_widgets import LatentGrid, make_optimizer

    optimizer = make_optimizer("protes", LatentGrid(d=d, n=n), seed=seed, budget=budget, **SETTINGS)
    best, used, start = np.inf, 0, time.perf_counter()
    while used < budget:
        batch = optimizer.ask()
        values = f(batch)
        used += len(batch)
        best = min(best, float(np.min(values)))
        optimizer.tell(batch, -values)
    return {"best": best, "queries": used, "seconds": time.perf_counter() - start}


def minimise_protes(f, d: int, n: int, budget: int, seed: int, maximise_negated: bool = False) -> dict:
    """The same with ``protes.protes`` (the authors' blocking driver), minimising f as their log
    did, or maximising -f as our driver does (then it must ask exactly what ours asks: the two
    differ only in how ties among the elite are broken)."""
    from protes import protes

    target = (lambda I: -f(I)) if maximise_negated else f
    start = time.perf_counter()
    _, y = protes(target, d, n, budget, k=SETTINGS["K"], k_top=SETTINGS["k_top"], k_gd=SETTINGS["k_gd"],
                  lr=SETTINGS["lr"], r=SETTINGS["rank"], seed=seed, is_max=maximise_negated)
    return {"best": -float(y) if maximise_negated else float(y), "queries": budget, "seconds": time.perf_counter() - start}


def ours(bm, budget: int, seed: int) -> dict:
    """Minimise the knapsack with our ask/tell PROTES."""
    return minimise_ours(bm.get, bm.d, 2, budget, seed)


def reference(bm, budget: int, seed: int, maximise_negated: bool = False) -> dict:
    """The knapsack with ``protes.protes`` (knapsack values tie often)."""
    return minimise_protes(bm.get, bm.d, 2, budget, seed, maximise_negated)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip protes.protes (halves the time)")
    parser.add_argument("--out", default=str(RESULTS / "published_check.json"))
    args = parser.parse_args(argv)
    import teneva_bm

    bm = teneva_bm.BmQuboFixKnap50()
    bm.prep()
    runs = []
    for seed in range(args.seeds):
        run = {"seed": seed, "ours": ours(bm, args.budget, seed)}
        if not args.no_reference:
            run["protes.protes"] = reference(bm, args.budget, seed)
            if seed == 0:
                run["protes.protes_maximising_-f"] = reference(bm, args.budget, seed, maximise_negated=True)
        runs.append(run)
        print(json.dumps(run), flush=True)
    bests = np.array([r["ours"]["best"] for r in runs])
    theirs = np.array([r["protes.protes"]["best"] for r in runs if "protes.protes" in r])
    result = {"published": PUBLISHED, "settings": SETTINGS, "budget": args.budget, "runs": runs,
              "ours_mean": float(bests.mean()), "ours_best": float(bests.min()),
              "protes_mean": float(theirs.mean()) if len(theirs) else None,
              "protes_best": float(theirs.min()) if len(theirs) else None,
              "load_average": os.getloadavg(), "command": "benchmarks/published_check.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    out = Path(args.out)
    out.write_text(json.dumps(result, indent=1))
    return out


if __name__ == "__main__":
    main()
