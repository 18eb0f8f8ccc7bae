"""Elitist, tie-aware PROTES with memetic grid-local steps: our own method (``tt-elite``).

PROTES learns from the k_top best points of each batch, ranked by ``argsort``: when a whole
batch ties (activations move in steps of 1/T), it learns from arbitrary samples, and it never
feeds the best point so far back into its update. Here, on the same TT kernels and driver:

- the elite is the k_top best of the batch and of an archive of the best points ever seen,
  ties broken at random (``elitist``); an update whose elite is the same as the last one's is
  skipped (nothing new was learnt), as is one on a batch whose values all tie (``tie_aware``);
- a growing share of each batch (up to ``local_share``, reached after ``ramp`` queries) is spent
  on grid-local moves around archived elites: a few coordinates moved by +-1..+-4 grid steps,
  or a uniform crossover of two elites; with ``gray`` the binary (quantized) view of the grid
  is Gray-coded, so neighbouring grid values differ in one bit of the TT's axes;
- after ``patience`` batches without improvement the TT distribution restarts from fresh
  random cores, keeping the archive;
- points already evaluated are replaced by fresh local moves (``avoid_repeats``).
"""
from __future__ import annotations

import numpy as np

from mango_widgets.core.optimizers.known import KnownValues
from mango_widgets.core.optimizers.local_moves import grid_local_moves, replace_known
from mango_widgets.core.optimizers.protes_kernels import kernels
from mango_widgets.core.optimizers.protes_opt import Protes
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError

#: largest grid step of a local move (moves are +-1..+-MAX_STEP, small ones more likely)
MAX_STEP = 4


def gray_encode(values: np.ndarray) -> np.ndarray:
    return values ^ (values >> 1)


def gray_decode(values: np.ndarray) -> np.ndarray:
    values = values.copy()
    shift = values >> 1
    while shift.any():
        values ^= shift
        shift >>= 1
    return values


