"""The gradient ceiling: the best activation any grid search could hope for, found with gradients.

Gradient ascent in the generator's continuous latent space, from many starts at once (clipped
to the grid's box after every step), through a differentiable stand-in of the network: SNNs
through their own surrogate gradients (snnTorch ``spike_grad``, SpikingJelly ``surrogate_function``),
ANNs as they are. Every few steps the latents are snapped to the nearest grid point and
re-evaluated on the real objective; the ceiling is the best snapped value. Black-box methods are
reported as a fraction of it (they may pass 1: the ceiling is a strong reference, not a proof).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np
import torch

from mango_widgets.core.objective import Objective
from mango_widgets.errors import ConfigError


@dataclass
class Ceiling:
    """The outcome: best snapped grid value, its index, and how the ascent went."""

    value: float
    index: np.ndarray
    continuous_value: float  # the best surrogate activation in continuous latent space
    start_value: float  # the best real value among the starting grid points
    restarts: int
    steps: int
    trace: List[float] = field(default_factory=list)  # best snapped value after each check

    def summary(self) -> dict:
        """JSON-able record of the ceiling."""
        return {"value": self.value, "index": self.index.tolist(), "continuous_value": self.continuous_value,
                "start_value": self.start_value, "restarts": self.restarts, "steps": self.steps, "trace": self.trace}


def snap(grid, latents: np.ndarray) -> np.ndarray:
    """Nearest grid index on every axis for latents [B, d]."""
    values = grid.values.astype(np.float64)
    position = np.searchsorted(values, latents)
    position = np.clip(position, 1, len(values) - 1)
    lower_closer = (latents - values[position - 1]) <= (values[position] - latents)
    return np.where(lower_closer, position - 1, position).astype(np.int64)


def _differentiable_activation(objective: Objective, latents: torch.Tensor) -> torch.Tensor:
    """The target's activation [B] for continuous latents, with the autograd graph kept."""
    generator, network, target = objective.generator, objective.network, objective.target
    images = generator.model(latents.to(generator.device))
    if not isinstance(images, torch.Tensor):
        raise ConfigError(f"{generator.name} returned {type(images).__name__}; the ceiling needs a torch generator")
    if images.ndim == 3:
        images = images.unsqueeze(1)
    low, high = generator.output_range
    images = ((images.float() - low) / (high - low)).clamp(0.0, 1.0)
    activations = network.run_with_grad(images, target.layers)
    return target.read(network, activations)


def gradient_ceiling(objective: Objective, restarts: int = 32, steps: int = 150, lr: float = 0.05,
                     check_every: int = 10, seed: int = 0) -> Ceiling:
    """Adam ascent from ``restarts`` uniform random grid points for ``steps`` steps (learning rate
    ``lr`` x the box width), snapped and re-evaluated every ``check_every`` steps and at the end."""
    generator, grid = objective.generator, objective.grid
    if generator.takes_indices:
        raise ConfigError(f"{generator.name} takes discrete indices (e.g. a VQ-VAE codebook): there is no continuous "
                          "latent to follow a gradient in; the ceiling needs a generator of continuous latents")
    if not isinstance(generator.model, torch.nn.Module) and not callable(generator.model):
        raise ConfigError("the ceiling needs a torch generator")
    if int(restarts) < 1 or int(steps) < 1 or float(lr) <= 0 or int(check_every) < 1:
        raise ConfigError(f"need restarts >= 1, steps >= 1, lr > 0, check_every >= 1; got {restarts}, {steps}, {lr}, {check_every}")
    low, high = float(grid.values.min()), float(grid.values.max())
    rng = np.random.default_rng(seed)
    starts = grid.random(int(restarts), rng)
    best_value, best_index = -np.inf, None

    def check(indices: np.ndarray) -> None:
        nonlocal best_value, best_index
        values = objective.evaluate(indices)
        k = int(np.argmax(values))
        if values[k] > best_value:
            best_value, best_index = float(values[k]), indices[k].copy()

    check(starts)
    start_value = best_value
    latents = torch.tensor(grid.to_latent(starts), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.Adam([latents], lr=float(lr) * (high - low))
    modules = [m for m in (generator.model, objective.network.module) if isinstance(m, torch.nn.Module)]
    frozen = [(p, p.requires_grad) for m in modules for p in m.parameters()]
    best_continuous, trace = -np.inf, []
    try:
        for p, _ in frozen:  # gradients for the latents only
            p.requires_grad_(False)
        for step in range(1, int(steps) + 1):
            optimizer.zero_grad()
            values = _differentiable_activation(objective, latents)
            if not values.requires_grad:
                raise ConfigError(
                    f"the activation of {objective.target} does not depend differentiably on the latent: "
                    f"{generator.name} or {objective.network.name} cuts the graph (inference-only modules, "
                    "detach, or spikes without a surrogate gradient); the ceiling needs differentiable modules"
                )
            best_continuous = max(best_continuous, float(values.detach().max()))
            (-values.sum()).backward()
            if step == 1 and not torch.isfinite(latents.grad).all():
                raise ConfigError("the surrogate gradient of the activation is NaN or infinite")
            optimizer.step()
            with torch.no_grad():
                latents.clamp_(low, high)
            if step % int(check_every) == 0 or step == int(steps):
                check(snap(grid, latents.detach().cpu().numpy()))
                trace.append(best_value)
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
    return Ceiling(best_value, best_index, best_continuous, start_value, int(restarts), int(steps), trace)
