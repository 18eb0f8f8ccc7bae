"""The leaderboard's cases: model sources, the pre-registered neuron-selection rule, frozen ceilings.

A network source is ``demo`` (the bundled SNN and generator), ``bundled:NAME`` (a trained run shipped
in the package, its last epoch unless the source names ``epoch``) or the path of a zoo model written
by ``mango train`` / ``zoo.save`` (weights + JSON sidecar); the generator is ``demo`` or a zoo path. The rule that
picks held-out neurons and its seed live in ``benchmarks/leaderboard_plan.json``, committed
before any held-out run; the chosen neurons and their ceilings are frozen in
``benchmarks/results/leaderboard_cases.json`` before the runs (``freeze``), never recomputed.

Run:  .venv/bin/python benchmarks/leaderboard_cases.py freeze --network demo-snn
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads (see leaderboard.py)

import numpy as np  # noqa: E402

HERE = Path(__file__).parent
PLAN = HERE / "leaderboard_plan.json"
CASES = HERE / "results" / "leaderboard_cases.json"


def load_plan() -> dict:
    return json.loads(PLAN.read_text())


def load_models(source: dict, T=None):
    """(network, generator) for a source {"network": "demo" | PATH, "generator": "demo" | PATH}."""
    from mango_widgets.models import zoo
    from mango_widgets.models.bundled import demo_generator, demo_network

    T = T or source.get("T")
    if str(source["network"]).startswith("PENDING"):
        raise SystemExit(f"this network's weights are not in the plan yet ({source['network']}); "
                         "put the path of its zoo file (weights + JSON sidecar) in benchmarks/leaderboard_plan.json")
    name = str(source["network"])
    if name == "demo":
        network = demo_network(T=T)
    elif name.startswith("bundled:"):  # a run shipped in the package (mango_widgets/models/weights), its last epoch
        from mango_widgets.models.trained import bundled_network

        network = bundled_network(name.split(":", 1)[1], epoch=source.get("epoch"), T=T)
    else:
        network = zoo.load(HERE.parent / name, **({"T": T} if T else {}))
    generator = demo_generator() if source["generator"] == "demo" else zoo.load(HERE.parent / source["generator"])
    return network, generator


def hidden_spiking_layers(network, exclude=("output",)) -> list:
    """Every spiking layer but the output layer, in forward order (a network whose last layer
    spikes reads out there; one that ends in a linear read-out keeps all its spiking layers)."""
    layers = network.layers()
    spiking = [name for name, info in layers.items() if info.spiking]
    if spiking and spiking[-1] == list(layers)[-1]:
        spiking = spiking[:-1]
    return [name for name in spiking if name not in exclude]


def select_neurons(network, generator, rule: dict, exclude=()) -> list:
    """The pre-registered rule: over the hidden spiking layers (``rule["layers"]``: all, or every
    k-th so that ``rule["total"]`` units spread over the depth), draw units at random (seed
    ``rule["seed"]``) among those whose best activation over ``rule["samples"]`` random grid
    points lies in (low, high): active but not saturated; skip ``exclude`` (the development set)."""
    from mango_widgets.core.objective import Objective

    rng = np.random.default_rng(rule["seed"])
    layers = hidden_spiking_layers(network)
    per_layer = rule.get("per_layer")
    if per_layer is None:  # spread ``total`` units over evenly spaced layers, one each
        picks = np.linspace(0, len(layers) - 1, rule["total"]).round().astype(int)
        layers = [layers[i] for i in picks]
        per_layer = 1
    probe = Objective(generator, network, f"{layers[0]}:0")
    indices = generator.grid.random(rule["samples"], np.random.default_rng(rule["seed"] + 1))
    chosen = []
    for layer in layers:
        best = probe.layer_activations(indices, layer).max(0)
        eligible = [u for u in range(len(best)) if rule["low"] < best[u] < rule["high"] and f"{layer}:{u}" not in exclude
                    and f"{layer}:{u}" not in chosen]
        if len(eligible) < per_layer:
            raise RuntimeError(f"layer {layer} has only {len(eligible)} eligible units for the rule {rule}")
        chosen += [f"{layer}:{int(u)}" for u in rng.choice(eligible, size=per_layer, replace=False)]
    return chosen


def freeze(name: str, dev_neurons=(), restarts: int = 16, steps: int = 80) -> dict:
    """Choose the held-out neurons of network ``name`` and compute their ceilings; write them once."""
    from mango_widgets.core.objective import Objective
    from mango_widgets.studies.ceiling import gradient_ceiling

    plan = load_plan()
    source = plan["networks"][name]
    cases = json.loads(CASES.read_text()) if CASES.exists() else {}
    if name in cases and cases[name].get("heldout"):
        raise SystemExit(f"{name} is already frozen in {CASES}; the held-out cases are never recomputed")
    network, generator = load_models(source)
    entry = {"source": source, "dev": list(dev_neurons), "heldout": [], "ceilings": {}, "ceiling_settings": {}}
    entry["heldout"] = select_neurons(network, generator, source["rule"], exclude=set(dev_neurons))
    settings = {"restarts": restarts, "steps": steps, "seed": plan["ceiling_seed"]}
    entry["ceiling_settings"] = settings
    for target in entry["heldout"] + entry["dev"]:  # held-out first: their runs wait for them
        start = time.perf_counter()
        result = gradient_ceiling(Objective(generator, network, target), **settings)
        entry["ceilings"][target] = result.summary()
        print(f"{name} {target}: ceiling {result.value:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
        cases[name] = entry
        CASES.parent.mkdir(parents=True, exist_ok=True)
        CASES.write_text(json.dumps(cases, indent=1))
    return entry


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    frz = sub.add_parser("freeze", help="select the held-out neurons by the plan's rule and freeze their ceilings")
    frz.add_argument("--network", required=True)
    frz.add_argument("--restarts", type=int, default=16)
    frz.add_argument("--steps", type=int, default=80)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    dev = load_plan()["networks"][args.network].get("dev", [])
    freeze(args.network, dev, args.restarts, args.steps)


if __name__ == "__main__":
    main()
