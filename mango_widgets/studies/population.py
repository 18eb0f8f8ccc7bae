"""Population search: one shared stimulus stream for many units of a layer, as a multi-electrode
or calcium-imaging recording sees many neurons at once.

Each round every unit's optimizer asks for a batch; all the images are shown once (one forward
pass scores every unit of the layer); each unit is told the values of its own batch and, with
``share=True``, also observes every other image of the round (methods that can use them learn
from them, see ``Optimizer.learns_from_observations``). A unit's best is the maximum over every
shown image, whoever asked for it. The budget counts shown images, like a rig would.
"""
from __future__ import annotations

import time
from typing import Iterable, Optional

import numpy as np

from mango_widgets.core.driver import Driver, build_optimizer
from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError
from mango_widgets.runtime.threads import default_threads, torch_threads

#: images rendered and shown per forward pass (memory bound, not a result-changing setting)
CHUNK = 512


def unit_seed(seed: int, unit: int) -> int:
    """The optimizer seed of ``unit`` in a population search with ``seed`` (also used to repeat
    its search alone)."""
    return int(np.random.SeedSequence([int(seed), int(unit)]).generate_state(1)[0] % 2**31)


class PopulationSearch:
    """Maximise every unit of ``units`` (default: all) of ``layer`` from one stimulus stream of
    ``budget`` images in all; each unit has its own ``method`` optimizer (seed ``unit_seed``)."""

    def __init__(
        self,
        generator: Generator,
        network: Network,
        layer: str,
        units: Optional[Iterable[int]] = None,
        method: str = "tt-b",
        budget: int = 16000,
        seed: int = 0,
        share: bool = True,
        threads: Optional[int] = -1,
        **optimizer_params,
    ):
        info = network.layer(layer)
        units = list(range(info.units)) if units is None else [int(u) for u in units]
        if not units or len(set(units)) != len(units):
            raise ConfigError(f"units must be distinct units of {layer!r}, got {units}")
        for unit in units:
            network.check_unit(layer, unit)
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < len(units):
            raise ConfigError(f"budget (shown images in all) must be an integer >= the number of units ({len(units)}), got {budget!r}")
        self.generator, self.network, self.layer = generator, network, layer
        self.units = np.array(units, dtype=np.int64)
        self.method, self.budget, self.seed, self.share = method, int(budget), int(seed), bool(share)
        self.threads = default_threads() if threads == -1 else threads  # torch threads, as in Search
        self.per_unit_budget = self.budget // len(units)
        # one driver per unit; the shared stream, not the driver, enforces the budget (budget=None)
        grid = generator.grid
        self.drivers = [
            Driver(grid, build_optimizer(method, grid, unit_seed(seed, u), self.per_unit_budget, optimizer_params), budget=None)
            for u in units
        ]
        U, d = len(units), generator.grid.d
        self.shown = 0
        self.rounds = 0
        self.best_value = np.full(U, -np.inf)
        self.best_index = np.zeros((U, d), dtype=np.int64)
        self.best_query = np.zeros(U, dtype=np.int64)  # 1-based image number in the stream
        self.own_best_value = np.full(U, -np.inf)  # over the images the unit asked for itself
        self.own_best_query = np.zeros(U, dtype=np.int64)  # 1-based number among its own images
        self.own_queries = np.zeros(U, dtype=np.int64)
        self._indices, self._values, self._asked_by = [], [], []
        self.model_seconds = self.optimizer_seconds = 0.0

    def __repr__(self) -> str:
        return (f"PopulationSearch({self.method!r}, {self.layer} x {len(self.units)} units, shown={self.shown}/{self.budget}, "
                f"share={self.share})")

    # ------------------------------------------------------------------ run
    @property
    def optimizers(self) -> list:
        """Each unit's optimizer, in the order of ``units``."""
        return [driver.optimizer for driver in self.drivers]

    def run(self) -> PopulationSearch:
        """Show rounds of stimuli until the budget is spent; returns self."""
        with torch_threads(self.threads):
            while self.shown < self.budget:
                self._round()
        for driver in self.drivers:
            driver.close()
        return self

    def _round(self) -> None:
        optimizer_before = sum(driver.optimizer_seconds for driver in self.drivers)
        left = self.budget - self.shown
        batches = []
        for driver in self.drivers:  # every unit asks; the stream shows what the budget still pays for
            batches.append(driver.next_batch(limit=max(left, 0)))
            left -= len(batches[-1].shown)
        owner = np.concatenate([np.full(len(b.shown), p, dtype=np.int64) for p, b in enumerate(batches)])
        indices = np.concatenate([b.shown for b in batches])
        t1 = time.perf_counter()
        values = self.responses(indices)
        self.model_seconds += time.perf_counter() - t1
        self._record(indices, values, owner)
        for position, (driver, batch) in enumerate(zip(self.drivers, batches)):
            mine = owner == position
            if self.share and not batch.cut and (~mine).any():
                driver.observe(indices[~mine], values[~mine, position])
            driver.report(batch, values[mine, position])
        self.rounds += 1
        self.optimizer_seconds += sum(driver.optimizer_seconds for driver in self.drivers) - optimizer_before

    def responses(self, indices: np.ndarray) -> np.ndarray:
        """Activations [B, units] of the chosen units for grid indices [B, d] (one pass per chunk)."""
        parts = []
        for start in range(0, len(indices), CHUNK):
            images = self.generator(indices[start:start + CHUNK])
            layer = self.network.run(images, [self.layer], output=False)[self.layer]
            parts.append(layer[:, self.units].double().cpu().numpy())
        return np.concatenate(parts)

    def _record(self, indices: np.ndarray, values: np.ndarray, owner: np.ndarray) -> None:
        first = self.shown
        self.shown += len(indices)
        self._indices.append(indices.astype(np.int16 if self.generator.grid.n <= 32767 else np.int64))
        self._values.append(values.astype(np.float32))
        self._asked_by.append(owner)
        best = values.argmax(0)
        better = values[best, np.arange(len(self.units))] > self.best_value
        self.best_value[better] = values[best, np.arange(len(self.units))][better]
        self.best_index[better] = indices[best[better]]
        self.best_query[better] = first + best[better] + 1
        for position in np.unique(owner):
            rows = np.flatnonzero(owner == position)
            own = values[rows, position]
            k = int(own.argmax())
            if own[k] > self.own_best_value[position]:
                self.own_best_value[position] = own[k]
                self.own_best_query[position] = self.own_queries[position] + k + 1
            self.own_queries[position] += len(rows)

    # -------------------------------------------------------------- results
    @property
    def indices(self) -> np.ndarray:
        """Grid index of every shown image, in stream order [N, d]."""
        return np.concatenate(self._indices).astype(np.int64) if self._indices else np.zeros((0, self.generator.grid.d), np.int64)

    @property
    def values(self) -> np.ndarray:
        """Response of every unit to every shown image [N, units] (float32)."""
        return np.concatenate(self._values) if self._values else np.zeros((0, len(self.units)), np.float32)

    @property
    def asked_by(self) -> np.ndarray:
        """Position (in ``units``) of the unit whose optimizer asked for each image [N]."""
        return np.concatenate(self._asked_by) if self._asked_by else np.zeros(0, np.int64)

    def curves(self) -> np.ndarray:
        """Best so far of every unit over the shared stream [N, units]."""
        return np.maximum.accumulate(self.values, axis=0)

    def own_curve(self, position: int) -> np.ndarray:
        """Best so far of one unit over the images its own optimizer asked for."""
        own = self.values[self.asked_by == position, position]
        return np.maximum.accumulate(own) if len(own) else own

    def summary(self) -> dict:
        """Plain-JSON bookkeeping: shown images, rounds, per-unit bests."""
        return {
            "method": self.method, "layer": self.layer, "units": self.units.tolist(), "budget": self.budget,
            "per_unit_budget": self.per_unit_budget, "seed": self.seed, "share": self.share,
            "shown": self.shown, "rounds": self.rounds,
            "best_value": self.best_value.tolist(), "best_query": self.best_query.tolist(),
            "own_best_value": self.own_best_value.tolist(), "own_best_query": self.own_best_query.tolist(),
            "own_queries": self.own_queries.tolist(),
            "model_seconds": self.model_seconds, "optimizer_seconds": self.optimizer_seconds,
        }
