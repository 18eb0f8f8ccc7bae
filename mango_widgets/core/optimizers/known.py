"""The values of grid points a method has already evaluated, so it need not ask them again.

On a deterministic objective a repeated query only costs budget: wrappers look a rounded
candidate up here and hand its known value back to their method instead of asking it.
(Under noise a re-measurement carries information: wrappers take ``avoid_repeats=False`` then.)
"""
from __future__ import annotations

from typing import Dict

import numpy as np


class KnownValues:
    """A dictionary from grid index rows to the value told for them (the last one told wins)."""

    def __init__(self, n: int):
        self._dtype = np.uint8 if n <= 256 else np.int64
        self._values: Dict[bytes, float] = {}

    def __len__(self) -> int:
        return len(self._values)

    def key(self, row: np.ndarray) -> bytes:
        return np.asarray(row).astype(self._dtype, copy=False).tobytes()

    def lookup(self, indices: np.ndarray) -> np.ndarray:
        """Known values of the rows of ``indices`` [k, d]; NaN where a row is new."""
        return np.array([self._values.get(self.key(row), np.nan) for row in indices], dtype=np.float64)

    def add(self, indices: np.ndarray, values: np.ndarray) -> None:
        for row, value in zip(indices, values):
            self._values[self.key(row)] = float(value)

    def steps(self, value: float) -> float:
        """``value`` in quanta of the values known so far (the smallest gap between two distinct ones:
        a spike count's 1/(T x positions)); inf when fewer than two distinct values are known."""
        distinct = np.unique(np.fromiter(self._values.values(), dtype=np.float64, count=len(self._values)))
        gaps = np.diff(distinct)
        gaps = gaps[gaps > 1e-12 * max(1.0, float(np.abs(distinct).max()))] if len(gaps) else gaps
        return float(value) / float(gaps.min()) if len(gaps) else float("inf")


def split_new(indices: np.ndarray, known: KnownValues):
    """Which rows of ``indices`` must be asked: the first occurrence of each row not yet known.

    Returns (ask_rows, values) where ``values`` holds the known value of every other row
    (NaN for the rows to ask and for later duplicates of them, filled in after the tell)."""
    values = known.lookup(indices)
    seen = set()
    ask_rows = []
    for i, row in enumerate(indices):
        if not np.isnan(values[i]):
            continue
        key = known.key(row)
        if key not in seen:
            seen.add(key)
            ask_rows.append(i)
    return np.asarray(ask_rows, dtype=np.int64), values


def fill_duplicates(indices: np.ndarray, values: np.ndarray, ask_rows: np.ndarray, told: np.ndarray, known: KnownValues):
    """Put the told values of ``ask_rows`` into ``values`` and onto every duplicate row."""
    known.add(indices[ask_rows], told)
    missing = np.isnan(values)
    values[missing] = known.lookup(indices[missing])
    return values
