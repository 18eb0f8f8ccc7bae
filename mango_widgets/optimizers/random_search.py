"""Random search: uniformly random grid points, the baseline every method must beat."""
from __future__ import annotations

import numpy as np

from ..space import LatentGrid
from .base import Optimizer


class RandomSearch(Optimizer):
    """Asks ``batch_size`` uniformly random grid points at a time."""

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, batch_size: int = 25):
        super().__init__(grid, seed, budget)
        self.batch_size = int(batch_size)
        self._rng = np.random.default_rng(self.seed)

    def _ask(self) -> np.ndarray:
        return self.grid.random(self.batch_size, self._rng)

    def _tell(self, indices, values) -> None:
        pass


def register_all(register) -> None:
    register("random", RandomSearch, "uniform random grid points (baseline)")
