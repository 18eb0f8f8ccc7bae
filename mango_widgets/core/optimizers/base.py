"""The ask/tell interface every optimizer follows, and the registry that makes them by name.

Whoever drives the loop (a Search, a widget, a Dask task, a lab rig) calls ``ask()`` for a
batch of grid indices and ``tell(indices, values)`` with their activations; optimizers
maximise. Subclasses fill in ``_ask`` and ``_tell`` only. Each optimizer describes itself:
``params()`` (the settings that define the run) and capability flags (``learns_from_observed``,
``warm_startable``, ``exports_state``, ``budget_aware``, ``avoids_repeats``), so callers never
probe it with ``hasattr``; every optimizer counts how many of its asked points it had asked
before (``repeat_rate``).
"""
from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np

from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, seed_number, unknown_choice


class Optimizer(ABC):
    """Maximises a black-box function of grid indices, one batch at a time."""

    #: registry name, set by :func:`register`
    name = "optimizer"
    #: whether ``observe`` feeds the method (most methods ignore observed points)
    learns_from_observed = False
    #: whether ``warm_start_from(index)`` seeds the search with a known good grid index
    warm_startable = False
    #: whether ``state()`` returns a search distribution that a new optimizer can start from
    exports_state = False
    #: whether the method's settings depend on the budget it is given (else its first q queries
    #: are the same whatever the budget, so a long run's curve also gives the shorter budgets)
    budget_aware = False
    #: whether the method skips grid points it has already evaluated instead of re-asking them
    avoids_repeats = False

    def __init__(self, grid: LatentGrid, seed: int = 0, budget: Optional[int] = None):
        self.grid = grid
        self.seed = int(seed)
        self.budget = budget
        self.best_index: Optional[np.ndarray] = None
        self.best_value = -np.inf
        self.told = 0
        self.asked = 0  # points asked (each batch counted once, however often ask() repeats it)
        self.reasked = 0  # of those, points asked before (or twice in one batch)
        self._asked_keys: set = set()
        self._key_dtype = np.uint8 if grid.n <= 256 else np.int64
        self._pending: Optional[np.ndarray] = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, seed={self.seed}, told={self.told})"

    @property
    def learns_from_observations(self) -> bool:
        """Older name of ``learns_from_observed``."""
        return self.learns_from_observed

    @property
    def repeat_rate(self) -> float:
        """Share of the asked points that repeat a point asked before (0 before the first ask)."""
        return self.reasked / self.asked if self.asked else 0.0

    def capabilities(self) -> Dict[str, bool]:
        """The capability flags, by name."""
        return {flag: bool(getattr(self, flag)) for flag in CAPABILITIES}

    def params(self) -> dict:
        """The settings that define this run, JSON-able: enough to build the same optimizer again
        with ``make_optimizer(p["method"], grid, seed=p["seed"], budget=p["budget"], **p["settings"])``."""
        return {"method": self.name, "seed": self.seed, "budget": self.budget, "settings": _jsonable(self._settings())}

    def _settings(self) -> dict:
        """Hook: the method's own settings (constructor keywords and their values)."""
        return {}

    def state(self):
        """The search distribution, for methods with ``exports_state`` (pass it back as ``P=``)."""
        raise ConfigError(f"method {self.name!r} has no search distribution to export; use a PROTES method (tt, tt-s, tt-b, protes)")

    def ask(self) -> np.ndarray:
        """The next batch of grid indices to evaluate, int64 [k, d]."""
        if self._pending is not None:
            return self._pending.copy()
        indices = self.grid.check(self._ask())
        self._count_repeats(indices)
        self._pending = indices
        return indices.copy()

    def _count_repeats(self, indices: np.ndarray) -> None:
        for row in indices.astype(self._key_dtype, copy=False):
            key = row.tobytes()
            if key in self._asked_keys:
                self.reasked += 1
            else:
                self._asked_keys.add(key)
        self.asked += len(indices)

    def tell(self, indices, values) -> None:
        """Report the activations of the batch that ``ask()`` returned."""
        if self._pending is None:
            raise ConfigError("tell() without a pending ask(): call ask() first and tell the values of that batch")
        indices = np.asarray(indices)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if indices.shape != self._pending.shape or not np.array_equal(indices, self._pending):
            raise ConfigError(
                f"tell() got indices that were not asked: expected the pending batch of shape "
                f"{self._pending.shape}, got shape {indices.shape}"
            )
        if values.shape[0] != indices.shape[0]:
            raise ConfigError(f"tell() needs one value per asked point: {indices.shape[0]} points, {values.shape[0]} values")
        if not np.all(np.isfinite(values)):
            raise ConfigError("tell() got NaN or infinite values; the objective must return finite activations")
        self._pending = None
        best = int(np.argmax(values))
        if values[best] > self.best_value:
            self.best_value = float(values[best])
            self.best_index = indices[best].copy()
        self.told += len(values)
        self._tell(indices, values)

    def observe(self, indices, values) -> None:
        """Show the method points it did not ask for, with their values (e.g. stimuli another
        unit's search asked for in a population search); methods that cannot use them ignore them."""
        indices = self.grid.check(indices)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if values.shape[0] != indices.shape[0]:
            raise ConfigError(f"observe() needs one value per point: {indices.shape[0]} points, {values.shape[0]} values")
        if not np.all(np.isfinite(values)):
            raise ConfigError("observe() got NaN or infinite values")
        if len(values):
            self._observe(indices, values)

    def _observe(self, indices: np.ndarray, values: np.ndarray) -> None:  # noqa: B027 (optional hook)
        """Hook for methods that learn from observed points (``learns_from_observed``); default: ignore."""

    def warm_start_from(self, index) -> None:
        """Start the search from a known good grid index (e.g. the MEI of an earlier epoch)."""
        raise ConfigError(f"method {self.name!r} cannot be warm-started from a grid index")

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release resources (worker threads); the optimizer cannot be asked afterwards."""

    @abstractmethod
    def _ask(self) -> np.ndarray:
        """Propose a batch of grid indices [k, d]."""

    @abstractmethod
    def _tell(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Learn from the values of the batch just asked (already validated)."""


