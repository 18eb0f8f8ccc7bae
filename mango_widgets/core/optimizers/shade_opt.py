"""SHADE (success-history adaptive differential evolution, Tanabe & Fukunaga 2013) from ``pypop7``.

pypop7 runs its own loop and evaluates one individual at a time. Its operators are methods
(``mutate``, ``crossover``, ``bound``, ``select``), so the loop is ours: ``ask`` makes a whole
generation of trial vectors with the library's operators and hands it out in batches of
``batch_size``; once every trial has a value, the library's own ``select`` (selection, archive
and success-history memory update) runs with those values. The first generation is uniform over
the box (the library's ``initialize``), the start every method shares. Vectors live in
grid-index space [0, n-1] and are rounded to the grid; a trial that rounds to a point already
evaluated gets its known value without a query (``avoid_repeats``).
"""
from __future__ import annotations

import time

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer
from mango_widgets.core.optimizers.known import KnownValues, fill_duplicates, split_new
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError


def _shade_class():
    try:
        from pypop7.optimizers.de.shade import SHADE
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "method 'shade' needs pypop7: pip install --no-deps pypop7==0.0.82 "
            "(its DE modules need only numpy and scipy; scripts/install.sh does this)"
        ) from error
    return SHADE


class Shade(Optimizer):
    """SHADE with population ``population``, asked ``batch_size`` trial vectors at a time."""

    def __init__(self, grid: LatentGrid, seed: int = 0, budget=None, population: int = 100,
                 batch_size: int = 25, memory: int = 100, avoid_repeats: bool = True):
        super().__init__(grid, seed, budget)
        if int(population) < 4 or int(batch_size) < 1 or int(memory) < 1:
            raise ConfigError(f"SHADE needs population >= 4, batch_size >= 1, memory >= 1; got {population}, {batch_size}, {memory}")
        self.population, self.batch_size, self.memory = int(population), int(batch_size), int(memory)
        self.avoid_repeats = self.avoids_repeats = bool(avoid_repeats)
        n = grid.n
        problem = {"fitness_function": self._replay, "ndim_problem": grid.d,
                   "lower_boundary": np.zeros(grid.d), "upper_boundary": np.full(grid.d, n - 1.0)}
        options = {"seed_rng": self.seed, "n_individuals": self.population, "h": self.memory,
                   "is_bound": True, "max_function_evaluations": np.inf, "verbose": False}
        self._de = _shade_class()(problem, options)
        self._de.start_time = time.time()  # set by the library's optimize(), which we do not run
        self._known = KnownValues(n)
        self._x = self._y = None  # the population and its values (the library minimises: y = -value)
        self._archive = np.empty((0, grid.d))
        self._trials = None  # (vectors, indices, values, f_mu, p_cr) of the generation in flight
        self._ask_rows = np.empty(0, dtype=np.int64)  # rows of the trials still to hand out
        self._batch_rows = None
        self._replayed = None

    def _settings(self) -> dict:
        return {"population": self.population, "batch_size": self.batch_size, "memory": self.memory,
                "avoid_repeats": self.avoid_repeats}

    def _replay(self, _x) -> float:
        """The library's fitness function: the next told value of the generation being selected."""
        return float(next(self._replayed))

    def _new_generation(self) -> None:
        de = self._de
        if self._x is None:
            vectors = de.rng_initialization.uniform(de.initial_lower_boundary, de.initial_upper_boundary,
                                                    size=(self.population, self.grid.d))
            extra = None
        else:
            x_mu, f_mu, r = de.mutate(self._x, self._y, self._archive)
            x_cr, p_cr = de.crossover(x_mu, self._x, r)
            vectors = de.bound(x_cr, self._x)
            extra = (f_mu, p_cr)
        indices = np.clip(np.rint(vectors), 0, self.grid.n - 1).astype(np.int64)
        if self.avoid_repeats:
            ask_rows, values = split_new(indices, self._known)
        else:
            ask_rows, values = np.arange(len(indices)), np.full(len(indices), np.nan)
        self._trials = (vectors, indices, values, extra)
        self._ask_rows = ask_rows

    def _finish_generation(self) -> None:
        vectors, indices, values, extra = self._trials
        missing = np.isnan(values)
        values[missing] = self._known.lookup(indices[missing])  # duplicates within the generation
        y = -values
        if self._x is None:
            self._x, self._y = vectors, y
        else:
            f_mu, p_cr = extra
            self._replayed = iter(y)
            self._x, self._y, self._archive = self._de.select(None, self._x, self._y, vectors, self._archive, f_mu, p_cr)
            if len(self._archive) > self.population:  # as the library's iterate(): keep the archive size
                drop = self._de.rng_optimization.choice(len(self._archive), len(self._archive) - self.population, False)
                self._archive = np.delete(self._archive, drop, 0)
            self._de._n_generations += 1
        self._trials = None

    def _ask(self) -> np.ndarray:
        for _ in range(1000):
            if self._trials is None:
                self._new_generation()
            if len(self._ask_rows):
                self._batch_rows, self._ask_rows = self._ask_rows[: self.batch_size], self._ask_rows[self.batch_size:]
                return self._trials[1][self._batch_rows]
            self._finish_generation()  # every trial was known: select without a query
        # converged: 1000 generations of known points; ask the next generation's trials again
        # (repeats: the repeat rate shows it)
        self._new_generation()
        self._ask_rows = np.arange(self.population)
        self._trials[2][:] = np.nan
        self._batch_rows, self._ask_rows = self._ask_rows[: self.batch_size], self._ask_rows[self.batch_size:]
        return self._trials[1][self._batch_rows]

    def _tell(self, indices, values) -> None:
        vectors, all_indices, known_values, extra = self._trials
        fill_duplicates(all_indices, known_values, self._batch_rows, np.asarray(values, dtype=np.float64), self._known)
        # rows still to be asked stay NaN until their own tell (fill_duplicates only fills known rows)
        if not len(self._ask_rows):
            self._finish_generation()


def register_all(register) -> None:
    register("shade", Shade, "SHADE, success-history adaptive DE (pypop7): population 100, batches of 25")
