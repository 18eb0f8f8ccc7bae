"""Nevergrad optimizers (Portfolio, CMA, OnePlusOne, ...) behind the ask/tell interface.

A batch is ``batch_size`` asks with ``num_workers = batch_size``, so it is one forward
pass. The default parametrization is a continuous box over grid-index space (step size a sixth
of the box), rounded to the nearest grid point (about 10x cheaper per ask/tell than
``TransitionChoice`` here).
"""
from __future__ import annotations

import warnings

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, unknown_choice

PARAMETRIZATIONS = ("array", "choice")
#: registry aliases for the methods the paper compares, -> nevergrad registry names
ALIASES = {
    "portfolio": "Portfolio",
    "cma": "CMA",
    "oneplusone": "OnePlusOne",
    "noisybandit": "NoisyBandit",
    "spsa": "SPSA",
    "de": "DE",
}
#: budget assumed when the driver gives none (some nevergrad methods plan with it)
DEFAULT_BUDGET = 10_000


class NevergradOptimizer(Optimizer):
    """Any optimizer of ``nevergrad.optimizers.registry``, by its nevergrad name."""

    def __init__(
        self,
        grid: LatentGrid,
        seed: int = 0,
        budget=None,
        optimizer: str = "Portfolio",
        batch_size: int = 25,
        parametrization: str = "array",
    ):
        super().__init__(grid, seed, budget)
        import nevergrad as ng

        # cma's box transformation warns, with the whole offending vector, whenever CMA samples
        # far outside the box (routine in 128 dimensions); it handles it, so keep notebooks readable
        warnings.filterwarnings("ignore", message="elements of z2", category=UserWarning, module="cma")

        if optimizer not in ng.optimizers.registry:
            raise unknown_choice("nevergrad optimizer", optimizer, sorted(ng.optimizers.registry))
        if parametrization not in PARAMETRIZATIONS:
            raise unknown_choice("parametrization", parametrization, PARAMETRIZATIONS)
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.parametrization = parametrization
        if parametrization == "array":
            # bounds in the constructor make nevergrad scale the step size to the box (sigma =
            # range / 6); ``.set_bounds`` afterwards would keep sigma = 1 grid step
            param = ng.p.Array(init=np.full(grid.d, (grid.n - 1) / 2.0), lower=0.0, upper=grid.n - 1.0)
        else:
            param = ng.p.TransitionChoice(range(grid.n), repetitions=grid.d)
        param.random_state = np.random.RandomState(self.seed)
        factory = ng.optimizers.registry[optimizer]
        try:
            self._ng = factory(parametrization=param, budget=self._ng_budget(), num_workers=self.batch_size)
        except ValueError as error:
            message = str(error).lower()
            if "worker" not in message and "parallel" not in message:
                raise
            self.batch_size = 1  # e.g. SPSA is strictly sequential
            self._ng = factory(parametrization=param, budget=self._ng_budget(), num_workers=1)
        self._candidates = []

    def warm_start_from(self, index) -> None:
        """Make ``index`` nevergrad's next candidate (``suggest``), so it seeds the search."""
        index = self.grid.check(index)[0]
        value = index.astype(np.float64) if self.parametrization == "array" else tuple(int(i) for i in index)
        self._ng.suggest(value)

    def _ng_budget(self) -> int:
        """The budget rounded up to whole batches: a search asks full batches, then cuts the last."""
        budget = self.budget or DEFAULT_BUDGET
        return -(-int(budget) // self.batch_size) * self.batch_size

    def _ask(self) -> np.ndarray:
        self._candidates = [self._ng.ask() for _ in range(self.batch_size)]
        return np.stack([self._to_index(c.value) for c in self._candidates])

    def _to_index(self, value) -> np.ndarray:
        values = np.asarray(value, dtype=np.float64)
        return np.clip(np.rint(values), 0, self.grid.n - 1).astype(np.int64)

    def _tell(self, indices, values) -> None:
        for candidate, value in zip(self._candidates, values):
            self._ng.tell(candidate, -float(value))  # nevergrad minimises
        self._candidates = []


def register_all(register) -> None:
    for alias, ng_name in ALIASES.items():
        register(alias, NevergradOptimizer, f"nevergrad {ng_name}", optimizer=ng_name)
    register("nevergrad", NevergradOptimizer, "any nevergrad optimizer: optimizer='<registry name>'")
