"""A DCGAN-size generator for 28x28 grey images and an SN-GAN-style discriminator.

The generator maps a latent vector (default 128 dims) to an image in [0, 1]; the
discriminator uses spectral normalisation and is trained with the hinge loss.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class DCGANGenerator(nn.Module):
    """Latent [B, latent_dim] -> image [B, 1, 28, 28] in [0, 1]."""

    def __init__(self, latent_dim: int = 128, width: int = 128):
        super().__init__()
        self.latent_dim = latent_dim
        self.width = width
        self.project = nn.Sequential(
            nn.Linear(latent_dim, width * 7 * 7),
            nn.BatchNorm1d(width * 7 * 7),
            nn.ReLU(inplace=True),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1),  # 7 -> 14
            nn.BatchNorm2d(width // 2),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width // 2, 1, 4, 2, 1),  # 14 -> 28
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, self.width, 7, 7)
        return self.upsample(h)


class SNDiscriminator(nn.Module):
    """Image [B, 1, 28, 28] in [0, 1] -> realness score [B] (hinge-loss critic)."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(1, width, 4, 2, 1)),  # 28 -> 14
            nn.LeakyReLU(0.1, inplace=True),
            spectral_norm(nn.Conv2d(width, width * 2, 4, 2, 1)),  # 14 -> 7
            nn.LeakyReLU(0.1, inplace=True),
            spectral_norm(nn.Conv2d(width * 2, width * 2, 3, 1, 1)),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Flatten(),
            spectral_norm(nn.Linear(width * 2 * 7 * 7, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1).squeeze(1)
