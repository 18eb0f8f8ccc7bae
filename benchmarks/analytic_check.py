"""PROTES on the PROTES paper's analytic benchmarks: our ask/tell driver vs ``protes.protes``
vs the exact grid minimum, next to the values the authors' log reports.

The PROTES paper (calc/calc.py and calc/log.txt of anabatsh/PROTES) minimises ten analytic
functions on a d = 7, n = 16 grid with 10,000 queries, PROTES settings k=50, k_top=5, k_gd=100,
lr=1e-4, r=5. The functions and their boxes follow teneva_bm 0.1.0 (the version the authors'
requirements_calc.txt pins): Chebyshev grid nodes ``cos(pi i / (n-1))`` scaled to the box. Each
function's exact minimum over all 16^7 grid points is found by exhaustive evaluation, so both
drivers are judged against the truth, not only against each other.

Run (about 25 min on one core; the exhaustive minima take about 3 of them):
  .venv/bin/python benchmarks/analytic_check.py --seeds 3
Results: benchmarks/results/analytic_check.json and analytic_check.md
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from published_check import SETTINGS, minimise_ours, minimise_protes  # benchmarks/ is on sys.path when run

RESULTS = Path(__file__).parent / "results"
D, N, BUDGET = 7, 16, 10_000
#: a run "reached" the minimum within this relative tolerance (protes.protes reports float32)
HIT_TOLERANCE = 1e-6  # as written into the results' "hit_tolerance"


def ackley(X):
    r = np.sqrt(np.sum(X**2, axis=1) / X.shape[1])
    return -20.0 * np.exp(-0.2 * r) - np.exp(np.mean(np.cos(2 * np.pi * X), axis=1)) + 20.0 + np.e


def alpine(X):
    return np.sum(np.abs(X * np.sin(X) + 0.1 * X), axis=1)


def exponential(X):
    return -np.exp(-0.5 * np.sum(X**2, axis=1))


def griewank(X):
    scale = np.sqrt(np.arange(1, X.shape[1] + 1))
    return np.sum(X**2, axis=1) / 4000.0 - np.prod(np.cos(X / scale), axis=1) + 1.0


def michalewicz(X, m=10.0):
    i = np.arange(1, X.shape[1] + 1)
    return -np.sum(np.sin(X) * np.sin(i * X**2 / np.pi) ** (2 * m), axis=1)


def qing(X):
    return np.sum((X**2 - np.arange(1, X.shape[1] + 1)) ** 2, axis=1)


def rastrigin(X, A=10.0):
    return A * X.shape[1] + np.sum(X**2 - A * np.cos(2 * np.pi * X), axis=1)


def schaffer(X):
    Z = X[:, :-1] ** 2 + X[:, 1:] ** 2
    return np.sum(0.5 + (np.sin(np.sqrt(Z)) ** 2 - 0.5) / (1.0 + 0.001 * Z) ** 2, axis=1)


def schwefel(X, a=418.9829):
    return a * X.shape[1] - np.sum(X * np.sin(np.sqrt(np.abs(X))), axis=1)


#: name -> (function, box, the value the authors' log reports for PROTES ("Our"))
PROBLEMS = {
    "P-01 Ackley": (ackley, (-32.768, 32.768), 12.8352),
    "P-02 Alpine": (alpine, (-10.0, 10.0), 6.52990),
    "P-03 Exponential": (exponential, (-1.0, 1.0), -0.944388),
    "P-04 Griewank": (griewank, (-100.0, 100.0), 1.28609),
    "P-05 Michalewicz": (michalewicz, (0.0, np.pi), -3.68374),
    "P-07 Qing": (qing, (0.0, 500.0), 6.15931e6),
    "P-08 Rastrigin": (rastrigin, (-5.12, 5.12), 59.6881),
    "P-09 Schaffer": (schaffer, (-100.0, 100.0), 2.72448),
    "P-10 Schwefel": (schwefel, (-500.0, 500.0), -870.080),
}


def chebyshev_points(indices: np.ndarray, box) -> np.ndarray:
    """Grid indices -> points: index 0 is the box's upper end, n-1 its lower end (teneva's 'cheb')."""
    a, b = box
    return np.cos(np.pi * np.asarray(indices) / (N - 1)) * (b - a) / 2 + (b + a) / 2


def on_grid(function, box):
    return lambda I: function(chebyshev_points(I, box))


def exact_minimum(function, box) -> float:
    """The minimum over all N**D grid points, evaluated in blocks of N**5 points."""
    inner = np.stack(np.meshgrid(*[np.arange(N)] * (D - 2), indexing="ij"), -1).reshape(-1, D - 2)
    best = np.inf
    for i in range(N):
        for j in range(N):
            block = np.concatenate([np.full((len(inner), 2), (i, j)), inner], axis=1)
            best = min(best, float(function(chebyshev_points(block, box)).min()))
    return best


def ours(f, seed: int) -> float:
    """Our steppable driver (published_check's, with the same settings)."""
    return minimise_ours(f, D, N, BUDGET, seed)["best"]


def reference(f, seed: int) -> float:
    """The authors' driver, minimising f as their log did."""
    return minimise_protes(f, D, N, BUDGET, seed)["best"]


def table(result: dict) -> str:
    lines = ["| problem | exact grid minimum | ours (median of seeds) | ours reached minimum | protes.protes (median) "
             "| protes.protes reached minimum | published log |", "|---|---|---|---|---|---|---|"]
    for name, row in result["problems"].items():
        lines.append(f"| {name} | {row['exact_minimum']:.6g} | {np.median(row['ours']):.6g} | {row['ours_hits']}/{len(row['ours'])} "
                     f"| {np.median(row['protes']):.6g} | {row['protes_hits']}/{len(row['protes'])} | {row['published']:.6g} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS), help="names as in PROBLEMS (default all)")
    parser.add_argument("--out", default=str(RESULTS / "analytic_check.json"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    result = {"hit_tolerance": "1e-6 * max(1, |exact minimum|) (protes.protes reports float32)",
              "settings": SETTINGS, "d": D, "n": N, "budget": BUDGET, "grid": "chebyshev (teneva_bm 0.1.0 default)",
              "problems": {}, "command": "benchmarks/analytic_check.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    start = time.perf_counter()
    for name in args.problems:
        function, box, published = PROBLEMS[name]
        f = on_grid(function, box)
        minimum = exact_minimum(function, box)
        mine = [ours(f, seed) for seed in range(args.seeds)]
        theirs = [reference(f, seed) for seed in range(args.seeds)]
        tolerance = HIT_TOLERANCE * max(1.0, abs(minimum))
        result["problems"][name] = {
            "box": box, "exact_minimum": minimum, "published": published,
            "ours": mine, "protes": theirs,
            "ours_hits": int(sum(v <= minimum + tolerance for v in mine)),
            "protes_hits": int(sum(v <= minimum + tolerance for v in theirs)),
            "published_below_exact_minimum": bool(published < minimum - tolerance),
        }
        print(name, json.dumps(result["problems"][name]), flush=True)
    result["seconds"] = time.perf_counter() - start
    result["load_average"] = os.getloadavg()
    out.write_text(json.dumps(result, indent=1))
    out.with_suffix(".md").write_text(table(result))
    return out


if __name__ == "__main__":
    main()
