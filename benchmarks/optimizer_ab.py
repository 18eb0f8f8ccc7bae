"""auto's own time with one of its speed-ups and without it, on the same search.

``--change pools``: sep-CMA's BLAS thread pools found once per process (the code) vs at every ask and
tell (the earlier per-call ``threadpool_limits``: finding the pools reads ``/proc/self/maps``).
``--change sep_generation``: a sep-CMA generation drawn in blocks (the code) vs one
``SepCMA.ask()`` per candidate (each redrawn until it lies in the box, ~6 draws in 128 dimensions).
Each round runs the same full search (`auto`, a demo-SNN neuron, 1 torch thread) both ways,
alternating in one process so machine load hits both alike. Both must ask the same points (the
history's hash is recorded). Reports the optimizer's seconds and share of the search, medians and
the ratio. Results: ``benchmarks/results/cma_pools.json`` / ``sep_generation.json``.

Run: ``.venv/bin/python benchmarks/optimizer_ab.py --change pools [--rounds 3] [--target lif3:58] [--budget 2000]``
     ``.venv/bin/python benchmarks/optimizer_ab.py --change sep_generation --rounds 5 --budget 10000``
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
#: change -> (results file, name of the code's way, name of the earlier way)
CHANGES = {"pools": ("cma_pools.json", "found-once", "per-call"),
           "sep_generation": ("sep_generation.json", "in-blocks", "per-candidate")}


@contextmanager
def earlier_way(change: str):
    """Patch in the way the code worked before ``change``."""
    from mango_widgets.core.optimizers import cma_opt, sep_generation

    if change == "pools":
        from threadpoolctl import threadpool_limits

        module, name, value = cma_opt, "_one_blas_thread", lambda: threadpool_limits(limits=1, user_api="blas")
    else:
        module, name, value = sep_generation, "supported", lambda es: False
    kept = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, kept)


def one_search(change: str, earlier: bool, target: str, budget: int) -> dict:
    from mango_widgets import Objective, Search, demo_generator, demo_network

    search = Search(Objective(demo_generator(), demo_network(), target), "auto", budget=budget, seed=0)
    if earlier:
        with earlier_way(change):
            search.run()
    else:
        search.run()
    summary = search.history.summary()
    digest = hashlib.sha256(search.history.indices[: search.queries].tobytes()).hexdigest()[:16]
    return {"variant": CHANGES[change][2 if earlier else 1], "best": summary["best_value"], "history_sha": digest,
            "optimizer_s": summary["optimizer_seconds"], "objective_s": summary["objective_seconds"],
            "wall_s": summary["wall_seconds"],
            "optimizer_share": summary["optimizer_seconds"] / (summary["optimizer_seconds"] + summary["objective_seconds"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--change", choices=sorted(CHANGES), default="pools")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--target", default="lif3:58")
    parser.add_argument("--budget", type=int, default=2000)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    file, code_way, earlier_name = CHANGES[args.change]
    one_search(args.change, False, args.target, 100)  # warm-up (imports, first compile), not counted
    runs = []
    for round_ in range(args.rounds):
        for earlier in ((False, True) if round_ % 2 == 0 else (True, False)):
            run = {"round": round_, **one_search(args.change, earlier, args.target, args.budget)}
            print(json.dumps(run), flush=True)
            runs.append(run)
    summary = {}
    for variant in (code_way, earlier_name):
        mine = [r for r in runs if r["variant"] == variant]
        summary[variant] = {key: round(statistics.median(r[key] for r in mine), 4) for key in ("optimizer_s", "objective_s", "optimizer_share")}
    summary[f"{earlier_name}_vs_{code_way}_optimizer_s"] = round(summary[earlier_name]["optimizer_s"] / summary[code_way]["optimizer_s"], 2)
    summary["same_points_asked"] = len({r["history_sha"] for r in runs}) == 1
    result = {"what": __doc__.splitlines()[0], "change": args.change,
              "command": f"python benchmarks/optimizer_ab.py --change {args.change} --rounds {args.rounds} --target {args.target} "
                         f"--budget {args.budget}",
              "target": args.target, "budget": args.budget, "machine": {"cpus": os.cpu_count(), "load_before": list(os.getloadavg()),
              "python": platform.python_version()}, "summary": summary, "runs": runs}
    (RESULTS / file).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
