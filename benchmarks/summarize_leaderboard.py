"""Summarise leaderboard runs into leaderboard.json (the issue's shape), a Markdown table and a plot.

For each network and budget: every method's median fraction of the frozen per-neuron ceiling, its
paired difference to the method ``auto`` picks for that budget (bootstrap 95% interval over
neurons, Holm-corrected across peers; wins/losses/ties over (neuron, seed) pairs), fixed-target
success curves, area under the log-budget curve, optimizer share of wall time, repeat rate, and
how much of the plan is done. Methods whose settings ignore the budget report their 2,000-query
values from the 10,000-query runs' curves when they have no 2,000-query runs (``from_curve``).

Run:  .venv/bin/python benchmarks/summarize_leaderboard.py            (held-out)
      .venv/bin/python benchmarks/summarize_leaderboard.py --plan dev
      .venv/bin/python benchmarks/summarize_leaderboard.py --plan dev --methods sep-cma cma-es cma-polish cma-polish-t40 --stem leaderboard_dev_tail
      (one development race: only those labels, so the paired statistics use every pair they share;
      --default sep-cma pairs them against sep-cma instead of auto's pick)
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import leaderboard_stats as stats
import numpy as np
from leaderboard import RUNS, key, make_jobs
from leaderboard_cases import CASES, load_plan
from leaderboard_table import markdown
from run_records import load_runs

RESULTS = Path(__file__).parent / "results"


def ceilings_for(network: str, plan_name: str, records: list) -> dict:
    """The frozen ceilings; for the development set without frozen ones, the best value any run
    found (marked: only the held-out statistics use frozen references)."""
    cases = json.loads(CASES.read_text()) if CASES.exists() else {}
    frozen = {t: c["value"] for t, c in cases.get(network, {}).get("ceilings", {}).items()}
    if plan_name != "dev":
        return frozen
    best = defaultdict(float)
    for r in records:
        best[r["target"]] = max(best[r["target"]], r["best"])
    return {t: frozen.get(t, best[t]) for t in best}


def summarize(records: list, plan_name: str, default_method: str = None) -> dict:
    from mango_widgets.core.optimizers.auto import choose

    out = {"networks": {}, "plan": plan_name}
    planned = make_jobs(plan_name) if plan_name != "dev" else []
    done = {key(r) for r in records}
    out["runs_done"] = len(records)
    out["runs_planned"] = len(planned)
    out["planned_runs_done"] = sum(key(j) in done for j in planned)
    out["progress"] = plan_progress(planned, done)
    for network in sorted({r["network"] for r in records}):
        main_T = _main_T(network)
        runs = [r for r in records if r["network"] == network and r["T"] == main_T]
        ceilings = ceilings_for(network, plan_name, runs)
        by_label = defaultdict(list)
        for r in runs:
            by_label[r["label"]].append(r)
        budgets = sorted({r["budget"] for r in runs} | ({2000} if any(r["budget"] > 2000 for r in runs) else set()))
        out["networks"][network] = {}
        for budget in budgets:
            default = default_method or choose(budget)[0]
            table, rows = {}, {}
            for label, recs in sorted(by_label.items()):
                own = [r for r in recs if r["budget"] == budget]
                longer = [r for r in recs if r["budget"] > budget and not _budget_aware(r)]
                use = own or longer
                if not use:
                    continue
                values = stats.fractions(use, ceilings, budget)
                if not values:
                    continue
                table[label] = values
                rows[label] = {
                    "median_fraction_of_ceiling": float(np.median(list(values.values()))),
                    "runs": len(values),
                    "neurons": len({t for t, _ in values}),
                    "from_curve": not own,
                    "auc_log_budget": stats.log_budget_area(use, ceilings, budget),
                    "success": stats.success_curves(use, ceilings, budget),
                    "optimizer_share_median": float(np.median([r["optimizer_seconds"] / r["wall_seconds"] for r in use])),
                    "repeat_rate_median": float(np.median([r["repeat_rate"] for r in use])),
                    "reached_90_percent": float(np.mean([v >= 0.9 for v in values.values()])),
                }
            # partial studies: every statistic on the (neuron, seed) pairs every method has run
            common = set.intersection(*[set(v) for v in table.values()]) if table else set()
            for label in list(table):
                table[label] = {k: v for k, v in table[label].items() if k in common}
                rows[label]["median_fraction_of_ceiling"] = float(np.median(list(table[label].values()))) if common else float("nan")
                rows[label]["reached_90_percent"] = float(np.mean([v >= 0.9 for v in table[label].values()])) if common else 0.0
                rows[label]["runs_on_common_pairs"] = len(common)
            versus = stats.paired_vs_default(table, default)
            for label, row in rows.items():
                if label in versus:
                    row["vs_default"] = versus[label]
            seeds = sorted({s for values in table.values() for _, s in values})
            out["networks"][network][str(budget)] = {
                "default": default, **({"default_given": True} if default_method else {}),
                "neurons": len({t for t, _ in common}),
                "seeds": len(seeds), "methods": rows}
        for budget, entry in out["networks"][network].items():
            peers = {m: r for m, r in entry["methods"].items() if m != entry["default"]}
            if peers and entry["default"] in entry["methods"]:
                best_peer = max(peers, key=lambda m: peers[m]["median_fraction_of_ceiling"])
                level = peers[best_peer]["median_fraction_of_ceiling"]
                default_runs = [r for r in by_label[entry["default"]] if r["budget"] >= int(budget)]
                entry["best_peer"] = best_peer
                q = stats.queries_to_reach(default_runs, ceilings, level, int(budget))
                entry["default_queries_to_best_peer_median"] = q if np.isfinite(q) else None  # None: the median run never does
                entry["default_share_reaching_best_peer_median"] = {
                    "within_a_third": stats.share_reaching(default_runs, ceilings, level, int(budget) // 3, int(budget)),
                    "within_the_budget": stats.share_reaching(default_runs, ceilings, level, int(budget), int(budget))}
    return out


def plan_progress(planned: list, done: set) -> dict:
    """Per budget of a plan: runs planned, runs done, and the seeds whose every run is done."""
    progress = {}
    for budget in sorted({j["budget"] for j in planned}):
        jobs = [j for j in planned if j["budget"] == budget]
        seeds = sorted({j["seed"] for j in jobs})
        progress[str(budget)] = {
            "planned": len(jobs), "done": sum(key(j) in done for j in jobs),
            "complete_seeds": [s for s in seeds if all(key(j) in done for j in jobs if j["seed"] == s)],
            "seeds": len(seeds)}
    return progress


def leaders_by_budget(records: list, ceilings: dict, budgets=(250, 500, 1000, 2000)) -> dict:
    """Per budget q: every method's median fraction of the ceiling at q, read off its runs' curves
    (exact for methods whose settings ignore the budget; for budget-aware ones an approximation),
    on the neurons every method was run on; what ``auto``'s table is chosen from."""
    by_label = defaultdict(list)
    for r in records:
        by_label[r["label"]].append(r)
    common = set.intersection(*[{r["target"] for r in recs} for recs in by_label.values()]) if by_label else set()
    table = {}
    for q in budgets:
        rows = {}
        for label, recs in by_label.items():
            values = [stats.best_at(r, q) / ceilings[r["target"]] for r in recs if r["target"] in common and r["budget"] >= q]
            if values:
                rows[label] = float(np.median(values))
        table[str(q)] = dict(sorted(rows.items(), key=lambda kv: -kv[1]))
    return {"neurons": sorted(common), "median_fraction_at": table}


