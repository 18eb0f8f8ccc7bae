"""Trial-to-trial variability, for simulating how a living neuron would answer.

A real neuron's spike count to the same stimulus varies from trial to trial roughly like a
Poisson variable. :class:`PoissonNoise` turns a noise-free activation a in [0, 1] into
Poisson(a * scale) / scale, where ``scale`` is the spike count of a fully active unit over the
exposure (e.g. T): larger scales mean relatively less noise. ``NOISE_LEVELS`` names a few
scales; :class:`SinusoidalDrift` and :class:`RandomWalkDrift` model a slow drift of the
neuron's gain over trials (as in long recordings).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from mango_widgets.errors import ConfigError


@dataclass(frozen=True)
class PoissonNoise:
    """Observed activation = Poisson(activation * scale) / scale."""

    scale: float = 20.0

    def __post_init__(self):
        if not self.scale > 0:
            raise ConfigError(f"the noise scale must be > 0 (spike count of a fully active unit), got {self.scale}")

    def sample(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(np.clip(values, 0, None) * self.scale) / self.scale


#: named noise levels: spike count of a fully active unit over one presentation (None: noise-free).
#: "low" is a strongly driven cell over a long presentation, "high" a brief one.
NOISE_LEVELS = {"none": None, "low": 100.0, "high": 10.0}


def noise_model(level) -> Optional[PoissonNoise]:
    """A :class:`PoissonNoise` from a level name ("none", "low", "high"), a scale, a model, or None."""
    from mango_widgets.errors import unknown_choice

    if level is None or isinstance(level, PoissonNoise):
        return level
    if isinstance(level, str):
        if level not in NOISE_LEVELS:
            raise unknown_choice("noise level", level, NOISE_LEVELS)
        scale = NOISE_LEVELS[level]
        return None if scale is None else PoissonNoise(scale)
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ConfigError(f"noise must be None, a level name {list(NOISE_LEVELS)} or a spike-count scale, got {level!r}")
    return PoissonNoise(float(level))


@dataclass(frozen=True)
class SinusoidalDrift:
    """Slow gain drift: gain(t) = 1 + amplitude * sin(2 pi t / period + phase), t the trial number."""

    amplitude: float = 0.2
    period: float = 1000.0
    phase: float = 0.0

    def __post_init__(self):
        if not 0 <= self.amplitude < 1 or not self.period > 0:
            raise ConfigError(f"need 0 <= amplitude < 1 and period > 0 (trials), got {self.amplitude}, {self.period}")

    def gain(self, trials) -> np.ndarray:
        t = np.asarray(trials, dtype=np.float64)
        return 1.0 + self.amplitude * np.sin(2 * np.pi * t / self.period + self.phase)


class RandomWalkDrift:
    """Slow gain drift: log-gain is a Gaussian random walk (``step`` per trial) starting at gain 1.

    The walk is a fixed function of ``seed``: the gain of trial t is the same however the
    trials are grouped into batches."""

    def __init__(self, step: float = 0.005, seed: int = 0):
        if not step >= 0:
            raise ConfigError(f"the random-walk step must be >= 0, got {step}")
        self.step, self.seed = float(step), int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._log_gain = np.zeros(1)

    def __repr__(self) -> str:
        return f"RandomWalkDrift(step={self.step}, seed={self.seed})"

    def gain(self, trials) -> np.ndarray:
        t = np.asarray(trials, dtype=np.int64)
        if t.size and t.min() < 0:
            raise ConfigError("trial numbers must be >= 0")
        needed = int(t.max()) + 1 if t.size else 0
        if needed > len(self._log_gain):
            steps = self._rng.normal(0.0, self.step, needed - len(self._log_gain))
            self._log_gain = np.concatenate([self._log_gain, self._log_gain[-1] + np.cumsum(steps)])
        return np.exp(self._log_gain[t])
