"""TT -> CMA-ES: PROTES for the first queries, then CMA-ES started from what the TT found (``tt-cma``).

The TT methods lead in the first few hundred queries and then stall; CMA-ES keeps improving
from a good start. This hands over after ``handoff`` queries: the CMA mean is the weighted
recombination of the best ``mu`` points seen so far, its step the spread of those points (a
fraction of the range, at least ``min_sigma``), and every point already evaluated is known to
CMA (not asked again). CMA then runs with its IPOP restarts (from uniform batches).
"""
from __future__ import annotations

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer, make_optimizer
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError


class TTtoCMA(Optimizer):
    """``tt`` (a PROTES preset) for ``handoff`` queries, then ``cma-es`` from its best points."""

    avoids_repeats = True

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, tt: str = "tt-b", handoff: int = 500,
                 mu: int = 12, min_sigma: float = 0.05, variant: str = "full", popsize: int = 25):
        super().__init__(grid, seed, budget)
        if int(handoff) < 1 or int(mu) < 1 or not 0 < float(min_sigma) <= 1:
            raise ConfigError(f"tt-cma needs handoff >= 1, mu >= 1, 0 < min_sigma <= 1; got {handoff}, {mu}, {min_sigma}")
        self.tt, self.handoff, self.mu, self.min_sigma = tt, int(handoff), int(mu), float(min_sigma)
        self.variant, self.popsize = variant, int(popsize)
        self.first = make_optimizer(tt, grid, seed=seed, budget=budget)
        self.second = make_optimizer("cma-es", grid, seed=seed, budget=budget, variant=variant, popsize=popsize)
        self.phase = self.first
        self._seen = ([], [])
        self.handed_over_at = None

    def _settings(self) -> dict:
        return {"tt": self.tt, "handoff": self.handoff, "mu": self.mu, "min_sigma": self.min_sigma,
                "variant": self.variant, "popsize": self.popsize}

    def _ask(self) -> np.ndarray:
        return self.phase.ask()

    def _tell(self, indices, values) -> None:
        self.phase.tell(indices, values)
        if self.phase is self.first:
            self._seen[0].append(indices)
            self._seen[1].append(values)
            if self.told >= self.handoff:
                self._hand_over()

    def _hand_over(self) -> None:
        indices, values = np.concatenate(self._seen[0]), np.concatenate(self._seen[1])
        order = np.argsort(-values, kind="stable")[: self.mu]
        weights = np.log(len(order) + 0.5) - np.log(np.arange(1, len(order) + 1))
        weights /= weights.sum()
        best = indices[order].astype(np.float64)
        mean = weights @ best
        spread = np.sqrt(weights @ ((best - mean) ** 2)).mean() / (self.grid.n - 1)
        self.second.start_at(mean, sigma0=max(spread, self.min_sigma), known=(indices, values))
        self.first.close()
        self.phase, self._seen, self.handed_over_at = self.second, ([], []), self.told

    def close(self) -> None:
        self.first.close()
        self.second.close()


def register_all(register) -> None:
    register("tt-cma", TTtoCMA, "ours: TT-b for the first 500 queries, then CMA-ES from its best points (IPOP restarts)")
