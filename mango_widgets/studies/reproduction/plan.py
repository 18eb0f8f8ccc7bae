"""The study as a plan of searches on the engine: cold searches first, then the controls.

* **cold** (the primary measurement): every (epoch, layer, unit) x method x seed, from scratch;
* **warm**: ``warm_method`` started from the previous epoch's *cold* MEI of the same neuron and seed
  (a dependency between cells), next to an **equal-budget control**: a cold search with
  ``control_factor`` x budget, i.e. as many queries as the previous search plus the warm one;
* **compare**: the same neurons and methods with the second generator (paper Appendix B).

Cold cells go in rounds, epochs in a coarse-to-fine order (last and first epoch, then the middle,
then the epochs between), epoch by epoch within a round so a worker loads each checkpoint once:
the first five of those epochs with the first seed, the same epochs with the other seeds, then
the remaining epochs with every seed. The second generator follows the first two epochs of a
round; the warm pair that ends at the last epoch comes early (its start cells are planned right
away), every other warm pair as soon as both of its epochs are in. A study stopped half-way thus
has every neuron on a coarse grid of epochs, the second generator and some warm pairs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from mango_widgets.engine.plan import Plan
from mango_widgets.engine.spec import Cell
from mango_widgets.errors import ConfigError
from mango_widgets.studies.reproduction.config import StudyConfig

#: the store folder inside a study folder
STORE = "store"
#: epochs of the first round (coarse to fine), searched with one seed before the other seeds
EARLY_EPOCHS = 5


def choose_units(count: int, wanted: int) -> List[int]:
    """``wanted`` unit indices spread evenly over ``count`` units (all of them when there are fewer)."""
    if count <= wanted:
        return list(range(count))
    return sorted({int(round(x)) for x in np.linspace(0, count - 1, wanted)})


def coarse_to_fine(epochs: List[int]) -> List[int]:
    """Epochs ordered last, first, then by repeated halving of the gaps (12, 1, 6, 3, 9, 2, 4, 7, 10, 5, 8, 11)."""
    epochs = sorted(epochs)
    if len(epochs) <= 2:
        return epochs[::-1]
    order, gaps = [epochs[-1], epochs[0]], [(0, len(epochs) - 1)]
    while gaps:
        following = []
        for low, high in gaps:
            if high - low < 2:
                continue
            middle = (low + high) // 2
            order.append(epochs[middle])
            following += [(low, middle), (middle, high)]
        gaps = following
    return order


def choose_layers(spiking: List[str], layers, layer_count: Optional[int]) -> List[str]:
    """The given layers (checked), or ``layer_count`` spiking layers evenly spaced from first to last (all if None)."""
    if layers:
        unknown = [name for name in layers if name not in spiking]
        if unknown:
            raise ConfigError(f"layers {unknown} are not spiking layers of the network; its spiking layers are {spiking}")
        return list(layers)
    if layer_count is None or layer_count >= len(spiking):
        return list(spiking)
    return [spiking[i] for i in choose_units(len(spiking), int(layer_count))]


@dataclass(frozen=True)
class StudyDesign:
    """The neurons and checkpoints a study covers (resolved against the models)."""

    layers: List[str]
    units: Dict[str, List[int]]
    epochs: List[int]
    compare_epochs: List[int]
    T: int
    warm_epochs: List[int]

    def warm_pairs(self):
        """(previous epoch, epoch) of every warm start: from the cold MEI one study epoch earlier."""
        previous = dict(zip(self.epochs[1:], self.epochs))
        return [(previous[e], e) for e in self.warm_epochs if e in previous]

    def neurons(self):
        """(layer, unit) of every studied neuron, shallow to deep."""
        return [(layer, unit) for layer in self.layers for unit in self.units[layer]]

    def to_dict(self) -> dict:
        """The design as plain JSON."""
        return {"layers": self.layers, "units": self.units, "epochs": self.epochs, "compare_epochs": self.compare_epochs,
                "T": self.T, "warm_epochs": self.warm_epochs}


def design(config: StudyConfig, source) -> StudyDesign:
    """Resolve layers, units, epochs and T of ``config`` against the primary model source."""
    from mango_widgets.studies.reproduction.sources import spiking_layers

    saved = source.epochs()
    if config.epochs is None:
        epochs = list(saved)
    else:
        epochs = sorted({int(e) for e in config.epochs})
        missing = [e for e in epochs if e not in saved]
        if missing:
            raise ConfigError(f"no checkpoint for epochs {missing}; saved epochs are {saved}")
    layer_units = source.layer_units()
    layers = choose_layers(spiking_layers(source), config.layers, config.layer_count)
    units = {layer: choose_units(layer_units[layer], config.units) for layer in layers}
    compare = []
    for epoch in config.compare_epochs:
        value = epochs[-1] if str(epoch) == "last" else epochs[0] if str(epoch) == "first" else int(epoch)
        if value not in saved:
            raise ConfigError(f"compare_epochs: no checkpoint for epoch {value}; saved epochs are {saved}")
        compare.append(value)
    warm = epochs[1:] if config.warm_epochs is None else [e for e in sorted(set(config.warm_epochs)) if e in epochs[1:]]
    if config.warm_epochs is not None and len(warm) != len(set(config.warm_epochs)):
        raise ConfigError(f"warm_epochs {list(config.warm_epochs)} must be study epochs after the first ({epochs[1:]})")
    return StudyDesign(layers, units, epochs, sorted(set(compare)), int(config.T or source.default_T()), warm)


def build_plan(config: StudyConfig, sources: Dict[str, object], study: StudyDesign, primary: str,
               compare: Optional[str] = None) -> Plan:
    """The study's :class:`~mango_widgets.engine.plan.Plan` (see the module docstring for its parts)."""
    plan = Plan(config.folder / STORE, sources, keep_indices=False, describe=True,
                spec={"study": f"mango reproduce --scale {config.scale}"})

    def cell(network, epoch, layer, unit, method, seed, budget=config.budget, init="cold"):
        return Cell(network, epoch, layer, unit, method, seed, budget, study.T, "uniform", init)

    order = coarse_to_fine(study.epochs)
    seeds = list(range(config.seeds))
    early = order[:EARLY_EPOCHS]
    rounds = [(early, seeds[:1]), (early, seeds[1:]), (order[len(early):], seeds)]
    warm_seeds = seeds[:min(config.warm_seeds, config.seeds)]
    warm_pairs = list(study.warm_pairs()) if config.warm_method else []
    planned = set()

    def add_warm_pairs():
        for previous, later in [p for p in warm_pairs if all({(p[0], s), (p[1], s)} <= planned for s in warm_seeds)]:
            warm_pairs.remove((previous, later))
            for seed in warm_seeds:
                for layer, unit in study.neurons():
                    start = cell(primary, previous, layer, unit, config.warm_method, seed)
                    plan.add(cell(primary, later, layer, unit, config.warm_method, seed, init="warm"), after=start)
                    plan.add(cell(primary, later, layer, unit, config.warm_method, seed, budget=config.budget * config.control_factor))

    for epochs, round_seeds in rounds:
        for position, epoch in enumerate(epochs):
            for seed in round_seeds:
                for layer, unit in study.neurons():
                    for method in config.methods:
                        plan.add(cell(primary, epoch, layer, unit, method, seed))
                planned.add((epoch, seed))
            if compare is not None and position == min(1, len(epochs) - 1):  # the second generator after two epochs
                for compare_epoch in study.compare_epochs:
                    for seed in round_seeds:
                        for layer, unit in study.neurons():
                            for method in config.methods:
                                plan.add(cell(compare, compare_epoch, layer, unit, method, seed))
            if epoch == order[0] and warm_pairs and warm_pairs[-1][1] == epoch:  # the last epoch's pair comes early:
                previous = warm_pairs[-1][0]  # plan the warm method's cold cells one epoch before it now
                for seed in warm_seeds:
                    for layer, unit in study.neurons():
                        plan.add(cell(primary, previous, layer, unit, config.warm_method, seed))
                planned.update((previous, seed) for seed in warm_seeds)
            add_warm_pairs()
    return plan
