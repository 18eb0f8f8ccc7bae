"""Summarise benchmarks/results/optimizers.jsonl into a JSON summary, a Markdown table and a plot.

RETIRED with benchmarks/optimizers.py (the earlier study); the leaderboard's summary is
benchmarks/summarize_leaderboard.py.

Per method and budget: median and quartiles of the best activation normalised by the best
value any method found for that neuron; queries each run needed to reach Portfolio's final
value on the same neuron and seed; wall time split into model, optimizer and compile time;
optimizer overhead per ask/tell. Also the uniform vs standard-normal-quantile grid comparison.

Run: .venv/bin/python benchmarks/summarize_optimizers.py
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from run_records import load_runs

RESULTS = Path(__file__).parent / "results"


def quartiles(values) -> dict:
    values = np.asarray(values, dtype=float)
    if not len(values):
        return {"median": None, "q1": None, "q3": None, "n": 0}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3), "n": int(len(values))}


def queries_to_reach(record: dict, level: float):
    """First query at which the run's best-so-far reached ``level`` (None if never)."""
    for q, best in zip(record["curve_queries"], record["curve_best"]):
        if best >= level - 1e-12:
            return q
    return None


def summarize(records: list) -> dict:
    uniform = [r for r in records if r.get("spacing", "uniform") == "uniform"]
    best_per_neuron = defaultdict(float)
    for r in uniform:
        best_per_neuron[r["target"]] = max(best_per_neuron[r["target"]], r["best"])
    portfolio_final = {(r["target"], r["seed"], r["budget"]): r["best"] for r in uniform if r["method"] == "portfolio"}
    table = {}
    for budget in sorted({r["budget"] for r in uniform}):
        rows = {}
        for method in sorted({r["method"] for r in uniform if r["budget"] == budget}):
            runs = [r for r in uniform if r["budget"] == budget and r["method"] == method]
            normalised = [r["best"] / best_per_neuron[r["target"]] for r in runs if best_per_neuron[r["target"]] > 0]
            reach = []
            for r in runs:
                level = portfolio_final.get((r["target"], r["seed"], budget))
                if level is not None:
                    q = queries_to_reach(r, level)
                    reach.append(q if q is not None else np.inf)
            finite = [q for q in reach if np.isfinite(q)]
            rows[method] = {
                "normalised_best": quartiles(normalised),
                "raw_best": quartiles([r["best"] for r in runs]),
                "reached_portfolio_final": f"{len(finite)}/{len(reach)}",
                "queries_to_portfolio_final_median": float(np.median(reach)) if reach and np.isfinite(np.median(reach)) else None,
                "model_seconds_median": float(np.median([r["model_seconds"] for r in runs])),
                "optimizer_seconds_median": float(np.median([r["optimizer_seconds"] for r in runs])),
                "optimizer_share_median": float(np.median([r["optimizer_seconds"] / r["wall_seconds"] for r in runs])),
                "compile_seconds_max": float(max(r["compile_seconds"] for r in runs)),
                "overhead_ms_per_ask_median": float(np.median([r["overhead_ms_per_ask"] for r in runs])),
                "runs": len(runs),
            }
        table[str(budget)] = rows
    grid = {}
    for method in ("tt-b", "portfolio"):
        pairs = []
        for r in records:
            if r.get("spacing") == "normal" and r["method"] == method:
                twin = next((u for u in uniform if u["method"] == method and u["target"] == r["target"]
                             and u["seed"] == r["seed"] and u["budget"] == r["budget"]), None)
                if twin:
                    pairs.append((twin, r))
        if pairs:
            uniform_best, normal_best = np.array([u["best"] for u, _ in pairs]), np.array([n["best"] for _, n in pairs])
            realism = mei_realism([u["mei_index"] for u, _ in pairs], [n["mei_index"] for _, n in pairs])
            grid[method] = {"pairs": len(pairs), "uniform_best_median": float(np.median(uniform_best)),
                            "normal_best_median": float(np.median(normal_best)),
                            "normal_over_uniform_median": float(np.median(normal_best / np.maximum(uniform_best, 1e-9))),
                            **realism}
    return {"neurons": sorted(best_per_neuron), "table": table, "grid_spacing": grid}