def t100_comparison(records: list) -> dict:
    """The plan's T = 100 condition: does the TT method's gap to each peer shrink when activations
    move in steps 5x finer? Per method pair, on the (neuron, seed) pairs run at both T: the paired
    difference (TT - peer) at T = 20 and at T = 100, and its change, with bootstrap 95% intervals
    over neurons (fractions of the frozen T = 20 ceiling; a scale per neuron, not a target)."""
    spec = load_plan()["t100"]
    network, tt = spec["network"], next((m for m in spec["methods"] if m.startswith("tt")), None)
    ceilings = ceilings_for(network, "heldout", [])
    main_T = _main_T(network)
    fine = [r for r in records if r["network"] == network and r["T"] == spec["T"] and r["budget"] == spec["budget"]]
    coarse = [r for r in records if r["network"] == network and r["T"] == main_T and r["budget"] == spec["budget"]]
    at = {}
    for T, recs in ((spec["T"], fine), ("main", coarse)):
        for r in recs:
            at[(T, r["label"], r["target"], r["seed"])] = r["best"] / ceilings[r["target"]]
    out = {"network": network, "T": spec["T"], "main_T": main_T, "budget": spec["budget"],
           "tt_method": tt, "runs_at_T": len(fine), "medians": {}, "gaps": {}}
    for label in spec["methods"]:
        pairs = sorted({(t, s) for (T, m, t, s) in at if T == spec["T"] and m == label and ("main", m, t, s) in at})
        if pairs:
            out["medians"][label] = {"T": float(np.median([at[(spec["T"], label, t, s)] for t, s in pairs])),
                                     "main_T": float(np.median([at[("main", label, t, s)] for t, s in pairs])),
                                     "pairs": len(pairs)}
    if tt is None:
        return out
    for peer in spec["methods"]:
        if peer == tt:
            continue
        pairs = sorted({(t, s) for (T, m, t, s) in at if T == spec["T"] and m == tt
                        and all(k in at for k in ((spec["T"], peer, t, s), ("main", tt, t, s), ("main", peer, t, s)))})
        if not pairs:
            continue
        gaps = {T: stats.per_neuron({(t, s): at[(T, tt, t, s)] - at[(T, peer, t, s)] for t, s in pairs})
                for T in (spec["T"], "main")}
        neurons = sorted(gaps["main"])
        row = {"neurons": len(neurons), "pairs": len(pairs)}
        for name, diffs in (("gap_main_T", [gaps["main"][t] for t in neurons]), ("gap_T", [gaps[spec["T"]][t] for t in neurons]),
                            ("change", [gaps[spec["T"]][t] - gaps["main"][t] for t in neurons])):
            diffs = np.asarray(diffs)
            low, high, _ = stats.bootstrap(diffs, 0.95)
            row[name] = {"mean": float(diffs.mean()), "ci95": [low, high]}
        out["gaps"][peer] = row
    return out


