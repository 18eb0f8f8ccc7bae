"""A whole generation of ``cmaes.SepCMA`` candidates at once, bit-identical to calling ``ask()`` per candidate.

``SepCMA.ask()`` draws one candidate at a time and, in a box, redraws it until it lies inside (up to
``n_max_resampling`` times, then clips one more draw). In 128 dimensions with the field's step of a
fifth of the range that is about six draws per candidate, each a Python round trip: more than half
of ``auto``'s own time at 10,000 queries. Here the same normal draws are made from the same random
state in blocks and the same candidates picked from them. Draws a generation did not use are kept
on the ``SepCMA`` object for the next generation (``ask()`` would have drawn them next), so nothing
is drawn twice; all of a ``SepCMA``'s asks must then go through :func:`ask_generation`, and kept
draws are dropped if anything else moved its random state.
"""
from __future__ import annotations

from typing import List

import numpy as np

#: the SepCMA internals this relies on; without any of them, fall back to ``ask()``
_NEEDED = ("_rng", "_mean", "_sigma", "_bounds", "_n_dim", "_n_max_resampling", "_eigen_decomposition")
#: where the drawn-but-unused rows and the random state they were drawn up to are kept
_UNUSED, _STATE = "_mango_unused_draws", "_mango_state_after_draws"


def supported(es) -> bool:
    """Whether ``es`` is a ``cmaes.SepCMA`` with the internals this module reproduces."""
    import cmaes

    return type(es) is cmaes.SepCMA and all(hasattr(es, name) for name in _NEEDED) \
        and isinstance(es._rng, np.random.RandomState)


def _unused_draws(es) -> np.ndarray:
    """Rows drawn for an earlier generation and not used, if the random state has not moved since."""
    unused, state = getattr(es, _UNUSED, None), getattr(es, _STATE, None)
    if unused is not None and state is not None:
        now = es._rng.get_state()
        if now[2:] == state[2:] and np.array_equal(now[1], state[1]):
            return unused
    return np.empty((0, es._n_dim))


def ask_generation(es, count: int) -> List[np.ndarray]:
    """``[es.ask() for _ in range(count)]``, computed in blocks (the same values)."""
    if not supported(es):
        return [es.ask() for _ in range(count)]
    rng, n, tries = es._rng, es._n_dim, es._n_max_resampling
    D, mean, sigma, bounds = es._eigen_decomposition(), es._mean, es._sigma, es._bounds
    z = _unused_draws(es)
    x, inside = _candidates(z, mean, sigma, D, bounds)
    chosen: List[np.ndarray] = []
    used = 0  # rows of z that ask() would have drawn so far
    while len(chosen) < count:
        window = inside[used:used + tries]
        if window.any():
            row = used + int(np.argmax(window))
            chosen.append(x[row].copy())
        elif used + tries < len(z):  # none of the allowed draws was inside: one more, clipped to the box
            row = used + tries
            param = x[row]
            if bounds is not None:
                param = np.where(param < bounds[:, 0], bounds[:, 0], param)
                param = np.where(param > bounds[:, 1], bounds[:, 1], param)
            chosen.append(param.copy())
        else:  # undecided within the rows drawn so far: draw the next ones
            more = rng.randn(max(8 * (count - len(chosen)), 32), n)
            more_x, more_inside = _candidates(more, mean, sigma, D, bounds)
            z, x, inside = np.concatenate([z, more]), np.concatenate([x, more_x]), np.concatenate([inside, more_inside])
            continue
        used = row + 1
    setattr(es, _UNUSED, z[used:])
    setattr(es, _STATE, rng.get_state())
    return chosen


def _candidates(z: np.ndarray, mean, sigma, D, bounds):
    """Candidates from normal draws ``z`` (rows), with the elementwise operations of
    ``SepCMA._sample_solution``, and whether each lies in the box."""
    x = mean + sigma * (D * z)
    inside = np.ones(len(z), dtype=bool) if bounds is None else \
        np.all(x >= bounds[:, 0], axis=1) & np.all(x <= bounds[:, 1], axis=1)
    return x, inside
