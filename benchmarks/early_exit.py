"""Early exit: the cost of one objective batch with and without stopping the pass at the target layer.

For every layer of the leaderboard's held-out neurons (demo SNN and spiking ResNet-18), one batch of
25 fresh random grid points is evaluated with ``early_exit`` on and off, the two alternating in
each round in one process, so machine noise hits them alike. Per layer: median seconds both ways,
their ratio, and whether the activations were identical; overall: the mean ratio over the held-out
neurons (each neuron weighs its layer's ratio), i.e. the expected saving on the leaderboard.
Results go to benchmarks/results/early_exit.json.

Run:  .venv/bin/python benchmarks/early_exit.py [--rounds 7] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from leaderboard_cases import CASES, load_models, load_plan

from mango_widgets.core.objective import Objective

RESULTS = Path(__file__).parent / "results" / "early_exit.json"


def timed(objective: Objective, indices: np.ndarray, early: bool):
    """(seconds, values) of one uncached evaluation with early exit on or off."""
    objective.network.early_exit = early
    start = time.perf_counter()
    values = objective.evaluate(indices)
    return time.perf_counter() - start, values


def measure_layer(network, generator, layer: str, rounds: int, rng: np.random.Generator) -> dict:
    objective = Objective(generator, network, f"{layer}:0")
    objective.evaluate(generator.grid.random(25, rng))  # warm-up, and the early-exit check for this layer
    seconds = {True: [], False: []}
    identical = True
    for round_number in range(rounds):
        indices = generator.grid.random(25, rng)
        results = {}
        for early in ((True, False) if round_number % 2 == 0 else (False, True)):
            elapsed, results[early] = timed(objective, indices, early)
            seconds[early].append(elapsed)
        identical &= bool(np.array_equal(results[True], results[False]))
    on, off = statistics.median(seconds[True]), statistics.median(seconds[False])
    return {"seconds_early_exit": on, "seconds_full": off, "ratio": on / off, "identical": identical,
            "stops_early": network.early_exits.get((layer,), False)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    plan, cases = load_plan(), json.loads(CASES.read_text())
    rng = np.random.default_rng(0)
    out = {"rounds": args.rounds, "threads": args.threads, "batch": 25, "machine": platform.platform(), "networks": {}}
    for name, spec in plan["networks"].items():
        network, generator = load_models(spec)
        neurons = cases[name]["heldout"]
        layers = list(dict.fromkeys(t.rsplit(":", 1)[0] for t in neurons))
        rows = {layer: measure_layer(network, generator, layer, args.rounds, rng) for layer in layers}
        for layer, row in rows.items():
            print(f"{name} {layer}: {row['seconds_full'] * 1e3:.0f} ms -> {row['seconds_early_exit'] * 1e3:.0f} ms "
                  f"(x{row['ratio']:.2f}, identical: {row['identical']})", flush=True)
        weights = [rows[t.rsplit(":", 1)[0]]["ratio"] for t in neurons]
        out["networks"][name] = {"T": spec["T"], "layers": rows, "held_out_neurons": len(neurons),
                                 "mean_ratio_over_held_out_neurons": float(np.mean(weights))}
        print(f"{name}: mean time ratio (early exit / full) over its {len(neurons)} held-out neurons: {np.mean(weights):.2f}")
    RESULTS.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
