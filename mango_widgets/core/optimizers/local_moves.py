"""Grid-local variations of good points: the memetic step that ``tt-elite`` and ``cma-polish`` share.

A child copies a parent (sometimes crossed with another elite), then moves a few coordinates
(how many: geometric, ``mean_moved`` on average) by +-1..+-``max_step`` grid steps, small steps
likelier. On a latent grid that is a small, local change of the generated image.
"""
from __future__ import annotations

import numpy as np


def grid_local_moves(elites: np.ndarray, count: int, rng: np.random.Generator, n: int, max_step: int = 4,
                     crossover: float = 0.25, mean_moved: float = 2.0) -> np.ndarray:
    """``count`` children of rows of ``elites`` [k, d] on a grid of ``n`` points per axis, int64 [count, d]."""
    d = elites.shape[1]
    parents = elites[rng.integers(len(elites), size=count)].astype(np.int64, copy=True)
    for child in parents:
        if len(elites) > 1 and rng.random() < crossover:  # uniform crossover with another elite
            other = elites[rng.integers(len(elites))]
            mask = rng.random(d) < 0.5
            child[mask] = other[mask]
        moved = rng.choice(d, size=min(rng.geometric(1.0 / mean_moved), d), replace=False)
        # +-1..+-max_step, the smaller of two uniform draws: small steps likelier
        steps = np.minimum(rng.integers(1, max_step + 1, size=len(moved)), rng.integers(1, max_step + 1, size=len(moved)))
        child[moved] = np.clip(child[moved] + steps * rng.choice((-1, 1), size=len(moved)), 0, n - 1)
    return parents


def replace_known(batch: np.ndarray, known, propose, tries: int = 50) -> np.ndarray:
    """``batch`` with each row that is already in ``known`` (a KnownValues) or earlier in the batch
    redrawn by ``propose()`` (one new row), up to ``tries`` times; in place, returned."""
    seen = set()
    for i in range(len(batch)):
        for _ in range(tries):
            key = known.key(batch[i])
            if key not in seen and np.isnan(known.lookup(batch[i][None])[0]):
                break
            batch[i] = propose()
        seen.add(known.key(batch[i]))
    return batch