#: the capability flags every optimizer declares (class attributes, see :class:`Optimizer`)
CAPABILITIES = ("learns_from_observed", "warm_startable", "exports_state", "budget_aware", "avoids_repeats")


def _jsonable(value):
    """Settings as plain JSON types (numpy scalars and arrays, tuples -> lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class Entry:
    """A registry entry: how to build one named method, and its fixed preset parameters."""

    name: str
    factory: Callable[..., Optimizer]
    description: str
    preset: Dict = field(default_factory=dict)


_REGISTRY: Dict[str, Entry] = {}
_BUILTIN = {"loaded": False}


def register(name: str, factory: Callable[..., Optimizer], description: str, **preset) -> None:
    """Add a named method (a preset is a set of fixed keyword arguments for the factory)."""
    _REGISTRY[name.lower()] = Entry(name.lower(), factory, description, preset)


def available() -> Dict[str, str]:
    """Method names and one-line descriptions."""
    _load_builtin()
    return {name: entry.description for name, entry in sorted(_REGISTRY.items())}


def make_optimizer(name: str, grid: LatentGrid, seed: int = 0, budget: Optional[int] = None, **params) -> Optimizer:
    """Build the method called ``name`` (see :func:`available`) for ``grid``."""
    _load_builtin()
    seed = seed_number(seed)
    entry = _REGISTRY.get(str(name).lower())
    if entry is None:
        raise unknown_choice("method", name, sorted(_REGISTRY))
    accepted = _parameters(entry.factory)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(
            f"method {entry.name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(sorted(accepted - set(entry.preset))) or 'none'}"
        )
    fixed = set(params) & set(entry.preset)
    if fixed:
        raise ConfigError(
            f"{', '.join(sorted(fixed))} is fixed by the preset {entry.name!r} ({entry.preset}); "
            "use the free method 'protes' to set it"
        )
    optimizer = entry.factory(grid=grid, seed=seed, budget=budget, **entry.preset, **params)
    optimizer.name = entry.name
    return optimizer


def _parameters(factory) -> set:
    names = set(inspect.signature(factory).parameters) - {"self", "grid", "seed", "budget"}
    return {n for n in names if n not in ("args", "kwargs")}


def _load_builtin() -> None:
    """Register the built-in methods on first use (no work at import time)."""
    if _BUILTIN["loaded"]:
        return
    _BUILTIN["loaded"] = True
    from mango_widgets.core.optimizers import (
        auto,
        cma_opt,
        elite_tt,
        hybrid,
        nevergrad_opt,
        polish,
        protes_opt,
        random_search,
        shade_opt,
        ttopt_opt,
    )

    for module in (random_search, protes_opt, ttopt_opt, nevergrad_opt, cma_opt, shade_opt, elite_tt, hybrid, polish, auto):
        module.register_all(register)
