"""Diversity of MEIs: mean pairwise distances between latent vectors, and image-space similarity.

Two readings: between the MEIs of a layer's *different neurons* (:func:`latent_diversity` over a
layer), and the paper's (section 4.3): between the MEIs that *different methods* find for the
*same neuron* (:func:`method_diversity`), next to how alike those images look
(:func:`image_similarity`).
"""
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


def image_similarity(images) -> dict:
    """Mean pairwise Pearson correlation and RMS pixel distance between images [N, ...] (N >= 2).

    A constant image has no defined correlation; its pairs count as 0 correlation."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    if len(x) < 2:
        raise ConfigError(f"need at least two images, got {len(x)}")
    upper = np.triu_indices(len(x), k=1)
    centred = x - x.mean(1, keepdims=True)
    norms = np.sqrt((centred * centred).sum(1))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = centred @ centred.T / np.outer(norms, norms)
    correlation = np.nan_to_num(correlation, nan=0.0)[upper]
    squared = (x * x).sum(1)
    rms = np.sqrt(np.clip(squared[:, None] + squared[None, :] - 2 * x @ x.T, 0.0, None) / x.shape[1])[upper]
    return {"correlation": float(correlation.mean()), "rms_distance": float(rms.mean()), "pairs": int(len(rms))}


def method_diversity(latents, images=None) -> dict:
    """The paper's diversity of one neuron: distances between the MEIs several methods found for it
    (latents [M, d], M >= 2), plus their image similarity when ``images`` [M, C, H, W] are given."""
    result = {f"latent_{k}": v for k, v in latent_diversity(latents).items() if k != "pairs"}
    if images is not None:
        result.update({f"image_{k}": v for k, v in image_similarity(images).items() if k != "pairs"})
    return result


def random_pair_reference(grid, generator=None, pairs: int = 200, seed: int = 0) -> dict:
    """The same distances between random grid points (and their images): what "no agreement" looks like."""
    rng = np.random.default_rng(seed)
    first, second = grid.random(pairs, rng), grid.random(pairs, rng)
    latents = [grid.to_latent(np.stack([a, b])) for a, b in zip(first, second)]
    result = {"latent_euclidean": float(np.mean([latent_diversity(z)["euclidean"] for z in latents])),
              "latent_cosine": float(np.mean([latent_diversity(z)["cosine"] for z in latents]))}
    if generator is not None:
        images = generator(np.concatenate([first, second])).cpu().numpy()
        sims = [image_similarity(np.stack([images[i], images[pairs + i]])) for i in range(pairs)]
        result["image_correlation"] = float(np.mean([s["correlation"] for s in sims]))
        result["image_rms_distance"] = float(np.mean([s["rms_distance"] for s in sims]))
    return result
