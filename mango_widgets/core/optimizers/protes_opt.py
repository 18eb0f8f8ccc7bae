"""PROTES as a steppable ask/tell optimizer, driven by the ``protes`` package's own kernels.

``protes.protes()`` owns its loop and recompiles its JAX kernels on every call. Here the
kernels (through :mod:`mango_widgets.core.optimizers.protes_kernels`, the one module that
touches protes' private API) are reused, compiled once per shape for the whole process, and
the loop is ours, so a widget or a lab rig can step it. With the same seed it asks exactly
what ``protes.protes`` asks.
"""
from __future__ import annotations

from functools import cache, partial
from typing import Optional

import numpy as np

from mango_widgets.core.optimizers.base import Optimizer
from mango_widgets.core.optimizers.protes_kernels import kernels
from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError
from mango_widgets.runtime.protes_start import prepare_protes_runtime

#: up to this many gradient steps per tell are unrolled in the compiled graph; more run in a loop
UNROLL_MAX = 4


@cache
def _compiled(lr: float, k_top: int, k_gd: int):
    """The ask and tell steps, each one JIT-compiled function (jax keeps one compilation
    per input shape, so every search with these settings reuses it)."""
    import jax
    import jax.numpy as jnp
    import optax

    protes_kernels = kernels()
    optim = optax.adam(lr)
    interface_matrices = jax.jit(protes_kernels.interface_matrices)
    sample = jax.vmap(protes_kernels.sample, (None, None, None, None, 0))
    likelihood = jax.jit(jax.vmap(protes_kernels.likelihood, (None, None, None, None, 0)))

    @partial(jax.jit, static_argnums=2)
    def ask(P, rng, count):
        Pl, Pm, Pr = P
        Zm = interface_matrices(Pm, Pr)
        rng, key = jax.random.split(rng)
        return rng, sample(Pl, Pm, Pr, Zm, jax.random.split(key, count))

    def loss(P_cur, I_cur):
        Pl, Pm, Pr = P_cur
        Zm = interface_matrices(Pm, Pr)
        return jnp.mean(-likelihood(Pl, Pm, Pr, Zm, I_cur))

    loss_grad = jax.grad(loss)

    def optimize(state, P_cur, I_cur):
        grads = loss_grad(P_cur, I_cur)
        updates, state = optim.update(grads, state)
        P_cur = jax.tree_util.tree_map(lambda p, u: p + u, P_cur, updates)
        return state, P_cur

    @jax.jit
    def tell(state, P, points, y):
        elite = points[jnp.argsort(y)[::-1][:k_top], :]
        if k_gd <= UNROLL_MAX:  # the presets (k_gd = 1): the same graph protes.protes runs
            for _ in range(k_gd):
                state, P = optimize(state, P, elite)
            return state, P
        # many Adam steps: a loop in the graph (unrolled, k_gd = 100 took minutes to compile)
        return jax.lax.fori_loop(0, k_gd, lambda _, carry: optimize(carry[0], carry[1], elite), (state, P))

    return optim, ask, jax.jit(optimize), tell