def mei_realism(uniform_indices: list, normal_indices: list) -> dict:
    """Median RMS pixel distance of the MEIs to their nearest real training digit (lower = more
    natural), next to the same for held-out real digits and for random samples of each grid."""
    from mango_widgets.analysis.naturalness import nearest_real_distance
    from mango_widgets.models.bundled import demo_generator
    from mango_widgets.models.mnist_subset import load_mnist_subset

    train = load_mnist_subset("train")[0].numpy()
    heldout = load_mnist_subset("heldout")[0].numpy()[:300]
    result = {"realism_heldout_digits_median": float(np.median(nearest_real_distance(heldout, train)))}
    rng = np.random.default_rng(0)
    for spacing, indices in (("uniform", uniform_indices), ("normal", normal_indices)):
        generator = demo_generator(spacing=spacing)
        meis = generator(np.asarray(indices, dtype=np.int64)).numpy()
        samples = generator(generator.grid.random(300, rng)).numpy()
        result[f"realism_{spacing}_meis_median"] = float(np.median(nearest_real_distance(meis, train)))
        result[f"realism_{spacing}_random_samples_median"] = float(np.median(nearest_real_distance(samples, train)))
    return result


def markdown(summary: dict) -> str:
    lines = []
    for budget, rows in summary["table"].items():
        lines.append(f"\n**Budget {budget} queries** (best activation / best any method found for that neuron)\n")
        lines.append("| method | median | q1-q3 | raw median | reached Portfolio's final | queries to it (median) | model s | optimizer s | optimizer share | ms per ask/tell | compile s (max) | runs |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        ordered = sorted(rows.items(), key=lambda kv: -(kv[1]["normalised_best"]["median"] or 0))
        for method, row in ordered:
            nb, raw = row["normalised_best"], row["raw_best"]
            q = row["queries_to_portfolio_final_median"]
            lines.append(
                f"| {method} | {nb['median']:.3f} | {nb['q1']:.3f}-{nb['q3']:.3f} | {raw['median']:.3f} | "
                f"{row['reached_portfolio_final']} | {'-' if q is None else int(q)} | {row['model_seconds_median']:.1f} | "
                f"{row['optimizer_seconds_median']:.2f} | {100 * row['optimizer_share_median']:.1f}% | "
                f"{row['overhead_ms_per_ask_median']:.2f} | {row['compile_seconds_max']:.2f} | {row['runs']} |"
            )
    return "\n".join(lines) + "\n"


def plot(records: list, summary: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    budgets = sorted({r["budget"] for r in records if r.get("spacing", "uniform") == "uniform"})
    figure = Figure(figsize=(6 * len(budgets), 4.2), dpi=110)
    axes = np.atleast_1d(figure.subplots(1, len(budgets)))
    best_per_neuron = defaultdict(float)
    for r in records:
        if r.get("spacing", "uniform") == "uniform":
            best_per_neuron[r["target"]] = max(best_per_neuron[r["target"]], r["best"])
    for ax, budget in zip(axes, budgets):
        grid = np.linspace(1, budget, 100)
        for method in sorted(summary["table"][str(budget)]):
            runs = [r for r in records if r["budget"] == budget and r["method"] == method and r.get("spacing", "uniform") == "uniform"]
            curves = [np.interp(grid, r["curve_queries"], r["curve_best"]) / best_per_neuron[r["target"]]
                      for r in runs if best_per_neuron[r["target"]] > 0]
            median = np.median(curves, axis=0)
            style = "-" if method.startswith("tt") else ("--" if method != "random" else ":")
            ax.plot(grid, median, style, label=method, lw=2 if method in ("tt-b", "portfolio") else 1.2)
        ax.set_title(f"median normalised best-so-far, budget {budget}")
        ax.set_xlabel("queries")
        ax.set_ylabel("best activation / best found for the neuron")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    figure.tight_layout()
    figure.savefig(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(RESULTS / "optimizers.jsonl"))
    args = parser.parse_args(argv)
    path = Path(args.results)
    if not path.is_file():
        raise SystemExit(f"no run records at {path}: run benchmarks/optimizers.py first, or pass --results")
    records = load_runs(path)
    summary = summarize(records)
    path.with_name("optimizers_summary.json").write_text(json.dumps(summary, indent=2))
    table = markdown(summary)
    path.with_name("optimizers_summary.md").write_text(table)
    plot(records, summary, path.with_name("optimizers_curves.png"))
    print(table)
    print(json.dumps(summary["grid_spacing"], indent=2))


if __name__ == "__main__":
    main()
