"""CMA-ES as activation maximisation runs it, from the ``cmaes`` library, with IPOP/BIPOP restarts.

Each (re)start spends one batch on uniformly random grid points (the start every method shares),
puts the CMA mean at the weighted recombination of their better half and samples with
sigma0 = ``sigma0`` x (n - 1) in grid-index space (a fifth of the range by default); candidates
are rounded to the grid. A generation is one batch (``popsize`` points, one forward pass).
Candidates that round to a grid point already evaluated get its known value without a query
(``avoid_repeats``). A run restarts from a fresh uniform batch when the library's own stopping
rules fire, when whole generations bring nothing new (the step size fell below half a
grid step) or when 5 generations in a row tie completely (a plateau): IPOP doubles the
population each time, BIPOP (Hansen 2009) alternates that regime with small populations and
small step sizes, whichever has used less budget.
``variant``: ``full`` (CMA), ``sep`` (diagonal covariance: sep-CMA), ``margin`` (CMA with margin
for integer variables, Hamano et al. 2022).
"""
from __future__ import annotations

import functools
import importlib.util
from typing import Optional

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer
from mango_widgets.core.optimizers.known import KnownValues, fill_duplicates, split_new
from mango_widgets.core.optimizers.sep_generation import ask_generation
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, unknown_choice

VARIANTS = ("full", "sep", "margin")
RESTARTS = ("none", "ipop", "bipop")
#: generations in a row without one new grid point before a restart is forced
STALE_GENERATIONS = 30
#: generations in a row whose values all tie (e.g. a unit silent around the mean) before a restart
FLAT_GENERATIONS = 5
#: the largest population IPOP grows to (then it stays there)
MAX_POPSIZE = 800


