"""The one ask/tell driver: an optimizer under a query budget.

Every search in the package (``Search``, several optima, population search, closed-loop sessions)
steps its optimizer through a :class:`Driver`, which owns what they all need the same way: building
the method by name with its parameters, the budget (each candidate costs ``repeats`` queries), cutting
the last batch to what the budget still pays for (a cut batch ends the search and is not told: there is
nothing left to learn for), and the time spent in the optimizer. ``run`` is the blocking loop; callers
that show stimuli on their own schedule (a lab rig, a shared population stream) use ``next_batch`` and
``report`` directly, or ``spend`` when a batch is handed out and ``tell`` once its answers are in
(``charge`` counts extra showings, such as a rig's re-shows of lost answers).
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np

from mango_widgets.core.optimizers import Optimizer, make_optimizer
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, seed_number, whole_number

#: the method used when none is named: the benchmark's pick for the budget (see core/optimizers/auto.py)
DEFAULT_METHOD = "auto"


def build_optimizer(method: Union[str, Optimizer], grid: LatentGrid, seed: int, budget: Optional[int], params: dict) -> Optimizer:
    """The optimizer for ``method``: made by name (with ``params``), or the given instance as it is."""
    if isinstance(method, str):
        return make_optimizer(method, grid, seed=seed, budget=budget, **params)
    if not isinstance(method, Optimizer):
        raise ConfigError(f"method must be a registry name (see mango methods) or an Optimizer, got {type(method).__name__}")
    if params:
        raise ConfigError(
            f"optimizer parameters {sorted(params)} only apply when the method is given by name; "
            f"set them on the {type(method).__name__} you built instead"
        )
    return method


def check_budget(budget) -> int:
    """``budget`` as an int, or a ConfigError: a budget is a positive whole number of queries (checked here for
    every search, and by plans of many searches before the first one runs)."""
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral) or budget <= 0:
        raise ConfigError(f"budget must be a positive number of queries (a whole number), got {budget!r}")
    return int(budget)


@dataclass(frozen=True)
class Batch:
    """One step of the driver: what the optimizer asked, what the budget lets be shown, and whether it was cut."""

    asked: np.ndarray  # [k, d] the optimizer's whole batch
    shown: np.ndarray  # [m, d] the first m <= k candidates, those the budget pays for

    @property
    def cut(self) -> bool:
        return len(self.shown) < len(self.asked)


class Driver:
    """Steps one optimizer until ``budget`` queries are spent; ``repeats`` queries per candidate."""

    def __init__(
        self,
        grid: LatentGrid,
        method: Union[str, Optimizer] = DEFAULT_METHOD,
        budget: Optional[int] = 2000,
        seed: int = 0,
        repeats: int = 1,
        **optimizer_params,
    ):
        self.budget = None if budget is None else check_budget(budget)
        self.repeats = whole_number(repeats, "repeats", minimum=1, fix="each candidate is shown a whole number of times")
        self.seed = seed_number(seed)
        if self.budget is not None and self.repeats > self.budget:
            raise ConfigError(f"need repeats <= budget, got repeats={self.repeats} and budget={self.budget}: "
                              "each candidate costs `repeats` queries")
        if method == "auto":  # auto re-measures instead of trusting one noisy value when candidates are repeated
            optimizer_params.setdefault("repeats", self.repeats)
        self.optimizer = build_optimizer(method, grid, self.seed, self.budget, optimizer_params)
        self.queries = 0  # spent, repeats included
        self.optimizer_seconds = 0.0
        self.finished = False  # a cut batch was shown: the budget is spent

    def __repr__(self) -> str:
        budget = "unbounded" if self.budget is None else f"{self.queries}/{self.budget}"
        return f"Driver({self.optimizer.name!r}, queries={budget}, repeats={self.repeats})"

    @property
    def candidates_left(self) -> Optional[int]:
        """How many more candidates the budget pays for (None: no budget)."""
        if self.budget is None:
            return None
        return (self.budget - self.queries) // self.repeats

    @property
    def queries_left(self) -> Optional[int]:
        """How many more queries the budget pays for (None: no budget)."""
        return None if self.budget is None else self.budget - self.queries

    @property
    def exhausted(self) -> bool:
        return self.finished or self.candidates_left == 0

    def next_batch(self, limit: Optional[int] = None) -> Batch:
        """Ask the optimizer for a batch and cut it to what the budget (and ``limit`` candidates, e.g. a
        shared stream's room) still pays for. The shown candidates must then be ``report``-ed."""
        if self.exhausted:
            raise ConfigError("the budget is spent: no batch left to ask for")
        start = time.perf_counter()
        asked = self.optimizer.ask()
        self.optimizer_seconds += time.perf_counter() - start
        room = [n for n in (self.candidates_left, limit) if n is not None]
        shown = asked[: min(room)] if room else asked
        return Batch(asked=asked, shown=shown)

    def report(self, batch: Batch, values, reward: Optional[np.ndarray] = None) -> None:
        """Count the shown candidates' queries; tell the optimizer their values (or ``reward``, e.g. a
        penalised value) unless the batch was cut."""
        self.spend(batch)
        self.tell(batch, values, reward)

    def spend(self, batch: Batch) -> None:
        """Count the shown candidates' queries (``repeats`` each) against the budget; a cut batch is the last."""
        self.queries += len(batch.shown) * self.repeats
        self.finished = self.finished or batch.cut

    def charge(self, queries: int) -> None:
        """Count ``queries`` shown beyond the batches' planned repeats (e.g. re-shows of lost answers)."""
        left = self.queries_left
        if queries < 0 or (left is not None and queries > left):
            raise ConfigError(f"cannot charge {queries} queries: the budget has {left} left")
        self.queries += int(queries)

    def tell(self, batch: Batch, values, reward: Optional[np.ndarray] = None) -> None:
        """Tell the optimizer the batch's values (or ``reward``), unless the batch was cut."""
        if batch.cut:  # the last batch: the search ends, there is nothing left to learn for
            return
        start = time.perf_counter()
        self.optimizer.tell(batch.asked, values if reward is None else reward)
        self.optimizer_seconds += time.perf_counter() - start

    def observe(self, indices, values) -> None:
        """Show the optimizer points others asked for, if it learns from them (timed as optimizer work)."""
        if not self.optimizer.learns_from_observations or not len(indices):
            return
        start = time.perf_counter()
        self.optimizer.observe(indices, values)
        self.optimizer_seconds += time.perf_counter() - start

    def run(
        self,
        evaluate: Callable[[np.ndarray], np.ndarray],
        on_batch: Optional[Callable[[Batch, np.ndarray], None]] = None,
        should_stop: Callable[[], bool] = lambda: False,
        reward: Optional[Callable[[np.ndarray, np.ndarray], np.ndarray]] = None,
    ) -> None:
        """The blocking loop: ask, ``evaluate`` the shown candidates (values [m]), ``on_batch`` (e.g. record
        them), tell (``reward(asked, values)`` if given), until the budget is spent or ``should_stop()``.
        A budget is required. ``evaluate`` runs the repeats itself (see ``Driver.repeats``)."""
        if self.budget is None:
            raise ConfigError("Driver.run needs a budget")
        while not self.exhausted and not should_stop():
            batch = self.next_batch()
            values = np.asarray(evaluate(batch.shown), dtype=np.float64)
            self.spend(batch)
            if on_batch is not None:  # recorded before the tell: a failing optimizer loses nothing
                on_batch(batch, values)
            self.tell(batch, values, None if reward is None or batch.cut else reward(batch.asked, values))

    def close(self) -> None:
        self.optimizer.close()
