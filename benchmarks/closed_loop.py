"""Closed-loop benchmark on simulated neurons of the demo SNN: noise, population search, several optima.

(a) noise: every method drives a ClosedLoopSession against a NoisyResponder (Poisson spike
    counts at noise level none / low / high, see noise.NOISE_LEVELS) with repeats 1 and 3 at an
    equal budget of shown stimuli; then its 5 best stimuli are re-tested 4 times each (20 extra
    trials) and the MEI is the one with the best fresh trials. Reported: the noise-free activation
    (Objective.evaluate) of the best stimulus by search responses alone and of the re-test-selected
    MEI, the best noise-free activation among all shown stimuli, the session's estimate, and a
    final 20-trial re-test of the MEI (mean/sem).
(b) population: all units of one layer from one shared stream (PopulationSearch) vs independent
    per-unit searches at the same total number of shown images. One run without sharing gives
    both the independent searches (each unit's own images; tests/test_population.py checks they
    equal Search runs) and the "shared stream, no learning" bests; a second run lets every unit's
    PROTES observe all images.
(c) several optima: distinct MEIs of one neuron by penalised restarts and by TT-distribution samples.

Noise runs append to a JSON-lines file as they finish, so the benchmark resumes where it stopped.
Single process, torch with one thread. Summary: benchmarks/results/closed_loop.json (+ .png).

Run:  .venv/bin/python benchmarks/closed_loop.py            (full, about 25 min on one free core)
      .venv/bin/python benchmarks/closed_loop.py --quick    (a minute or two; separate result files)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
METHODS = ("tt", "tt-s", "tt-b", "portfolio", "cma", "oneplusone", "noisybandit", "spsa", "random")
NOISE = ("none", "low", "high")
#: after the search, the top SELECT_TOP stimuli are re-tested retest // SELECT_TOP times each to pick the MEI
SELECT_TOP = 5
REPEATS = (1, 3)
#: the middle unsaturated unit of each hidden layer from benchmarks/results/optimizers.neurons.json
NEURONS = ("lif2:24", "lif3:2", "lif4:112")
PLANS = {
    "full": dict(neurons=NEURONS, seeds=(0, 1), budget=1000, retest=20,
                 layer="lif3", units=64, per_unit=400, optima_neurons=NEURONS[:2], optima_budget=500),
    "quick": dict(neurons=NEURONS[:1], seeds=(0,), budget=150, retest=5,
                  layer="lif3", units=8, per_unit=100, optima_neurons=NEURONS[:1], optima_budget=100),
}


class Models:
    """The demo generator and network, loaded once per process."""

    def __init__(self):
        import torch

        from mango_widgets.models.bundled import demo_generator, demo_network

        torch.set_num_threads(1)
        self.generator, self.network = demo_generator(), demo_network()


# ---------------------------------------------------------------------------- (a) noise
def noise_jobs(plan: dict) -> list:
    return [
        {"target": t, "seed": s, "noise": n, "repeats": r, "method": m, "budget": plan["budget"], "retest": plan["retest"]}
        for t in plan["neurons"] for s in plan["seeds"] for n in NOISE for r in REPEATS for m in METHODS
    ]


def job_key(job: dict) -> tuple:
    return tuple(job[k] for k in ("target", "seed", "noise", "repeats", "method", "budget", "retest"))


def noise_run(job: dict, models: Models) -> dict:
    """One closed-loop session against a simulated neuron; noise-free truth measured afterwards."""
    from mango_widgets.core.objective import Objective
    from mango_widgets.studies.closed_loop import ClosedLoopSession, NoisyResponder

    objective = Objective(models.generator, models.network, job["target"])
    level = NOISE.index(job["noise"])
    responder_seed = int(np.random.SeedSequence([job["seed"], level, NEURONS.index(job["target"])]).generate_state(1)[0])
    responder = NoisyResponder(objective, noise=job["noise"], seed=responder_seed, threads=1)
    start = time.perf_counter()
    session = ClosedLoopSession(models.generator, job["method"], budget=job["budget"], seed=job["seed"], repeats=job["repeats"])
    while not session.done:
        batch = session.ask()
        session.tell(batch.ids, responder(batch))
    best_index, estimate, showings = session.best()  # the MEI by search responses alone
    selection = session.ask_retest(job["retest"] // SELECT_TOP, top=SELECT_TOP)  # re-test the top few...
    session.tell(selection.ids, responder(selection))
    mei = session.mei()  # ...and keep the one with the best fresh trials
    confirm = responder(np.repeat(mei.index[None], job["retest"], axis=0))  # the final re-test of that MEI
    seconds = time.perf_counter() - start
    table = session.table()
    shown = table["indices"][table["kind"] == "search"]
    true_shown = objective(shown)  # noise-free, from the objective's cache (the responder filled it)
    session.close()
    return {
        **job,
        "true_best_by_search": float(objective.evaluate(best_index[None])[0]),
        "true_mei": float(objective.evaluate(mei.index[None])[0]),
        "true_best_shown": float(true_shown.max()),
        "estimate": estimate,
        "estimate_showings": showings,
        "retest_mean": float(confirm.mean()),
        "retest_sem": float(confirm.std(ddof=1) / np.sqrt(len(confirm))),
        "shown": session.shown,
        "seconds": seconds,
        "load": os.getloadavg()[0],
    }


def run_noise(plan: dict, path: Path, models: Models) -> list:
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                done[job_key(record)] = record
    jobs = noise_jobs(plan)
    todo = [j for j in jobs if job_key(j) not in done]
    print(f"noise: {len(jobs) - len(todo)} of {len(jobs)} runs already in {path.name}", flush=True)
    with open(path, "a") as handle:
        for k, job in enumerate(todo, 1):
            record = noise_run(job, models)
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            done[job_key(job)] = record
            print(f"  [{k}/{len(todo)}] {job['target']} s{job['seed']} {job['noise']:>4} r{job['repeats']} {job['method']:<11} "
                  f"true {record['true_mei']:.3f} (best shown {record['true_best_shown']:.3f}) {record['seconds']:.1f} s", flush=True)
    return [done[job_key(j)] for j in jobs]


def quartiles(values) -> dict:
    """Median and quartiles (sample values, no interpolation); NaN counts as never reached (above all)."""
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isnan(v), np.inf, v)
    q1, median, q3 = np.percentile(v, [25, 50, 75], method="inverted_cdf")

    def show(x):
        return None if not np.isfinite(x) else round(float(x), 4)

    return {"median": show(median), "q1": show(q1), "q3": show(q3), "n": int(len(v)), "finite": int(np.isfinite(v).sum())}


def summarize_noise(records: list) -> dict:
    """Per method and condition: noise-free MEI activation relative to the best any run of this
    benchmark found for that neuron (noise-free, any condition), and the raw numbers."""
    reference = {}
    for r in records:
        reference[r["target"]] = max(reference.get(r["target"], 0.0), r["true_best_shown"], r["true_mei"])
    table = {}
    for method in METHODS:
        for noise in NOISE:
            for repeats in REPEATS:
                rows = [r for r in records if (r["method"], r["noise"], r["repeats"]) == (method, noise, repeats)]
                if not rows:
                    continue
                rel = [r["true_mei"] / reference[r["target"]] for r in rows]
                shown_rel = [r["true_best_shown"] / reference[r["target"]] for r in rows]
                table[f"{method}|{noise}|r{repeats}"] = {
                    "method": method, "noise": noise, "repeats": repeats,
                    "true_mei_relative": quartiles(rel),
                    "true_best_by_search_relative": quartiles([r["true_best_by_search"] / reference[r["target"]] for r in rows]),
                    "true_mei_raw_median": round(float(np.median([r["true_mei"] for r in rows])), 4),
                    "best_shown_relative": quartiles(shown_rel),
                    "picked_best_shown_fraction": round(float(np.mean([r["true_mei"] >= r["true_best_shown"] - 1e-9 for r in rows])), 3),
                    "estimate_minus_true_median": round(float(np.median([r["estimate"] - r["true_best_by_search"] for r in rows])), 4),
                    "retest_minus_true_median": round(float(np.median([r["retest_mean"] - r["true_mei"] for r in rows])), 4),
                    "retest_sem_median": round(float(np.median([r["retest_sem"] for r in rows])), 4),
                    "seconds_median": round(float(np.median([r["seconds"] for r in rows])), 2),
                }
    ranking = {}
    for noise in NOISE:
        for repeats in REPEATS:
            keyed = [(v["true_mei_relative"]["median"], v["method"]) for v in table.values()
                     if v["noise"] == noise and v["repeats"] == repeats]
            ranking[f"{noise}|r{repeats}"] = [m for _, m in sorted(keyed, reverse=True)]
    return {"reference_activation": reference, "by_condition": table, "ranking": ranking}


# ---------------------------------------------------------------------------- (b) population
def run_population(plan: dict, path: Path, models: Models) -> dict:
    from mango_widgets.studies.population import PopulationSearch

    if path.exists():
        print(f"population: results already in {path.name}", flush=True)
        return json.loads(path.read_text())
    units = list(range(plan["units"]))
    budget = plan["units"] * plan["per_unit"]
    runs, curves = {}, {}
    for share in (False, True):
        start = time.perf_counter()
        search = PopulationSearch(models.generator, models.network, plan["layer"], units=units, method="tt-b",
                                  budget=budget, seed=0, share=share, threads=1).run()
        runs[share] = {**search.summary(), "seconds": time.perf_counter() - start, "load": os.getloadavg()[0]}
        curves[share] = (search.curves(), [search.own_curve(p) for p in range(len(units))])
        print(f"population share={share}: {search.shown} images in {runs[share]['seconds']:.0f} s", flush=True)
    independent = np.array(runs[False]["own_best_value"])
    active = independent > 0
    U = len(units)
    result = {"layer": plan["layer"], "units": units, "method": "tt-b", "total_images": budget,
              "per_unit_images": plan["per_unit"], "silent_units_excluded": int((~active).sum()), "runs": {}}
    own_curves = curves[False][1]
    own_to_90 = np.array([_first_reach(own_curves[p], 0.9 * independent[p]) for p in range(U)], dtype=np.float64)
    for name, share in (("shared_no_learning", False), ("shared_learning", True)):
        best = np.array(runs[share]["best_value"])
        stream = curves[share][0]
        to_90 = np.array([_first_reach(stream[:, p], 0.9 * independent[p]) for p in range(U)], dtype=np.float64)
        ratio = best[active] / independent[active]
        result["runs"][name] = {
            "activation_ratio_to_independent": quartiles(ratio),
            "units_better": int((ratio > 1 + 1e-9).sum()), "units_worse": int((ratio < 1 - 1e-9).sum()),
            "images_to_90pct_of_independent": quartiles(to_90[active]),
            "images_to_90pct_relative_to_total": quartiles(to_90[active] / budget),
            "seconds": round(runs[share]["seconds"], 1), "load": runs[share]["load"],
            "per_unit": {"best": best.tolist(), "images_to_90pct": to_90.tolist()},
        }
    # independent searches run side by side (round-robin) reach a unit's q-th own image after about U*q images
    result["runs"]["independent"] = {
        "own_images_to_90pct": quartiles(own_to_90[active]),
        "images_to_90pct_interleaved": quartiles(U * own_to_90[active]),
        "per_unit": {"best": independent.tolist(), "own_images_to_90pct": own_to_90.tolist()},
    }
    med_curves = {}
    marks = np.unique(np.linspace(1, budget, 60).round().astype(int))
    for name, share in (("shared_no_learning", False), ("shared_learning", True)):
        rel = curves[share][0][:, active] / independent[active]
        med_curves[name] = np.median(rel[marks - 1], axis=1).round(4).tolist()
    own = np.stack([own_curves[p] for p in np.flatnonzero(active)], axis=1) / independent[active]
    own_marks = np.clip(np.ceil(marks / U).astype(int), 1, own.shape[0])
    med_curves["independent_interleaved"] = np.median(own[own_marks - 1], axis=1).round(4).tolist()
    result["median_curves"] = {"images": marks.tolist(), **med_curves}
    path.write_text(json.dumps(result))
    return result


def _first_reach(curve: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(curve >= level)
    return float(hit[0] + 1) if len(hit) else float("nan")


# ---------------------------------------------------------------------------- (c) several optima
def run_optima(plan: dict, models: Models) -> dict:
    from mango_widgets.core.objective import Objective
    from mango_widgets.studies.several_optima import several_meis

    out = {}
    for target in plan["optima_neurons"]:
        for strategy, kwargs in (("restarts", {"budget": plan["optima_budget"]}),
                                 ("tt-samples", {"budget": 2 * plan["optima_budget"], "samples": plan["optima_budget"]})):
            start = time.perf_counter()
            found = several_meis(Objective(models.generator, models.network, target), count=4, method="tt-b",
                                 strategy=strategy, seed=0, threads=1, **kwargs)
            out[f"{target}|{strategy}"] = {**found.summary(), "seconds": round(time.perf_counter() - start, 1),
                                           "euclidean": found.euclidean.round(2).tolist()}
            print(f"optima {target} {strategy}: {found.summary()}", flush=True)
    return out


# ---------------------------------------------------------------------------- plot
def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_noise, ax_pop) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [1.6, 1]})
    table = summary["noise"]["by_condition"]
    conditions = [(n, r) for n in NOISE for r in REPEATS]
    for j, (noise, repeats) in enumerate(conditions):
        ys = [table.get(f"{m}|{noise}|r{repeats}", {}).get("true_mei_relative", {}).get("median", np.nan) for m in METHODS]
        ax_noise.plot(np.arange(len(METHODS)) + (j - 2.5) * 0.11, ys, "o", label=f"noise {noise}, repeats {repeats}",
                      color=plt.cm.viridis(j / len(conditions)))
    ax_noise.set_xticks(range(len(METHODS)), METHODS, rotation=30)
    ax_noise.set_ylabel("noise-free MEI activation / best found")
    ax_noise.set_title(f"(a) simulated noisy neurons, equal budget ({summary['plan']['budget']} shown)")
    ax_noise.legend(fontsize=7, ncol=2)
    ax_noise.grid(alpha=0.3)
    curves = summary["population"]["median_curves"]
    for name in ("shared_learning", "shared_no_learning", "independent_interleaved"):
        ax_pop.plot(curves["images"], curves[name], label=name.replace("_", " "))
    ax_pop.axhline(0.9, color="grey", lw=0.8, ls=":")
    ax_pop.set_xlabel("images shown in all")
    ax_pop.set_ylabel("median best / independent final")
    ax_pop.set_title(f"(b) population: {len(summary['population']['units'])} units of {summary['population']['layer']}")
    ax_pop.legend(fontsize=8)
    ax_pop.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings, separate result files")
    parser.add_argument("--fresh", action="store_true", help="discard earlier partial results of this plan")
    parser.add_argument("--skip", nargs="*", default=(), choices=("noise", "population", "optima"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="elements of z2", category=UserWarning)  # cma's chatter on clipped steps
    name = "quick" if args.quick else "full"
    plan = PLANS[name]
    stem = "closed_loop" if name == "full" else "closed_loop.quick"
    RESULTS.mkdir(exist_ok=True)
    runs_path, population_path = RESULTS / f"{stem}.runs.jsonl", RESULTS / f"{stem}.population.json"
    if args.fresh:
        for path in (runs_path, population_path):
            path.unlink(missing_ok=True)
    load_start, start = os.getloadavg(), time.perf_counter()
    models = Models()
    summary = {"plan": {**plan, "name": name, "methods": METHODS, "noise_levels": NOISE, "repeats": REPEATS},
               "noise_scales": __import__("mango_widgets.core.noise", fromlist=["NOISE_LEVELS"]).NOISE_LEVELS,
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch_threads": 1,
                           "loadavg_start": load_start}}
    if "noise" not in args.skip:
        summary["noise"] = summarize_noise(run_noise(plan, runs_path, models))
    if "population" not in args.skip:
        summary["population"] = run_population(plan, population_path, models)
    if "optima" not in args.skip:
        summary["several_optima"] = run_optima(plan, models)
    summary["machine"]["loadavg_end"] = os.getloadavg()
    summary["machine"]["wall_seconds_this_invocation"] = round(time.perf_counter() - start, 1)
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=1))
    if "noise" in summary and "population" in summary:
        plot(summary, RESULTS / f"{stem}.png")
    print(f"wrote {RESULTS / (stem + '.json')}")


if __name__ == "__main__":
    main()
