"""What a network's pass-saving switch saves: one objective batch with the switch on and off.

``--switch early_exit`` stops the pass once the target layer has run; ``--switch static_prefix``
computes the stateless layers that read the repeated image once per exposure instead of T times.
For every layer of the leaderboard's held-out neurons (demo SNN and spiking ResNet-18), one batch of
25 fresh random grid points is evaluated with the switch on and off (every other setting at its
default), the two alternating in each round in one process, so machine noise hits them alike. Per
layer: median seconds both ways, their ratio, and whether the activations were identical; overall:
the mean ratio over the held-out neurons (each neuron weighs its layer's ratio), i.e. the expected
saving on the leaderboard. Results go to benchmarks/results/<switch>.json.

Run:  .venv/bin/python benchmarks/pass_savings.py --switch early_exit [--rounds 7] [--threads 1]
      .venv/bin/python benchmarks/pass_savings.py --switch static_prefix --rounds 5
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

RESULTS = Path(__file__).parent / "results"
SWITCHES = ("early_exit", "static_prefix")


def timed(objective: Objective, indices: np.ndarray, switch: str, on: bool):
    """(seconds, values) of one uncached evaluation with the network's ``switch`` on or off."""
    setattr(objective.network, switch, on)
    start = time.perf_counter()
    values = objective.evaluate(indices)
    return time.perf_counter() - start, values


def in_use(network, switch: str, layer: str) -> bool:
    """Whether the switch, on, changes this layer's pass at all (the network's own verdict)."""
    if switch == "early_exit":
        return network.early_exits.get((layer,), False)
    return bool(network.static_prefix_layers)


def measure_layer(network, generator, layer: str, switch: str, rounds: int, rng: np.random.Generator) -> dict:
    objective = Objective(generator, network, f"{layer}:0")
    objective.evaluate(generator.grid.random(25, rng))  # warm-up, and the network's checks for this layer
    seconds = {True: [], False: []}
    identical = True
    for round_number in range(rounds):
        indices = generator.grid.random(25, rng)
        results = {}
        for on in ((True, False) if round_number % 2 == 0 else (False, True)):
            elapsed, results[on] = timed(objective, indices, switch, on)
            seconds[on].append(elapsed)
        identical &= bool(np.array_equal(results[True], results[False]))
    setattr(network, switch, True)
    on, off = statistics.median(seconds[True]), statistics.median(seconds[False])
    return {"seconds_on": on, "seconds_off": off, "ratio": on / off, "identical": identical,
            "in_use": in_use(network, switch, layer)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switch", choices=SWITCHES, default="early_exit")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    plan, cases = load_plan(), json.loads(CASES.read_text())
    rng = np.random.default_rng(0)
    out = {"switch": args.switch, "rounds": args.rounds, "threads": args.threads, "batch": 25, "machine": platform.platform(), "networks": {}}
    for name, spec in plan["networks"].items():
        network, generator = load_models(spec)
        neurons = cases[name]["heldout"]
        layers = list(dict.fromkeys(t.rsplit(":", 1)[0] for t in neurons))
        rows = {layer: measure_layer(network, generator, layer, args.switch, args.rounds, rng) for layer in layers}
        for layer, row in rows.items():
            print(f"{name} {layer}: {row['seconds_off'] * 1e3:.0f} ms -> {row['seconds_on'] * 1e3:.0f} ms "
                  f"(x{row['ratio']:.2f}, identical: {row['identical']}, in use: {row['in_use']})", flush=True)
        weights = [rows[t.rsplit(":", 1)[0]]["ratio"] for t in neurons]
        out["networks"][name] = {"T": spec["T"], "layers": rows, "held_out_neurons": len(neurons),
                                 "static_prefix_layers": list(network.static_prefix_layers),
                                 "mean_ratio_over_held_out_neurons": float(np.mean(weights))}
        print(f"{name}: mean time ratio ({args.switch} on / off) over its {len(neurons)} held-out neurons: {np.mean(weights):.2f}")
    (RESULTS / f"{args.switch}.json").write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
