"""The discrete search space: a grid of n points on each of d latent axes.

Optimizers see only integer grid indices; :class:`LatentGrid` turns them into latent
vectors for the generator. :class:`QuantizedGrid` is the "mode quantization" view used by
the TT-s and TT-b presets: n = 2**q points on an axis become q binary axes.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from statistics import NormalDist

import numpy as np

from mango_widgets.errors import ConfigError, whole_number

SPACINGS = ("uniform", "normal")


@dataclass(frozen=True)
class LatentGrid:
    """d axes with n points each; ``uniform`` spaces them evenly on [low, high] (the
    paper's choice), ``normal`` puts them at standard-normal quantiles."""

    d: int = 128
    n: int = 64
    low: float = -4.0
    high: float = 4.0
    spacing: str = "uniform"

    def __post_init__(self):
        fix = "a grid has d >= 1 whole axes of n >= 2 whole points each, e.g. LatentGrid(d=128, n=64)"
        object.__setattr__(self, "d", whole_number(self.d, "the grid's d (latent axes)", minimum=1, fix=fix))
        object.__setattr__(self, "n", whole_number(self.n, "the grid's n (points per axis)", minimum=2, fix=fix))
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ConfigError(f"the grid's {name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.spacing not in SPACINGS:
            raise ConfigError(f"unknown spacing {self.spacing!r}; use one of {', '.join(SPACINGS)}")
        if self.spacing == "uniform" and not self.low < self.high:
            raise ConfigError(f"grid bounds must satisfy low < high, got [{self.low}, {self.high}]")

    @cached_property
    def values(self) -> np.ndarray:
        """The n coordinate values shared by every axis (float32)."""
        if self.spacing == "uniform":
            return np.linspace(self.low, self.high, self.n, dtype=np.float32)
        quantiles = (np.arange(self.n) + 0.5) / self.n
        return np.array([NormalDist().inv_cdf(p) for p in quantiles], dtype=np.float32)

    @property
    def size(self) -> float:
        """Number of grid points, n**d (as a float: it overflows integers quickly)."""
        return float(self.n) ** self.d

    def check(self, indices) -> np.ndarray:
        """Return ``indices`` as an int64 array [B, d], or raise a clear error."""
        idx = np.asarray(indices)
        if idx.ndim == 1:
            idx = idx[None, :]
        if idx.ndim != 2 or idx.shape[1] != self.d:
            raise ConfigError(f"grid indices must have shape [batch, {self.d}], got {tuple(np.shape(indices))}")
        if not np.issubdtype(idx.dtype, np.integer):
            if not np.all(np.equal(np.mod(idx, 1), 0)):
                raise ConfigError("grid indices must be integers")
            idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise ConfigError(f"grid indices must lie in 0..{self.n - 1}, got {idx.min()}..{idx.max()}")
        return idx.astype(np.int64, copy=False)

    def to_latent(self, indices) -> np.ndarray:
        """Map grid indices [B, d] to latent vectors [B, d] (float32)."""
        return self.values[self.check(indices)]

    def random(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` uniformly random grid indices [count, d]."""
        return rng.integers(0, self.n, size=(count, self.d), dtype=np.int64)

    def quantized(self) -> QuantizedGrid:
        """The binary view of this grid (needs n to be a power of two)."""
        return QuantizedGrid(self)

    def to_dict(self) -> dict:
        return {"d": self.d, "n": self.n, "low": self.low, "high": self.high, "spacing": self.spacing}


class QuantizedGrid:
    """n = 2**q points per axis seen as q binary axes (most significant bit first), d*q in all."""

    def __init__(self, grid: LatentGrid):
        q = int(np.log2(grid.n))
        if 2**q != grid.n:
            raise ConfigError(
                f"mode quantization needs n to be a power of two, got n={grid.n}; "
                f"use n={2 ** max(q, 1)} or {2 ** (q + 1)}, or a method without quantization"
            )
        self.grid = grid
        self.q = q
        self.d = grid.d * q
        self.n = 2
        self._shifts = np.arange(q - 1, -1, -1, dtype=np.int64)
        self._weights = 2**self._shifts

    def to_grid(self, bits) -> np.ndarray:
        """Binary indices [B, d*q] -> grid indices [B, d]."""
        bits = np.asarray(bits, dtype=np.int64).reshape(-1, self.grid.d, self.q)
        return bits @ self._weights

    def from_grid(self, indices) -> np.ndarray:
        """Grid indices [B, d] -> binary indices [B, d*q]."""
        idx = self.grid.check(indices)
        bits = (idx[..., None] >> self._shifts) & 1
        return bits.reshape(idx.shape[0], self.d)
