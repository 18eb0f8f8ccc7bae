"""Random search: uniformly random grid points, the baseline every method must beat."""
from __future__ import annotations

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer
from mango_widgets.core.space import LatentGrid


class RandomSearch(Optimizer):
    """Asks ``batch_size`` uniformly random grid points at a time."""

    warm_startable = True

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, batch_size: int = 25):
        super().__init__(grid, seed, budget)
        self.batch_size = int(batch_size)
        self._rng = np.random.default_rng(self.seed)
        self._start = None

    def _settings(self) -> dict:
        return {"batch_size": self.batch_size}

    def warm_start_from(self, index) -> None:
        """Put ``index`` first in the next batch."""
        self._start = self.grid.check(index)[0]

    def _ask(self) -> np.ndarray:
        batch = self.grid.random(self.batch_size, self._rng)
        if self._start is not None:
            batch[0], self._start = self._start, None
        return batch

    def _tell(self, indices, values) -> None:
        pass


def register_all(register) -> None:
    register("random", RandomSearch, "uniform random grid points (baseline)")
