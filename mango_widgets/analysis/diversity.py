"""Diversity of a layer's MEIs: mean pairwise distances between their latent vectors."""
from __future__ import annotations

import numpy as np

from mango_widgets.errors import ConfigError


def latent_diversity(latents) -> dict:
    """Mean Euclidean distance and mean cosine distance (1 - cosine similarity) over all
    distinct pairs of latent vectors [N, d]; N >= 2."""
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise ConfigError(f"need at least two latent vectors as an [N, d] array, got shape {z.shape}")
    upper = np.triu_indices(len(z), k=1)
    squared = (z * z).sum(1)
    euclidean = np.sqrt(np.clip(squared[:, None] + squared[None, :] - 2 * z @ z.T, 0.0, None))[upper]
    norms = np.sqrt(squared)
    if np.any(norms == 0):
        raise ConfigError("a latent vector is all zeros: its cosine distance is undefined")
    cosine = 1.0 - (z @ z.T / np.outer(norms, norms))[upper]
    return {"euclidean": float(euclidean.mean()), "cosine": float(cosine.mean()), "pairs": int(len(euclidean))}