def _main_T(network: str) -> int:
    """The exposure T the plan runs ``network`` at (20 when the plan does not name it)."""
    return load_plan()["networks"].get(network, {}).get("T", 20)


def _budget_aware(record: dict) -> bool:
    """Whether the run's method plans with its budget (then a longer run says nothing of a shorter one)."""
    if "capabilities" in record:
        return bool(record["capabilities"]["budget_aware"])
    from mango_widgets.core.optimizers import make_optimizer
    from mango_widgets.core.space import LatentGrid

    method = record["method"]
    try:
        return bool(make_optimizer(method, LatentGrid(d=8, n=16), budget=record["budget"]).budget_aware)
    except Exception:  # a method that cannot be built here: treat it as budget-aware (no curve reuse)
        return True


def plot(summary: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    panels = [(n, b) for n, budgets in summary["networks"].items() for b in budgets]
    if not panels:
        return
    figure = Figure(figsize=(5.5 * len(panels), 4.2), dpi=100)
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, (network, budget) in zip(axes, panels):
        entry = summary["networks"][network][budget]
        for method, row in sorted(entry["methods"].items()):
            curve = row["success"]
            if curve["fraction_of_runs"].get("0.9"):
                style = "-" if method.startswith("tt") else "--"
                width = 2.4 if method == entry["default"] else 1.2
                ax.plot(curve["queries"], curve["fraction_of_runs"]["0.9"], style, lw=width, label=method)
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_title(f"{network}, budget {budget}: runs at >= 90% of the ceiling", fontsize=9)
        ax.set_xlabel("queries")
        ax.set_ylabel("fraction of (neuron, seed) runs")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="heldout", choices=("dev", "heldout"))
    parser.add_argument("--methods", nargs="*", help="only these labels (one race; default: every label run)")
    parser.add_argument("--stem", help="output file names in results/ (default: leaderboard or leaderboard_dev)")
    parser.add_argument("--default", help="the method every other is paired against (default: what auto picks)")
    args = parser.parse_args(argv)
    records = load_runs(RUNS[args.plan])
    if args.methods:
        records = [r for r in records if r["label"] in args.methods]
    everything = records
    if args.plan == "heldout":  # the plan is read once per network, not once per record
        main_T = {network: _main_T(network) for network in {r["network"] for r in records}}
        records = [r for r in records if r["T"] == main_T[r["network"]]]
    summary = summarize(records, args.plan, args.default)
    if args.plan == "heldout" and len(records) < len(everything):
        summary["t100"] = t100_comparison(everything)
    if args.plan == "dev":
        summary["leaders_by_budget"] = {}
        for network in summary["networks"]:
            runs = [r for r in records if r["network"] == network]
            summary["leaders_by_budget"][network] = leaders_by_budget(runs, ceilings_for(network, "dev", runs))
    stem = args.stem or ("leaderboard" if args.plan == "heldout" else "leaderboard_dev")
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=1, allow_nan=False))
    table = markdown(summary)
    for network, leaders in summary.get("leaders_by_budget", {}).items():
        table += f"\n**{network}: median fraction of the ceiling at q queries (curves; {len(leaders['neurons'])} common neurons)**\n\n"
        for q, rows in leaders["median_fraction_at"].items():
            table += f"- q = {q}: " + ", ".join(f"{m} {v:.3f}" for m, v in rows.items()) + "\n"
    (RESULTS / f"{stem}.md").write_text(table)
    plot(summary, RESULTS / f"{stem}.png")
    print(table)


if __name__ == "__main__":
    main()
