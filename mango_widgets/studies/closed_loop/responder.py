"""A simulated neuron for closed-loop sessions: any probed unit, answering with noisy spike counts.

The noise-free activation a (in [0, 1], from :class:`~mango_widgets.core.objective.Objective`) of
trial t becomes Poisson(gain(t) * a * scale) spikes, where ``scale`` is the spike count of a
fully active unit (the noise level) and gain(t) an optional slow drift over trials. Responses
are those counts divided by ``scale`` (activation units, comparable across noise levels) or,
with ``units="spikes"``, the counts themselves.
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np

from mango_widgets.core.noise import PoissonNoise, noise_model
from mango_widgets.core.objective import Objective
from mango_widgets.errors import ConfigError, unknown_choice
from mango_widgets.runtime.threads import default_threads, torch_threads
from mango_widgets.studies.closed_loop.session import StimulusBatch

UNITS = ("activation", "spikes")


class NoisyResponder:
    """Answers stimuli (a :class:`StimulusBatch` or grid indices [B, d]) like a recorded neuron.

    ``noise``: None/"none" (noise-free), "low", "high" (see ``noise.NOISE_LEVELS``), a spike-count
    scale, or a :class:`PoissonNoise`. ``drift``: an object with ``gain(trials)`` (e.g.
    ``SinusoidalDrift``), trials counted from 0 in the order stimuli are answered. ``threads``:
    torch threads while it runs the network (-1: as a Search would).
    """

    def __init__(
        self,
        objective: Objective,
        noise: Union[None, str, float, PoissonNoise] = None,
        drift=None,
        seed: int = 0,
        units: str = "activation",
        threads: Optional[int] = -1,
    ):
        if not isinstance(objective, Objective):
            raise ConfigError(f"NoisyResponder wraps an Objective (generator, network, target), got {type(objective).__name__}")
        if objective.noise is not None:
            raise ConfigError("give the noise to the NoisyResponder, not to its Objective (it would be applied twice)")
        if units not in UNITS:
            raise unknown_choice("response unit", units, UNITS)
        self.noise = noise_model(noise)
        if units == "spikes" and self.noise is None:
            raise ConfigError("spike-count responses need a noise level (the spike count of a fully active unit)")
        if drift is not None and not callable(getattr(drift, "gain", None)):
            raise ConfigError(f"drift must have a gain(trials) method (e.g. SinusoidalDrift), got {drift!r}")
        self.objective, self.drift, self.units = objective, drift, units
        self.threads = default_threads() if threads == -1 else threads  # torch threads, as in Search
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self.trials = 0  # stimuli answered so far: the clock of the gain drift

    def __repr__(self) -> str:
        scale = None if self.noise is None else self.noise.scale
        return f"NoisyResponder(target={self.objective.target}, scale={scale}, drift={self.drift!r}, trials={self.trials})"

    @staticmethod
    def _indices(stimuli) -> np.ndarray:
        return stimuli.indices if isinstance(stimuli, StimulusBatch) else np.asarray(stimuli)

    def true_values(self, stimuli) -> np.ndarray:
        """Noise-free activations (gain 1), not counted as trials."""
        indices = self._indices(stimuli)
        if not len(indices):
            return np.zeros(0)
        with torch_threads(self.threads):
            return self.objective.evaluate(indices)

    def gain(self, trials) -> np.ndarray:
        """The neuron's gain at the given trial numbers (1 without drift)."""
        trials = np.asarray(trials)
        return np.ones(trials.shape) if self.drift is None else np.asarray(self.drift.gain(trials), dtype=np.float64)

    def __call__(self, stimuli) -> np.ndarray:
        """One trial per stimulus: responses [B]."""
        indices = self._indices(stimuli)
        if not len(indices):
            return np.zeros(0)
        with torch_threads(self.threads):
            activations = self.objective(indices)
        expected = activations * self.gain(self.trials + np.arange(len(indices)))
        self.trials += len(indices)
        if self.noise is None:
            return expected
        rates = self.noise.sample(expected, self._rng)
        return rates * self.noise.scale if self.units == "spikes" else rates
