"""What a search recorded: every query's grid index and value, best so far, and timing.

Thread-safe: a search appends from its worker thread while widgets read snapshots.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class MEI:
    """The most exciting image found: grid index, latent, image [C, H, W] in [0, 1], activation.

    ``image`` is None only when a failed search's generator could not render it again."""

    index: np.ndarray
    latent: np.ndarray
    image: Optional[np.ndarray]
    activation: float
    query: int  # 1-based number of the candidate that first reached it
    retest_mean: Optional[float] = None  # re-measured activation (``Search(retest=R)``)
    retest_sem: Optional[float] = None  # its standard error over the R re-tests
    retest_count: int = 0


class History:
    """Append-only record of queries (index, value) plus time spent in model and optimizer."""

    def __init__(self, d: int):
        self.d = d
        self._lock = threading.Lock()
        self._indices: list = []
        self._values: list = []
        self._count = 0
        self._best_value = -np.inf
        self._best_index: Optional[np.ndarray] = None
        self._best_query = 0
        self.objective_seconds = 0.0
        self.optimizer_seconds = 0.0
        self.wall_seconds = 0.0

    def append(self, indices: np.ndarray, values: np.ndarray) -> None:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1, self.d)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        with self._lock:
            best = int(np.argmax(values)) if len(values) else 0
            if len(values) and values[best] > self._best_value:
                self._best_value = float(values[best])
                self._best_index = indices[best].copy()
                self._best_query = self._count + best + 1
            self._indices.append(indices.copy())
            self._values.append(values.copy())
            self._count += len(values)

    def __len__(self) -> int:
        return self._count

    @property
    def values(self) -> np.ndarray:
        """Value of every query, in order [Q]."""
        with self._lock:
            return np.concatenate(self._values) if self._values else np.zeros(0)

    @property
    def indices(self) -> np.ndarray:
        """Grid index of every query, in order [Q, d]."""
        with self._lock:
            return np.concatenate(self._indices) if self._indices else np.zeros((0, self.d), dtype=np.int64)

    @property
    def best_so_far(self) -> np.ndarray:
        """Running maximum of the values [Q]."""
        values = self.values
        return np.maximum.accumulate(values) if len(values) else values

    @property
    def best_value(self) -> float:
        return self._best_value

    @property
    def best_index(self) -> Optional[np.ndarray]:
        return None if self._best_index is None else self._best_index.copy()

    @property
    def best_query(self) -> int:
        return self._best_query

    def values_since(self, start: int) -> np.ndarray:
        """Values of queries start, start+1, ... (for incremental plot updates)."""
        return self.values[start:]

    def summary(self) -> dict:
        """Plain-JSON summary of the record."""
        return {
            "queries": len(self),
            "best_value": None if self._best_index is None else self._best_value,
            "best_query": self._best_query,
            "objective_seconds": self.objective_seconds,
            "optimizer_seconds": self.optimizer_seconds,
            "wall_seconds": self.wall_seconds,
        }
