"""How natural an MEI looks: its distance to the nearest real image of the training data.

Without the GAN's discriminator, the nearest-neighbour distance in pixel space to a set of real
images is a simple, model-free realism score: real held-out digits sit close to the training
digits, off-manifold images far away. Distances are root-mean-square over pixels.
"""
from __future__ import annotations

import numpy as np

from mango_widgets.errors import ConfigError


def nearest_real_distance(images, reference, chunk: int = 256) -> np.ndarray:
    """RMS pixel distance from each image [N, ...] to its nearest reference image [M, ...]."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    r = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    if x.shape[1] != r.shape[1]:
        raise ConfigError(f"images have {x.shape[1]} pixels but the reference images {r.shape[1]}; use the same size")
    if len(r) == 0:
        raise ConfigError("need at least one reference image")
    r_sq = (r * r).sum(1)
    out = np.empty(len(x))
    for start in range(0, len(x), chunk):
        block = x[start:start + chunk]
        squared = (block * block).sum(1)[:, None] + r_sq[None, :] - 2 * block @ r.T
        out[start:start + chunk] = np.sqrt(np.clip(squared.min(1), 0, None) / x.shape[1])
    return out
