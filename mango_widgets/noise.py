"""Trial-to-trial variability, for simulating how a living neuron would answer.

A real neuron's spike count to the same stimulus varies from trial to trial roughly like a
Poisson variable. :class:`PoissonNoise` turns a noise-free activation a in [0, 1] into
Poisson(a * scale) / scale, where ``scale`` is the spike count of a fully active unit over the
exposure (e.g. T): larger scales mean relatively less noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class PoissonNoise:
    """Observed activation = Poisson(activation * scale) / scale."""

    scale: float = 20.0

    def __post_init__(self):
        if not self.scale > 0:
            raise ConfigError(f"the noise scale must be > 0 (spike count of a fully active unit), got {self.scale}")

    def sample(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(np.clip(values, 0, None) * self.scale) / self.scale