class EliteTT(Protes):
    """Tie-aware elitist PROTES with local steps and restarts; see the module docstring."""

    learns_from_observed = True
    avoids_repeats = True

    def __init__(
        self,
        grid: LatentGrid,
        seed: int = 0,
        budget=None,
        K: int = 25,
        k_top: int = 5,
        k_gd: int = 1,
        lr: float = 5e-2,
        rank: int = 5,
        quantize: bool = True,
        gray: bool = True,
        archive: int = 5,
        elitist: bool = True,
        tie_aware: bool = True,
        local_share: float = 0.5,
        ramp: int = 1000,
        patience: int = 40,
        avoid_repeats: bool = True,
    ):
        if gray and not quantize:
            raise ConfigError("gray=True needs quantize=True (Gray coding applies to the binary view of the grid)")
        if not 0 <= float(local_share) <= 1 or int(archive) < 1 or int(patience) < 1 or int(ramp) < 0:
            raise ConfigError(
                f"tt-elite needs 0 <= local_share <= 1, archive >= 1, patience >= 1, ramp >= 0; "
                f"got {local_share}, {archive}, {patience}, {ramp}"
            )
        super().__init__(grid, seed, budget, K=K, k_top=k_top, k_gd=k_gd, lr=lr, rank=rank, quantize=quantize)
        self.gray, self.archive_size, self.elitist, self.tie_aware = bool(gray), int(archive), bool(elitist), bool(tie_aware)
        self.local_share, self.ramp, self.patience = float(local_share), int(ramp), int(patience)
        self.avoid_repeats = self.avoids_repeats = bool(avoid_repeats)
        self._np_rng = np.random.default_rng(np.random.SeedSequence([self.seed, 7]))
        self._known = KnownValues(grid.n)
        self._archive = (np.empty((0, grid.d), dtype=np.int64), np.empty(0))
        self._last_elite = None
        self._since_improvement = 0
        self.restarts_done = 0

    def _settings(self) -> dict:
        return {**super()._settings(), "gray": self.gray, "archive": self.archive_size, "elitist": self.elitist,
                "tie_aware": self.tie_aware, "local_share": self.local_share, "ramp": self.ramp,
                "patience": self.patience, "avoid_repeats": self.avoid_repeats}

    # ------------------------------------------------------------ grid <-> TT axes
    def _to_grid(self, raw) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.int64)
        if not self.quantized:
            return raw
        indices = self.quantized.to_grid(raw)
        return gray_decode(indices) if self.gray else indices

    def _to_raw(self, indices: np.ndarray) -> np.ndarray:
        if not self.quantized:
            return indices
        return self.quantized.from_grid(gray_encode(indices) if self.gray else indices)

    # -------------------------------------------------------------- proposals
    def _local_moves(self, count: int) -> np.ndarray:
        """``count`` grid-local variations of archived elites."""
        return grid_local_moves(self._archive[0], count, self._np_rng, self.grid.n, max_step=MAX_STEP)

    def _ask(self) -> np.ndarray:
        self._rng, raw = self._ask_step(self.P, self._rng, self.K)
        batch = self._to_grid(raw)
        if len(self._archive[1]):
            share = self.local_share * min(1.0, self.told / self.ramp) if self.ramp else self.local_share
            local = int(round(share * self.K))
            if local:
                batch[self.K - local:] = self._local_moves(local)
            if self.avoid_repeats:
                batch = self._replace_repeats(batch)
        return batch

    def _replace_repeats(self, batch: np.ndarray) -> np.ndarray:
        return replace_known(batch, self._known, lambda: self._local_moves(1)[0])

    # -------------------------------------------------------------- learning
    def _ranked(self, values: np.ndarray) -> np.ndarray:
        """Indices of ``values`` from best to worst, ties in random order."""
        if not self.tie_aware:
            return np.argsort(values)[::-1]
        return np.lexsort((self._np_rng.random(len(values)), -values))

    def _tell(self, indices, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        if self.avoid_repeats:
            self._known.add(indices, values)
        improved = values.max() > (self._archive[1].max() if len(self._archive[1]) else -np.inf)
        pool_idx = np.concatenate([self._archive[0], indices])
        pool_val = np.concatenate([self._archive[1], values])
        _, first = np.unique(pool_idx, axis=0, return_index=True)  # one copy of each point
        pool_idx, pool_val = pool_idx[np.sort(first)], pool_val[np.sort(first)]
        order = self._ranked(pool_val)
        self._archive = (pool_idx[order[: self.archive_size]], pool_val[order[: self.archive_size]])
        if self.elitist:
            elite = pool_idx[order[: self.k_top]]
        else:
            elite = indices[self._ranked(values)[: self.k_top]]
        if self.tie_aware and not self.elitist and values.max() == values.min():
            elite = None  # an all-tied batch ranks nothing
        same = elite is not None and self._last_elite is not None and np.array_equal(np.sort(elite, axis=0), self._last_elite)
        if elite is not None and not same:
            raw = self._jnp.asarray(self._to_raw(elite), dtype=self._jnp.int32)
            for _ in range(self.k_gd):
                self._state, self.P = self._optimize(self._state, self.P, raw)
            self._last_elite = np.sort(elite, axis=0)
        self._since_improvement = 0 if improved else self._since_improvement + 1
        if self._since_improvement >= self.patience:
            self._restart_tt()

    def log_likelihood(self, indices) -> np.ndarray:
        """Log-probability of grid indices [B, d] under the TT distribution (Gray-coded if ``gray``)."""
        return self._log_likelihood(self._to_raw(self.grid.check(indices)))

    def _restart_tt(self) -> None:
        """Fresh random TT cores (and optimizer state); the archive stays."""
        self._rng, key = self._jax.random.split(self._rng)
        self.P = kernels().generate_initial(self.d, self.n, self.rank, key)
        self._state = self._optim.init(self.P)
        self._since_improvement = 0
        self._last_elite = None
        self.restarts_done += 1

    def _observe(self, indices, values) -> None:
        pool_idx = np.concatenate([self._archive[0], indices])
        pool_val = np.concatenate([self._archive[1], values])
        order = self._ranked(pool_val)[: self.archive_size]
        self._archive = (pool_idx[order], pool_val[order])


def register_all(register) -> None:
    register("tt-elite", EliteTT, "ours: tie-aware elitist PROTES (TT-b sizes) + Gray-coded local steps + TT restarts")