class Protes(Optimizer):
    """PROTES: sample K points from a TT probability tensor, then raise the likelihood of
    the k_top best with k_gd Adam steps. ``quantize`` runs it on the binary view of the grid.
    Observed points (``observe``) join the next batch's ranking: the k_top best of both are the elite."""

    learns_from_observed = True
    warm_startable = True
    exports_state = True

    def __init__(
        self,
        grid: LatentGrid,
        seed: int = 0,
        budget=None,
        K: int = 10,
        k_top: int = 1,
        k_gd: int = 1,
        lr: float = 5e-2,
        rank: int = 5,
        quantize: bool = False,
        P=None,
    ):
        super().__init__(grid, seed, budget)
        if not 1 <= int(k_top) <= int(K):
            raise ConfigError(f"PROTES needs 1 <= k_top <= K, got k_top={k_top}, K={K}")
        if int(k_gd) < 1 or float(lr) <= 0 or int(rank) < 1:
            raise ConfigError(f"PROTES needs k_gd >= 1, lr > 0 and rank >= 1, got k_gd={k_gd}, lr={lr}, rank={rank}")
        prepare_protes_runtime()  # XLA flags before jax's backend starts, compilation cache, kernels without matplotlib
        import jax
        import jax.numpy as jnp

        self.K, self.k_top, self.k_gd, self.lr, self.rank = int(K), int(k_top), int(k_gd), float(lr), int(rank)
        self.quantized = grid.quantized() if quantize else None
        self.d = self.quantized.d if quantize else grid.d
        self.n = self.quantized.n if quantize else grid.n
        if self.d < 3:
            raise ConfigError(f"PROTES needs at least 3 axes, the search space has {self.d}")
        self._jax, self._jnp = jax, jnp
        self._rng = jax.random.PRNGKey(self.seed)
        self._rng, key = jax.random.split(self._rng)
        if P is None:
            P = kernels().generate_initial(self.d, self.n, self.rank, key)
        else:
            P = [jnp.asarray(core) for core in P]
            expected = [(1, self.n, self.rank), (self.d - 2, self.rank, self.n, self.rank), (self.rank, self.n, 1)]
            if [tuple(core.shape) for core in P] != expected:
                raise ConfigError(
                    f"warm-start tensor has core shapes {[tuple(c.shape) for c in P]}, expected {expected} "
                    "(same grid, quantization and rank as the search it came from)"
                )
        self.P = P
        self._optim, self._ask_step, self._optimize, self._tell_step = _compiled(self.lr, self.k_top, self.k_gd)
        self._state = self._optim.init(self.P)
        self._raw: Optional[np.ndarray] = None
        self._observed: Optional[tuple] = None  # the k_top best observed points (raw indices, values)

    def _settings(self) -> dict:
        return {"K": self.K, "k_top": self.k_top, "k_gd": self.k_gd, "lr": self.lr, "rank": self.rank,
                "quantize": self.quantized is not None}

    def _ask(self) -> np.ndarray:
        self._rng, raw = self._ask_step(self.P, self._rng, self.K)
        self._raw = raw
        indices = np.asarray(raw, dtype=np.int64)
        return self.quantized.to_grid(indices) if self.quantized else indices

    def _observe(self, indices, values) -> None:
        raw = self.quantized.from_grid(indices) if self.quantized else indices
        if self._observed is not None:
            raw, values = np.concatenate([self._observed[0], raw]), np.concatenate([self._observed[1], values])
        keep = np.argsort(-values, kind="stable")[: self.k_top]
        self._observed = (raw[keep], values[keep])

    def _tell(self, indices, values) -> None:
        jnp = self._jnp
        points, y = self._raw, np.asarray(values, dtype=np.float32)
        if self._observed is not None:  # always k_top extra rows (padding never ranks): one compiled shape
            raw, seen = self._observed
            self._observed = None
            pad = self.k_top - len(seen)
            raw = np.concatenate([raw, np.repeat(raw[:1], pad, axis=0)])
            points = jnp.concatenate([points, jnp.asarray(raw, dtype=points.dtype)])
            y = np.concatenate([y, seen.astype(np.float32), np.full(pad, -np.inf, dtype=np.float32)])
        self._state, self.P = self._tell_step(self._state, self.P, points, jnp.asarray(y))

    def warm_start_from(self, index, steps: int = 20) -> None:
        """Raise the probability of one grid index (e.g. a previous MEI) before searching."""
        idx = self.grid.check(index)[:1]
        raw = self._jnp.asarray(self.quantized.from_grid(idx) if self.quantized else idx, dtype=self._jnp.int32)
        for _ in range(int(steps)):
            self._state, self.P = self._optimize(self._state, self.P, raw)

    def log_likelihood(self, indices) -> np.ndarray:
        """Log-probability of grid indices [B, d] under the current TT distribution."""
        idx = self.grid.check(indices)
        raw = self.quantized.from_grid(idx) if self.quantized else idx
        return self._log_likelihood(raw)

    def _log_likelihood(self, raw) -> np.ndarray:
        jax, jnp = self._jax, self._jnp
        protes_kernels = kernels()
        Pl, Pm, Pr = self.P
        Zm = protes_kernels.interface_matrices(Pm, Pr)
        likelihood = jax.vmap(protes_kernels.likelihood, (None, None, None, None, 0))
        return np.asarray(likelihood(Pl, Pm, Pr, Zm, jnp.asarray(raw, dtype=jnp.int32)), dtype=np.float64)

    def state(self) -> list:
        """The TT probability cores as numpy arrays; pass them as ``P=`` to warm-start."""
        return [np.asarray(core) for core in self.P]


def register_all(register) -> None:
    register("protes", Protes, "PROTES with free parameters (K, k_top, k_gd, lr, rank, quantize)")
    register("tt", Protes, "PROTES preset TT: K=10, k_top=1", K=10, k_top=1, quantize=False)
    register("tt-s", Protes, "PROTES preset TT-s: K=5, k_top=1, mode quantization", K=5, k_top=1, quantize=True)
    register("tt-b", Protes, "PROTES preset TT-b: K=25, k_top=5, mode quantization", K=25, k_top=5, quantize=True)
