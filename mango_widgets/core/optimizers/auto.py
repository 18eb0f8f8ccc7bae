"""``method="auto"``: the method (and settings) the benchmark measured best for the budget.

Like nevergrad's NGOpt, ``auto`` picks from what it is told about the run: the budget, and
whether the objective is noisy (``noisy=True`` or ``repeats > 1``). The table below comes from
the development-set races in ``benchmarks/results/leaderboard_dev.json`` (docs/optimizers.md
says what each choice won by); the choice is visible in ``repr``, ``params()["chosen"]`` and
``chosen``. Everything else (ask/tell, flags, warm starts) is the chosen method's.
"""
from __future__ import annotations

from typing import Optional

from mango_widgets.core.optimizers.base import Optimizer, make_optimizer
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError

#: (largest budget, method, settings, why), first match wins; measured on the development set
#: (benchmarks/results/leaderboard_dev.json, frozen before the held-out runs)
CHOICES = (
    (None, "cma-polish", {},
     "development set, 2,000 queries (12 neurons x 2 seeds, benchmarks/results/leaderboard_dev_tail.md): sep-CMA-ES "
     "with a grid-local tail in its last 25% was ahead of sep-CMA-ES alone by +0.041 of the ceiling (mean paired "
     "difference over neurons; 11 wins, 8 losses, 5 ties) and of CMA-ES by +0.032, at the same optimizer share "
     "(3%); the earlier race had picked sep-CMA-ES (1.01 of the ceiling at 2,000 vs CMA-ES 0.85, TT-b 0.80, DE "
     "0.66). Without a budget there is no tail: sep-CMA-ES alone"),
)
#: under noise: the same method, re-measuring points instead of reusing a known (noisy) value; not
#: measured under noise
NOISY_CHOICE = ("sep-cma", {"avoid_repeats": False},
                "noisy objective: sep-CMA-ES re-measuring repeated points (its population averages noise); "
                "not benchmarked under noise")


def choose(budget: Optional[int], noisy: bool = False) -> tuple:
    """(method, settings, why) that ``auto`` runs for this budget and noise."""
    if noisy:
        return NOISY_CHOICE[0], dict(NOISY_CHOICE[1]), NOISY_CHOICE[2]
    for largest, method, settings, why in CHOICES:
        if largest is None or (budget is not None and budget <= largest):
            return method, dict(settings), why
    raise ConfigError("auto's choice table has no entry for this budget")  # pragma: no cover


class Auto(Optimizer):
    """Runs the method :func:`choose` picks; ``chosen`` names it."""

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, noisy: bool = False, repeats: int = 1):
        super().__init__(grid, seed, budget)
        if int(repeats) < 1:
            raise ConfigError(f"repeats must be >= 1, got {repeats}")
        self.noisy, self.repeats = bool(noisy), int(repeats)
        method, settings, self.why = choose(budget, noisy=self.noisy or self.repeats > 1)
        self.chosen, self.chosen_settings = method, settings
        self.inner = make_optimizer(method, grid, seed=seed, budget=budget, **settings)
        for flag in ("learns_from_observed", "warm_startable", "exports_state", "budget_aware", "avoids_repeats"):
            setattr(self, flag, getattr(self.inner, flag))
        self.budget_aware = True  # the choice itself depends on the budget

    def __repr__(self) -> str:
        return f"Auto(chosen={self.chosen!r}, settings={self.chosen_settings}, seed={self.seed}, told={self.told})"

    def _settings(self) -> dict:
        return {"noisy": self.noisy, "repeats": self.repeats}

    def params(self) -> dict:
        """The run's settings plus what ``auto`` chose and why."""
        inner = self.inner.params()
        return {**super().params(), "chosen": {"method": self.chosen, "settings": inner["settings"], "why": self.why}}

    def _ask(self):
        return self.inner.ask()

    def _tell(self, indices, values) -> None:
        self.inner.tell(indices, values)

    def _observe(self, indices, values) -> None:
        self.inner.observe(indices, values)

    def warm_start_from(self, index, **kwargs) -> None:
        self.inner.warm_start_from(index, **kwargs)

    def state(self):
        return self.inner.state()

    def close(self) -> None:
        self.inner.close()


def register_all(register) -> None:
    register("auto", Auto, "picks the method the benchmark measured best for the budget (and noise); see docs/optimizers.md")
