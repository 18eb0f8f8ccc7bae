"""Entropy of the network's class probabilities on an MEI, normalised to [0, 1].

0 means the network is certain of one class; 1 means the uniform distribution (the paper
normalises by log(10) for its ten classes; here by log of the number of classes).
"""
from __future__ import annotations

import numpy as np

from mango_widgets.errors import ConfigError


def normalized_entropy(probabilities) -> np.ndarray:
    """Entropy of each row of ``probabilities`` [..., classes] divided by log(classes)."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] < 2:
        raise ConfigError(f"need probabilities over at least 2 classes in the last axis, got shape {p.shape}")
    if np.any(p < -1e-9) or not np.allclose(p.sum(-1), 1.0, atol=1e-4):
        raise ConfigError("class probabilities must be non-negative and sum to 1 along the last axis")
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(-1) / np.log(p.shape[-1])
