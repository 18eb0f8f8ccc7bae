"""Generator wrapper: grid indices -> latents -> a batch of images in [0, 1].

Any torch module or plain callable fits; the wrapper knows the search space, checks the
image shape and value range, and rescales outputs given in another range (e.g. tanh's).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch

from mango_widgets.core.space import LatentGrid
from mango_widgets.errors import ConfigError, ModelOutputError

#: how far outside [0, 1] an image may stray (numerical noise) before it is an error
RANGE_TOLERANCE = 1e-3


class Generator:
    """A generator with its search space.

    ``model`` maps latents [B, d] (or, with ``takes_indices=True``, integer indices [B, d]
    such as VQ-VAE codebook entries) to images [B, C, H, W]; ``output_range`` says in
    which range it writes pixels so they can be mapped to [0, 1].
    """

    def __init__(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        grid: LatentGrid,
        image_shape: Optional[Sequence[int]] = None,
        output_range: tuple = (0.0, 1.0),
        takes_indices: bool = False,
        device: str = "cpu",
        name: str = "generator",
    ):
        if not callable(model):
            raise ConfigError(f"a generator must be a torch module or a callable, got {type(model).__name__}")
        if not isinstance(grid, LatentGrid):
            raise ConfigError(f"grid must be a LatentGrid (the search space), got {type(grid).__name__}; e.g. LatentGrid(d=128, n=64)")
        try:
            lo, hi = map(float, output_range)
        except (TypeError, ValueError):
            raise ConfigError(f"output_range must be two numbers (low, high), got {output_range!r}") from None
        if not lo < hi:
            raise ConfigError(f"output_range must be (low, high) with low < high, got {output_range}")
        self.model = model
        self.grid = grid
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.output_range = (lo, hi)
        self.takes_indices = takes_indices
        self.device = torch.device(device)
        self.name = name
        if isinstance(model, torch.nn.Module):
            model.to(self.device).eval()

    def __repr__(self) -> str:
        return f"Generator({self.name!r}, grid={self.grid}, image_shape={self.image_shape})"

    def latents(self, indices) -> np.ndarray:
        """The latent vectors [B, d] behind grid indices."""
        return self.grid.to_latent(indices)

    def __call__(self, indices) -> torch.Tensor:
        """Images [B, C, H, W] in [0, 1] for grid indices [B, d]."""
        idx = self.grid.check(indices)
        if self.takes_indices:
            return self.decode(torch.as_tensor(idx, device=self.device))
        return self.decode(torch.as_tensor(self.grid.values[idx], device=self.device))

    @torch.inference_mode()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Run the model on latents and return checked images in [0, 1]."""
        images = self.model(latents)
        if not isinstance(images, torch.Tensor):
            raise ModelOutputError(f"{self.name} returned {type(images).__name__}, expected a tensor [B, C, H, W]")
        if images.is_complex() or images.dtype == torch.bool:
            raise ModelOutputError(
                f"{self.name} returned {images.dtype} pixels; a generator must return real-valued images "
                "(for a complex output pass its .abs() or .real explicitly, in the model or a wrapper)"
            )
        if images.ndim == 3:  # [B, H, W]: one channel
            images = images.unsqueeze(1)
        if images.ndim != 4 or images.shape[0] != latents.shape[0]:
            raise ModelOutputError(
                f"{self.name} returned images of shape {tuple(images.shape)} for {latents.shape[0]} latents; "
                "expected [batch, channels, height, width]"
            )
        if self.image_shape is not None and tuple(images.shape[1:]) != self.image_shape:
            raise ModelOutputError(
                f"{self.name} returned images of shape {tuple(images.shape[1:])}, expected {self.image_shape}; "
                "fix the generator or pass the right image_shape"
            )
        if not torch.isfinite(images).all():
            raise ModelOutputError(f"{self.name} returned NaN or infinite pixels; check its weights and latent range")
        lo, hi = self.output_range
        images = (images.float() - lo) / (hi - lo)
        if images.min() < -RANGE_TOLERANCE or images.max() > 1 + RANGE_TOLERANCE:
            raise ModelOutputError(
                f"{self.name} wrote pixels in [{images.min() * (hi - lo) + lo:.3g}, {images.max() * (hi - lo) + lo:.3g}], "
                f"outside its declared output_range {self.output_range}; pass the range it really uses "
                "(for a tanh output use output_range=(-1, 1))"
            )
        return images.clamp_(0.0, 1.0)
