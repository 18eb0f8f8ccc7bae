"""A method for most of the budget, then elitist grid-local search around its best points (``cma-polish``).

CMA-ES on the grid is still improving when a 2,000-query budget ends (its best point came after
query 1,500 in 84% of the held-out runs), but its late generations sample a whole ellipsoid
while the activation sits on plateaus of 1/T steps. The last ``tail`` share of the budget here
goes to a (mu + lambda) search on the grid: each batch is ``batch`` grid-local variations
(:func:`grid_local_moves`) of the ``archive`` best points seen so far; ties rank the newest
point first, so the archive drifts across plateaus instead of sticking to the first point that
reached them. Points already evaluated are never asked again. With ``stall`` the tail also starts
earlier, as soon as the best value has not improved for that share of the budget (a method stuck
on a plateau); ``tail=0`` with ``stall`` switches only then. With ``max_steps`` the tail runs only
on a coarse objective: when the best value is at most that many quanta above zero, a quantum
being the smallest gap between two distinct values seen (a spike count's 1/(T x positions)); on a
finer objective the first method keeps the whole budget. Without a budget there is no tail:
the first method runs alone.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer, make_optimizer
from mango_widgets.core.optimizers.known import KnownValues
from mango_widgets.core.optimizers.local_moves import grid_local_moves, replace_known
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError


class PolishedTail(Optimizer):
    """``first`` for (1 - ``tail``) of the budget, then elitist grid-local moves; see the module docstring."""

    avoids_repeats = True
    budget_aware = True

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, first: str = "sep-cma", tail: float = 0.25,
                 batch: int = 25, archive: int = 5, max_step: int = 4, mean_moved: float = 2.0,
                 stall: Optional[float] = None, max_steps: Optional[float] = None):
        super().__init__(grid, seed, budget)
        if not 0 <= float(tail) < 1 or int(batch) < 1 or int(archive) < 1 or int(max_step) < 1 or float(mean_moved) < 1 \
                or (stall is not None and not 0 < float(stall) < 1) or (max_steps is not None and not float(max_steps) > 0):
            raise ConfigError(
                f"cma-polish needs 0 <= tail < 1, batch >= 1, archive >= 1, max_step >= 1, mean_moved >= 1, "
                f"0 < stall < 1 (or no stall) and max_steps > 0 (or none); "
                f"got {tail}, {batch}, {archive}, {max_step}, {mean_moved}, {stall}, {max_steps}"
            )
        self.first_name, self.tail, self.batch = str(first), float(tail), int(batch)
        self.stall = None if stall is None else float(stall)
        self.max_steps = None if max_steps is None else float(max_steps)
        #: at the switch: the best value in quanta (None before; inf on a continuous objective)
        self.steps_at_switch: Optional[float] = None
        self.declined = False  # the objective was too fine: the first method kept the budget
        self.archive_size, self.max_step, self.mean_moved = int(archive), int(max_step), float(mean_moved)
        self.first = make_optimizer(self.first_name, grid, seed=seed, budget=budget)
        #: queries after which the tail starts (None: never, without a budget)
        self.switch_at: Optional[int] = None if budget is None or self.tail == 0 else int(round((1 - self.tail) * int(budget)))
        #: queries without improvement after which the tail starts early (None: only at ``switch_at``)
        self.stall_queries: Optional[int] = None if budget is None or self.stall is None else max(1, int(round(self.stall * int(budget))))
        #: queries told when the tail started (None: not started)
        self.switched_at: Optional[int] = None
        self._improved_at = 0
        self.improvements_in_tail = 0
        self._rng = np.random.default_rng(np.random.SeedSequence([self.seed, 17]))
        self._known = KnownValues(grid.n)
        self._archive = (np.empty((0, grid.d), dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64))
        self._stamp = 0

    def _settings(self) -> dict:
        return {"first": self.first_name, "tail": self.tail, "batch": self.batch, "archive": self.archive_size,
                "max_step": self.max_step, "mean_moved": self.mean_moved, "stall": self.stall, "max_steps": self.max_steps}

    @property
    def polishing(self) -> bool:
        """Whether the tail has started."""
        return self.switched_at is not None

    def _children(self, count: int) -> np.ndarray:
        return grid_local_moves(self._archive[0], count, self._rng, self.grid.n, self.max_step, mean_moved=self.mean_moved)

    def _ask(self) -> np.ndarray:
        if not self.polishing:
            return self.first.ask()
        return replace_known(self._children(self.batch), self._known, lambda: self._children(1)[0])

    def _tell(self, indices, values) -> None:
        improved = values.max() > (self._archive[1][0] if len(self._archive[1]) else -np.inf)
        if improved:
            self._improved_at = self.told
        if not self.polishing:
            self.first.tell(indices, values)
        elif improved:
            self.improvements_in_tail += 1
        self._remember(indices, values)
        if not self.polishing and not self.declined and (self._due() or self._stalled()):
            if self._coarse():
                self.switched_at = self.told
                self.first.close()
            else:
                self.declined = True

    def _coarse(self) -> bool:
        """Whether the tail should run: always without ``max_steps``; else when the best value is at
        most ``max_steps`` quanta (smallest gap between distinct values seen) above zero."""
        if self.max_steps is None:
            return True
        self.steps_at_switch = self._known.steps(self._archive[1][0])
        return self.steps_at_switch <= self.max_steps

    def _due(self) -> bool:
        return self.switch_at is not None and self.told >= self.switch_at

    def _stalled(self) -> bool:
        return self.stall_queries is not None and self.told - self._improved_at >= self.stall_queries

    def _remember(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Add the new points to the known values and the archive (ties: newest first)."""
        new = np.isnan(self._known.lookup(indices))
        self._known.add(indices, values)
        if not new.any():
            return
        stamps = self._stamp + np.arange(int(new.sum()))
        self._stamp += int(new.sum())
        pool_idx = np.concatenate([self._archive[0], indices[new]])
        pool_val = np.concatenate([self._archive[1], values[new]])
        pool_stamp = np.concatenate([self._archive[2], stamps])
        order = np.lexsort((-pool_stamp, -pool_val))[: self.archive_size]
        self._archive = (pool_idx[order], pool_val[order], pool_stamp[order])

    def warm_start_from(self, index) -> None:
        self.first.warm_start_from(index)

    @property
    def warm_startable(self) -> bool:  # type: ignore[override]
        return self.first.warm_startable

    def close(self) -> None:
        self.first.close()


def register_all(register) -> None:
    register("cma-polish", PolishedTail, "ours: sep-CMA-ES for the first 75% of the budget, then elitist "
             "grid-local moves around the 5 best points (ties: newest first)")
