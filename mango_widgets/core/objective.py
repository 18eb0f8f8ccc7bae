"""The black box: a batch of grid indices -> the target's activations.

Counts every query (cache hits included, as a lab rig would count shown stimuli) and
caches exact repeats so they cost no forward pass. An optional noise model makes each
query a fresh noisy trial around the cached noise-free activation.
"""
from __future__ import annotations

import time
from typing import Dict, Optional, Union

import numpy as np
import torch

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.core.noise import PoissonNoise
from mango_widgets.core.targets import Target, parse_target
from mango_widgets.errors import ConfigError, ModelOutputError, seed_number


class Objective:
    """Activation of ``target`` in ``network`` for images the ``generator`` makes from grid indices."""

    def __init__(
        self,
        generator: Generator,
        network: Network,
        target: Union[str, Target],
        cache: bool = True,
        noise: Optional[PoissonNoise] = None,
        seed: int = 0,
    ):
        self.generator = generator
        self.network = network
        self.target = parse_target(target)
        self.target.validate(network)
        self._check_shapes()
        self.cache_enabled = cache
        self.noise = noise
        self._noise_rng = np.random.default_rng(seed_number(seed))
        self._cache: Dict[bytes, float] = {}
        self.queries = 0
        self.evaluations = 0
        self.model_seconds = 0.0

    def __repr__(self) -> str:
        return f"Objective(target={self.target}, network={self.network.name!r}, generator={self.generator.name!r})"

    @property
    def grid(self):
        return self.generator.grid

    def _check_shapes(self) -> None:
        image = self.generator(np.zeros((1, self.grid.d), dtype=np.int64))
        if tuple(image.shape[1:]) != self.network.input_shape:
            raise ConfigError(
                f"the generator makes images of shape {tuple(image.shape[1:])} but the network expects "
                f"{self.network.input_shape}; pick a matching generator/network pair or add a resize in preprocess"
            )

    @property
    def cache_hits(self) -> int:
        return self.queries - self.evaluations

    def images(self, indices) -> torch.Tensor:
        """The images [B, C, H, W] shown for grid indices."""
        return self.generator(indices)

    def evaluate(self, indices) -> np.ndarray:
        """Noise-free activations of the target for grid indices [B, d], computed afresh
        (no cache, not counted as queries)."""
        idx = self.grid.check(indices)
        start = time.perf_counter()
        activations = self.network.run(self.generator(idx), self.target.layers, output=self.target.reads_output)
        values = self.target.read(self.network, activations).double().cpu().numpy()
        self.model_seconds += time.perf_counter() - start
        if not np.all(np.isfinite(values)):
            raise ModelOutputError(f"the activation of {self.target} is NaN or infinite; check the network's weights")
        return values

    def __call__(self, indices) -> np.ndarray:
        """Activations [B] for grid indices [B, d]; every row counts as one query (one trial)."""
        idx = self.grid.check(indices)
        keys = [row.tobytes() for row in idx]
        missing = {}
        for row, key in zip(idx, keys):
            if key not in missing and not (self.cache_enabled and key in self._cache):
                missing[key] = row
        if missing:
            values = self.evaluate(np.stack(list(missing.values())))
            self.evaluations += len(missing)
            fresh = dict(zip(missing.keys(), values.tolist()))
            if self.cache_enabled:
                self._cache.update(fresh)
        else:
            fresh = {}
        self.queries += len(keys)
        values = np.array([fresh[k] if k in fresh else self._cache[k] for k in keys], dtype=np.float64)
        return values if self.noise is None else self.noise.sample(values, self._noise_rng)

    def layer_activations(self, indices, layer: str) -> np.ndarray:
        """All units of ``layer`` at once [B, units] (one forward pass; not counted as queries)."""
        idx = self.grid.check(indices)
        return self.network.run(self.generator(idx), [layer], output=False)[layer].double().cpu().numpy()
