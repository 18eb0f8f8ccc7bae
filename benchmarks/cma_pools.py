"""sep-CMA-ES's own time (auto's method) with the BLAS thread pools found once vs at every ask/tell.

``core/optimizers/cma_opt`` runs CMA's matrix products on one BLAS thread (threadpoolctl). Finding
the process's thread pools reads ``/proc/self/maps``; this benchmark runs the same full search
(`auto` = sep-CMA, a demo-SNN neuron, 2,000 queries, 1 torch thread) with the pools found once per
process (the code) and with the earlier per-call ``threadpool_limits`` (patched in), alternating
round by round in one process so machine load hits both alike. Both must ask the same points
(the history's hash is recorded). Reports the optimizer's share of the search's time, medians and
the ratio. Results: ``benchmarks/results/cma_pools.json``.

Run: ``.venv/bin/python benchmarks/cma_pools.py [--rounds 3] [--target lif3:58]``
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "cma_pools.json"


def per_call_limits():
    """The earlier way: threadpoolctl finds every pool again at each call."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def one_search(variant: str, target: str, budget: int) -> dict:
    from mango_widgets import Objective, Search, demo_generator, demo_network
    from mango_widgets.core.optimizers import cma_opt

    found_once = cma_opt._one_blas_thread
    if variant == "per-call":
        cma_opt._one_blas_thread = per_call_limits
    try:
        search = Search(Objective(demo_generator(), demo_network(), target), "auto", budget=budget, seed=0)
        search.run()
    finally:
        cma_opt._one_blas_thread = found_once
    summary = search.history.summary()
    digest = hashlib.sha256(search.history.indices[: search.queries].tobytes()).hexdigest()[:16]
    return {"variant": variant, "best": summary["best_value"], "history_sha": digest,
            "optimizer_s": summary["optimizer_seconds"], "objective_s": summary["objective_seconds"],
            "wall_s": summary["wall_seconds"],
            "optimizer_share": summary["optimizer_seconds"] / (summary["optimizer_seconds"] + summary["objective_seconds"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--target", default="lif3:58")
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    one_search("found-once", args.target, 100)  # warm-up (imports, first compile), not counted
    runs = []
    for round_ in range(args.rounds):
        for variant in (("found-once", "per-call") if round_ % 2 == 0 else ("per-call", "found-once")):
            run = {"round": round_, **one_search(variant, args.target, args.budget)}
            print(json.dumps(run), flush=True)
            runs.append(run)
    summary = {}
    for variant in ("found-once", "per-call"):
        mine = [r for r in runs if r["variant"] == variant]
        summary[variant] = {key: round(statistics.median(r[key] for r in mine), 4) for key in ("optimizer_s", "objective_s", "optimizer_share")}
    summary["per_call_vs_found_once_optimizer_s"] = round(summary["per-call"]["optimizer_s"] / summary["found-once"]["optimizer_s"], 2)
    summary["same_points_asked"] = len({r["history_sha"] for r in runs}) == 1
    result = {"what": __doc__.splitlines()[0], "command": f"python benchmarks/cma_pools.py --rounds {args.rounds} --target {args.target}",
              "target": args.target, "budget": args.budget, "machine": {"cpus": os.cpu_count(), "load_before": list(os.getloadavg()),
              "python": platform.python_version()}, "summary": summary, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
