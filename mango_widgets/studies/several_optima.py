"""Several distinct MEIs of one neuron, with their activations and pairwise latent distances.

Two strategies:
* ``"restarts"``: ``count`` searches one after another; each one's values are penalised near
  the optima already found (by up to ``penalty`` inside ``min_distance`` in latent space), and
  its optimum is the best point it saw at least ``min_distance`` from the earlier ones.
* ``"tt-samples"``: one PROTES search (method tt, tt-s, tt-b or protes), then ``samples`` points
  drawn from its learned TT distribution; the optima are the best distinct points of the search
  and the samples together (greedy, keeping ``min_distance`` between any two).
Every objective call counts in ``queries``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from mango_widgets.core.driver import Driver
from mango_widgets.core.objective import Objective
from mango_widgets.core.optimizers import make_optimizer
from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.runtime.threads import default_threads, torch_threads

STRATEGIES = ("restarts", "tt-samples")


@dataclass
class SeveralOptima:
    """Distinct optima of one neuron, best first."""

    indices: np.ndarray  # [k, d] grid indices
    latents: np.ndarray  # [k, d]
    activations: np.ndarray  # [k] (as measured by the objective)
    euclidean: np.ndarray  # [k, k] pairwise latent distances
    cosine: np.ndarray  # [k, k] pairwise cosine distances (1 - cosine similarity)
    min_distance: float
    queries: int
    strategy: str

    def summary(self) -> dict:
        upper = np.triu_indices(len(self.activations), 1)
        return {
            "strategy": self.strategy, "count": len(self.activations), "activations": self.activations.tolist(),
            "min_distance": self.min_distance, "queries": self.queries,
            "mean_euclidean": float(self.euclidean[upper].mean()) if len(upper[0]) else None,
            "min_euclidean": float(self.euclidean[upper].min()) if len(upper[0]) else None,
            "mean_cosine": float(self.cosine[upper].mean()) if len(upper[0]) else None,
        }


def typical_distance(grid) -> float:
    """Expected latent distance between two uniformly random grid points: sqrt(2 d Var(axis values))."""
    return float(np.sqrt(2 * grid.d * np.var(grid.values.astype(np.float64))))


def pairwise_distances(latents: np.ndarray) -> tuple:
    """(Euclidean, cosine) distance matrices [k, k] between latent vectors."""
    z = np.asarray(latents, dtype=np.float64)
    euclidean = np.sqrt(np.maximum(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1), 0))
    norms = np.linalg.norm(z, axis=1)
    cosine = 1 - (z @ z.T) / np.maximum(norms[:, None] * norms[None, :], 1e-12)
    return euclidean, cosine


def several_meis(
    objective: Objective,
    count: int = 4,
    method: str = "tt-b",
    budget: int = 1000,
    strategy: str = "restarts",
    min_distance: Optional[float] = None,
    penalty: float = 1.0,
    samples: int = 500,
    seed: int = 0,
    threads: Optional[int] = -1,
) -> SeveralOptima:
    """``count`` distinct MEIs of ``objective``'s target (``budget`` queries per search; ``threads``
    torch threads, as in Search)."""
    if strategy not in STRATEGIES:
        raise unknown_choice("strategy", strategy, STRATEGIES)
    if int(count) < 1 or int(budget) < 1:
        raise ConfigError(f"need count >= 1 and budget >= 1, got count={count}, budget={budget}")
    grid = objective.grid
    min_distance = 0.5 * typical_distance(grid) if min_distance is None else float(min_distance)
    start = objective.queries
    with torch_threads(default_threads() if threads == -1 else threads):
        if strategy == "restarts":
            chosen = _restarts(objective, int(count), method, int(budget), min_distance, float(penalty), seed)
        else:
            chosen = _tt_samples(objective, int(count), method, int(budget), min_distance, int(samples), seed)
    indices = np.stack([c[0] for c in chosen])
    latents = grid.to_latent(indices)
    euclidean, cosine = pairwise_distances(latents)
    return SeveralOptima(
        indices=indices, latents=latents, activations=np.array([c[1] for c in chosen]),
        euclidean=euclidean, cosine=cosine, min_distance=min_distance,
        queries=objective.queries - start, strategy=strategy,
    )


def _distance_to(latents: np.ndarray, optima: List[np.ndarray]) -> np.ndarray:
    """Distance of each latent [B, d] to the nearest of ``optima`` (inf if none)."""
    if not optima:
        return np.full(len(latents), np.inf)
    centres = np.stack(optima).astype(np.float64)
    return np.sqrt(((latents[:, None, :].astype(np.float64) - centres[None]) ** 2).sum(-1)).min(1)


def _drive(driver: Driver, objective, reward=None) -> tuple:
    """Run ``driver`` to its budget on ``objective`` (the optimizer told ``reward(asked, values)`` if given);
    every shown index and its measured value."""
    seen = []
    driver.run(objective, on_batch=lambda batch, values: seen.append((batch.shown, values)), reward=reward)
    return np.concatenate([s[0] for s in seen]), np.concatenate([s[1] for s in seen])


def _restarts(objective, count, method, budget, min_distance, penalty, seed) -> list:
    grid, chosen, centres = objective.grid, [], []
    for restart in range(count):
        driver = Driver(grid, method, budget=budget, seed=seed + restart)

        def penalised(asked, values):
            near = _distance_to(grid.to_latent(asked), centres)
            return values - penalty * np.clip(1 - near / min_distance, 0, None)

        indices, values = _drive(driver, objective, penalised)
        driver.close()
        far = _distance_to(grid.to_latent(indices), centres) >= min_distance
        pool = np.flatnonzero(far) if far.any() else np.arange(len(values))
        best = pool[np.argmax(values[pool])]
        chosen.append((indices[best], float(values[best])))
        centres.append(grid.to_latent(indices[best][None])[0])
    chosen.sort(key=lambda c: -c[1])
    return chosen


def _tt_samples(objective, count, method, budget, min_distance, samples, seed) -> list:
    grid = objective.grid
    driver = Driver(grid, method, budget=budget, seed=seed)
    optimizer = driver.optimizer
    if not optimizer.exports_state:
        raise ConfigError(f"strategy 'tt-samples' needs a method that exports its search distribution "
                          f"(PROTES: tt, tt-s, tt-b, protes), got {method!r}")
    searched = _drive(driver, objective)
    seen_idx, seen_val = [searched[0]], [searched[1]]
    settings = optimizer.params()["settings"]
    sampler = make_optimizer(
        "protes", grid, seed=seed + 1, K=samples, k_top=1, rank=settings["rank"], quantize=settings["quantize"], P=optimizer.state(),
    )
    drawn = sampler.ask()
    driver.close()
    seen_idx.append(drawn)
    seen_val.append(objective(drawn))
    indices, values = np.concatenate(seen_idx), np.concatenate(seen_val)
    chosen, centres = [], []
    for k in np.argsort(-values, kind="stable"):
        latent = grid.to_latent(indices[k][None])
        if _distance_to(latent, centres)[0] >= min_distance:
            chosen.append((indices[k], float(values[k])))
            centres.append(latent[0])
            if len(chosen) == count:
                break
    return chosen
