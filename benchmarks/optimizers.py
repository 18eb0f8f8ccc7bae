"""Equal-budget optimizer benchmark on the demo models (TT methods vs Nevergrad vs random).

RETIRED: superseded by the pre-registered leaderboard (benchmarks/leaderboard.py,
docs/optimizers.md). Kept so that the committed runs in results/optimizers.jsonl can be
reproduced: its nevergrad rows use the parametrization those runs used (``array``, repeats
re-asked), not today's default (``probit``, uniform start, repeats skipped).

Each run is one Search of one method on one hidden spiking neuron with one seed, cut at
exactly the budget; every objective call counts. Runs append to a JSON-lines file as they
finish, so the benchmark resumes where it stopped (runs already in the file are skipped);
``--workers`` runs that many single-threaded processes side by side. Summarise with
``benchmarks/summarize_optimizers.py``.

Run (the full study, about an hour on 2 cores):
  .venv/bin/python benchmarks/optimizers.py --plan full
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
from run_records import done_keys, search_run_fields

RESULTS = Path(__file__).parent / "results"
#: layers whose units are benchmark targets: the hidden spiking layers of the demo SNN
LAYERS = ("lif1", "lif2", "lif3", "lif4")
ALL_METHODS = ("tt", "tt-s", "tt-b", "ttopt", "portfolio", "portfolio-choice", "cma", "oneplusone",
               "noisybandit", "spsa", "de", "random")
LONG_METHODS = ("tt-b", "tt-s", "portfolio", "cma", "random")
#: method name in the results -> (registry name, extra parameters)
_AS_COMMITTED = {"parametrization": "array", "avoid_repeats": False}
VARIANTS = {"portfolio-choice": ("portfolio", {"parametrization": "choice", "avoid_repeats": False}),
            **{m: (m, _AS_COMMITTED) for m in ("portfolio", "cma", "oneplusone", "noisybandit", "spsa", "de")}}
CURVE_POINTS = 100


def select_neurons(per_layer: int = 3, samples: int = 256, seed: int = 0) -> list:
    """Pick unsaturated, non-silent units: for each layer, units whose best activation over
    ``samples`` random grid points lies in (0.02, 0.6), spread over that range."""
    from mango_widgets.core.objective import Objective
    from mango_widgets.models.bundled import demo_generator, demo_network

    generator, network = demo_generator(), demo_network()
    probe = Objective(generator, network, f"{LAYERS[0]}:0")
    indices = generator.grid.random(samples, np.random.default_rng(seed))
    chosen = []
    for layer in LAYERS:
        best = probe.layer_activations(indices, layer).max(0)
        candidates = [u for u in np.argsort(best) if 0.02 < best[u] < 0.6]
        if len(candidates) < per_layer:
            raise RuntimeError(f"layer {layer} has only {len(candidates)} unsaturated units")
        picks = np.linspace(0, len(candidates) - 1, per_layer).round().astype(int)
        chosen += [f"{layer}:{int(candidates[i])}" for i in picks]
    return chosen


def run_one(job: dict) -> dict:
    """One search; returns a JSON-able record (best value, curve, time split)."""
    import torch

    from mango_widgets.core.objective import Objective
    from mango_widgets.core.search import Search
    from mango_widgets.models.bundled import demo_generator, demo_network

    torch.set_num_threads(1)
    method, params = VARIANTS.get(job["method"], (job["method"], {}))
    objective = Objective(demo_generator(spacing=job.get("spacing", "uniform")), demo_network(), job["target"])
    search = Search(objective, method, budget=job["budget"], seed=job["seed"], threads=1, **params)
    first_ask = time.perf_counter()
    search.optimizer.ask()  # the first ask carries JIT compilation (PROTES) or set-up
    # (the first tell's compilation stays in optimizer_seconds here, as in the committed runs;
    # benchmarks/optimizer_overhead.py compiles both before it times a search)
    compile_seconds = time.perf_counter() - first_ask
    search.run()
    queries = len(search.history.values)
    asks = max(1, int(np.ceil(queries / max(1, _batch(search.optimizer)))))
    return {
        **job,
        **search_run_fields(search, np.unique(np.linspace(1, queries, CURVE_POINTS).round().astype(int))),
        "compile_seconds": compile_seconds,
        "asks": asks,
        "overhead_ms_per_ask": 1e3 * search.history.optimizer_seconds / asks,
    }


def _batch(optimizer) -> int:
    return int(getattr(optimizer, "K", None) or getattr(optimizer, "batch_size", None) or 1)


def plan(name: str, neurons: list, seeds: int) -> list:
    """The runs of a named plan."""
    jobs = []
    if name in ("short", "full"):
        jobs += [{"target": t, "method": m, "seed": s, "budget": 2000} for t in neurons for m in ALL_METHODS for s in range(seeds)]
    if name in ("grid", "full"):
        jobs += [{"target": t, "method": m, "seed": s, "budget": 2000, "spacing": "normal"}
                 for t in neurons for m in ("tt-b", "portfolio") for s in range(seeds)]
    if name in ("long", "full"):
        long_neurons = neurons[::2]  # 6 of the 12, spread over all four layers
        jobs += [{"target": t, "method": m, "seed": s, "budget": 10_000} for t in long_neurons for m in LONG_METHODS for s in range(seeds)]
    if name == "smoke":
        jobs += [{"target": neurons[0], "method": m, "seed": 0, "budget": 100} for m in ALL_METHODS]
    return jobs


def key(job: dict) -> str:
    return f"{job['target']}|{job['method']}|{job['seed']}|{job['budget']}|{job.get('spacing', 'uniform')}"


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="full", choices=("smoke", "short", "long", "grid", "full"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--per-layer", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-methods", nargs="*", default=(),
                        help="leave these methods out of this invocation (their runs stay in the file)")
    parser.add_argument("--out", default=str(RESULTS / "optimizers.jsonl"))
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    neurons_file = out.with_suffix(".neurons.json")
    if neurons_file.exists():
        neurons = json.loads(neurons_file.read_text())
    else:
        neurons = select_neurons(args.per_layer)
        neurons_file.write_text(json.dumps(neurons))
    done = done_keys(out, key)
    jobs = [job for job in plan(args.plan, neurons, args.seeds)
            if key(job) not in done and job["method"] not in args.skip_methods]
    print(f"{len(done)} runs already in {out}; {len(jobs)} to go on {args.workers} worker(s); neurons {neurons}")
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.workers) as pool, open(out, "a") as sink:
        for count, record in enumerate(pool.imap_unordered(run_one, jobs), 1):
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            print(f"[{count}/{len(jobs)}] {record['method']:>16} {record['target']:>8} seed {record['seed']} "
                  f"budget {record['budget']}: best {record['best']:.3f} in {record['wall_seconds']:.1f} s", flush=True)
    return out


if __name__ == "__main__":
    main()