class CMAES(Optimizer):
    """CMA-ES (``cmaes`` library) on the grid, with restarts; see the module docstring."""

    warm_startable = True

    def __init__(
        self,
        grid: LatentGrid,
        seed: int = 0,
        budget=None,
        popsize: int = 25,
        sigma0: float = 0.2,
        variant: str = "full",
        restarts: str = "ipop",
        avoid_repeats: bool = True,
    ):
        super().__init__(grid, seed, budget)
        if variant not in VARIANTS:
            raise unknown_choice("CMA variant", variant, VARIANTS)
        if restarts not in RESTARTS:
            raise unknown_choice("restart scheme", restarts, RESTARTS)
        if int(popsize) < 4 or not 0 < float(sigma0) <= 1:
            raise ConfigError(f"CMA-ES needs popsize >= 4 and 0 < sigma0 <= 1 (a fraction of the range), got {popsize}, {sigma0}")
        # fail here, not at the first ask, when the library is missing; import it only when the first CMA
        # run is built (after the uniform first batch): importing cmaes pulls scipy.stats (~0.8 s)
        if importlib.util.find_spec("cmaes") is None:
            raise ConfigError("CMA-ES needs the `cmaes` package: pip install cmaes (a dependency of mango_widgets: reinstall the package)")

        self.popsize, self.sigma0, self.variant, self.restarts = int(popsize), float(sigma0), variant, restarts
        self.avoid_repeats = self.avoids_repeats = bool(avoid_repeats)
        self._rng = np.random.default_rng(self.seed)
        self._known = KnownValues(grid.n)
        self._es = None  # the current CMA run (None: the next batch is a uniform start)
        self._start: Optional[np.ndarray] = None  # a warm start for the next run's mean
        self.run_count = 0
        self.run_popsize = self.popsize
        self._budget_used = {"large": 0, "small": 0}
        self._regime = "large"
        self._large_popsize = self.popsize
        self._run_sigma = self.sigma0
        self._generation = None  # (continuous samples, tell-side samples, indices, values, ask_rows)
        self._stale = 0
        self._flat = 0

    def _settings(self) -> dict:
        return {"popsize": self.popsize, "sigma0": self.sigma0, "variant": self.variant,
                "restarts": self.restarts, "avoid_repeats": self.avoid_repeats}

    def warm_start_from(self, index) -> None:
        """Put the next run's mean at ``index`` (instead of the recombined uniform batch)."""
        self.start_at(self.grid.check(index)[0].astype(np.float64))

    def start_at(self, mean, sigma0: Optional[float] = None, known=None) -> None:
        """Start the next run at a continuous ``mean`` in grid-index space (e.g. handed over by
        another method), with step ``sigma0`` (a fraction of the range; default: the run's own);
        ``known`` = (indices, values) already evaluated, so they are not asked again."""
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        if mean.shape != (self.grid.d,) or not np.isfinite(mean).all():
            raise ConfigError(f"start_at needs a finite mean of {self.grid.d} coordinates, got shape {mean.shape}")
        self._start = np.clip(mean, 0, self.grid.n - 1)
        if sigma0 is not None:
            self._run_sigma = float(np.clip(sigma0, 1e-3, 1.0))
        if known is not None:
            self._known.add(np.asarray(known[0]), np.asarray(known[1]))
        self._es = None
        self._generation = None

    # ------------------------------------------------------------- runs
    def _new_run(self, mean: np.ndarray) -> None:
        import cmaes

        n = self.grid.n
        bounds = np.tile([0.0, n - 1.0], (self.grid.d, 1))
        sigma = self._run_sigma * (n - 1)
        seed = int(np.random.SeedSequence([self.seed, self.run_count]).generate_state(1)[0] % (2**31))
        if self.variant == "sep":
            self._es = cmaes.SepCMA(mean, sigma, bounds=bounds, seed=seed, population_size=self.run_popsize)
        elif self.variant == "margin":
            steps = np.ones(self.grid.d)
            self._es = cmaes.CMAwM(mean, sigma, bounds=bounds, steps=steps, seed=seed, population_size=self.run_popsize)
        else:
            self._es = cmaes.CMA(mean, sigma, bounds=bounds, seed=seed, population_size=self.run_popsize)
        self.run_count += 1
        self._stale = self._flat = 0

    def _restart(self) -> None:
        """End the current run; choose the next run's population and step size (IPOP/BIPOP)."""
        self._es = None
        if self.restarts == "none":
            self._set_run(self.popsize, self.sigma0)
        elif self.restarts == "ipop":
            self._set_run(min(2 * self.run_popsize, MAX_POPSIZE), self.sigma0)
        else:
            if self._budget_used["small"] < self._budget_used["large"]:
                self._regime = "small"
                u = self._rng.random()
                size = int(self.popsize * (0.5 * self._large_popsize / self.popsize) ** (u**2))
                self._set_run(max(size, self.popsize), self.sigma0 * 10 ** (-2 * self._rng.random()))
            else:
                self._regime = "large"
                self._large_popsize = min(2 * self._large_popsize, MAX_POPSIZE)
                self._set_run(self._large_popsize, self.sigma0)

    def _set_run(self, popsize: int, sigma: float) -> None:
        self.run_popsize, self._run_sigma = int(popsize), float(sigma)

    def _should_restart(self) -> bool:
        # below half a grid step every candidate rounds to known points: free generations pile up;
        # on a plateau every value ties and CMA learns nothing (cmaes would wait ~160 generations)
        return bool(self._es.should_stop() or self._stale >= STALE_GENERATIONS or self._flat >= FLAT_GENERATIONS)

    # ------------------------------------------------------------ ask/tell
    def _ask(self) -> np.ndarray:
        with _one_blas_thread():
            return self._ask_generation()

    def _tell(self, indices, values) -> None:
        with _one_blas_thread():
            self._tell_generation(indices, values)

    def _ask_generation(self) -> np.ndarray:
        if self._es is None and self._start is None:
            # a uniform batch starts every run
            indices = self.grid.random(self.run_popsize, self._rng)
            self._generation = (None, None, indices, np.full(len(indices), np.nan), np.arange(len(indices)))
            return indices
        if self._es is None:
            self._new_run(self._start)
            self._start = None
        for _ in range(10 * STALE_GENERATIONS):
            samples = ask_generation(self._es, self._es.population_size)  # sep-CMA's in blocks, same values
            if self.variant == "margin":  # CMAwM returns (value to evaluate, value to tell)
                evaluate, tell_side = np.array([s[0] for s in samples]), [s[1] for s in samples]
            else:
                evaluate, tell_side = np.array(samples), samples
            indices = np.clip(np.rint(evaluate), 0, self.grid.n - 1).astype(np.int64)
            if self.avoid_repeats:
                ask_rows, values = split_new(indices, self._known)
            else:
                ask_rows, values = np.arange(len(indices)), np.full(len(indices), np.nan)
            if len(ask_rows):
                self._generation = (evaluate, tell_side, indices, values, ask_rows)
                return indices[ask_rows]
            # every candidate is known: a free generation
            self._es.tell(list(zip(tell_side, -values)))
            self._stale += 1
            if self._should_restart():
                self._restart()
                return self._ask_generation()
        self._restart()
        return self._ask_generation()

    def _tell_generation(self, indices, values) -> None:
        evaluate, tell_side, all_indices, known, ask_rows = self._generation
        self._generation = None
        full = fill_duplicates(all_indices, known, ask_rows, values, self._known)
        regime = self._regime if self.restarts == "bipop" else "large"
        self._budget_used[regime] += len(values)
        if self._es is None:  # the uniform start of a run: recombine its better half into the mean
            mu = len(full) // 2
            order = np.argsort(-full, kind="stable")[:mu]
            weights = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
            self._new_run((weights / weights.sum()) @ all_indices[order].astype(np.float64))
            return
        self._es.tell(list(zip(tell_side, -full)))  # cmaes minimises
        self._stale = 0
        self._flat = self._flat + 1 if full.max() == full.min() else 0
        if self._should_restart():
            self._restart()


@functools.lru_cache(maxsize=1)
def _thread_pools():
    """threadpoolctl's view of this process's thread pools, found once: finding them reads
    /proc/self/maps, which took half of sep-CMA's own time when done at every ask and tell."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    """CMA's small matrix products run fastest on one BLAS thread: with OpenBLAS's default
    threads on a loaded 2-core machine one generation took 17x longer (0.86 s vs 0.05 s, d = 128)."""
    return _thread_pools().limit(limits=1, user_api="blas")


def register_all(register) -> None:
    register("cma-es", CMAES, "CMA-ES (cmaes library): uniform start, sigma0 = range/5, popsize 25, IPOP restarts")
    register("cma-bipop", CMAES, "CMA-ES with BIPOP restarts (cmaes library)", restarts="bipop")
    register("sep-cma", CMAES, "separable (diagonal) CMA-ES with IPOP restarts (cmaes SepCMA)", variant="sep")
