"""Paired statistics for the leaderboard (pure functions on run records), after COCO / IOHprofiler.

Every value is a fraction of the neuron's frozen ceiling. Comparisons are paired by neuron
(the mean over seeds of each neuron is one observation); intervals are bootstrap percentile
intervals over neurons, widened by Holm's step-down levels across the peers of one default.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

TARGETS = (0.5, 0.75, 0.9, 0.95)
#: two fractions closer than this are a tie (activations move in steps >= 1/2880 of the ceiling's scale)
TIE = 1e-9


def best_at(record: dict, query: int) -> float:
    """Best-so-far of a run at ``query`` (its curve is recorded at log- and linear-spaced marks)."""
    queries, best = np.asarray(record["curve_queries"]), np.asarray(record["curve_best"])
    k = np.searchsorted(queries, query, side="right") - 1
    return float(best[k]) if k >= 0 else float("nan")


def fractions(records: list, ceilings: dict, budget: int) -> dict:
    """{(target, seed): best at ``budget`` / ceiling} of one method's runs (runs of a larger budget
    are read off their curve at ``budget``; only for methods whose settings ignore the budget)."""
    out = {}
    for r in records:
        if r["budget"] >= budget and r["target"] in ceilings:
            value = r["best"] if r["budget"] == budget else best_at(r, budget)
            key = (r["target"], r["seed"])
            if r["budget"] == budget or key not in out:
                out[key] = value / ceilings[r["target"]]
    return out


def per_neuron(values: dict) -> dict:
    grouped = defaultdict(list)
    for (target, _seed), v in values.items():
        grouped[target].append(v)
    return {t: float(np.mean(v)) for t, v in grouped.items()}


def bootstrap(diffs: np.ndarray, level: float, resamples: int = 10_000, seed: int = 0):
    """(low, high) percentile interval of the mean of ``diffs`` and a two-sided bootstrap p-value."""
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(len(diffs), size=(resamples, len(diffs)))].mean(1)
    low, high = np.percentile(means, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    p = min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean()))
    return float(low), float(high), float(p)


def paired_vs_default(table: dict, default: str, alpha: float = 0.05) -> dict:
    """For every method but ``default``: mean paired difference (method - default) over neurons, a
    Holm-adjusted bootstrap interval, and wins/losses/ties over (neuron, seed) pairs."""
    base = table.get(default)
    if not base:
        return {}
    comparisons = {}
    for method, values in table.items():
        if method == default:
            continue
        common = sorted(set(values) & set(base))
        if not common:
            continue
        a, b = per_neuron({k: values[k] for k in common}), per_neuron({k: base[k] for k in common})
        neurons = sorted(a)
        diffs = np.array([a[t] - b[t] for t in neurons])
        pair = np.array([values[k] - base[k] for k in common])
        _, _, p = bootstrap(diffs, 1 - alpha)
        comparisons[method] = {"diffs": diffs, "p": p, "wins": int((pair > TIE).sum()),
                               "losses": int((pair < -TIE).sum()), "ties": int((np.abs(pair) <= TIE).sum()),
                               "neurons": len(neurons), "pairs": len(common)}
    order = sorted(comparisons, key=lambda m: comparisons[m]["p"])
    result = {}
    for rank, method in enumerate(order):  # Holm: the k-th smallest p is tested at alpha / (m - k)
        c = comparisons[method]
        level = 1 - alpha / (len(order) - rank)
        low, high, _ = bootstrap(c["diffs"], level)
        result[method] = {"mean_diff": float(c["diffs"].mean()), "ci95": [low, high], "ci_level_holm": level,
                          "p_bootstrap": c["p"], "p_holm": min(1.0, c["p"] * (len(order) - rank)),
                          "wins": c["wins"], "losses": c["losses"], "ties": c["ties"],
                          "neurons": c["neurons"], "pairs": c["pairs"]}
    return result


def success_curves(records: list, ceilings: dict, budget: int, points: int = 60) -> dict:
    """Fraction of runs whose best-so-far reached each target share of the ceiling, vs queries."""
    grid = np.unique(np.geomspace(1, budget, points).round().astype(int))
    runs = [r for r in records if r["target"] in ceilings and r["budget"] >= budget]
    curves = {}
    for target in TARGETS:
        reached = [[best_at(r, q) >= target * ceilings[r["target"]] for q in grid] for r in runs]
        curves[str(target)] = np.mean(reached, axis=0).tolist() if reached else []
    return {"queries": grid.tolist(), "fraction_of_runs": curves, "runs": len(runs)}


def log_budget_area(records: list, ceilings: dict, budget: int, points: int = 60) -> float:
    """Mean over runs of the area under best-so-far / ceiling (capped at 1) over log10(queries),
    divided by log10(budget): 1 = the ceiling from the first query on."""
    grid = np.geomspace(1, budget, points)
    areas = []
    for r in records:
        if r["target"] not in ceilings or r["budget"] < budget:
            continue
        y = np.minimum([best_at(r, int(round(q))) / ceilings[r["target"]] for q in grid], 1.0)
        areas.append(np.trapezoid(y, np.log10(grid)) / np.log10(budget))
    return float(np.mean(areas)) if areas else float("nan")


def first_hits(records: list, ceilings: dict, level: float, budget: int) -> np.ndarray:
    """Per run (of at least ``budget`` queries, on a neuron with a ceiling), the first query where
    best / ceiling >= ``level``; inf if it never does within ``budget``."""
    firsts = []
    for r in records:
        if r["target"] not in ceilings or r["budget"] < budget:
            continue
        hit = [q for q, b in zip(r["curve_queries"], r["curve_best"]) if q <= budget and b / ceilings[r["target"]] >= level]
        firsts.append(hit[0] if hit else np.inf)
    return np.asarray(firsts, dtype=float)


def queries_to_reach(records: list, ceilings: dict, level: float, budget: int):
    """Median over runs of the first query where best / ceiling >= ``level`` (inf if never)."""
    firsts = first_hits(records, ceilings, level, budget)
    return float(np.median(firsts)) if len(firsts) else float("nan")


def share_reaching(records: list, ceilings: dict, level: float, query: int, budget: int) -> float:
    """Fraction of runs that reach ``level`` of the ceiling by ``query``: what a median of "never"
    hides (half the runs may still get there)."""
    firsts = first_hits(records, ceilings, level, budget)
    return float(np.mean(firsts <= query)) if len(firsts) else float("nan")
